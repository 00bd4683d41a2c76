"""A packed, memory-mapped uint8 frame cache: a split decoded once, read again by every epoch and evaluation.

One cache is two files in the cache folder, named by the dataset, split, frame size and the release's path:
``<key>.u8`` holds every sample's frames back to back (uint8 ``[T, H, W, 3]``, read with ``np.memmap``: worker
processes share the pages, nothing is copied), and ``<key>.json`` indexes them (offset, shape) with each sample's
source signature (number, bytes and newest mtime of its source files). Both are written to temporary names and
renamed (the index last, naming the data file's size): an interrupted build leaves no cache, never a wrong one.
A cache is used only when every sample's signature matches the files on disk; otherwise it is built again.
Samples that do not decode are left out of the cache and keep failing when read, as without a cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from bench.io.atomic import atomic_open

VERSION = 1


def default_cache_dir() -> Path:
    """``$BENCH_CACHE``, else ``~/.cache/slr-bench/frames``."""
    return Path(os.environ.get("BENCH_CACHE") or Path.home() / ".cache" / "slr-bench" / "frames")


def source_signature(paths: Sequence[Path]) -> list[int]:
    """``[files, bytes, newest mtime_ns]`` of a sample's source files: any change invalidates its cache."""
    sizes, newest = 0, 0
    for path in paths:
        stat = os.stat(path)
        sizes, newest = sizes + stat.st_size, max(newest, stat.st_mtime_ns)
    return [len(paths), sizes, newest]


class FrameCache:
    """The packed frames of one split at one frame size (``size`` ``(width, height)``, or None: as stored)."""

    def __init__(self, folder: str | os.PathLike, dataset_name: str, root: str | os.PathLike, split: str,
                 size: tuple[int, int] | None):
        where = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:12]
        shape = "stored" if size is None else f"{size[0]}x{size[1]}"
        self.key = f"{dataset_name}-{split}-{shape}-{where}"
        self.folder = Path(folder)
        self.data_path, self.index_path = self.folder / f"{self.key}.u8", self.folder / f"{self.key}.json"
        self._entries: dict[str, dict] | None = None
        self._map: np.memmap | None = None

    def __getstate__(self) -> dict:  # worker processes open their own map of the same file
        return {**self.__dict__, "_map": None}

    def _load_index(self) -> dict | None:
        try:
            index = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if index.get("version") != VERSION or not self.data_path.is_file() \
                or self.data_path.stat().st_size != index.get("bytes"):
            return None
        return index

    def stale(self, signatures: dict[str, list[int]]) -> list[str]:
        """Ids whose source changed since the cache was built, or that it lacks (every id without a cache)."""
        index = self._load_index()
        if index is None:
            return list(signatures)
        entries, failed = index["entries"], index.get("failed", {})
        return [i for i, sig in signatures.items()
                if (entries.get(i) or {}).get("source", failed.get(i)) != sig]

    def build(self, ids_and_signatures: dict[str, list[int]], frames: Callable[[str], np.ndarray],
              workers: int = 0) -> dict:
        """Decode every id with ``frames(id)`` (in ``workers`` processes), write data and index atomically."""
        from bench.data.loader import batch_loader

        self.folder.mkdir(parents=True, exist_ok=True)
        ids = list(ids_and_signatures)
        entries, failed, offset = {}, {}, 0
        temporary = self.data_path.with_name(f".{self.data_path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                for sample_id, clip in zip(ids, batch_loader(_Decoded(ids, frames), workers, "cpu")):
                    if clip is None:
                        failed[sample_id] = ids_and_signatures[sample_id]
                        continue
                    clip = np.ascontiguousarray(np.asarray(clip), dtype=np.uint8)
                    handle.write(clip.tobytes())
                    entries[sample_id] = {"offset": offset, "shape": list(clip.shape),
                                          "source": ids_and_signatures[sample_id]}
                    offset += clip.nbytes
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.data_path)
        finally:
            temporary.unlink(missing_ok=True)
        index = {"version": VERSION, "key": self.key, "bytes": offset, "entries": entries, "failed": failed}
        with atomic_open(self.index_path) as handle:
            json.dump(index, handle)
        self._entries, self._map = None, None
        return index

    def ensure(self, signatures: dict[str, list[int]], frames: Callable[[str], np.ndarray], workers: int = 0,
               log: Callable[[str], None] | None = None) -> str:
        """Build the cache unless it is current; returns ``"hit"``, ``"built"`` or ``"rebuilt"`` (what happened)."""
        stale = self.stale(signatures)
        if not stale:
            return "hit"
        existed = self.index_path.is_file()
        if log:
            log(f"frame cache {self.data_path}: {'rebuilding' if existed else 'building'} ({len(stale)} of "
                f"{len(signatures)} samples new or changed)")
        self.build(signatures, frames, workers)
        return "rebuilt" if existed else "built"

    def read(self, sample_id: str) -> np.ndarray:
        """The sample's frames ``[T, H, W, 3]`` (a read-only view of the memory map); KeyError when not cached."""
        if self._entries is None:
            index = self._load_index()
            if index is None:
                raise KeyError(f"no frame cache at {self.index_path}")
            self._entries = index["entries"]
        entry = self._entries[sample_id]
        if self._map is None:
            self._map = np.memmap(self.data_path, dtype=np.uint8, mode="r")
        count = int(np.prod(entry["shape"]))
        return self._map[entry["offset"]:entry["offset"] + count].reshape(entry["shape"])


class _Decoded:
    """Map-style dataset for building: item ``i`` is the frames of ``ids[i]``, or None when they do not decode."""

    def __init__(self, ids, frames):
        self.ids, self.frames = ids, frames

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int):
        try:
            return self.frames(self.ids[index])
        except Exception:  # counted as unreadable where it is read
            return None


class _CachedReader:
    """``sample -> frames`` from a cache; samples left out of it (they did not decode) are read from the source."""

    def __init__(self, cache: FrameCache, fallback: Callable):
        self.cache, self.fallback = cache, fallback

    def __call__(self, sample, *args):
        try:
            return np.array(self.cache.read(sample.id))  # a writable copy: the transforms may work in place
        except KeyError:
            return self.fallback(sample, *args)


def continuous_cache(dataset, split: str, samples, size, folder=None, workers: int = 0, log=None) -> _CachedReader:
    """A CSLR split's frames at ``size`` through the cache (built or rebuilt first when needed)."""
    cache = FrameCache(folder or default_cache_dir(), dataset.name, dataset.root, split, size)
    by_id = {s.id: s for s in samples}
    signatures = {s.id: source_signature(dataset.frame_paths(s)) for s in samples}
    cache.ensure(signatures, lambda i: dataset.read_frames(by_id[i], size), workers, log)
    return _CachedReader(cache, lambda s: dataset.read_frames(s, size))


def isolated_signature(dataset, sample) -> list[int]:
    """The source signature of an ISLR clip: its video file, its frames folder, or the zip holding it."""
    path = dataset.video_path(sample)
    archive = getattr(path, "archive", None)
    if archive is not None:
        return source_signature([Path(archive)])
    path = Path(path)
    return source_signature(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])


def isolated_cache(dataset, split: str, samples, folder=None, workers: int = 0, log=None) -> FrameCache:
    """An ISLR split's whole clips (stored size, ``frame_count`` frames) through the cache, built when needed."""
    cache = FrameCache(folder or default_cache_dir(), dataset.name, dataset.root, split, None)
    by_id = {s.id: s for s in samples}
    signatures = {s.id: isolated_signature(dataset, s) for s in samples}
    cache.ensure(signatures, lambda i: dataset.read_frames(by_id[i], np.arange(dataset.frame_count(by_id[i]))),
                 workers, log)
    return cache
