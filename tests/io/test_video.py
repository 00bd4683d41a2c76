"""Video reading and writing through PyAV: frames come back as written, partial reads and seeks agree with full
decodes, and every failure names the file."""

from __future__ import annotations

import numpy as np
import pytest

from bench.io import video
from bench.io.video import VideoError, read_video_frames, video_frame_count, video_size, write_video


def blocks(frames: int, height: int = 32, width: int = 32, seed: int = 0) -> np.ndarray:
    """Frames of flat 8x8 colour blocks: 4:2:0 chroma subsampling is exact inside each block."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (frames, height // 8, width // 8, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


def block_interiors(height: int = 32, width: int = 32) -> np.ndarray:
    """Pixels at least two away from a block edge, where chroma upsampling does not mix neighbouring blocks."""
    inside = np.zeros((height, width), dtype=bool)
    for top in range(0, height, 8):
        for left in range(0, width, 8):
            inside[top + 2:top + 6, left + 2:left + 6] = True
    return inside


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    """150 frames, a keyframe every 10 frames, lossless RGB: (path, frames)."""
    frames = blocks(150, seed=1)
    path = write_video(tmp_path_factory.mktemp("video") / "long.mp4", frames, lossless_rgb=True, gop=10)
    return path, frames


def test_lossless_rgb_round_trip_is_exact(long_video):
    path, frames = long_video
    assert video_frame_count(path) == 150 and video_frame_count(path, exact=True) == 150
    assert video_size(path) == (32, 32)
    np.testing.assert_array_equal(read_video_frames(path, range(150)), frames)


def test_h264_420_frames_are_within_the_yuv_rounding(tmp_path):
    frames = blocks(12, height=16, width=32, seed=2)
    path = write_video(tmp_path / "clip.mp4", frames)  # libx264, yuv420p, crf 0: the codec itself is lossless
    got = read_video_frames(path, range(12))
    assert got.shape == (12, 16, 32, 3) and got.dtype == np.uint8
    error = np.abs(got.astype(int) - frames.astype(int))
    # limited-range 8-bit YUV (219 luma / 224 chroma steps for 256 RGB levels) loses up to 3 levels per channel
    # after rounding both ways; inside flat blocks nothing else differs
    assert error[:, block_interiors(16, 32)].max() <= 3
    assert video_frame_count(path) == 12 == video_frame_count(path, exact=True)


def test_partial_reads_with_and_without_seeking_agree(long_video):
    path, frames = long_video
    wanted = [100, 101, 101, 120, 149]  # repeats allowed (padding is applied later, but they are harmless)
    sequential = read_video_frames(path, wanted, seek_threshold=10 ** 9)
    seeking = read_video_frames(path, wanted, seek_threshold=0)
    np.testing.assert_array_equal(sequential, frames[wanted])
    np.testing.assert_array_equal(seeking, frames[wanted])
    assert video._read(path, np.array(wanted), seek=True) is not None  # the seek was used, not the fallback
    np.testing.assert_array_equal(read_video_frames(path, range(43, 107)), frames[43:107])  # a central 64 window
    assert read_video_frames(path, []).shape == (0, 32, 32, 3)


def test_bad_requests_and_files_name_the_file(tmp_path, long_video):
    path, _frames = long_video
    with pytest.raises(ValueError, match="non-decreasing"):
        read_video_frames(path, [5, 3])
    with pytest.raises(VideoError, match=r"long.mp4 has 150 decodable frames, but frame 150 was asked for"):
        read_video_frames(path, [149, 150])
    with pytest.raises(VideoError, match=r"video not found: .*absent.mp4"):
        video_frame_count(tmp_path / "absent.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError, match=r"cannot open .*garbage.mp4 as a video"):
        read_video_frames(garbage, [0])
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(VideoError, match="truncated.mp4"):
        read_video_frames(truncated, range(150))


def test_writer_checks_its_input(tmp_path):
    with pytest.raises(ValueError, match="even width and height"):
        write_video(tmp_path / "odd.mp4", np.zeros((2, 15, 16, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"uint8 frames \[T, H, W, 3\]"):
        write_video(tmp_path / "f.mp4", np.zeros((2, 16, 16, 3), dtype=np.float32))
    assert not list(tmp_path.iterdir())  # nothing half-written
    path = write_video(tmp_path / "mpeg4.mp4", blocks(5), codec="mpeg4")
    assert video_frame_count(path, exact=True) == 5


def test_a_clips_count_is_read_once_until_the_file_changes(tmp_path, monkeypatch):
    path = write_video(tmp_path / "clip.mp4", blocks(12, seed=3))
    opened = []
    real_open = video._open
    monkeypatch.setattr(video, "_open", lambda p: opened.append(p) or real_open(p))
    assert [video_frame_count(path) for _ in range(3)] == [12, 12, 12] and len(opened) == 1
    write_video(path, blocks(9, seed=4))  # the same name, another clip
    assert video_frame_count(path) == 9 and len(opened) == 2
    path.unlink()
    with pytest.raises(VideoError, match="video not found"):  # a vanished file is not answered from memory
        video_frame_count(path)
