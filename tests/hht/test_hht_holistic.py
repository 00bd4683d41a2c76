"""The real MediaPipe Holistic (SignNet's settings) on a real photograph of a person (Grace Hopper, shipped with
matplotlib): the face is found with its 468 points where the face is; and ``bench landmarks`` runs it over a clip.
Skipped without mediapipe, unless BENCH_REQUIRE_MEDIAPIPE=1."""

import numpy as np

from bench.data.wlasl import _Wlasl, write_wlasl
from bench.hht.extract import extract_landmarks
from bench.hht.holistic import HolisticDetector, detect_video
from bench.io.landmarks import landmark_path, read_landmarks


class OneClip(_Wlasl):
    name, num_classes = "one_clip", 100


def test_holistic_finds_the_face_in_a_photograph(holistic, photo):
    frames = [photo] * 3  # a still clip: detection in frame 0, tracking after
    marks = detect_video(frames, (photo.shape[1], photo.shape[0]), 25.0, HolisticDetector())
    assert marks.present["face"].all() and marks.present["pose"].all()
    face = marks.xy["face"][0]
    assert face.shape == (468, 2) and face.dtype == np.float32
    (x0, y0), (x1, y1) = face.min(axis=0), face.max(axis=0)
    # the face of the 512x600 portrait lies around x 0.33-0.70, y 0.22-0.56 (measured; the box is plausible if
    # it is a third of the width wide and inside the upper two thirds)
    assert 0.25 < x0 < 0.4 and 0.6 < x1 < 0.78 and 0.12 < y0 < 0.3 and 0.45 < y1 < 0.65
    assert "mediapipe 0.10.21 solutions.holistic(static_image_mode=False, model_complexity=1" in marks.source


def test_bench_landmarks_runs_holistic_over_a_clip(holistic, photo, tmp_path):
    clip = np.stack([photo[:592]] * 4)  # even height for 4:2:0 video
    write_wlasl(tmp_path, ["hopper"], [{"video_id": "00001", "gloss": "hopper", "split": "train"}],
                {"00001": clip}, subsets=(100,))
    run = extract_landmarks(OneClip(tmp_path), ["train"], tmp_path / "lm")
    assert run.done == ["00001"] and run.frames == 4 and not run.unreadable
    marks = read_landmarks(landmark_path(tmp_path / "lm", OneClip(tmp_path).samples("train")[0]))
    assert marks.present["face"].all() and marks.size == (512, 592) and marks.fps == 25
