"""Gloss word vectors: the official pickle (numpy only), fastText .vec, fastText .bin without the fasttext package."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest
import torch

from bench.io import word_vectors as L


def test_pickle_of_gloss_vectors(tmp_path):
    table = {"book": np.arange(3, dtype=np.float32), "drink": np.ones(3, dtype=np.float32)}
    path = tmp_path / "wlasl_word_embeddings.pkl"
    path.write_bytes(pickle.dumps(table))
    assert torch.equal(L.read_word_vectors(path, ["drink", "book"]), torch.tensor([[1.0, 1, 1], [0, 1, 2]]))
    with pytest.raises(L.WordVectorError, match="no vector for 1 of 2 glosses, e.g. \\['computer'\\]"):
        L.read_word_vectors(path, ["book", "computer"])
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"cos\nsystem\n(S'true'\ntR.")
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle os.system"):
        L.read_word_vectors(evil, ["book"])


def test_vec_text_file_and_multiword_glosses(tmp_path):
    path = tmp_path / "small.vec"
    path.write_text("3 2\nthank 1.0 2.0 \nyou 3.0 4.0 \nbook 0.5 -0.5 \n", encoding="utf-8")
    assert torch.equal(L.read_word_vectors(path, ["book", "you"]), torch.tensor([[0.5, -0.5], [3.0, 4.0]]))
    with pytest.raises(L.WordVectorError, match="multiword='mean'"):
        L.read_word_vectors(path, ["thank you"])
    assert torch.equal(L.read_word_vectors(path, ["thank you"], multiword="mean"), torch.tensor([[2.0, 3.0]]))


def _fnv1a_int8(data: bytes) -> int:
    """fastText's Dictionary::hash, written out: h ^= uint32(int8(c)); h *= 16777619."""
    h = 2166136261
    for c in data:
        signed = c - 256 if c >= 128 else c
        h = ((h ^ (signed % 2**32)) * 16777619) % 2**32
    return h


def _write_fasttext_bin(path, words, matrix, minn, maxn, bucket):
    """A fastText v12 .bin: header, args, dictionary, no pruning, dense input matrix, (empty) output matrix."""
    dim = matrix.shape[1]
    out = struct.pack("<ii", 793712314, 12)
    out += struct.pack("<12id", dim, 5, 5, 1, 5, 1, 1, 2, bucket, minn, maxn, 100, 1e-4)  # loss ns, model skipgram
    out += struct.pack("<3i", len(words), len(words), 0) + struct.pack("<2q", 100, -1)
    for word in words:
        out += word.encode() + b"\0" + struct.pack("<qb", 10, 0)
    out += struct.pack("<?", False) + struct.pack("<2q", *matrix.shape) + matrix.astype("<f4").tobytes()
    out += struct.pack("<?", False) + struct.pack("<2q", 0, dim)
    path.write_bytes(out)


def test_fasttext_bin_word_vectors_from_subwords(tmp_path):
    assert L.fasttext_hash(b"a") == _fnv1a_int8(b"a") == 0xE40C292C  # FNV-1a test vector
    assert L.fasttext_hash("é".encode()) == _fnv1a_int8("é".encode())  # bytes >= 128 sign-extended
    words, bucket = ["</s>", "hi"], 50
    matrix = np.random.default_rng(0).normal(size=(len(words) + bucket, 4)).astype(np.float32)
    path = tmp_path / "tiny.bin"
    _write_fasttext_bin(path, words, matrix, minn=2, maxn=3, bucket=bucket)
    grams = {"hi": ["<h", "<hi", "hi", "hi>", "i>"], "ho": ["<h", "<ho", "ho", "ho>", "o>"]}  # minn 2, maxn 3
    rows = {w: [len(words) + _fnv1a_int8(g.encode()) % bucket for g in gs] for w, gs in grams.items()}
    model = L.FastTextBin(path)
    assert model.subword_rows(b"hi") == rows["hi"]
    hi = L.read_word_vectors(path, ["hi", "ho"])
    np.testing.assert_allclose(hi[0], matrix[[1] + rows["hi"]].mean(0), rtol=1e-6)  # known word: own row + n-grams
    np.testing.assert_allclose(hi[1], matrix[rows["ho"]].mean(0), rtol=1e-6)  # unknown word: n-grams only
    whole = L.read_word_vectors(path, ["hi ho"])  # a phrase as one string, as get_word_vector("hi ho")
    mean = L.read_word_vectors(path, ["hi ho"], multiword="whole"), L.read_word_vectors(path, ["hi ho"], "mean")
    assert torch.equal(whole, mean[0]) and not torch.allclose(whole, mean[1])
    np.testing.assert_allclose(mean[1][0], hi.mean(0), rtol=1e-6)
