"""Continuous-SLR datasets: the sample type and everything the four readers share.

A dataset family module (``phoenix.py``, ``csl.py``) only says where its annotation files lie and how one line
becomes a :class:`CslrSample`; the vocabulary, the reference STM, frame reading and the integrity pass live here
once, so that PHOENIX-2014, PHOENIX-2014-T, CSL-Daily and CSL behave alike.

Frames are decoded with Pillow (lossless PNG; libjpeg-turbo for JPEG, the decoder OpenCV uses too) and returned
as RGB. Frames of another size are resized as the official preprocessing does (OpenCV ``INTER_LANCZOS4``; see
:mod:`bench.data.resize` for what happens without OpenCV): the 256x256 frames of the official preprocessing
need no resize at all.
"""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from bench.data.resize import resize
from bench.io.atomic import atomic_open
from bench.io.transcripts import StmSegment

BLANK = "<blank>"  # name of class id 0, the CTC blank
STM_END = 1.79769e308  # the end time the official generate_gt_stm writes for every segment
FRAME_SIZE = (256, 256)  # (width, height) of the official preprocessed frames


class DatasetError(ValueError):
    """A dataset file or folder that does not look as the release layout says; the message names the path."""


@dataclass(frozen=True)
class CslrSample:
    """One sentence: ``frames`` is a glob relative to the dataset's frames root (``dev/<id>/1/*.png``)."""

    id: str  # the id in the reference STM
    frames: str
    signer: str
    glosses: tuple[str, ...]
    num_frames: int | None = None  # from the annotation where it has one (CSL-Daily), else unknown
    label: str = ""  # the raw annotation text, spacing kept, as the official STM writes it


@dataclass
class IntegrityReport:
    """What of a split is on disk: every nominal sample is present, missing (no frames) or unreadable."""

    dataset: str
    split: str
    nominal: int
    present_ids: list[str] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    unreadable_ids: list[str] = field(default_factory=list)

    @property
    def present(self) -> int:
        return len(self.present_ids)

    @property
    def missing(self) -> int:
        return len(self.missing_ids)

    @property
    def unreadable(self) -> int:
        return len(self.unreadable_ids)

    def summary(self) -> str:
        """One line for logs and result records."""
        return (f"{self.dataset} {self.split}: {self.present} of {self.nominal} present, "
                f"{self.missing} missing, {self.unreadable} unreadable")


class CslrDataset:
    """A continuous-SLR dataset read from its release layout under ``root``; subclasses fill the hooks."""

    task: ClassVar[str] = "continuous"
    name: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[str] = ""  # the expected files, quoted in error messages
    num_glosses: ClassVar[int] = 0  # the release's vocabulary size without the blank (0: known only from the data)
    default_signer: ClassVar[str] = "unknown"
    # the official loaders iterate len(info) - 1 samples; only info dicts without a 'prefix' key lose a sample
    official_skips_last: ClassVar[bool] = False

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._samples: dict[str, list[CslrSample]] = {}
        self._counts: dict[str, int] | None = None

    # -- hooks a dataset fills in -------------------------------------------------------------------------
    @property
    def frames_root(self) -> Path:
        """The folder the samples' ``frames`` globs are relative to."""
        raise NotImplementedError

    @classmethod
    def frames_glob(cls, split: str, sample_id: str) -> str:
        """Where the release keeps a sample's frames, relative to :attr:`frames_root`."""
        raise NotImplementedError

    def _read_split(self, split: str) -> list[CslrSample]:
        raise NotImplementedError

    # -- samples and labels -------------------------------------------------------------------------------
    @classmethod
    def make_sample(cls, split: str, sample_id: str, glosses: Iterable[str], signer: str | None = None,
                    num_frames: int | None = None) -> CslrSample:
        """A sample placed where this dataset's release layout puts it (for the writers and tests)."""
        glosses = tuple(glosses)
        return CslrSample(sample_id, cls.frames_glob(split, sample_id), signer or cls.default_signer, glosses,
                          num_frames, " ".join(glosses))

    def samples(self, split: str, official_skip_last: bool = False) -> list[CslrSample]:
        """The split's samples in the official order; ``official_skip_last`` drops what the official loader skips."""
        if split not in self.splits:
            raise DatasetError(f"{self.name} has no split {split!r}; choose one of {', '.join(self.splits)}")
        if split not in self._samples:
            self._samples[split] = self._read_split(split)
        samples = self._samples[split]
        return samples[:-1] if official_skip_last and self.official_skips_last else list(samples)

    def gloss_counts(self) -> dict[str, int]:
        """Occurrences of each gloss over all splits, in ``sorted()`` order (the counts of ``gloss_dict.npy``)."""
        if self._counts is None:
            counts = Counter(g for split in self.splits for s in self.samples(split) for g in s.glosses)
            self._counts = {gloss: counts[gloss] for gloss in sorted(counts)}
        return dict(self._counts)

    def vocabulary(self) -> dict[str, int]:
        """Gloss -> class id, 1..N in ``sorted()`` order over all splits; 0 is the CTC blank."""
        return {gloss: i + 1 for i, gloss in enumerate(self.gloss_counts())}

    def id_to_gloss(self) -> dict[int, str]:
        """Class id -> gloss, with 0 -> :data:`BLANK`."""
        return {0: BLANK, **{i: gloss for gloss, i in self.vocabulary().items()}}

    def reference(self, split: str) -> list[StmSegment]:
        """Ground-truth STM segments as the official preprocessing writes them, in sample order."""
        return [StmSegment(s.id, "1", s.signer, 0.0, STM_END, s.glosses,
                           raw=f"{s.id} 1 {s.signer} 0.0 1.79769e+308 {s.label}\n") for s in self.samples(split)]

    def scoring_reference(self, split: str) -> tuple[list[StmSegment], str]:
        """The STM the official evaluation scores against, and where it came from (the generated one here)."""
        return self.reference(split), "generated from the annotation, as the official preprocessing writes it"

    # -- frames -------------------------------------------------------------------------------------------
    def frame_paths(self, sample: CslrSample) -> list[Path]:
        """The sample's frame files sorted by name (as ``sorted(glob(...))``); empty when none are on disk."""
        pattern = Path(sample.frames)
        folder = self.frames_root / pattern.parent
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        # glob skips hidden files; listing one folder is much faster than glob on large splits
        return [folder / n for n in sorted(names) if not n.startswith(".") and fnmatch.fnmatchcase(n, pattern.name)]

    def read_frames(self, sample: CslrSample, size: tuple[int, int] | None = FRAME_SIZE) -> np.ndarray:
        """Frames as uint8 RGB ``[T, H, W, 3]``; frames not of ``size`` (width, height) are LANCZOS-resized to it."""
        paths = self.frame_paths(sample)
        if not paths:
            raise DatasetError(f"{self.name}: no frames match {self.frames_root / sample.frames} for sample "
                               f"{sample.id!r}; expected {self.layout}")
        frames = [_decode(path, size) for path in paths]
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise DatasetError(f"{self.name}: frames of {sample.id!r} under {paths[0].parent} differ in size "
                               f"({sorted(shapes)}); pass size=(width, height) to resize them")
        return np.stack(frames)

    def integrity(self, split: str, deep: bool = False) -> IntegrityReport:
        """Which samples have frames on disk; decodes the first frame of each (every frame with ``deep``)."""
        samples = self.samples(split)
        report = IntegrityReport(self.name, split, len(samples))
        for sample in samples:
            paths = self.frame_paths(sample)
            if not paths:
                report.missing_ids.append(sample.id)
            elif not all(_decodable(p) for p in (paths if deep else paths[:1])):
                report.unreadable_ids.append(sample.id)
            else:
                report.present_ids.append(sample.id)
        return report

    # -- files --------------------------------------------------------------------------------------------
    def _require(self, path: Path, what: str) -> Path:
        if not path.is_file():
            raise DatasetError(f"{self.name}: {what} not found at {path}; expected {self.layout} "
                               f"under the root {self.root}")
        return path


def read_table(path: Path, columns: Sequence[str], header: bool = True) -> list[list[str]]:
    """``|``-separated rows of ``path`` (UTF-8), checked for the header and field count; blank lines skipped."""
    rows = []
    with path.open("r", encoding="utf-8", newline="") as handle:
        lines = enumerate(handle, 1)
        if header:
            number, first = next(lines, (1, ""))
            first = first.rstrip("\r\n")
            if first != "|".join(columns):
                raise DatasetError(f"{path}:{number}: expected the header {'|'.join(columns)!r}, found {first!r}")
        for number, line in lines:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue  # pandas (the official PHOENIX reader) skips blank lines and does not count them as rows
            fields = line.split("|")
            if len(fields) != len(columns):
                raise DatasetError(f"{path}:{number}: expected {len(columns)} '|'-separated fields "
                                   f"({'|'.join(columns)}), found {len(fields)} in {line!r}")
            rows.append(fields)
    return rows


def write_table(path: Path, rows: Iterable[Sequence[str]], columns: Sequence[str] | None = None) -> Path:
    """Write ``|``-separated rows (with a header line when ``columns`` is given), atomically."""
    with atomic_open(path) as handle:
        if columns is not None:
            handle.write("|".join(columns) + "\n")
        for row in rows:
            handle.write("|".join(row) + "\n")
    return path


def write_frames(folder: Path, frames: Sequence[np.ndarray] | np.ndarray, suffix: str) -> list[Path]:
    """Write uint8 RGB ``[H, W, 3]`` frames as ``000000{suffix}``, ...; PNG is lossless, JPEG quality 95."""
    folder.mkdir(parents=True, exist_ok=True)
    options = {"quality": 95} if suffix.lower() in (".jpg", ".jpeg") else {}
    paths = []
    for i, frame in enumerate(frames):
        path = folder / f"{i:06d}{suffix}"
        Image.fromarray(np.asarray(frame, dtype=np.uint8), "RGB").save(path, **options)
        paths.append(path)
    return paths


def write_samples_frames(dataset: CslrDataset, samples: Iterable[CslrSample],
                         frames_by_id: Mapping[str, Sequence[np.ndarray] | np.ndarray]) -> None:
    """Write the frames of those ``samples`` that have an entry in ``frames_by_id``, where the layout puts them."""
    for sample in samples:
        if sample.id in frames_by_id:
            pattern = Path(sample.frames)
            write_frames(dataset.frames_root / pattern.parent, frames_by_id[sample.id], pattern.suffix)


def _decode(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")  # grey or palette PNGs become 3 channels, as cv2.imread(IMREAD_COLOR) does
    except (OSError, SyntaxError, ValueError) as error:
        raise DatasetError(f"cannot decode the frame {path}: {error}; re-extract or delete this frame") from None
    frame = np.asarray(image, dtype=np.uint8)
    return frame if size is None else resize(frame, tuple(size), "lanczos4")  # the official preprocessing's filter


def _decodable(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except (OSError, SyntaxError, ValueError):
        return False
