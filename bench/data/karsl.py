"""KArSL-100/190/502 (Arabic isolated signs: 502 signs, 3 signers x 50 repetitions), read from its frame folders.

Layout under the root (the release: RGB frames cropped to 256x256)::

    <signer>/<train|test>/<sign id, 4 digits>/<sample>/<frame images>

with exactly three signer folders (``01``, ``02``, ``03`` in the release; any names, taken in sorted order). A
sample's frames are its ``*.png`` files, else its ``*.jpg`` files, in plain lexicographic order (as SignVLM reads
frames). The subsets keep sign ids 0071-0170 (KArSL-100), 0001-0190 (KArSL-190) or 0001-0502 (KArSL-502); a
sample's label is the index of its sign id in the subset's sorted ids, and :meth:`classes` gives the ids
(``"0071"``, ...). The sample id is ``<signer>/<part>/<sign id>/<sample>``.

Splits (names a ``--split`` takes):

- ``train`` / ``test``: signer-dependent, every signer's own ``train`` / ``test`` folders together;
- ``signer<k>_train`` / ``signer<k>_test`` (k = 1..3): one signer's own folders;
- ``fold<k>_train`` / ``fold<k>_test`` (k = 1..3): signer-independent (SignVLM's protocol): fold k tests on all
  samples (``train`` and ``test`` folders) of the k-th signer and trains on all samples of the other two.

KArSL ships no list of samples: the nominal split is the sample folders on disk. A sample folder without frames is
counted missing, one whose first frame cannot be decoded unreadable; a sign with no sample folder in a split
shows in the integrity report's classes without samples.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.isolated import write_frame_folder
from bench.data.listed import ListedClip, ListedIslrDataset, subfolders

PARTS = ("train", "test")
SIGNERS = 3
SPLITS = ("train", "test", *(f"{kind}{k}_{part}" for kind in ("fold", "signer") for k in range(1, SIGNERS + 1)
                             for part in PARTS))
SPLIT_NAME = re.compile(r"(?:(fold|signer)([1-3])_)?(train|test)")


class _Karsl(ListedIslrDataset):
    """What the three KArSL subsets share; a subclass sets ``name`` and ``sign_ids`` (first, last)."""

    splits = SPLITS
    storage = "frames"
    frame_pattern = ""  # sorted *.png, else *.jpg
    keypoint_frame_size = (256, 256)
    sign_ids: tuple[int, int] = (1, 502)
    layout = ("<signer>/<train|test>/<sign id, 4 digits>/<sample>/<frames *.png or *.jpg> under the root, "
              "three signer folders (KArSL's release)")

    def _source(self, split: str) -> Path:
        return self.root / self.videos  # the root, or --videos (relative to it, or absolute)

    def _read_classes(self) -> list[str]:
        first, last = self.sign_ids
        return [f"{i:04d}" for i in range(first, last + 1)]

    def signers(self) -> list[str]:
        """The three signer folders, sorted (signer k of the split names is the k-th)."""
        folder = self._source("train")
        found = [name for name in subfolders(folder) if any((folder / name / part).is_dir() for part in PARTS)]
        if len(found) != SIGNERS:
            raise DatasetError(f"{self.name}: found {len(found)} signer folders under {folder} "
                               f"({', '.join(found) or 'none'}); expected {SIGNERS}: {self.layout}")
        return found

    def _list(self, split: str) -> list[ListedClip]:
        kind, k, part = SPLIT_NAME.fullmatch(split).groups()
        signers = self.signers()
        if kind is None:
            chosen = [(s, part) for s in signers]
        elif kind == "signer":
            chosen = [(signers[int(k) - 1], part)]
        else:  # signer-independent: the held-out signer's samples are the test set, the others' the train set
            held_out = signers[int(k) - 1]
            keep = [s for s in signers if (s == held_out) == (part == "test")]
            chosen = [(s, p) for s in keep for p in PARTS]
        index = {sign: i for i, sign in enumerate(self.classes())}
        clips = []
        for signer, folder_part in chosen:
            clips += self._part(signer, folder_part, index)
        return clips

    def _part(self, signer: str, part: str, index: Mapping[str, int]) -> list[ListedClip]:
        folder = self._source("train") / signer / part
        clips = []
        for sign in subfolders(folder):
            if not re.fullmatch(r"\d{4}", sign):
                raise DatasetError(f"{self.name}: {folder / sign} is not a 4-digit sign id folder; expected "
                                   f"{self.layout}")
            if sign not in index:
                continue  # another subset's sign
            for sample in subfolders(folder / sign):
                sample_id = f"{signer}/{part}/{sign}/{sample}"
                clips.append(ListedClip(sample_id, self.clip(sample_id), index[sign], str(folder / sign),
                                        signer=signer, info={"part": part}))
        return clips


@DATASETS.register("karsl100")
class Karsl100(_Karsl):
    """KArSL-100: sign ids 0071-0170."""

    name = "karsl100"
    num_classes = 100
    sign_ids = (71, 170)


@DATASETS.register("karsl190")
class Karsl190(_Karsl):
    """KArSL-190: sign ids 0001-0190."""

    name = "karsl190"
    num_classes = 190
    sign_ids = (1, 190)


@DATASETS.register("karsl502")
class Karsl502(_Karsl):
    """KArSL-502: every sign id, 0001-0502."""

    name = "karsl502"
    num_classes = 502
    sign_ids = (1, 502)


def write_karsl(root: str | os.PathLike, frames_by_id: Mapping[str, np.ndarray | Sequence[np.ndarray]],
                pattern: str = "{:04d}.jpg") -> Path:
    """Write a KArSL release under ``root``: each ``<signer>/<part>/<sign>/<sample>`` id's frames as
    ``pattern.format(i)`` images (an empty sequence makes an empty sample folder)."""
    root = Path(root)
    for sample_id, frames in frames_by_id.items():
        write_frame_folder(root / sample_id, frames, pattern)
    return root
