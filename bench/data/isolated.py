"""Isolated-SLR datasets (one sign per clip): the sample type and what the WLASL, MS-ASL and NMFs-CSL readers share.

A family module (``wlasl.py``, ``msasl.py``, ``nmfs_csl.py``) reads its release's annotation files into
:class:`IslrSample` lists and says where a clip lies; the vocabulary, frame counts under the official rule, frame
reading (video files through PyAV, or folders of numbered images through Pillow) and the integrity pass live here.

Two layouts are read, detected from the files under the root: the dataset's own release (its annotation files
and a folder of clips; the family module says which) and NLA-SLR's data package (``train.pkl`` / ``dev.pkl`` /
``test.pkl``, see :mod:`bench.io.nla_slr_annotations`, plus the dataset zip its configs name, read in place through
``<zip>@<member>`` paths, see :mod:`bench.io.zip_members`). The release wins when its annotation file is there.
``videos`` (the CLI's ``--videos``) overrides where the clips are: a folder or a ``.zip``, relative to the root or
absolute. Frame count rule for the package: ``seq_len`` wins. The official code derives its frame indices from
``seq_len`` (minus the dataset's official drop), never from the container, so the harness does too and the indices
match the official ones; a clip whose stored frame count differs from its ``seq_len`` (a re-encoded video) is
warned about and listed in :meth:`IslrDataset.integrity` with both numbers; frames the indices need but the clip
lacks make it unreadable, as they would break the official read.
List-style releases whose splits give class indices (KArSL, LSA64, AUTSL, SignVLM's list files) derive from
:class:`bench.data.listed.ListedIslrDataset`, which builds on this base.

Vocabulary (NLA-SLR's ``create_vocab``): WLASL and NMFs-CSL ``sorted(set(train labels))``; MS-ASL the first N
entries of ``MSASL_classes.json``. A sample's ``label`` is its index in :meth:`IslrDataset.classes`.
Frame images that are missing or broken are errors here (and unreadable in :meth:`IslrDataset.integrity`); the
official image reader silently repeats the previous frame instead.
"""

from __future__ import annotations

import io
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from bench.data.cslr import DatasetError, IntegrityReport
from bench.io.atomic import atomic_open
from bench.io.nla_slr_annotations import AnnotationError, read_annotation_pickle
from bench.io.video import VideoError, read_video_frames, video_frame_count
from bench.io.zip_members import ZipMember, bad_archive, join, resolve

RELEASE, NLA_SLR_PACKAGE = "release", "nla_slr_package"  # the two layouts a reader accepts


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
    annotated_frames: int | None = None  # NLA-SLR's seq_len: the official frame count, before the official drop


@dataclass
class IsolatedIntegrity(IntegrityReport):
    """What of a split is on disk: every nominal sample is present, missing or unreadable (with the reason)."""

    problems: dict[str, str] = field(default_factory=dict)  # id -> why it is missing or unreadable
    classes_without_samples: list[str] = field(default_factory=list)  # glosses with no present sample in the split
    layout: str = RELEASE  # which layout was read: "release" or "nla_slr_package"
    sources: dict[str, str] = field(default_factory=dict)  # the annotation file and the clips location read
    # id -> {"seq_len": annotated, "stored": frames in the clip}, where they differ (seq_len is used)
    frame_count_mismatches: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and result records: ``wlasl2000 test: 2878 of 2879 evaluated (1 missing, ...)``."""
        empty, line = self.classes_without_samples, ""
        if empty:
            more = ", ..." if len(empty) > 5 else ""
            line = f"; {len(empty)} classes without a sample ({', '.join(empty[:5])}{more})"
        if self.frame_count_mismatches:
            line += "; " + self.mismatch_line()
        return (f"{self.dataset} {self.split}: {self.present} of {self.nominal} evaluated "
                f"({self.missing} missing, {self.unreadable} unreadable){line}")

    def mismatch_line(self) -> str:
        """``2 clips whose seq_len differs from the stored frames (00335: 57 vs 59, ...); seq_len used``."""
        first = list(self.frame_count_mismatches.items())[:5]
        shown = ", ".join(f"{i}: {m['seq_len']} vs {m['stored']}" for i, m in first)
        more = ", ..." if len(self.frame_count_mismatches) > 5 else ""
        return (f"{len(self.frame_count_mismatches)} clips whose seq_len differs from the stored frame count "
                f"({shown}{more}); seq_len used, as the official code")


class IslrDataset:
    """An isolated-SLR dataset read from its release layout under ``root``; subclasses fill the hooks."""

    task: ClassVar[str] = "isolated"
    name: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[str] = ""  # the expected files, quoted in error messages
    num_classes: ClassVar[int] = 0  # the subset size the name promises (WLASL-2000: 2000)
    storage: ClassVar[str] = "video"  # "video": one file per clip; "frames": a folder of numbered images
    # "frames" storage: file name of frame i (0-based), e.g. "{:04d}.png"; "" = the folder's *.png (else *.jpg)
    # files in plain lexicographic order, as SignVLM's loader lists them (so names must be zero-padded)
    frame_pattern: ClassVar[str] = ""
    frame_number_offset: ClassVar[int] = 0  # "frames" storage: the number in the name of frame 0
    official_frame_drop: ClassVar[int] = 0  # frames the official loader leaves off the end (WLASL: 2, lintel)
    keypoint_frame_size: ClassVar[tuple[int, int]] = (256, 256)  # (h, w) the keypoint pickle's coordinates refer to
    rgb_pre_resize: ClassVar[tuple[int, int] | None] = None  # (h, w) the official loader resizes frames to first
    release_videos: ClassVar[str] = "videos"  # release layout: the clips folder under the root
    package_zip: ClassVar[str] = ""  # NLA-SLR package: the zip its configs name (WLASL2000.zip)
    package_files: ClassVar[dict[str, str]] = {"train": "train.pkl", "val": "dev.pkl", "test": "test.pkl"}
    package_extra_files: ClassVar[str] = ""  # other package files, for error messages (WLASL: ", <K>.json")
    metric_ks: ClassVar[tuple[int, ...]] = ()  # the release's own top-k beside the card's (ASL-Citizen: 10, 20)
    rank_metrics: ClassVar[tuple[str, ...]] = ()  # its ranking metrics (bench.metrics.RANK_METRICS: dcg, mrr)
    per_signer: ClassVar[bool] = False  # the release's paper reports accuracy per signer too (ASL-Citizen)

    def __init__(self, root: str | os.PathLike, videos: str | os.PathLike | None = None):
        """``videos``: where the clips are (a folder or a ``.zip``, relative to ``root`` or absolute); default:
        the layout's (the release's clips folder, or the zip NLA-SLR's configs name)."""
        self.root = Path(root)
        self.videos_option = None if videos is None else str(videos)
        self._samples: dict[str, list[IslrSample]] = {}
        self._classes: list[str] | None = None

    # -- hooks a dataset fills in -------------------------------------------------------------------------
    def _read_classes(self) -> list[str]:
        """Release layout: the vocabulary."""
        raise NotImplementedError

    def _read_split(self, split: str) -> list[IslrSample]:
        """Release layout: the split's samples."""
        raise NotImplementedError

    def _release_marker(self) -> Path:
        """Release layout: the annotation file whose presence selects that layout."""
        raise NotImplementedError

    def _package_keeps(self, record: Mapping[str, Any]) -> bool:
        """NLA-SLR package: whether the official loader keeps this pickle record for this dataset (subset)."""
        return True

    def _package_clip(self, record: Mapping[str, Any]) -> str:
        """NLA-SLR package: the clip's path inside the videos location (frame datasets: ``video_file``)."""
        return str(record["video_file"]).strip("/")

    def _read_package_classes(self) -> list[str]:
        """NLA-SLR package: ``sorted(set(train labels))`` of the kept records (WLASL, NMFs-CSL)."""
        return sorted_train_vocabulary(r["label"] for r in self._package_records("train"))

    # -- layout -------------------------------------------------------------------------------------------
    @cached_property
    def layout_read(self) -> str:
        """``"release"`` when the release's annotation file is under the root, else ``"nla_slr_package"`` when
        ``train.pkl`` is (else ``"release"``, whose errors then name both layouts)."""
        if self._release_marker().is_file():
            return RELEASE
        return NLA_SLR_PACKAGE if (self.root / self.package_files["train"]).is_file() else RELEASE

    @property
    def videos(self) -> str:
        """Where the clips are read: the ``videos`` option, else the layout's default folder or zip."""
        if self.videos_option is not None:
            return self.videos_option
        return self.package_zip if self.layout_read == NLA_SLR_PACKAGE else self.release_videos

    def clip(self, name: str) -> str:
        """A sample's ``video`` for the clip ``name`` inside :attr:`videos` (``videos/x.mp4``, ``a.zip@x.mp4``)."""
        return join(self.videos, name)

    def _annotation_source(self, split: str) -> Path:
        return self.root / self.package_files[split] if self.layout_read == NLA_SLR_PACKAGE else self._release_marker()

    def _package_records(self, split: str) -> list[dict[str, Any]]:
        if split not in self.package_files:
            raise DatasetError(f"{self.name}: NLA-SLR's package has no file for the split {split!r}")
        path = self._require(self.root / self.package_files[split], f"the {split} annotation "
                             f"{self.package_files[split]}")
        try:
            return [r for r in read_annotation_pickle(path) if self._package_keeps(r)]
        except AnnotationError as error:
            raise DatasetError(f"{self.name}: {error}") from None

    def _read_package_split(self, split: str) -> list[IslrSample]:
        records = [(str(r["name"]), self.clip(self._package_clip(r)), str(r["label"]),
                    {"annotated_frames": int(r["seq_len"]),
                     "info": {k: v for k, v in r.items() if k not in ("name", "label")}})
                   for r in self._package_records(split)]
        return self._labelled(split, records, self.root / self.package_files[split])

    # -- vocabulary and samples ---------------------------------------------------------------------------
    def classes(self) -> list[str]:
        """The gloss of each class index, in the official vocabulary order of this dataset's protocol."""
        if self._classes is None:
            package = self.layout_read == NLA_SLR_PACKAGE
            self._classes = self._read_package_classes() if package else self._read_classes()
        return list(self._classes)

    def samples(self, split: str) -> list[IslrSample]:
        """The split's samples in the release's order (the nominal split: files on disk are not checked)."""
        if split not in self.splits:
            raise DatasetError(f"{self.name} has no split {split!r}; choose one of {', '.join(self.splits)}")
        if split not in self._samples:
            package = self.layout_read == NLA_SLR_PACKAGE
            self._samples[split] = self._read_package_split(split) if package else self._read_split(split)
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
    def video_path(self, sample: IslrSample) -> Path | ZipMember:
        """The clip's video file, or its frames folder for "frames" storage (a :class:`ZipMember` inside a zip)."""
        return resolve(self.root, sample.video)

    def frame_file(self, sample: IslrSample, index: int) -> Path | ZipMember:
        """"frames" storage: the image file of frame ``index`` (0-based) of ``sample``."""
        folder = self.video_path(sample)
        if not self.frame_pattern:
            names = self._sorted_frames(folder)
            if not 0 <= index < len(names):
                raise DatasetError(f"frame {index} of sample {sample.id!r} not found: {folder} holds {len(names)} "
                                   f"frames; re-extract the clip's frames")
            return folder / names[index]
        return folder / self.frame_pattern.format(index + self.frame_number_offset)

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

    def frame_count(self, sample: IslrSample, drop: int | None = None) -> int:
        """The clip length the official loader uses (``vlen``): the annotated ``seq_len`` where the annotation
        gives one (it wins over the container), else the stored frames; minus the official drop (WLASL: 2, NLA-SLR's
        lintel rule), or minus ``drop`` where a model's loader drops another number (a card's ``frame_drop``)."""
        annotated = sample.annotated_frames
        drop = self.official_frame_drop if drop is None else drop
        count = (self.stored_frame_count(sample) if annotated is None else annotated) - drop
        if count < 1:
            what = "frames" if annotated is None else "frames by its seq_len"
            raise DatasetError(f"{self.name}: sample {sample.id!r} at {self.video_path(sample)} has "
                               f"{count + drop} {what}, too few for the official loader "
                               f"(it drops {drop}); re-download or re-extract it")
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
    def integrity(self, split: str, deep: bool = False) -> IsolatedIntegrity:
        """Which samples of ``split`` are on disk and readable: opens each container (or the first image) and
        checks its frame count, without decoding whole videos (``deep``: decodes every frame the official loader
        reads); lists the classes left without a present sample."""
        samples = self.samples(split)
        report = IsolatedIntegrity(self.name, split, len(samples), layout=self.layout_read,
                                   sources={"annotation": str(self._annotation_source(split)),
                                            "videos": str(resolve(self.root, self.videos))})
        for sample in samples:
            problem, missing, stored = self._check(sample, deep)
            if problem is None:
                report.present_ids.append(sample.id)
                if sample.annotated_frames is not None and stored != sample.annotated_frames:
                    report.frame_count_mismatches[sample.id] = {"seq_len": sample.annotated_frames, "stored": stored}
            else:
                (report.missing_ids if missing else report.unreadable_ids).append(sample.id)
                report.problems[sample.id] = problem
        report.classes_without_samples = classes_without_samples(self.classes(), samples, report.present_ids)
        if report.frame_count_mismatches:
            warnings.warn(f"{self.name} {split}: {report.mismatch_line()}", stacklevel=2)
        return report

    def _check(self, sample: IslrSample, deep: bool = False) -> tuple[str | None, bool, int | None]:
        """(why the sample is missing or unreadable, or None; whether missing; its stored frame count)."""
        path = self.video_path(sample)
        if isinstance(path, ZipMember) and bad_archive(path.archive):
            return bad_archive(path.archive), True, None
        if not path.exists():
            return f"not found: {path}", True, None
        if self.storage == "frames":
            if not path.is_dir() or self._frame_numbers(path) in (None, set()):
                return f"no frames in {path}", True, None
            first = self.frame_file(sample, 0)
            try:
                _read_image(first, sample.id)
            except DatasetError as error:
                return str(error), False, None
        try:
            stored = self.stored_frame_count(sample)
            count = self.frame_count(sample)
            if deep:
                self.read_frames(sample, np.arange(count))
        except DatasetError as error:
            return str(error), False, None
        return None, False, stored

    def _frame_numbers(self, folder: Path | ZipMember) -> set[int] | None:
        try:
            names = folder.listdir() if isinstance(folder, ZipMember) else os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not self.frame_pattern:  # sorted frames: positions 0 .. n-1
            return set(range(len(_sorted_images(names))))
        regex = re.compile(_pattern_regex(self.frame_pattern))
        return {int(m.group(1)) for m in map(regex.fullmatch, names) if m}

    def _sorted_frames(self, folder: Path | ZipMember) -> list[str]:
        """The frame files of ``folder`` in reading order (``frame_pattern`` ""); the last folder listed is
        remembered, as a clip's frames are read one after another."""
        key, listing = str(folder), getattr(self, "_listing", (None, []))
        if listing[0] != key:  # a local copy: a reader thread may list another folder meanwhile
            try:
                names = folder.listdir() if isinstance(folder, ZipMember) else os.listdir(folder)
            except (FileNotFoundError, NotADirectoryError):
                names = []
            listing = self._listing = (key, _sorted_images(names))
        return listing[1]

    # -- files --------------------------------------------------------------------------------------------
    def _require(self, path: Path, what: str) -> Path:
        if not path.is_file():
            package = (f", or NLA-SLR's data package ({', '.join(self.package_files.values())}"
                       f"{self.package_extra_files} and {self.package_zip})" if self.package_zip else "")
            raise DatasetError(f"{self.name}: {what} not found at {path}; expected {self.layout} under the root "
                               f"{self.root}{package}; pass --videos if the clips are elsewhere")
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


def _read_image(path: Path | ZipMember, sample_id: str) -> np.ndarray:
    try:
        source = io.BytesIO(path.read_bytes()) if isinstance(path, ZipMember) else path
        with Image.open(source) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)  # as the official PIL .convert('RGB')
    except FileNotFoundError:
        raise DatasetError(f"frame {path} of sample {sample_id!r} not found; re-extract the clip's frames") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise DatasetError(f"cannot decode the frame {path} of sample {sample_id!r}: {error}; re-extract it") from None


def _sorted_images(names: Iterable[str]) -> list[str]:
    """SignVLM's frame listing: the ``*.png`` names, else the ``*.jpg`` ones, in plain lexicographic order."""
    names = [n for n in names if not n.startswith(".")]  # glob's "*" skips hidden names
    pngs = sorted(n for n in names if n.endswith(".png"))
    return pngs or sorted(n for n in names if n.endswith(".jpg"))


def _pattern_regex(pattern: str) -> str:
    """``"image_{:05d}.jpg"`` -> a regex whose group 1 is the frame number."""
    head, _, tail = pattern.partition("{")
    _, _, rest = tail.partition("}")
    return re.escape(head) + r"(\d+)" + re.escape(rest)
