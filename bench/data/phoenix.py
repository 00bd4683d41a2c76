"""RWTH-PHOENIX-Weather 2014 and 2014-T, read from their release layouts as the official CSLR preprocessing does.

PHOENIX-2014 (``phoenix-2014-multisigner/``)::

    annotations/manual/{train,dev,test}.corpus.csv      id|folder|signer|annotation
    features/fullFrame-256x256px/{split}/<id>/1/*.png   (the official preprocessing's Lanczos resize)

PHOENIX-2014-T (``PHOENIX-2014-T/``)::

    annotations/manual/PHOENIX-2014-T.{split}.corpus.csv   name|video|start|end|speaker|orth|translation
    features/fullFrame-256x256px/{split}/<name>/*.png

Sample order is the corpus file's line order. The reference STM text is the raw annotation (``orth`` for -T).
For PHOENIX-2014 dev/test its words equal the RWTH ground truth the official scoring uses; the RWTH train file
is a cleaned version and differs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import CslrDataset, CslrSample, DatasetError, read_table, write_samples_frames, write_table
from bench.io.transcripts import StmSegment, read_stm

SPLITS = ("train", "dev", "test")


class _PhoenixRelease(CslrDataset):
    """What the two PHOENIX releases share: ``annotations/manual`` corpus files and ``features/`` frame folders."""

    splits = SPLITS
    columns: ClassVar[tuple[str, ...]] = ()
    corpus_name: ClassVar[str] = ""  # file name in annotations/manual, with {split}

    def __init__(self, root: str | os.PathLike, resolution: str = "256x256px"):
        """``resolution`` picks ``features/fullFrame-<resolution>``; the 210x260px originals are resized on read."""
        super().__init__(root)
        self.resolution = resolution

    @property
    def frames_root(self) -> Path:
        return self.root / "features" / f"fullFrame-{self.resolution}"

    def annotation_path(self, split: str) -> Path:
        return self.root / "annotations" / "manual" / self.corpus_name.format(split=split)

    def _rows(self, split: str) -> list[list[str]]:
        folder = self.root / "annotations" / "manual"
        if not folder.is_dir():
            raise DatasetError(f"{self.name}: no annotation folder at {folder}; expected {self.layout}; pass as "
                               f"root the release folder that holds annotations/ and features/")
        return read_table(self._require(self.annotation_path(split), f"the {split} corpus file"), self.columns)


@DATASETS.register("phoenix2014")
class Phoenix2014(_PhoenixRelease):
    """RWTH-PHOENIX-Weather 2014 (multisigner): 1295 glosses + blank; train 5671, dev 540, test 629 samples."""

    name = "phoenix2014"
    num_glosses = 1295
    layout = ("phoenix-2014-multisigner/annotations/manual/{train,dev,test}.corpus.csv (id|folder|signer|annotation) "
              "and features/fullFrame-256x256px/{split}/<id>/1/*.png")
    columns = ("id", "folder", "signer", "annotation")
    corpus_name = "{split}.corpus.csv"
    default_signer = "Signer01"
    # data rows (0-based, header and blank lines not counted) the official preprocessing drops as broken
    OFFICIAL_BROKEN_ROWS: ClassVar[Mapping[str, tuple[int, ...]]] = {"train": (2390,)}

    def __init__(self, root: str | os.PathLike, resolution: str = "256x256px", drop_official_broken_rows: bool = True):
        """``drop_official_broken_rows``: drop train row 2390 as the official preprocessing does (5671 of 5672)."""
        super().__init__(root, resolution)
        self.drop_official_broken_rows = drop_official_broken_rows

    @classmethod
    def frames_glob(cls, split: str, sample_id: str) -> str:
        return f"{split}/{sample_id}/1/*.png"

    def dropped_rows(self, split: str) -> list[str]:
        """The raw corpus lines :meth:`samples` leaves out of ``split`` (empty unless the official drop is on)."""
        rows = self._rows(split)
        return ["|".join(rows[i]) for i in self._dropped_indices(split) if i < len(rows)]

    def _dropped_indices(self, split: str) -> tuple[int, ...]:
        return self.OFFICIAL_BROKEN_ROWS.get(split, ()) if self.drop_official_broken_rows else ()

    def scoring_reference(self, split: str) -> tuple[list[StmSegment], str]:
        """The release's own ``evaluation/phoenix2014-groundtruth-{split}.stm`` (RWTH's cleaned references, no final
        newline) when present: what the official scripts score against; else the STM generated from the corpus."""
        path = self.root / "evaluation" / f"phoenix2014-groundtruth-{split}.stm"
        if path.is_file():
            return read_stm(path), str(path)
        segments, source = super().scoring_reference(split)
        return segments, f"{source} ({path} not found: same words for dev/test, but the official Python evaluator's " \
                         "last-character quirk needs the release file)"

    def _read_split(self, split: str) -> list[CslrSample]:
        dropped = set(self._dropped_indices(split))
        return [CslrSample(sample_id, f"{split}/{folder}", signer, tuple(annotation.split()), None, annotation)
                for i, (sample_id, folder, signer, annotation) in enumerate(self._rows(split)) if i not in dropped]


@DATASETS.register("phoenix2014t")
class Phoenix2014T(_PhoenixRelease):
    """RWTH-PHOENIX-Weather 2014 T: 1115 glosses + blank; train 7096, dev 519, test 642 samples."""

    name = "phoenix2014t"
    num_glosses = 1115
    layout = ("PHOENIX-2014-T/annotations/manual/PHOENIX-2014-T.{train,dev,test}.corpus.csv "
              "(name|video|start|end|speaker|orth|translation) and features/fullFrame-256x256px/{split}/<name>/*.png")
    columns = ("name", "video", "start", "end", "speaker", "orth", "translation")
    corpus_name = "PHOENIX-2014-T.{split}.corpus.csv"
    default_signer = "Signer01"

    @classmethod
    def frames_glob(cls, split: str, sample_id: str) -> str:
        return f"{split}/{sample_id}/*.png"

    def _read_split(self, split: str) -> list[CslrSample]:
        return [CslrSample(name, f"{split}/{video}", speaker, tuple(orth.split()), None, orth)
                for name, video, _start, _end, speaker, orth, _translation in self._rows(split)]


def write_phoenix2014(root: str | os.PathLike, samples_by_split: Mapping[str, Sequence[CslrSample]],
                      frames_by_id: Mapping[str, Sequence[np.ndarray] | np.ndarray] | None = None) -> Path:
    """Write a PHOENIX-2014 release under ``root``: corpus CSVs with header, and PNG frames for ``frames_by_id``."""
    dataset = Phoenix2014(root)
    for split, samples in samples_by_split.items():
        rows = [(s.id, _folder(split, s), s.signer, s.label or " ".join(s.glosses)) for s in samples]
        write_table(dataset.annotation_path(split), rows, Phoenix2014.columns)
        write_samples_frames(dataset, samples, frames_by_id or {})
    return Path(root)


def write_phoenix2014t(root: str | os.PathLike, samples_by_split: Mapping[str, Sequence[CslrSample]],
                       frames_by_id: Mapping[str, Sequence[np.ndarray] | np.ndarray] | None = None) -> Path:
    """Write a PHOENIX-2014-T release under ``root`` (start/end -1 as in the release; translation left empty)."""
    dataset = Phoenix2014T(root)
    for split, samples in samples_by_split.items():
        rows = [(s.id, _folder(split, s), "-1", "-1", s.signer, s.label or " ".join(s.glosses), "") for s in samples]
        write_table(dataset.annotation_path(split), rows, Phoenix2014T.columns)
        write_samples_frames(dataset, samples, frames_by_id or {})
    return Path(root)


def _folder(split: str, sample: CslrSample) -> str:
    """The corpus file's folder column: the frames glob without its leading split folder."""
    prefix = f"{split}/"
    if not sample.frames.startswith(prefix):
        raise DatasetError(f"sample {sample.id!r} of split {split!r} has frames {sample.frames!r}; expected a glob "
                           f"starting with {prefix!r} (build samples with make_sample)")
    return sample.frames[len(prefix):]
