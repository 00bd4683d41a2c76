"""List-style isolated datasets: each split is a list of (sample id, clip or frames folder, class index, signer).

KArSL, LSA64, AUTSL and SignVLM's list files give every sample's class as an index (no gloss vocabulary to build)
and name their splits by folders, file names or list files. A reader derives from :class:`ListedIslrDataset`,
fills :meth:`~ListedIslrDataset._list` with :class:`ListedClip` records and says which file or folder defines a
split; the base checks each label against :meth:`~IslrDataset.classes` (an error names the file and line) and
reuses :class:`~bench.data.isolated.IslrDataset` for frames, frame counts and the integrity report (nominal,
present, missing, unreadable). These readers have one layout each: NLA-SLR's data package does not apply.

Helpers for the list formats: :func:`read_list_lines` (SignVLM / EVL ``path<TAB>label``) and :func:`read_csv_rows`.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from bench.data.cslr import DatasetError
from bench.data.isolated import RELEASE, IslrDataset, IslrSample


@dataclass(frozen=True)
class ListedClip:
    """One sample as a list-style release names it; ``where`` is ``file:line`` (or the folder) for errors."""

    id: str
    video: str  # relative to the root: a video file, or a folder of frames
    label: int
    where: str
    signer: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


class ListedIslrDataset(IslrDataset):
    """An isolated dataset whose splits list class indices; subclasses fill :meth:`_list` and :meth:`_source`."""

    release_videos = ""  # clips are named relative to the root unless a reader says otherwise

    def _list(self, split: str) -> list[ListedClip]:
        """The split's samples in the release's order (nominal: files on disk are not checked)."""
        raise NotImplementedError

    def _source(self, split: str) -> Path:
        """The file or folder that defines ``split`` (named in the integrity report and in errors)."""
        raise NotImplementedError

    # -- the base's hooks ---------------------------------------------------------------------------------
    @property
    def layout_read(self) -> str:
        return RELEASE  # one layout: the release as distributed (or the user's list files)

    def _release_marker(self) -> Path:
        return self._source(self.splits[0])

    def _annotation_source(self, split: str) -> Path:
        return self._source(split)

    def clip(self, name: str) -> str:
        """``name`` inside :attr:`videos`; the root itself when the clips lie there (``videos`` empty)."""
        return super().clip(name) if self.videos not in ("", ".") else name

    def _read_split(self, split: str) -> list[IslrSample]:
        classes = self.classes()
        samples = []
        for clip in self._list(split):
            if not 0 <= clip.label < len(classes):
                raise DatasetError(f"{clip.where}: sample {clip.id!r} has label {clip.label}, outside "
                                   f"0..{len(classes) - 1} (the {len(classes)} classes of {self.name}); expected "
                                   f"{self.layout}")
            samples.append(IslrSample(clip.id, clip.video, clip.label, classes[clip.label], split,
                                      signer=clip.signer, info=dict(clip.info)))
        return samples


def read_list_lines(path: Path, layout: str) -> list[tuple[str, int, str]]:
    """``(path, label, "file:line")`` from a SignVLM / EVL list: ``path<TAB>label`` per line (SignVLM's
    ``dataset.py`` splits on TAB); a line without a TAB may use one space, as EVL (the label follows the last
    space). Blank lines are skipped; any other line that does not fit is an error naming its number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        fields = line.split("\t") if "\t" in line else line.rsplit(" ", 1)
        label = fields[-1].strip() if len(fields) == 2 else ""
        if len(fields) != 2 or not fields[0].strip() or not label.lstrip("-").isdigit():
            raise DatasetError(f"{where}: expected '<path><TAB><label>' (or '<path> <label>'), found {line!r}; "
                               f"{layout}")
        rows.append((fields[0].strip(), int(label), where))
    return rows


def read_csv_rows(path: Path, columns: int, layout: str) -> list[tuple[list[str], str]]:
    """``(fields, "file:line")`` of a CSV file whose rows have at least ``columns`` fields (UTF-8, a BOM allowed);
    blank rows are skipped; a short row is an error naming its number."""
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, fields in enumerate(csv.reader(handle), 1):
            if not any(f.strip() for f in fields):
                continue
            if len(fields) < columns:
                raise DatasetError(f"{path}:{number}: expected {columns} comma-separated fields, found {fields!r}; "
                                   f"{layout}")
            rows.append(([f.strip() for f in fields], f"{path}:{number}"))
    return rows


def subfolders(folder: Path) -> list[str]:
    """The names of ``folder``'s sub-folders in sorted order, hidden ones left out ([] when it is absent)."""
    try:
        return sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []
