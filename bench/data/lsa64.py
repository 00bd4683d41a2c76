"""LSA64 (Argentinian isolated signs): 3,200 clips = 64 signs x 10 signers x 5 repetitions.

Layout under the root (the release's cut clips)::

    all_cut/CCC_SSS_RRR.mp4     sign CCC (001-064), signer SSS (001-010), repetition RRR (001-005), 1-based

A sample's id is ``CCC_SSS_RRR``, its label ``sign - 1``, its signer ``SSS``; :meth:`classes` gives the sign
numbers ``"001"`` .. ``"064"``. The nominal split is the full grid, so a clip absent from ``all_cut/`` is counted
missing. Splits (names a ``--split`` takes):

- ``train`` / ``val`` / ``test``: OpenHands' signers 1-8 / 9 / 10;
- ``fold<k>_train`` / ``fold<k>_test`` (k = 1..10): leave-one-signer-out (SignVLM): test on signer k, train on
  the other nine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.listed import ListedClip, ListedIslrDataset
from bench.io.video import write_video

SIGNS, SIGNERS, REPETITIONS = 64, 10, 5
OPENHANDS_SIGNERS = {"train": range(1, 9), "val": (9,), "test": (10,)}
SPLITS = ("train", "val", "test", *(f"fold{k}_{part}" for k in range(1, SIGNERS + 1) for part in ("train", "test")))


@DATASETS.register("lsa64")
class Lsa64(ListedIslrDataset):
    """LSA64: 64 signs; OpenHands' signer split and SignVLM's ten leave-one-signer-out folds."""

    name = "lsa64"
    splits = SPLITS
    num_classes = SIGNS
    release_videos = "all_cut"
    layout = "all_cut/CCC_SSS_RRR.mp4 under the root (sign, signer, repetition; 1-based, 3 digits)"

    def _source(self, split: str) -> Path:
        return self.root / self.videos  # the clips folder names every split

    def _read_classes(self) -> list[str]:
        return [f"{sign:03d}" for sign in range(1, SIGNS + 1)]

    def split_signers(self, split: str) -> list[int]:
        """The signers (1-based) whose clips form ``split``."""
        if split in OPENHANDS_SIGNERS:
            return list(OPENHANDS_SIGNERS[split])
        fold, part = split.removeprefix("fold").split("_")
        held_out = int(fold)
        return [s for s in range(1, SIGNERS + 1) if (s == held_out) == (part == "test")]

    def _list(self, split: str) -> list[ListedClip]:
        signers, folder = self.split_signers(split), self._source(split)
        if not folder.is_dir():  # no folder at all is a wrong root, not 3,200 missing clips
            raise DatasetError(f"{self.name}: the clips folder {folder} not found; expected {self.layout}; pass "
                               f"--videos if the clips are elsewhere")
        where = str(folder)
        return [ListedClip(sample_id, self.clip(f"{sample_id}.mp4"), sign - 1, where, signer=f"{signer:03d}",
                           info={"repetition": repetition})
                for sign in range(1, SIGNS + 1) for signer in signers for repetition in range(1, REPETITIONS + 1)
                for sample_id in [f"{sign:03d}_{signer:03d}_{repetition:03d}"]]


def write_lsa64(root: str | os.PathLike, frames_by_id: Mapping[str, np.ndarray], fps: int = 25) -> Path:
    """Write ``all_cut/<CCC_SSS_RRR>.mp4`` (H.264) under ``root`` for each id of ``frames_by_id``."""
    root = Path(root)
    for sample_id, frames in frames_by_id.items():
        write_video(root / "all_cut" / f"{sample_id}.mp4", frames, fps=fps)
    return root
