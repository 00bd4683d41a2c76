"""SignVLM's (and EVL's) list files: any isolated dataset, described by one ``path<TAB>label`` line per sample.

Layout under the root (SignVLM's ``--data_root``)::

    train.txt, val.txt, test.txt     one sample per line: ``<path><TAB><label>`` (SignVLM's dataset.py splits on
                                     TAB); a line without a TAB may use one space, as EVL and the README do (the
                                     label follows the last space). Labels are 0 .. num_classes-1
    classes.txt                      optional: one class name per line, line i = class i (fixes num_classes)
    <path>                           relative to the root: a video file, or, with frames (SignVLM's
                                     ``--frames_available 1``, every SignVLM script), the folder
                                     ``dirname(path)/stem(path)/`` of ``*.png`` (else ``*.jpg``) frames read in
                                     plain lexicographic order (names must be zero-padded)

Splits: ``train``, ``val``, ``test`` read ``<split>.txt`` in the root; any other name reads ``<name>.txt`` there
(``--split fold1_test`` reads ``fold1_test.txt``), and a name with a file suffix (``lists/mine.txt``, ``test.csv``)
is a list file's path, relative to the root or absolute (a user's private list). A sample's id is its listed path (``#2``, ``#3``... appended to a
path listed again). Classes: ``classes.txt`` when present, else ``"0"`` .. the largest label of the root's
``train.txt`` / ``val.txt`` / ``test.txt``. Frames or videos: the ``frames`` argument, else the first listed sample
found on disk decides (a frames folder, else a video file); a sample with neither is counted missing.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.isolated import IslrSample, write_frame_folder
from bench.data.listed import ListedClip, ListedIslrDataset, read_list_lines
from bench.io.atomic import atomic_open

STANDARD_SPLITS = ("train", "val", "test")
CLASSES_FILE = "classes.txt"


def frames_folder(path: str) -> str:
    """SignVLM's frames folder of a listed ``path``: ``dirname(path)/stem(path)``."""
    pure = PurePosixPath(path)
    return str(pure.parent / pure.stem) if str(pure.parent) != "." else pure.stem


@DATASETS.register("signvlm_list")
class SignvlmList(ListedIslrDataset):
    """Samples listed in SignVLM / EVL list files (``path<TAB>label``) under the root; frames or videos."""

    name = "signvlm_list"
    splits = STANDARD_SPLITS
    frame_pattern = ""  # sorted *.png, else *.jpg, as SignVLM's loader
    layout = ("{train,val,test}.txt (or <split>.txt, or a list file's path) with '<path><TAB><label>' lines in the "
              "root, paths relative to the root: a video, or frames at dirname(path)/stem(path)/*.png (or *.jpg)")

    def __init__(self, root: str | os.PathLike, videos: str | os.PathLike | None = None,
                 frames: bool | None = None):
        """``videos``: where the listed paths start (default: the root); ``frames``: True reads frame folders
        (SignVLM's ``--frames_available 1``), False videos, None detects from the first listed sample on disk."""
        super().__init__(root, videos)
        self.frames = frames

    def list_path(self, split: str) -> Path:
        """The list file of ``split``: the path a split with a file suffix names (``.txt``, ``.csv``...; relative
        to the root or absolute), else ``<split>.txt`` in the root."""
        return self.root / split if PurePosixPath(split).suffix else self.root / f"{split}.txt"

    def _source(self, split: str) -> Path:
        return self.list_path(split)

    def samples(self, split: str) -> list[IslrSample]:
        """The listed samples of ``split`` (any name with a list file; see the module docstring)."""
        if split not in self._samples:
            self._samples[split] = self._read_split(split)
        return list(self._samples[split])

    def _read_classes(self) -> list[str]:
        path = self.root / CLASSES_FILE
        if path.is_file():
            return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        lists = [self.list_path(s) for s in STANDARD_SPLITS if self.list_path(s).is_file()]
        if not lists:
            raise DatasetError(f"{self.name}: neither {CLASSES_FILE} nor train.txt / val.txt / test.txt under "
                               f"{self.root}, so the number of classes is unknown; expected {self.layout}")
        labels = [label for path in lists for _path, label, _where in self._rows(path)]
        return [str(i) for i in range(max(labels, default=-1) + 1)]

    def _rows(self, path: Path) -> list[tuple[str, int, str]]:
        self._require(path, f"the list file {path.name}")
        return read_list_lines(path, f"expected {self.layout}")

    @property
    def storage(self) -> str:  # type: ignore[override]
        """"frames" or "video" (the ``frames`` argument, else detected once from the lists)."""
        if self.frames is None:
            self.frames = self._detect_frames()
        return "frames" if self.frames else "video"

    def _detect_frames(self, first: str | None = None) -> bool:
        for split in dict.fromkeys([s for s in (first, *STANDARD_SPLITS) if s]):  # the split being read first
            if not self.list_path(split).is_file():
                continue
            for listed, _label, _where in self._rows(self.list_path(split)):
                if (self._location / frames_folder(listed)).is_dir():
                    return True
                if (self._location / listed).is_file():
                    return False
        return True  # nothing on disk: report missing frame folders, as every SignVLM script reads frames

    @cached_property
    def _location(self) -> Path:
        return self.root / self.videos

    def _list(self, split: str) -> list[ListedClip]:
        path, clips, seen = self.list_path(split), [], {}
        rows = self._rows(path)
        if self.frames is None:
            self.frames = self._detect_frames(split)
        frames = self.frames
        for listed, label, where in rows:
            seen[listed] = seen.get(listed, 0) + 1
            sample_id = listed if seen[listed] == 1 else f"{listed}#{seen[listed]}"
            video = self.clip(frames_folder(listed) if frames else listed)
            clips.append(ListedClip(sample_id, video, label, where, info={"listed": listed}))
        return clips


def write_signvlm_lists(root: str | os.PathLike, rows_by_split: Mapping[str, Sequence[tuple[str, int]]],
                        separator: str = "\t") -> Path:
    """Write ``<split>.txt`` list files of ``(path, label)`` rows under ``root``."""
    root = Path(root)
    for split, rows in rows_by_split.items():
        with atomic_open(root / f"{split}.txt") as handle:
            handle.writelines(f"{path}{separator}{label}\n" for path, label in rows)
    return root


def write_signvlm_frames(root: str | os.PathLike, frames_by_path: Mapping[str, np.ndarray],
                         pattern: str = "{:05d}.png") -> Path:
    """Write each listed path's frames into its SignVLM frames folder ``dirname(path)/stem(path)/``."""
    root = Path(root)
    for listed, frames in frames_by_path.items():
        write_frame_folder(root / frames_folder(listed), frames, pattern)
    return root
