"""A dataset whose frames are H&HT mosaics, built on the fly from its videos and landmarks files.

A card whose input spec says ``preprocess="hht"`` gets its dataset through :func:`frames_for_card`: every frame the
runners read (:meth:`read_frames`, :meth:`read_views`) is the mosaic of the stored frame at the same index; all
else (samples, classes, frame counts, integrity) is the dataset's own.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from bench.data.cslr import DatasetError
from bench.data.isolated import IslrDataset
from bench.hht.mosaic import mosaic_frames
from bench.io.landmarks import Landmarks, LandmarksError, landmark_path, read_landmarks

PREPROCESSORS = ("hht",)


class MosaicFrames:
    """``dataset`` with H&HT mosaic frames; landmarks from ``landmarks`` (default ``<root>/landmarks``)."""

    def __init__(self, dataset, landmarks: str | os.PathLike | None = None):
        self.dataset = dataset
        self.landmarks = Path(landmarks) if landmarks is not None else Path(dataset.root) / "landmarks"
        self._last: tuple[str, Landmarks] | None = None  # a clip's views are read one after another
        self._lock = threading.Lock()

    def __getattr__(self, name):
        if name == "dataset":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def sample_landmarks(self, sample) -> Landmarks:
        """The landmarks of ``sample`` (its file under :attr:`landmarks`); a DatasetError names the file."""
        path = landmark_path(self.landmarks, sample)
        with self._lock:
            if self._last is not None and self._last[0] == str(path):
                return self._last[1]
        try:
            landmarks = read_landmarks(path)
        except LandmarksError as error:
            raise DatasetError(f"{self.dataset.name}: sample {sample.id!r}: {error}") from None
        with self._lock:
            self._last = (str(path), landmarks)
        return landmarks

    def read_frames(self, sample, indices) -> np.ndarray:
        """The mosaics of frames ``indices`` of ``sample`` (uint8 RGB ``[N, H, W, 3]``)."""
        frames = self.dataset.read_frames(sample, indices)
        try:
            return mosaic_frames(frames, self.sample_landmarks(sample), indices)
        except ValueError as error:
            raise DatasetError(f"{self.dataset.name}: sample {sample.id!r}: {error}") from None

    read_views = IslrDataset.read_views  # the dataset's own view reading, on mosaic frames


def frames_for_card(dataset, card, landmarks: str | os.PathLike | None = None):
    """``dataset`` as ``card``'s input spec wants its frames: unchanged, or H&HT mosaics (``preprocess="hht"``)."""
    preprocess = getattr(card.input, "preprocess", None)
    if preprocess is None:
        return dataset
    if preprocess not in PREPROCESSORS:
        raise ValueError(f"{card.name}: unknown input preprocess {preprocess!r}; expected one of {PREPROCESSORS}")
    return MosaicFrames(dataset, landmarks)
