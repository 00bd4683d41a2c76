"""Video files through PyAV: frame counts, reading chosen frames as RGB, and a small writer for synthetic data.

A video is a file path or a clip inside a zip (:class:`bench.io.zip_members.ZipMember`, read in memory).

Decoding differences to know about. The official NLA-SLR loader decodes WLASL's mp4 files with lintel (FFmpeg's
decoders and swscale, RGB24) and counts ``len - 2`` frames because of a lintel bug with the last frames of mp4s;
that rule belongs to the dataset (``bench.data.wlasl``), not to this module, which counts every decoded frame.
Here FFmpeg decodes too, but the YUV->RGB conversion (swscale flags, colour matrix, chroma upsampling) can differ
from lintel's build by 1-2 levels per pixel on 4:2:0 video; the decoded YUV planes are the same. Such differences
are visible in logits, so a bit-exact replay needs the official decoder; within one machine the reads here are
deterministic.
"""

from __future__ import annotations

import io
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Sequence

import av
import numpy as np

from bench.io.zip_members import ZipMember

SEEK_THRESHOLD = 48  # seek instead of decoding from the start when the first wanted frame is at least this far in
_OPEN_ERRORS = (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError)


class VideoError(ValueError):
    """A video that is missing, not decodable, or shorter than asked; the message names the file."""


_COUNTS: dict[tuple, int] = {}  # (file identity, exact) -> frames: each clip is opened to count it once per process


def video_frame_count(path: str | os.PathLike | ZipMember, exact: bool = False) -> int:
    """Frames in the first video stream: the container's count (fast), or every frame decoded with ``exact``.

    Containers that do not store a count (count 0) are decoded in full. For mp4 files written by FFmpeg or OpenCV
    the stored count equals the decoded one; ``exact`` settles doubtful files (edit lists, damaged tails). A count
    is remembered for the file as it is (path, size, modification time): an evaluation asks for each clip's
    length several times (integrity pass, views, report facts), and opening a container costs milliseconds.
    """
    key = _identity(path)
    if key is not None and (key, exact) in _COUNTS:
        return _COUNTS[(key, exact)]
    with _open(path) as container:
        stream = container.streams.video[0]
        if stream.frames > 0 and not exact:
            count = int(stream.frames)
        else:
            try:
                count = sum(1 for _ in container.decode(stream))
            except _OPEN_ERRORS as error:
                raise VideoError(f"cannot decode the video {path}: {error}; re-download or re-extract it") from None
    if key is not None:
        _COUNTS[(key, exact)] = count
    return count


def _identity(path: str | os.PathLike | ZipMember) -> tuple | None:
    """What identifies a video file as it is now (None when it cannot be stat-ed: the open then says why)."""
    try:
        if isinstance(path, ZipMember):
            stat = os.stat(path.archive)
            return str(path.archive), path.member, stat.st_size, stat.st_mtime_ns
        stat = os.stat(path)
        return os.fspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino
    except OSError:
        return None


def video_size(path: str | os.PathLike | ZipMember) -> tuple[int, int]:
    """(width, height) of the first video stream, from the container header."""
    with _open(path) as container:
        stream = container.streams.video[0]
        return int(stream.codec_context.width), int(stream.codec_context.height)


def iter_video_frames(path: str | os.PathLike | ZipMember) -> tuple[float, tuple[int, int], Iterator[np.ndarray]]:
    """(frame rate, (width, height), every decoded frame in order as uint8 RGB ``[H, W, 3]``), streamed: for whole
    passes over long videos (landmarks) without holding the clip in memory. The container is read at first use."""
    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps, size = float(rate) if rate else 0.0, (int(stream.codec_context.width), int(stream.codec_context.height))

    def frames() -> Iterator[np.ndarray]:
        decoded = 0
        with _open(path) as container:
            try:
                for frame in container.decode(container.streams.video[0]):
                    decoded += 1
                    yield frame.to_ndarray(format="rgb24")
            except _OPEN_ERRORS as error:
                raise VideoError(f"cannot decode {path} near frame {decoded}: {error}; re-download or "
                                 f"re-extract it") from None

    return fps, size, frames()


def read_video_frames(path: str | os.PathLike | ZipMember, indices: Sequence[int] | np.ndarray,
                      seek_threshold: int = SEEK_THRESHOLD) -> np.ndarray:
    """Frames ``indices`` (0-based, non-decreasing; repeats allowed) as uint8 RGB ``[N, H, W, 3]``.

    Decodes only up to the last wanted frame; when the first wanted frame is ``seek_threshold`` or more frames in,
    seeks to the keyframe before it (the frame index is then derived from timestamps, checked to be consecutive,
    and the read falls back to decoding from the start when they are not).
    """
    wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(wanted) and (wanted[0] < 0 or np.any(np.diff(wanted) < 0)):
        raise ValueError(f"frame indices for {path} must be non-negative and non-decreasing, got {wanted.tolist()}")
    if not len(wanted):
        width, height = video_size(path)
        return np.zeros((0, height, width, 3), dtype=np.uint8)
    if wanted[0] >= seek_threshold:
        frames = _read(path, wanted, seek=True)
        if frames is not None:
            return frames
    return _read(path, wanted, seek=False)


def write_video(path: str | os.PathLike, frames: np.ndarray | Sequence[np.ndarray], fps: int = 25,
                codec: str = "libx264", crf: int | None = 0, lossless_rgb: bool = False,
                gop: int | None = None) -> Path:
    """Write uint8 RGB ``[T, H, W, 3]`` frames as an mp4 (atomically); returns ``path``.

    Default: H.264 (libx264, 4:2:0 like real releases; even width and height), ``crf`` 0 so that only the RGB<->YUV
    conversion and chroma subsampling lose information. ``lossless_rgb``: libx264rgb in RGB, decoded back bit for
    bit. ``codec="mpeg4"`` where libx264 is missing. ``gop``: keyframe interval (short ones make seeking useful).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"write_video({path}): expected uint8 frames [T, H, W, 3] with T > 0, "
                         f"got {frames.dtype} {list(frames.shape)}")
    height, width = frames.shape[1:3]
    if not lossless_rgb and (height % 2 or width % 2):
        raise ValueError(f"write_video({path}): 4:2:0 video needs even width and height, got {width}x{height}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with av.open(tmp, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264rgb" if lossless_rgb else codec, rate=fps)
            stream.width, stream.height = width, height
            stream.pix_fmt = "rgb24" if lossless_rgb else "yuv420p"
            if crf is not None and (lossless_rgb or codec.startswith("libx264")):
                stream.options = {"crf": str(crf)}
            elif codec == "mpeg4":
                stream.options = {"qscale": "1"}  # mpeg4's best quality, for tests within a few levels
            if gop is not None:
                stream.codec_context.gop_size = gop
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- internals ----------------------------------------------------------------------------------------------------
def _open(path: str | os.PathLike | ZipMember) -> av.container.InputContainer:
    path = path if isinstance(path, ZipMember) else Path(path)
    if not path.is_file():
        raise VideoError(f"video not found: {path}")
    try:  # a clip inside a zip is read into memory, as the official ZipReader does (no extraction)
        source = io.BytesIO(path.read_bytes()) if isinstance(path, ZipMember) else str(path)
        container = av.open(source, mode="r")
    except _OPEN_ERRORS as error:
        raise VideoError(f"cannot open {path} as a video ({error}); the file is damaged or not a video: "
                         f"re-download or re-extract it") from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path} has no video stream; expected a video file")
    return container


def _read(path: str | os.PathLike | ZipMember, wanted: np.ndarray, seek: bool) -> np.ndarray | None:
    """Decode ``wanted`` frames; with ``seek``, None when timestamps cannot be trusted (the caller decodes anew)."""
    out: list[np.ndarray | None] = [None] * len(wanted)
    first, last, position, decoded = int(wanted[0]), int(wanted[-1]), 0, 0
    with _open(path) as container:
        stream = container.streams.video[0]
        try:
            number = _seek(container, stream, first) if seek else None
            if seek and number is None:
                return None
            for counted, frame in enumerate(container.decode(stream)):
                index = number(frame) if number is not None else counted
                if seek and (index is None or (counted == 0 and index > first) or (counted and index != decoded)):
                    return None  # the seek overshot, or the timestamps do not number frames consecutively
                decoded = index + 1
                if index == wanted[position]:
                    array = frame.to_ndarray(format="rgb24")
                    while position < len(wanted) and wanted[position] == index:
                        out[position] = array
                        position += 1
                if index >= last:
                    break
        except _OPEN_ERRORS as error:
            raise VideoError(f"cannot decode {path} near frame {decoded}: {error}; re-download or "
                             f"re-extract it") from None
    if position < len(wanted):
        if seek:
            return None  # let the sequential read decide, and report the true frame count
        raise VideoError(f"{path} has {decoded} decodable frames, but frame {int(wanted[position])} was asked for "
                         f"(0-based); the file is shorter than its annotation says")
    return np.stack(out)


def _seek(container, stream, first: int) -> Callable[[av.VideoFrame], int | None] | None:
    """Seek to the keyframe at or before frame ``first``; returns how to number frames from their timestamps."""
    rate, base = stream.average_rate or stream.guessed_rate, stream.time_base
    if not rate or not base:
        return None  # no constant frame rate to turn frame numbers into timestamps
    rate, base, start = Fraction(rate), Fraction(base), stream.start_time or 0
    container.seek(start + int(first / rate / base), stream=stream, backward=True, any_frame=False)
    return lambda frame: None if frame.pts is None else round((frame.pts - start) * base * rate)
