"""Reading checkpoints in every format the zoo meets, and loading them strictly.

Formats:
- official PyTorch files (``torch.save`` of a dict holding the weights under a card-named key, e.g. CorrNet's
  ``{'epoch', 'model_state_dict', 'optimizer_state_dict', 'scheduler_state_dict', 'rng_state'}``); keys lose
  ``.module`` as the official loaders do. They are opened with ``weights_only=True`` and numpy arrays allowed
  (``rng_state`` holds numpy RNG state); a file that needs more than that runs code from the file when
  unpickled, so it opens only with ``trust=True`` (CLI: ``--trust-checkpoint``) and a warning.
- our own: safetensors with a JSON metadata entry (card, number of classes, vocabulary hash, variant).
- ``hf://org/repo/path/in/repo[@revision]``: a file on the Hugging Face Hub, through huggingface_hub's cache.

Loading is strict: a missing key, an unexpected key or a shape that differs is an error that names every one.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

BENCH_METADATA = "bench"  # safetensors metadata key holding our JSON
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked; the message names the file and what is wrong."""


@dataclass
class Checkpoint:
    """Weights with where they came from."""

    state_dict: dict[str, Any]
    source: str
    format: str  # "official" or "bench"
    sha256: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    file_keys: dict[str, str] = field(default_factory=dict)  # state_dict key -> the key as the file spells it


@dataclass
class LoadReport:
    """What a strict load found; empty lists mean the checkpoint fits the model exactly.

    The lists hold the model's key names; :meth:`lines` spells each key as the checkpoint file does (with its
    ``recognition_network.`` prefix or DataParallel ``.module``), so that the user finds it in the file.
    """

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)  # key, model, file
    unshared: list[tuple[str, str]] = field(default_factory=list)  # keys that should hold one tensor and do not
    file_keys: Mapping[str, str] = field(default_factory=dict, repr=False)  # model key -> the file's spelling
    hints: list[str] = field(default_factory=list)  # what a problem means (e.g. another frame count), from the card

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched or self.unshared)

    def lines(self) -> list[str]:
        """One line per problem, keys as the file spells them."""
        spell = file_spelling(self.file_keys)
        out = [f"missing from the checkpoint: {spell(k)}" for k in self.missing]
        out += [f"not in the model: {spell(k)}" for k in self.unexpected]
        out += [f"shape of {spell(k)}: model {list(m)}, checkpoint {list(f)}" for k, m, f in self.mismatched]
        out += [f"{spell(a)} and {spell(b)} should be one shared tensor but differ" for a, b in self.unshared]
        return out + self.hints


def file_spelling(file_keys: Mapping[str, str]):
    """A function spelling a model key as the file does; a key the file lacks takes the spelling of its nearest
    sibling's module path (``conv2d.module.``, ``recognition_network.``), so a missing key reads like its neighbours."""
    heads: dict[str, str] = {}  # model-side module path -> the file's spelling of it
    for ours, theirs in file_keys.items():
        parts = ours.split(".")
        for cut in range(len(parts)):
            head = ".".join(parts[:cut])
            tail = ours[len(head):]
            if theirs.endswith(tail):
                heads.setdefault(head, theirs[:len(theirs) - len(tail)])

    def spell(key: str) -> str:
        if key in file_keys:
            return file_keys[key]
        parts = key.split(".")
        for cut in range(len(parts) - 1, -1, -1):
            head = ".".join(parts[:cut])
            if head in heads:
                return heads[head] + key[len(head):]
        return key

    return spell


def resolve(uri: str | os.PathLike) -> Path:
    """A local path for ``uri``: a file path, or ``hf://org/repo/file[@revision]`` fetched into the Hub cache."""
    text = str(uri)
    if not text.startswith("hf://"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise CheckpointError(f"{path}: checkpoint file not found")
        return path
    body = text[len("hf://"):]
    revision = None
    if "@" in body:
        body, revision = body.rsplit("@", 1)
    parts = body.split("/")
    if len(parts) < 3:
        raise CheckpointError(f"{text}: expected hf://org/repo/path/to/file[@revision]")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id="/".join(parts[:2]), filename="/".join(parts[2:]), revision=revision))
    except Exception as err:  # the hub raises many types; all mean "not available"
        raise CheckpointError(f"{text}: not available from the Hugging Face Hub or its local cache ({err})") from err


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def read_checkpoint(uri: str | os.PathLike, weights_key: str | Sequence[str] = "model_state_dict",
                    trust: bool = False) -> Checkpoint:
    """Read the weights of ``uri`` in whichever format it is; official files keep them under ``weights_key`` (or
    the first of several keys that the file holds)."""
    path = resolve(uri)
    digest = sha256_of(path)
    if path.suffix == ".safetensors":
        return _read_bench(path, str(uri), digest)
    keys = (weights_key,) if isinstance(weights_key, str) else tuple(weights_key)
    return _read_official(path, str(uri), digest, keys, trust)


def _read_bench(path: Path, source: str, digest: str) -> Checkpoint:
    from safetensors import safe_open

    damage = _safetensors_damage(path)
    if damage:
        raise CheckpointError(f"{path}: truncated or corrupt safetensors file ({damage}); copy or download it again")
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = (handle.metadata() or {}).get(BENCH_METADATA)
            state = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as err:  # SafetensorError and friends: the layout is whole but its contents are not
        raise CheckpointError(f"{path}: corrupt safetensors file ({err}); copy or download it again") from err
    if raw is None:
        raise CheckpointError(f"{path}: a safetensors file without slr-bench metadata; expected one written by "
                              "bench (bench train, or zoo.checkpoints.save_checkpoint)")
    metadata = json.loads(raw)
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer slr-bench (format {metadata['format_version']})")
    return Checkpoint(state, source, "bench", digest, metadata)


def _numpy_safe_globals() -> list:
    """numpy objects that official ``rng_state`` entries need; they rebuild arrays and run no code."""
    import numpy as np

    names = []
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        try:
            names.append(getattr(__import__(module, fromlist=["_reconstruct"]), "_reconstruct"))
        except (ImportError, AttributeError):
            pass
    names += [np.ndarray, np.dtype]
    names += [type(np.dtype(t)) for t in ("uint32", "int64", "float64", "uint8", "int32", "float32", "bool")]
    return names


def _read_official(path: Path, source: str, digest: str, weights_keys: tuple[str, ...], trust: bool) -> Checkpoint:
    import torch

    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # damaged files raise RuntimeError, OSError, EOFError, ... depending on where they end
        damage = _torch_file_damage(path, err)
        if damage:
            raise CheckpointError(f"{path}: truncated or corrupt ({damage}); copy or download it again") from err
        if not isinstance(err, (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError)):
            raise CheckpointError(f"{path}: torch.load cannot read it ({_first_line(err)})") from err
        if not trust:
            raise CheckpointError(
                f"{path}: this file holds pickled objects beyond tensors and numpy arrays ({_first_line(err)}). "
                "Unpickling it can run code from the file: pass --trust-checkpoint (trust=True) only if you trust "
                "its source") from err
        warnings.warn(f"{path}: loading with weights_only=False because you trust this file", stacklevel=3)
        try:
            obj = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as again:  # trusted, and still unreadable
            raise CheckpointError(f"{path}: torch.load cannot read it even trusted ({_first_line(again)})") from again
    held = next((k for k in weights_keys if isinstance(obj, Mapping) and k in obj), None)
    if held is not None:
        state = obj[held]
        extra = {k: obj[k] for k in ("epoch",) if k in obj}
    elif isinstance(obj, Mapping) and obj and all(hasattr(v, "shape") for v in obj.values()):
        state, extra = obj, {}  # a bare state dict
    else:
        found = sorted(obj)[:10] if isinstance(obj, Mapping) else type(obj).__name__
        raise CheckpointError(f"{path}: expected the weights under {weights_keys[0]!r} (or a bare state dict); "
                              f"found {found}")
    file_keys = {key.replace(".module", ""): key for key in state}  # as the official loaders do
    state = {ours: state[theirs] for ours, theirs in file_keys.items()}
    return Checkpoint(state, source, "official", digest, {"format": "official", **extra},
                      file_keys=file_keys)


def _first_line(err: BaseException) -> str:
    return (str(err).splitlines() or [type(err).__name__])[0]


def _torch_file_damage(path: Path, err: BaseException) -> str | None:
    """What is wrong with a file that ``torch.load`` refused, if it is damaged (truncated, corrupt, not a PyTorch
    file); None when it looks whole, so that the refusal is about its contents."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(4)
    if not size:
        return "an empty file, 0 bytes"
    if b"PK\x03\x04".startswith(head):  # torch.save's zip format (or its first bytes); its directory is at the end, so truncation loses it
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as zip_err:
            return f"a zip-based PyTorch file of {size:,} bytes whose zip directory cannot be read: {zip_err}"
        return f"a zip-based PyTorch file of {size:,} bytes whose member {bad} fails its CRC check" if bad else None
    if head[:1] == b"\x80":  # legacy torch.save: five pickles, then the raw bytes of each storage
        more = re.search(r"expected (\d+) more bytes", str(err))  # torch says what the current storage lacks
        if more:
            return f"a legacy PyTorch file of {size:,} bytes, expected at least {size + int(more[1]):,}"
        if not _pickles_whole(path, 5):
            return f"a legacy PyTorch file of {size:,} bytes that ends inside its pickled header"
        if not isinstance(err, pickle.UnpicklingError):  # the header is whole: the storages are short or garbled
            return f"a legacy PyTorch file of {size:,} bytes whose storages cannot be read: {_first_line(err)}"
        return None
    return f"{size:,} bytes that are neither a zip-based nor a legacy PyTorch file: it starts with {head!r}"


def _pickles_whole(path: Path, count: int) -> bool:
    """Whether the file starts with ``count`` complete pickles; opcodes are only parsed, nothing is unpickled."""
    import pickletools

    with open(path, "rb") as handle:
        try:
            for _ in range(count):
                for _ in pickletools.genops(handle):  # stops after each pickle's STOP
                    pass
        except ValueError:  # "pickle exhausted before seeing STOP", or bytes that are no opcode
            return False
    return True


def _safetensors_damage(path: Path) -> str | None:
    """Why a safetensors file's size or header cannot be right (the header states every tensor's byte range)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"{size:,} bytes, shorter than the 8-byte header length"
        length = int.from_bytes(head, "little")
        if 8 + length > size:
            return f"{size:,} bytes, but its header alone takes {8 + length:,}"
        try:
            header = json.loads(handle.read(length))
            end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return f"{size:,} bytes, whose {length:,}-byte JSON header does not parse"
    if 8 + length + end != size:
        return f"{size:,} bytes, expected {8 + length + end:,} from its header"
    return None


def vocabulary_sha256(glosses: Sequence[str]) -> str:
    """Hash of a vocabulary in class order (index 0 is the blank or the first class)."""
    return hashlib.sha256(json.dumps(list(glosses), ensure_ascii=False).encode("utf-8")).hexdigest()


def save_checkpoint(path: str | os.PathLike, state_dict: Mapping[str, Any], metadata: Mapping[str, Any]) -> Path:
    """Our format: safetensors (shared tensors written once per key) + JSON metadata, written atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state_dict.items()}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata={BENCH_METADATA: json.dumps({"format_version": FORMAT_VERSION,
                                                                      **metadata})})
    os.replace(tmp, path)
    return path


def export_official(path: str | os.PathLike, state_dict: Mapping[str, Any], weights_key: str = "model_state_dict",
                    epoch: int = 0, key_prefix: str = "") -> Path:
    """A file the official code loads: ``{weights_key: state_dict, 'epoch': epoch}`` with the official keys."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {key_prefix + k: v.detach().cpu() for k, v in state_dict.items()}
    torch.save({"epoch": epoch, weights_key: weights}, path)
    return path


def check_state_dict(model, state_dict: Mapping[str, Any], shared: Iterable[tuple[str, str]] = (),
                     file_keys: Mapping[str, str] | None = None) -> LoadReport:
    """Compare a state dict with a model's, key by key and shape by shape (``file_keys``: how the file spells them)."""
    expected = model.state_dict()
    report = LoadReport(file_keys=file_keys or {})
    report.missing = [k for k in expected if k not in state_dict]
    report.unexpected = [k for k in state_dict if k not in expected]
    for key, tensor in expected.items():
        if key in state_dict and tuple(state_dict[key].shape) != tuple(tensor.shape):
            report.mismatched.append((key, tuple(tensor.shape), tuple(state_dict[key].shape)))
    for a, b in shared:
        if a in state_dict and b in state_dict and a in expected and not _same(state_dict[a], state_dict[b]):
            report.unshared.append((a, b))
    return report


def _same(a, b) -> bool:
    import torch

    return tuple(a.shape) == tuple(b.shape) and bool(torch.equal(a, b))


def load_strict(model, checkpoint: Checkpoint, shared: Iterable[tuple[str, str]] = ()) -> LoadReport:
    """Load ``checkpoint`` into ``model``; any difference in keys or shapes raises, naming each key."""
    report = check_state_dict(model, checkpoint.state_dict, shared, checkpoint.file_keys)
    if not report.ok:
        lines = report.lines()
        shown = "\n  ".join(lines[:40]) + (f"\n  ... and {len(lines) - 40} more" if len(lines) > 40 else "")
        raise CheckpointError(f"{checkpoint.source}: does not fit the model ({len(lines)} problems):\n  {shown}")
    model.load_state_dict(checkpoint.state_dict, strict=True)
    return report
