"""Files inside a zip, read in place: the ``<archive>.zip@<member>`` paths of the official NLA-SLR loaders.

NLA-SLR keeps every dataset zipped (``WLASL2000.zip`` holding ``WLASL2000/<id>.mp4``; frame zips holding
``<clip folder>/0000.png``) and opens ``<zip>@<member>`` through its ``ZipReader``, which splits the path at the
first ``.zip@``. :class:`ZipMember` is that path as a small path-like object (``exists``, ``is_dir``, ``/``,
``read_bytes``), so that a dataset reads a clip from a folder or from a zip through the same code. A member is
looked up at its path, or under the archive's single top-level folder when the archive has one (so ``<id>.mp4``
finds ``WLASL2000/<id>.mp4``). Archives are opened once per thread (``zipfile`` handles are not shared across
threads).
"""

from __future__ import annotations

import os
import threading
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

ZIP_MARK = ".zip@"
_handles = threading.local()


def is_zip_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a file inside a zip (``<archive>.zip@<member>``), as the official ``is_zip_path``."""
    return ZIP_MARK in str(path)


def resolve(root: str | os.PathLike, path: str | os.PathLike) -> Path | ZipMember:
    """``path`` relative to ``root`` (absolute paths stay): a :class:`Path`, or a :class:`ZipMember` for
    ``<archive>.zip@<member>``."""
    text = str(path)
    if not is_zip_path(text):
        return Path(root) / text
    at = text.index(ZIP_MARK) + len(".zip")  # the official split: at the first ".zip@"
    return ZipMember(Path(root) / text[:at], text[at + 1:].strip("/"))


def join(location: str, name: str) -> str:
    """``name`` inside ``location`` (a folder, or a ``.zip`` archive): ``folder/name`` or ``archive.zip@name``."""
    location = str(location).rstrip("/")
    return f"{location}@{name}" if location.lower().endswith(".zip") else f"{location}/{name}"


@dataclass(frozen=True)
class ZipMember:
    """A file or folder inside a zip archive; ``str()`` gives the official ``<archive>.zip@<member>`` form."""

    archive: Path
    member: str

    def __str__(self) -> str:
        return f"{self.archive}@{self.member}"

    def __truediv__(self, name: str) -> ZipMember:
        return ZipMember(self.archive, f"{self.member}/{name}" if self.member else name)

    @property
    def name(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.member).suffix

    def located(self) -> str | None:
        """The member's name in the archive (at its path, or under the single top-level folder); None if absent."""
        index = _index(self.archive)
        if index is None:
            return None
        for candidate in _candidates(self.member, index.top):
            if candidate in index.files or candidate in index.folders:
                return candidate
        return None

    def exists(self) -> bool:
        return self.located() is not None

    def is_file(self) -> bool:
        name = self.located()
        return name is not None and name in _index(self.archive).files

    def is_dir(self) -> bool:
        name = self.located()
        return name is not None and name in _index(self.archive).folders

    def listdir(self) -> list[str]:
        """Names directly inside this folder of the archive (like ``os.listdir``); FileNotFoundError if absent."""
        name = self.located()
        index = _index(self.archive)
        if name is None or name not in index.folders:
            raise FileNotFoundError(f"no folder {self} in the zip archive")
        return sorted(index.children.get(name, ()))

    def read_bytes(self) -> bytes:
        """The member's content (decompressed in memory, nothing written to disk)."""
        if not self.archive.is_file():
            raise FileNotFoundError(f"zip archive not found: {self.archive}")
        name = self.located()
        if name is None or name not in _index(self.archive).files:
            raise FileNotFoundError(f"{self.member} not found in the zip archive {self.archive}")
        return _archive(self.archive).read(name)


# -- internals ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Index:
    files: frozenset[str]
    folders: frozenset[str]
    children: dict[str, set[str]]
    top: str | None  # the single top-level folder, when the archive has exactly one and no top-level file


def _index(archive: Path) -> _Index | None:
    try:
        stat = archive.stat()
    except OSError:
        return None
    return _index_of(str(archive), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _index_of(archive: str, _mtime: int, _size: int) -> _Index | None:
    """Names of the archive (cached per file version: the central directory of WLASL2000.zip has 21k entries)."""
    try:
        with zipfile.ZipFile(archive) as handle:
            names = [n.rstrip("/") for n in handle.namelist()]
    except (zipfile.BadZipFile, OSError):
        return None
    folders, children = {""}, {}
    for name in names:
        parts = name.split("/")
        for depth in range(len(parts)):
            parent, child = "/".join(parts[:depth]), parts[depth]
            children.setdefault(parent, set()).add(child)
            if depth < len(parts) - 1:
                folders.add("/".join(parts[:depth + 1]))
    files = {n for n in names if n not in folders}
    tops = children.get("", set())
    top = next(iter(tops)) if len(tops) == 1 and next(iter(tops)) in folders else None
    return _Index(frozenset(files), frozenset(folders), children, top)


def _candidates(member: str, top: str | None) -> list[str]:
    member = member.strip("/")
    return [member] + ([f"{top}/{member}".rstrip("/")] if top and not member.startswith(f"{top}/") else [])


def _archive(archive: Path) -> zipfile.ZipFile:
    """This thread's open handle of ``archive`` (reopened when the file changed)."""
    cache = getattr(_handles, "open", None)
    if cache is None:
        cache = _handles.open = {}
    stat = archive.stat()
    key = (str(archive), stat.st_mtime_ns, stat.st_size)
    if key not in cache:
        for old in [k for k in cache if k[0] == key[0]]:
            cache.pop(old).close()
        cache[key] = zipfile.ZipFile(archive)
    return cache[key]


def bad_archive(archive: Path) -> str | None:
    """Why ``archive`` cannot be read as a zip (missing, damaged), or None when it can."""
    if not archive.is_file():
        return f"zip archive not found: {archive}"
    if _index(archive) is None:
        return f"{archive} is not a readable zip archive (damaged or not a zip): re-download it"
    return None
