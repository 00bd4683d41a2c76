"""NLA-SLR's annotation pickles (``train.pkl``, ``dev.pkl``, ``test.pkl``): read, checked, and written.

Each file is a pickled list of dicts ``{"name", "label", "seq_len", "video_file"}``, plain or gzip-compressed (the
official ``load_annotations`` tries ``open`` then ``gzip.open``): ``name`` is the clip id (WLASL's video_id),
``label`` the gloss string, ``seq_len`` the clip's frame count the official code derives its frame indices from,
``video_file`` the clip's path (inside the dataset zip for frame-folder datasets). Other keys are kept.
"""

from __future__ import annotations

import gzip
import numbers
import os
import pickle
from pathlib import Path
from typing import Any, Mapping, Sequence

from bench.io.atomic import atomic_open

REQUIRED_KEYS = ("name", "label", "seq_len", "video_file")
GZIP_MAGIC = b"\x1f\x8b"


class AnnotationError(ValueError):
    """An annotation pickle that is missing, unreadable or not in NLA-SLR's format; the message names the file."""


def read_annotation_pickle(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of one NLA-SLR annotation pickle, checked: a list of dicts with ``name`` (str), ``label``,
    ``seq_len`` (int >= 1) and ``video_file`` (str)."""
    path = Path(path)
    expected = f"a pickled list of dicts with keys {', '.join(REQUIRED_KEYS)} (NLA-SLR's annotation format)"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AnnotationError(f"annotation file not found: {path}; expected {expected}") from None
    try:
        data = pickle.loads(gzip.decompress(raw) if raw[:2] == GZIP_MAGIC else raw)
    except Exception as error:  # unpickling raises many types: any of them means "not this format"
        raise AnnotationError(f"{path}: cannot be unpickled ({type(error).__name__}: {error}); expected "
                              f"{expected}, plain or gzip-compressed") from None
    if not isinstance(data, list):
        raise AnnotationError(f"{path}: holds a {type(data).__name__}; expected {expected}")
    for index, record in enumerate(data):
        problem = _problem(record)
        if problem:
            shown = repr(record)[:160]
            raise AnnotationError(f"{path}: record {index} {problem} ({shown}); expected {expected}")
    return data


def write_annotation_pickle(path: str | os.PathLike, records: Sequence[Mapping[str, Any]],
                            compress: bool = True) -> Path:
    """Write ``records`` as NLA-SLR does (gzip-compressed pickle by default), atomically."""
    payload = pickle.dumps([dict(r) for r in records])
    with atomic_open(path, binary=True) as handle:
        handle.write(gzip.compress(payload, mtime=0) if compress else payload)
    return Path(path)


def _problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"is a {type(record).__name__}, not a dict"
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        return f"lacks {', '.join(missing)}"
    if not isinstance(record["name"], str) or not isinstance(record["video_file"], str):
        return "has a name or video_file that is not a string"
    seq_len = record["seq_len"]
    if isinstance(seq_len, bool) or not isinstance(seq_len, numbers.Integral) or seq_len < 1:
        return f"has seq_len {seq_len!r}, not a positive integer"
    return None
