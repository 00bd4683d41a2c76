"""Gloss word vectors for NLA-SLR's language-aware losses: the official pickle, fastText ``.vec`` and ``.bin``.

The official code reads a ready-made ``{gloss: vector}`` pickle (fastText crawl-300d-2M-subword vectors); users
may instead have the fastText files themselves. ``.bin`` is read without the fasttext package (memory-mapped),
computing vectors of words it lacks from character n-grams as fastText does.
"""

from __future__ import annotations

import mmap
import pickle
import struct
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

FASTTEXT_MAGIC, FASTTEXT_VERSION = 793712314, 12  # the header of fastText's .bin models


class WordVectorError(ValueError):
    """A word-vector file that cannot give every gloss a vector; the message names the file and the glosses."""


def read_word_vectors(path: str | Path, glosses: Sequence[str], multiword: str = "whole") -> torch.Tensor:
    """Vectors ``[N, D]`` (float32) for ``glosses`` in class order, from a pickle, a ``.vec`` or a ``.bin`` file.

    ``multiword="whole"``: a gloss is looked up as it is (a ``.bin`` file embeds any string the way fastText's
    ``get_word_vector`` does, from its character n-grams); ``"mean"``: a gloss of several words is the mean of its
    words' vectors. A pickle maps glosses to vectors and is read as it is.
    """
    path = Path(path)
    if multiword not in ("whole", "mean"):
        raise ValueError(f"multiword must be 'whole' or 'mean', not {multiword!r}")
    if path.suffix in (".pkl", ".pickle"):
        table = _read_vector_pickle(path)
        lookup = table.get
    elif path.suffix == ".bin":
        model = FastTextBin(path)
        lookup = model.word_vector
    else:
        wanted = {w for g in glosses for w in ([g] + (g.split() if multiword == "mean" else []))}
        table = _read_vec(path, wanted)
        lookup = table.get
    vectors, missing = [], []
    for gloss in glosses:
        words = gloss.split()
        if multiword == "mean" and len(words) > 1 and path.suffix not in (".pkl", ".pickle"):
            parts = [lookup(word) for word in words]
            vector = None if any(p is None for p in parts) else np.mean(np.stack(parts), axis=0)
        else:
            vector = lookup(gloss)
        if vector is None:
            missing.append(gloss)
        else:
            vectors.append(np.asarray(vector, dtype=np.float32))
    if missing:
        hint = " (multiword='mean' embeds a phrase from its words)" if multiword == "whole" else ""
        raise WordVectorError(f"{path}: no vector for {len(missing)} of {len(glosses)} glosses, e.g. "
                              f"{missing[:10]}{hint}")
    return torch.from_numpy(np.stack(vectors))


class _ArraysOnly(pickle.Unpickler):
    """Unpickles dicts of numpy arrays and nothing that could run code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("numpy.core.numeric", "_frombuffer"),
               ("numpy._core.numeric", "_frombuffer"), ("collections", "OrderedDict"),
               ("_codecs", "encode")}  # _frombuffer: protocol 5; _codecs.encode: bytes in protocol 2

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: expected {{gloss: numpy array}}")
        return super().find_class(module, name)


def _read_vector_pickle(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as handle:
        table = _ArraysOnly(handle).load()
    if not isinstance(table, Mapping):
        raise WordVectorError(f"{path}: expected a dict {{gloss: vector}}, found {type(table).__name__}")
    return {str(k): np.asarray(v, dtype=np.float32) for k, v in table.items()}


def _read_vec(path: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    """The lines of a fastText ``.vec`` text file (``count dim`` header, then ``word v1 ... vD``) for ``wanted``."""
    found = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        count, dim = (int(x) for x in handle.readline().split())
        for line in handle:
            word, _, rest = line.rstrip("\n").rstrip(" ").partition(" ")
            if word in wanted and word not in found:
                values = np.array(rest.split(" "), dtype=np.float32)
                if values.shape != (dim,):
                    raise WordVectorError(f"{path}: the vector of {word!r} has {values.size} values, the header {dim}")
                found[word] = values
    return found


def fasttext_hash(data: bytes) -> int:
    """fastText's 32-bit FNV-1a over bytes, each byte sign-extended as ``int8`` (as ``Dictionary::hash``)."""
    h = 2166136261
    for byte in data:
        h = (h ^ ((byte - 256 if byte > 127 else byte) & 0xFFFFFFFF)) * 16777619 & 0xFFFFFFFF
    return h


class FastTextBin:
    """A fastText ``.bin`` model (format version 12) read without the fasttext package; the input matrix is
    memory-mapped, so the 7 GB crawl-300d-2M-subword model costs little memory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        buf = self._map
        magic, version = struct.unpack_from("<ii", buf, 0)
        if magic != FASTTEXT_MAGIC or version != FASTTEXT_VERSION:
            raise WordVectorError(f"{self.path}: not a fastText .bin model of format {FASTTEXT_VERSION} "
                                  f"(magic {magic}, version {version})")
        args = struct.unpack_from("<12id", buf, 8)  # dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
        self.dim, self.bucket, self.minn, self.maxn = args[0], args[8], args[9], args[10]
        size, self.nwords, _ = struct.unpack_from("<3i", buf, 64)
        _, prune_size = struct.unpack_from("<2q", buf, 76)
        pos, self.words = 92, {}
        for index in range(size):
            end = buf.find(b"\0", pos)
            _, kind = struct.unpack_from("<qb", buf, end + 1)
            if kind == 0:  # words come first; labels (kind 1) are not embedded
                self.words[buf[pos:end]] = index
            pos = end + 10
        self.prune = dict(struct.unpack_from(f"<{2 * prune_size}i", buf, pos)[i:i + 2]
                          for i in range(0, 2 * prune_size, 2)) if prune_size > 0 else None
        pos += 8 * max(prune_size, 0)
        if buf[pos]:
            raise WordVectorError(f"{self.path}: a quantised model (.ftz); use the full .bin or a .vec file")
        rows, cols = struct.unpack_from("<2q", buf, pos + 1)
        self.input = np.frombuffer(buf, dtype=np.float32, count=rows * cols, offset=pos + 17).reshape(rows, cols)
        self._prune_size = prune_size

    def subword_rows(self, word: bytes) -> list[int]:
        """Rows of ``word``'s character n-grams (``Dictionary::computeSubwords`` on ``<word>``)."""
        text, rows = b"<" + word + b">", []
        for i in range(len(text)):
            if text[i] & 0xC0 == 0x80:  # a UTF-8 continuation byte starts no n-gram
                continue
            j, n, gram = i, 1, bytearray()
            while j < len(text) and n <= self.maxn:
                gram.append(text[j])
                j += 1
                while j < len(text) and text[j] & 0xC0 == 0x80:
                    gram.append(text[j])
                    j += 1
                if n >= self.minn and not (n == 1 and (i == 0 or j == len(text))):
                    h = fasttext_hash(bytes(gram)) % self.bucket
                    if self._prune_size < 0 or (self.prune is not None and h in self.prune):
                        rows.append(self.nwords + (self.prune[h] if self.prune is not None else h))
                n += 1
        return rows

    def word_vector(self, word: str) -> np.ndarray:
        """fastText's ``get_word_vector``: the mean of the word's own row (if known) and its n-gram rows."""
        key = word.encode("utf-8")
        rows = ([self.words[key]] if key in self.words else []) + (self.subword_rows(key) if word != "</s>" else [])
        vector = np.zeros(self.dim, dtype=np.float32)
        for row in rows:  # row by row in float32, as fastText's Vector::addRow
            vector += self.input[row]
        return vector * np.float32(1.0 / len(rows)) if rows else vector
