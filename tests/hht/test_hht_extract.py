"""``bench landmarks`` without MediaPipe: a detector that reports fixed points, over a synthetic WLASL release in two
processes; a run stopped after k videos resumes without touching the finished files; unreadable videos counted;
the mosaic videos written at the source frame rate."""

import sys

import numpy as np
import pytest

from bench.data.synthetic_isolated import make_dataset
from bench.hht.extract import extract_landmarks
from bench.hht.mosaic import mosaic_frames
from bench.io.landmarks import landmark_path, read_landmarks
from bench.io.video import read_video_frames, video_frame_count


class BoxDetector:
    """Finds the face in a fixed box and the left hand where the frame's mean red is, the right hand never."""

    source = "test detector"

    def __call__(self, frame):
        face = np.tile(np.float32([[0.4, 0.1], [0.6, 0.3]]), (234, 1))
        hand = np.full((21, 4), frame[..., 0].mean() / 255, np.float32)
        return {"face": np.pad(face, ((0, 0), (0, 2))), "left_hand": hand, "right_hand": None, "pose": None}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    dataset, _ = make_dataset(tmp_path_factory.mktemp("wlasl"), per_class={"train": 1, "test": 1}, frame_size=48)
    return dataset


def test_stopped_run_resumes_without_redoing_finished_videos(release, tmp_path):
    out = tmp_path / "landmarks"
    with pytest.raises(KeyboardInterrupt):
        extract_landmarks(release, ["test"], out, processes=2, detector=BoxDetector, stop_after=3)
    first = {p: p.stat().st_mtime_ns for p in out.rglob("*.npz")}
    assert 3 <= len(first) < 12
    (out / "videos" / ".00017.npz.x1y2z3.tmp").write_bytes(b"half")  # as a SIGKILLed worker leaves it
    run = extract_landmarks(release, ["test"], out, processes=1, detector=BoxDetector)
    assert not list(out.rglob(".*.tmp"))
    assert len(run.skipped) == len(first) and len(run.done) == 12 - len(first) and not run.unreadable
    assert all(p.stat().st_mtime_ns == t for p, t in first.items())  # untouched
    sample = release.samples("test")[0]
    marks = read_landmarks(landmark_path(out, sample))
    assert marks.frames == video_frame_count(release.video_path(sample)) and marks.size == (48, 48)
    assert marks.present["face"].all() and marks.present["left_hand"].all() and not marks.present["right_hand"].any()
    assert marks.source == "test detector" and marks.fps == 25
    again = extract_landmarks(release, ["test"], out, processes=1, detector=BoxDetector)
    assert len(again.skipped) == 12 and not again.done


def test_unreadable_videos_are_counted_and_the_rest_done(release, tmp_path):
    samples = release.samples("test")
    broken = release.video_path(samples[1])
    kept = broken.read_bytes()
    try:
        broken.write_bytes(b"\x00" * 100)
        run = extract_landmarks(release, ["test"], tmp_path, processes=1, detector=BoxDetector)
    finally:
        broken.write_bytes(kept)
    assert list(run.unreadable) == [samples[1].id] and "not a video" in run.unreadable[samples[1].id]
    assert len(run.done) == 11 and not landmark_path(tmp_path, samples[1]).exists()


def test_mosaic_videos_from_the_landmarks(release, tmp_path):
    run = extract_landmarks(release, ["test"], tmp_path / "lm", write_videos=tmp_path / "mosaics", detector=BoxDetector)
    assert run.videos_written == 12
    sample = release.samples("test")[2]
    path = landmark_path(tmp_path / "mosaics", sample, ".mp4")
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_tag, stream.average_rate) == ("mpeg4", "mp4v", 25)
    count = video_frame_count(release.video_path(sample))
    frames = read_video_frames(release.video_path(sample), range(count))
    expected = mosaic_frames(frames, read_landmarks(landmark_path(tmp_path / "lm", sample)), range(count))
    written = read_video_frames(path, range(count))
    assert written.shape == expected.shape
    error = np.abs(written.astype(int) - expected)
    assert error.mean() < 10 and error[:, :24].mean() < error.mean() * 2  # lossy mp4v of noisy 48 px frames


def test_cli_without_mediapipe_says_how_to_install_it(release, monkeypatch):
    from typer.testing import CliRunner

    from bench.cli import app

    monkeypatch.setitem(sys.modules, "mediapipe", None)  # `import mediapipe` raises ImportError
    result = CliRunner().invoke(app, ["landmarks", "--dataset", "synthetic_wlasl", "--data-root", str(release.root),
                                      "--split", "test", "--out", str(release.root / "none")])
    assert result.exit_code == 2
    assert "pip install --no-deps mediapipe==0.10.21" in " ".join(result.output.split())
