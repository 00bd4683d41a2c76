"""Isolated-SLR datasets (one sign per clip): the sample type and what the WLASL, MS-ASL and NMFs-CSL readers share.

A family module (``wlasl.py``, ``msasl.py``, ``nmfs_csl.py``) reads its release's annotation files into
:class:`IslrSample` lists and says where a clip lies; the vocabulary, frame counts under the official rule, frame
reading (video files through PyAV, or folders of numbered images through Pillow) and the integrity pass live here.

Vocabulary (NLA-SLR's ``create_vocab``): WLASL and NMFs-CSL ``sorted(set(train labels))``; MS-ASL the first N
entries of ``MSASL_classes.json``. A sample's ``label`` is its index in :meth:`IslrDataset.classes`.
Frame images that are missing or broken are errors here (and unreadable in :meth:`IslrDataset.integrity`); the
official image reader silently repeats the previous frame instead.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from bench.data.cslr import DatasetError, IntegrityReport
from bench.io.atomic import atomic_open
from bench.io.video import VideoError, read_video_frames, video_frame_count


@dataclass(frozen=True)
class IslrSample:
    """One clip: ``video`` is relative to the dataset root (a video file, or a folder of numbered frames)."""

    id: str  # the release's id (WLASL video_id, ``<split>/<index>`` for MS-ASL, the frames folder for NMFs-CSL)
    video: str
    label: int  # index in the dataset's classes()
    gloss: str
    split: str
    frame_start: int | None = None  # the release's annotation of the sign inside its source video, if any
    frame_end: int | None = None
    signer: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the rest of the release's record


@dataclass
class IsolatedIntegrity(IntegrityReport):
    """What of a split is on disk: every nominal sample is present, missing or unreadable (with the reason)."""

    problems: dict[str, str] = field(default_factory=dict)  # id -> why it is missing or unreadable
    classes_without_samples: list[str] = field(default_factory=list)  # glosses with no present sample in the split

    def summary(self) -> str:
        """One line for logs and result records: ``wlasl2000 test: 2878 of 2879 evaluated (1 missing, ...)``."""
        empty, line = self.classes_without_samples, ""
        if empty:
            more = ", ..." if len(empty) > 5 else ""
            line = f"; {len(empty)} classes without a sample ({', '.join(empty[:5])}{more})"
        return (f"{self.dataset} {self.split}: {self.present} of {self.nominal} evaluated "
                f"({self.missing} missing, {self.unreadable} unreadable){line}")


class IslrDataset:
    """An isolated-SLR dataset read from its release layout under ``root``; subclasses fill the hooks."""

    task: ClassVar[str] = "isolated"
    name: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[str] = ""  # the expected files, quoted in error messages
    num_classes: ClassVar[int] = 0  # the subset size the name promises (WLASL-2000: 2000)
    storage: ClassVar[str] = "video"  # "video": one file per clip; "frames": a folder of numbered images
    frame_pattern: ClassVar[str] = ""  # "frames" storage: file name of frame i (0-based), e.g. "{:04d}.png"
    frame_number_offset: ClassVar[int] = 0  # "frames" storage: the number in the name of frame 0
    official_frame_drop: ClassVar[int] = 0  # frames the official loader leaves off the end (WLASL: 2, lintel)
    keypoint_frame_size: ClassVar[tuple[int, int]] = (256, 256)  # (h, w) the keypoint pickle's coordinates refer to
    rgb_pre_resize: ClassVar[tuple[int, int] | None] = None  # (h, w) the official loader resizes frames to first

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._samples: dict[str, list[IslrSample]] = {}
        self._classes: list[str] | None = None

    # -- hooks a dataset fills in -------------------------------------------------------------------------
    def _read_classes(self) -> list[str]:
        raise NotImplementedError

    def _read_split(self, split: str) -> list[IslrSample]:
        raise NotImplementedError

    # -- vocabulary and samples ---------------------------------------------------------------------------
    def classes(self) -> list[str]:
        """The gloss of each class index, in the official vocabulary order of this dataset's protocol."""
        if self._classes is None:
            self._classes = self._read_classes()
        return list(self._classes)

    def samples(self, split: str) -> list[IslrSample]:
        """The split's samples in the release's order (the nominal split: files on disk are not checked)."""
        if split not in self.splits:
            raise DatasetError(f"{self.name} has no split {split!r}; choose one of {', '.join(self.splits)}")
        if split not in self._samples:
            self._samples[split] = self._read_split(split)
        return list(self._samples[split])

    def _labelled(self, split: str, records: Iterable[tuple[str, str, str, dict[str, Any]]],
                  source: Path) -> list[IslrSample]:
        """Samples from ``(id, video, gloss, fields)`` records, labelled by :meth:`classes` (``vocab.index``)."""
        index = {gloss: i for i, gloss in enumerate(self.classes())}
        samples = []
        for sample_id, video, gloss, fields in records:
            if gloss not in index:
                raise DatasetError(f"{source}: sample {sample_id!r} of {split} has the gloss {gloss!r}, which is not "
                                   f"in the {self.name} vocabulary (built from the train split); the official loader "
                                   f"fails on it too: check that the annotation files belong together")
            samples.append(IslrSample(sample_id, video, index[gloss], gloss, split, **fields))
        return samples

    def keypoint_name(self, sample: IslrSample) -> str:
        """The sample's key in the official keypoint pickle (the sample id; checked for WLASL's video ids only)."""
        return sample.id

    # -- frames -------------------------------------------------------------------------------------------
    def video_path(self, sample: IslrSample) -> Path:
        """The clip's video file, or its frames folder for "frames" storage."""
        return self.root / sample.video

    def frame_file(self, sample: IslrSample, index: int) -> Path:
        """"frames" storage: the image file of frame ``index`` (0-based) of ``sample``."""
        return self.video_path(sample) / self.frame_pattern.format(index + self.frame_number_offset)

    def stored_frame_count(self, sample: IslrSample) -> int:
        """Frames on disk: decoded-stream length (container count) or the run of numbered images from frame 0."""
        path = self.video_path(sample)
        if self.storage == "video":
            try:
                return video_frame_count(path)
            except VideoError as error:
                raise DatasetError(f"{self.name}: sample {sample.id!r}: {error}; expected {self.layout}") from None
        numbers = self._frame_numbers(path)
        if numbers is None:
            raise DatasetError(f"{self.name}: no frames folder at {path} for sample {sample.id!r}; expected "
                               f"{self.layout}")
        count = 0
        while count + self.frame_number_offset in numbers:
            count += 1
        return count

    def frame_count(self, sample: IslrSample) -> int:
        """The clip length the official loader uses (``vlen``): stored frames minus the official drop (WLASL: 2)."""
        count = self.stored_frame_count(sample) - self.official_frame_drop
        if count < 1:
            raise DatasetError(f"{self.name}: sample {sample.id!r} at {self.video_path(sample)} has "
                               f"{count + self.official_frame_drop} frames, too few for the official loader "
                               f"(it drops {self.official_frame_drop}); re-download or re-extract it")
        return count

    def read_frames(self, sample: IslrSample, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Frames ``indices`` (0-based, non-decreasing) as uint8 RGB ``[N, H, W, 3]`` at the stored size."""
        path = self.video_path(sample)
        if self.storage == "video":
            try:
                return read_video_frames(path, indices)
            except VideoError as error:
                raise DatasetError(f"{self.name}: sample {sample.id!r}: {error}") from None
        frames = [_read_image(self.frame_file(sample, int(i)), sample.id) for i in indices]
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise DatasetError(f"{self.name}: frames of {sample.id!r} under {path} differ in size ({sorted(shapes)})")
        return np.stack(frames) if frames else np.zeros((0, 0, 0, 3), dtype=np.uint8)

    def read_views(self, sample: IslrSample, views: Sequence[Any]) -> list[np.ndarray]:
        """Frames of several temporal views (``bench.data.views.TemporalView``), each read once and padded."""
        from bench.data.views import pad_edges  # views imports torch; keep it out of plain sample listing

        wanted = np.unique(np.concatenate([np.asarray(v.indices, dtype=np.int64) for v in views]))
        frames = self.read_frames(sample, wanted)
        position = {int(i): k for k, i in enumerate(wanted)}
        return [pad_edges(frames[[position[int(i)] for i in v.indices]], v.pad) for v in views]

    # -- integrity ----------------------------------------------------------------------------------------
    def integrity(self, split: str) -> IsolatedIntegrity:
        """Which samples of ``split`` are on disk and readable: opens each container (or the first image) and
        checks its frame count, without decoding whole videos; lists the classes left without a present sample."""
        samples = self.samples(split)
        report = IsolatedIntegrity(self.name, split, len(samples))
        for sample in samples:
            problem, missing = self._check(sample)
            if problem is None:
                report.present_ids.append(sample.id)
            else:
                (report.missing_ids if missing else report.unreadable_ids).append(sample.id)
                report.problems[sample.id] = problem
        report.classes_without_samples = classes_without_samples(self.classes(), samples, report.present_ids)
        return report

    def _check(self, sample: IslrSample) -> tuple[str | None, bool]:
        path = self.video_path(sample)
        if not path.exists():
            return f"not found: {path}", True
        if self.storage == "frames":
            if not path.is_dir() or self._frame_numbers(path) in (None, set()):
                return f"no frames in {path}", True
            first = self.frame_file(sample, 0)
            try:
                _read_image(first, sample.id)
            except DatasetError as error:
                return str(error), False
        try:
            self.frame_count(sample)
        except DatasetError as error:
            return str(error), False
        return None, False

    def _frame_numbers(self, folder: Path) -> set[int] | None:
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return None
        regex = re.compile(_pattern_regex(self.frame_pattern))
        return {int(m.group(1)) for m in map(regex.fullmatch, names) if m}

    # -- files --------------------------------------------------------------------------------------------
    def _require(self, path: Path, what: str) -> Path:
        if not path.is_file():
            raise DatasetError(f"{self.name}: {what} not found at {path}; expected {self.layout} under the root "
                               f"{self.root}")
        return path


def classes_without_samples(classes: Sequence[str], samples: Sequence[IslrSample],
                            present_ids: Iterable[str] | None = None) -> list[str]:
    """Glosses (in class order) with no sample among ``samples`` (restricted to ``present_ids`` when given):
    the classes per-class accuracy leaves out, as the official ``np.nanmean`` does."""
    keep = None if present_ids is None else set(present_ids)
    seen = {s.label for s in samples if keep is None or s.id in keep}
    return [gloss for i, gloss in enumerate(classes) if i not in seen]


def sorted_train_vocabulary(labels: Iterable[Any]) -> list[str]:
    """NLA-SLR's WLASL / NMFs-CSL vocabulary: ``sorted(set(train labels))``; integer labels sort as numbers."""
    labels = set(labels)
    if labels and all(isinstance(label, int) for label in labels):
        return [str(label) for label in sorted(labels)]
    return sorted(str(label) for label in labels)


def write_frame_folder(folder: Path, frames: np.ndarray | Sequence[np.ndarray], pattern: str, offset: int = 0,
                       jpeg_quality: int = 95) -> list[Path]:
    """Write uint8 RGB frames as ``pattern.format(i + offset)`` (PNG lossless, JPEG at ``jpeg_quality``)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = folder / pattern.format(i + offset)
        options = {"quality": jpeg_quality} if path.suffix.lower() in (".jpg", ".jpeg") else {}
        Image.fromarray(np.asarray(frame, dtype=np.uint8), "RGB").save(path, **options)
        paths.append(path)
    return paths


def load_json(path: Path) -> Any:
    """A release's JSON file; a DatasetError names the file when it is not valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: not valid JSON ({error}); re-download it") from None


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON, atomically (for the synthetic-release writers)."""
    with atomic_open(path) as handle:
        json.dump(data, handle)
    return path


def _read_image(path: Path, sample_id: str) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)  # as the official PIL .convert('RGB')
    except FileNotFoundError:
        raise DatasetError(f"frame {path} of sample {sample_id!r} not found; re-extract the clip's frames") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise DatasetError(f"cannot decode the frame {path} of sample {sample_id!r}: {error}; re-extract it") from None


def _pattern_regex(pattern: str) -> str:
    """``"image_{:05d}.jpg"`` -> a regex whose group 1 is the frame number."""
    head, _, tail = pattern.partition("{")
    _, _, rest = tail.partition("}")
    return re.escape(head) + r"(\d+)" + re.escape(rest)
