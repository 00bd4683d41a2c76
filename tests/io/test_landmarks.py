"""The landmarks file format: round trip, float32 coordinates kept exactly, errors that name the file."""

import numpy as np
import pytest

from bench.io.landmarks import FORMAT, PARTS, Landmarks, LandmarksError, landmark_path, read_landmarks, write_landmarks


def _landmarks(frames=3):
    rng = np.random.default_rng(0)
    marks = Landmarks.empty(frames, (320, 240), 29.97, "test")
    for part, count in PARTS.items():
        marks.xy[part][:] = rng.random((frames, count, 2), dtype=np.float32)
        marks.present[part][:] = rng.random(frames) > 0.3
    return marks


def test_round_trip_keeps_float32_points_and_presence(tmp_path):
    marks = _landmarks()
    path = write_landmarks(tmp_path / "a" / "b.npz", marks)
    back = read_landmarks(path)
    assert back.size == (320, 240) and back.fps == pytest.approx(29.97) and back.frames == 3
    for part in PARTS:
        assert back.xy[part].dtype == np.float32 and np.array_equal(back.xy[part], marks.xy[part])
        assert np.array_equal(back.present[part], marks.present[part])
    assert not list(tmp_path.glob("a/.*.tmp"))  # written atomically: no temporary left


def test_user_files_need_only_xy_presence_and_size(tmp_path):
    arrays = {"format": np.array(FORMAT), "size": np.array([64, 48])}
    for part, count in PARTS.items():
        arrays[f"{part}_xy"] = np.zeros((2, count, 2), np.float32)
        arrays[f"{part}_present"] = np.zeros(2, bool)
    np.savez(tmp_path / "user.npz", **arrays)
    assert read_landmarks(tmp_path / "user.npz").frames == 2


def test_errors_name_the_file(tmp_path):
    with pytest.raises(LandmarksError, match="not found.*bench landmarks"):
        read_landmarks(tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(LandmarksError, match="bad.npz: not a readable"):
        read_landmarks(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(LandmarksError, match="other.npz: format"):
        read_landmarks(tmp_path / "other.npz")
    marks = _landmarks()
    marks.xy["face"] = marks.xy["face"][:, :400]
    with pytest.raises(LandmarksError, match=r"face has xy \[3, 400, 2\].*expected xy \[3, 468, 2\]"):
        write_landmarks(tmp_path / "short.npz", marks)


def test_path_mirrors_the_clip_path():
    class Sample:
        video = "videos/00001.mp4"

    assert landmark_path("/lm", Sample()).as_posix() == "/lm/videos/00001.npz"
    Sample.video = "WLASL2000.zip@WLASL2000/00001.mp4"
    assert landmark_path("/lm", Sample(), ".mp4").as_posix() == "/lm/WLASL2000.zip/WLASL2000/00001.mp4"
