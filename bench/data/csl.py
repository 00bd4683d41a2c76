"""CSL-Daily and CSL (continuous), read as the official CSLR preprocessing reads them.

CSL-Daily: ``video_map.txt`` (``index|name|length|gloss|char|word|postag``) and ``split_1.txt`` (``name|split``)
in the annotation folder, frames at ``<root>/<name>/*.jpg`` (256x256 after the official resize). Each split keeps
the order of ``video_map.txt``, not that of the split file; a video_map entry the split file does not list goes
to train (the official else-branch; S000007_P0003_T00 in the release).

CSL: list files ``{train,dev}.txt`` with lines ``<original path>|<glosses>`` (the path, e.g.
``/disk1/dataset/CSL_Continuous/video450``, is the STM id), frames at
``<root>/features/fullFrame-256x256px/<last path component>/*.jpg``.

Both info dicts lack PHOENIX's extra 'prefix' key, so the official loaders (``len(info) - 1``) skip the last
sample of every split: ``samples(split, official_skip_last=True)`` reproduces that.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import CslrDataset, CslrSample, DatasetError, read_table, write_samples_frames, write_table

VIDEO_MAP_COLUMNS = ("index", "name", "length", "gloss", "char", "word", "postag")
SPLIT_COLUMNS = ("name", "split")


@DATASETS.register("csl_daily")
class CslDaily(CslrDataset):
    """CSL-Daily: 2000 glosses + blank; train 18401, dev 1077, test 1176 samples (official runs: 1076, 1175)."""

    name = "csl_daily"
    num_glosses = 2000
    splits = ("train", "dev", "test")
    layout = ("video_map.txt (index|name|length|gloss|char|word|postag) and split_1.txt (name|split) in the "
              "annotation folder, frames at <root>/<name>/*.jpg")
    official_skips_last = True

    def __init__(self, root: str | os.PathLike, annotations: str | os.PathLike | None = None,
                 split_file: str = "split_1.txt", unlisted_split: str | None = "train"):
        """``annotations``: folder of video_map.txt and the split file (default ``root``); ``unlisted_split``:
        where a video_map entry missing from the split file goes ("train" officially, None to leave it out)."""
        super().__init__(root)
        self.annotations = Path(annotations) if annotations is not None else self.root
        self.split_file = split_file
        self.unlisted_split = unlisted_split

    @property
    def frames_root(self) -> Path:
        return self.root

    @classmethod
    def frames_glob(cls, split: str, sample_id: str) -> str:
        return f"{sample_id}/*.jpg"

    def unlisted(self) -> list[str]:
        """Names in video_map.txt that the split file does not list (placed by ``unlisted_split``)."""
        return self._assignment[1]

    def _read_split(self, split: str) -> list[CslrSample]:
        return self._assignment[0][split]

    @cached_property
    def _assignment(self) -> tuple[dict[str, list[CslrSample]], list[str]]:
        video_map = self._require(self.annotations / "video_map.txt", "the annotation file video_map.txt")
        split_path = self._require(self.annotations / self.split_file, f"the split file {self.split_file}")
        listed = {split: set() for split in self.splits}
        for name, split in read_table(split_path, SPLIT_COLUMNS):
            if split in listed:  # the official script ignores other split names
                listed[split].add(name)
        by_split: dict[str, list[CslrSample]] = {split: [] for split in self.splits}
        unlisted = []
        for _index, name, length, gloss, _char, _word, _postag in read_table(video_map, VIDEO_MAP_COLUMNS):
            # membership tested train, dev, test in turn, as the official script does
            split = next((s for s in self.splits if name in listed[s]), None)
            if split is None:
                unlisted.append(name)
                split = self.unlisted_split
                if split is None:
                    continue
            by_split[split].append(CslrSample(name, self.frames_glob(split, name), self.default_signer,
                                              tuple(gloss.split()), _frame_count(video_map, name, length), gloss))
        return by_split, unlisted


@DATASETS.register("csl")
class Csl(CslrDataset):
    """CSL continuous (100 sentences, split as the CSLR repos do): 179 glosses + blank; train 20000, dev 5000."""

    name = "csl"
    num_glosses = 179
    splits = ("train", "dev")
    layout = ("{train,dev}.txt (<original path>|<glosses>) in the annotation folder and frames at "
              "<root>/features/fullFrame-256x256px/<videoNNN>/*.jpg")
    official_skips_last = True

    def __init__(self, root: str | os.PathLike, annotations: str | os.PathLike | None = None):
        """``annotations``: folder of the ``{split}.txt`` list files (default ``root``)."""
        super().__init__(root)
        self.annotations = Path(annotations) if annotations is not None else self.root

    @property
    def frames_root(self) -> Path:
        return self.root / "features" / "fullFrame-256x256px"

    @classmethod
    def frames_glob(cls, split: str, sample_id: str) -> str:
        return f"{sample_id.split('/')[-1]}/*.jpg"

    def list_path(self, split: str) -> Path:
        return self.annotations / f"{split}.txt"

    def _read_split(self, split: str) -> list[CslrSample]:
        path = self._require(self.list_path(split), f"the {split} list file")
        samples = []
        for path_field, label in read_table(path, ("path", "glosses"), header=False):
            # the official script strips each whole line before splitting it
            sample_id, label = path_field.lstrip(), label.rstrip()
            samples.append(CslrSample(sample_id, self.frames_glob(split, sample_id), self.default_signer,
                                      tuple(label.split()), None, label))
        return samples


def write_csl_daily(root: str | os.PathLike, samples_by_split: Mapping[str, Sequence[CslrSample]],
                    frames_by_id: Mapping[str, Sequence[np.ndarray] | np.ndarray] | None = None,
                    annotations: str | os.PathLike | None = None) -> Path:
    """Write video_map.txt (splits one after another), split_1.txt and JPEG frames for ``frames_by_id``."""
    dataset = CslDaily(root, annotations)
    frames_by_id = frames_by_id or {}
    ordered = [(split, s) for split, samples in samples_by_split.items() for s in samples]
    rows = []
    for index, (_split, s) in enumerate(ordered):
        length = s.num_frames if s.num_frames is not None else len(frames_by_id.get(s.id, ()))
        rows.append((str(index), s.id, str(length), s.label or " ".join(s.glosses), "", "", ""))
    write_table(dataset.annotations / "video_map.txt", rows, VIDEO_MAP_COLUMNS)
    write_table(dataset.annotations / dataset.split_file, [(s.id, split) for split, s in ordered], SPLIT_COLUMNS)
    write_samples_frames(dataset, [s for _split, s in ordered], frames_by_id)
    return Path(root)


def write_csl(root: str | os.PathLike, samples_by_split: Mapping[str, Sequence[CslrSample]],
              frames_by_id: Mapping[str, Sequence[np.ndarray] | np.ndarray] | None = None,
              annotations: str | os.PathLike | None = None) -> Path:
    """Write the ``{split}.txt`` list files and JPEG frames for ``frames_by_id``."""
    dataset = Csl(root, annotations)
    for split, samples in samples_by_split.items():
        write_table(dataset.list_path(split), [(s.id, s.label or " ".join(s.glosses)) for s in samples])
        write_samples_frames(dataset, samples, frames_by_id or {})
    return Path(root)


def _frame_count(path: Path, name: str, length: str) -> int:
    try:
        return int(length)
    except ValueError:
        raise DatasetError(f"{path}: the length of {name!r} is {length!r}; expected a frame count") from None
