"""NMFs-CSL (1067 Chinese isolated signs, many differing only in non-manual features), read as NLA-SLR reads it.

NLA-SLR reads each clip as JPEG frames ``image_{:05d}.jpg`` numbered from 1 and resizes every frame to 256x256
(bilinear, no antialiasing) before its usual test transform; its keypoints are at 512x512 frame coordinates. The
layout read here (the frames as the dataset is distributed after frame extraction, plus one list per split)::

    {train,test}.txt                          one clip per line: ``<frames folder> <label>``
    jpg_video/<frames folder>/image_00001.jpg ...

The frames folder (relative to ``jpg_video/``, may contain ``/``) is the sample id. Vocabulary: NLA-SLR's
``sorted(set(train labels))``; integer labels (class indices) sort as numbers, text labels as strings.

NLA-SLR's data package is read too (layout detected; see :mod:`bench.data.isolated`): ``{train,dev,test}.pkl`` and
``NMFs-CSL_video.zip`` holding ``<video_file>image_00001.jpg ...``; the frame count is ``seq_len``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.isolated import IslrDataset, IslrSample, sorted_train_vocabulary, write_frame_folder
from bench.io.atomic import atomic_open

FRAME_PATTERN = "image_{:05d}.jpg"


@DATASETS.register("nmfs_csl")
class NmfsCsl(IslrDataset):
    """NMFs-CSL: 1067 glosses; train 25608, test 6402 clips."""

    name = "nmfs_csl"
    splits = ("train", "test")
    num_classes = 1067
    storage = "frames"
    frame_pattern = FRAME_PATTERN
    frame_number_offset = 1
    keypoint_frame_size = (512, 512)
    rgb_pre_resize = (256, 256)
    layout = ("{train,test}.txt ('<frames folder> <label>' per line) in the root and frames at "
              f"jpg_video/<frames folder>/{FRAME_PATTERN.format(1)}, ...")
    release_videos = "jpg_video"
    package_zip = "NMFs-CSL_video.zip"

    def _release_marker(self) -> Path:
        return self.list_path("train")

    def list_path(self, split: str) -> Path:
        return self.root / f"{split}.txt"

    def _rows(self, split: str) -> list[tuple[str, str]]:
        path = self._require(self.list_path(split), f"the {split} list {split}.txt")
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            fields = line.rsplit(maxsplit=1)
            if len(fields) != 2:
                raise DatasetError(f"{path}:{number}: expected '<frames folder> <label>', found {line!r}")
            rows.append((fields[0].strip().strip("/"), fields[1]))
        return rows

    def _read_classes(self) -> list[str]:
        labels = [label for _folder, label in self._rows("train")]
        return sorted_train_vocabulary(int(label) if label.isdigit() else label for label in labels)

    def _read_split(self, split: str) -> list[IslrSample]:
        records = [(folder, self.clip(folder), str(int(label)) if label.isdigit() else label, {})
                   for folder, label in self._rows(split)]
        return self._labelled(split, records, self.list_path(split))


def write_nmfs_csl(root: str | os.PathLike, rows_by_split: Mapping[str, Sequence[tuple[str, str | int]]],
                   frames_by_id: Mapping[str, np.ndarray] | None = None, frames: str = "jpg_video") -> Path:
    """Write ``{split}.txt`` lists of ``(frames folder, label)`` and JPEG frames ``image_00001.jpg, ...`` for
    ``frames_by_id`` (keys: frames folders)."""
    root = Path(root)
    for split, rows in rows_by_split.items():
        with atomic_open(root / f"{split}.txt") as handle:
            handle.writelines(f"{folder} {label}\n" for folder, label in rows)
    for folder, clip in (frames_by_id or {}).items():
        write_frame_folder(root / frames / folder, clip, FRAME_PATTERN, offset=1)
    return root
