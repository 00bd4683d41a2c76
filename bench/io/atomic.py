"""Atomic file writes: a crash or an exception never leaves a half-written file at the target path."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO


@contextmanager
def atomic_open(path: str | os.PathLike, encoding: str = "utf-8", binary: bool = False) -> Iterator[TextIO]:
    """Write text (or bytes) to a temporary file beside ``path``; on success fsync and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    options = {"mode": "wb"} if binary else {"mode": "w", "encoding": encoding, "newline": "\n"}
    try:
        with os.fdopen(fd, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
