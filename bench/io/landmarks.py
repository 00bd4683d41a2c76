"""Per-video body landmarks (MediaPipe Holistic's parts), one ``.npz`` file per video: the H&HT mosaic's input.

Format ``bench-landmarks-1`` (numpy ``.npz``, zlib-compressed), for a video of ``T`` frames::

    format                str    "bench-landmarks-1"
    size                  int32  [2]        width, height of the frames the landmarks were found on (pixels)
    fps                   float64 []        the video's frame rate (0 if unknown)
    source                str    []         what produced them ("mediapipe 0.10.21 holistic ...", or anything)
    <part>_xy             float32 [T, N, 2] x, y normalised to the frame (x / width, y / height; may fall outside
                                            0..1), exactly as MediaPipe returns them
    <part>_present        bool   [T]        whether the part was found in that frame (its rows are 0 where not)
    <part>_z              float16 [T, N]    optional: MediaPipe's relative depth
    pose_visibility       float16 [T, 33]   optional

with ``<part>`` one of ``pose`` (33 points), ``face`` (468), ``left_hand`` (21), ``right_hand`` (21); left and
right are the signer's, as Holistic labels them on a non-mirrored camera. Frame ``i`` is the ``i``-th decoded
frame of the video (every frame, from 0). Landmarks from any other source work when written in this format (e.g.
with :func:`write_landmarks`): the mosaic uses ``face``, ``left_hand`` and ``right_hand`` xy and presence.
x and y stay float32 because the official crop box is ``int(min(x) * width)``, computed on MediaPipe's float32
values: a float16 copy would move boxes by a pixel.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from bench.io.atomic import atomic_open

FORMAT = "bench-landmarks-1"
PARTS = {"pose": 33, "face": 468, "left_hand": 21, "right_hand": 21}


class LandmarksError(ValueError):
    """A landmarks file that is missing, damaged or not in the format; the message names the file."""


@dataclass
class Landmarks:
    """Landmarks of one video: per part, xy ``[T, N, 2]`` float32 and presence ``[T]`` (see the module doc)."""

    xy: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    size: tuple[int, int]  # (width, height)
    fps: float = 0.0
    source: str = ""
    z: dict[str, np.ndarray] = field(default_factory=dict)
    pose_visibility: np.ndarray | None = None

    @property
    def frames(self) -> int:
        return len(self.present["face"])

    @classmethod
    def empty(cls, frames: int, size: tuple[int, int], fps: float = 0.0, source: str = "") -> "Landmarks":
        """``frames`` frames with nothing found (fill them in place)."""
        return cls({p: np.zeros((frames, n, 2), np.float32) for p, n in PARTS.items()},
                   {p: np.zeros(frames, bool) for p in PARTS}, (int(size[0]), int(size[1])), float(fps), source,
                   {p: np.zeros((frames, n), np.float16) for p, n in PARTS.items()}, np.zeros((frames, 33), np.float16))


def landmark_path(out: str | os.PathLike, sample, suffix: str = ".npz") -> Path:
    """Where a sample's landmarks live under ``out``: its clip's path under the dataset root, with ``suffix``
    (``videos/00001.mp4`` -> ``out/videos/00001.npz``; a clip in a zip: ``a.zip@x/1.mp4`` -> ``a.zip/x/1.npz``)."""
    relative = PurePosixPath(str(sample.video).replace("@", "/").lstrip("/"))
    if ".." in relative.parts:
        relative = PurePosixPath(*[p for p in relative.parts if p != ".."])
    return Path(out) / relative.with_suffix(suffix)


def write_landmarks(path: str | os.PathLike, landmarks: Landmarks) -> Path:
    """Write ``landmarks`` to ``path`` atomically (a killed run never leaves a partial file); returns the path."""
    landmarks = Landmarks({p: np.asarray(v, np.float32) for p, v in landmarks.xy.items()}, landmarks.present,
                          landmarks.size, landmarks.fps, landmarks.source, landmarks.z, landmarks.pose_visibility)
    _check(landmarks, str(path))
    arrays = {"format": np.array(FORMAT), "size": np.array(landmarks.size, np.int32),
              "fps": np.array(landmarks.fps, np.float64), "source": np.array(landmarks.source)}
    for part in PARTS:
        arrays[f"{part}_xy"] = np.asarray(landmarks.xy[part], np.float32)
        arrays[f"{part}_present"] = np.asarray(landmarks.present[part], bool)
        if part in landmarks.z:
            arrays[f"{part}_z"] = np.asarray(landmarks.z[part], np.float16)
    if landmarks.pose_visibility is not None:
        arrays["pose_visibility"] = np.asarray(landmarks.pose_visibility, np.float16)
    with atomic_open(path, binary=True) as handle:
        np.savez_compressed(handle, **arrays)
    return Path(path)


def read_landmarks(path: str | os.PathLike) -> Landmarks:
    """Read a landmarks file; a :class:`LandmarksError` names the file and what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise LandmarksError(f"landmarks not found: {path}; run `bench landmarks` for the dataset, or pass "
                             f"--landmarks DIR where your files (format {FORMAT}) are")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise LandmarksError(f"{path}: not a readable .npz file ({error}); delete it and run `bench landmarks` "
                             f"again") from None
    if str(arrays.get("format", "")) != FORMAT:
        raise LandmarksError(f"{path}: format {str(arrays.get('format', 'missing'))!r}, expected {FORMAT!r}")
    wanted = ["size"] + [f"{p}_{k}" for p in PARTS for k in ("xy", "present")]
    missing = [key for key in wanted if key not in arrays]
    if missing:
        raise LandmarksError(f"{path}: missing array(s) {', '.join(missing)} (format {FORMAT})")
    landmarks = Landmarks({p: arrays[f"{p}_xy"] for p in PARTS}, {p: arrays[f"{p}_present"] for p in PARTS},
                          tuple(int(v) for v in arrays["size"]), float(arrays.get("fps", 0.0)),
                          str(arrays.get("source", "")), {p: arrays[f"{p}_z"] for p in PARTS if f"{p}_z" in arrays},
                          arrays.get("pose_visibility"))
    _check(landmarks, str(path))
    return landmarks


def _check(landmarks: Landmarks, where: str) -> None:
    frames = len(landmarks.present["face"])
    for part, points in PARTS.items():
        xy, present = np.asarray(landmarks.xy[part]), np.asarray(landmarks.present[part])
        if xy.shape != (frames, points, 2) or present.shape != (frames,) or present.dtype != bool:
            raise LandmarksError(f"{where}: {part} has xy {list(xy.shape)} and presence {present.dtype} "
                                 f"{list(present.shape)}; expected xy [{frames}, {points}, 2] and bool [{frames}]")
        if xy.dtype != np.float32:
            raise LandmarksError(f"{where}: {part}_xy is {xy.dtype}; expected float32 (normalised x, y)")
    if len(landmarks.size) != 2 or min(landmarks.size) <= 0:
        raise LandmarksError(f"{where}: size {landmarks.size} is not (width, height) in pixels")
