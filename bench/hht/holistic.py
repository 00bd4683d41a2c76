"""MediaPipe Holistic with SignNet's settings, one video at a time, into :class:`bench.io.landmarks.Landmarks`.

The paper's generator runs the legacy ``mediapipe.solutions.holistic`` API (``static_image_mode=False``: tracking
across frames; ``model_complexity=1``; detection and tracking confidence 0.2) on RGB frames, with a new tracker per
video. The newest ``mediapipe`` that ships that API with its models inside the wheel is 0.10.21; it declares
``numpy<2`` but runs with numpy 2, so it is installed without its dependencies (see :data:`INSTALL`).
Frames here come from PyAV (FFmpeg's RGB conversion); the official generator decodes with OpenCV, whose YUV->RGB
conversion can differ by a level or two per pixel, so landmarks can differ in their last digits.
"""

from __future__ import annotations

import os

import numpy as np

from bench.io.landmarks import PARTS, Landmarks

VERSION = "0.10.21"
SETTINGS = {"static_image_mode": False, "model_complexity": 1, "min_detection_confidence": 0.2,
            "min_tracking_confidence": 0.2}
INSTALL = (f'pip install --no-deps mediapipe=={VERSION} && pip install "protobuf>=4.25.3,<5" attrs matplotlib '
           f'opencv-python-headless')
_RESULTS = {"pose": "pose_landmarks", "face": "face_landmarks", "left_hand": "left_hand_landmarks",
            "right_hand": "right_hand_landmarks"}


def holistic_module():
    """``mediapipe.solutions.holistic``, or an ImportError that says how to install it."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ log lines on every graph start
    try:
        import mediapipe
        holistic = mediapipe.solutions.holistic
    except (ImportError, AttributeError) as error:
        raise ImportError(f"MediaPipe Holistic is not available ({error}); install it with: {INSTALL}") from None
    version = getattr(mediapipe, "__version__", "?")
    if version != VERSION:
        import warnings

        warnings.warn(f"mediapipe {version} is installed; SignNet's landmarks were made with the legacy Holistic "
                      f"API, which {VERSION} is the newest release to ship", stacklevel=2)
    return holistic


def source_line() -> str:
    """What made the landmarks, for the files' ``source`` field."""
    import mediapipe

    settings = ", ".join(f"{k}={v}" for k, v in SETTINGS.items())
    return f"mediapipe {getattr(mediapipe, '__version__', '?')} solutions.holistic({settings})"


class HolisticDetector:
    """One video's Holistic tracker: ``detector(frame)`` -> ``{part: [N, 4] (x, y, z, visibility) or None}``."""

    def __init__(self):
        self._holistic = holistic_module().Holistic(**SETTINGS)
        self.source = source_line()

    def __call__(self, frame: np.ndarray) -> dict[str, np.ndarray | None]:
        results = self._holistic.process(np.ascontiguousarray(frame))
        found = {}
        for part, name in _RESULTS.items():
            points = getattr(results, name)
            found[part] = None if points is None else np.array(
                [(p.x, p.y, p.z, p.visibility) for p in points.landmark], dtype=np.float32)
        return found

    def close(self) -> None:
        self._holistic.close()


def detect_video(frames, size: tuple[int, int], fps: float, detector) -> Landmarks:
    """Run ``detector`` (a fresh one: it tracks) over every frame of a video; returns its landmarks."""
    rows: list[dict[str, np.ndarray | None]] = []
    try:
        for frame in frames:
            rows.append(detector(frame))
    finally:
        getattr(detector, "close", lambda: None)()
    landmarks = Landmarks.empty(len(rows), size, fps, getattr(detector, "source", type(detector).__name__))
    for t, row in enumerate(rows):
        for part, count in PARTS.items():
            points = row.get(part)
            if points is None:
                continue
            if points.shape[0] != count:
                raise ValueError(f"{part}: {points.shape[0]} points in frame {t}, expected {count}")
            landmarks.xy[part][t] = points[:, :2]
            landmarks.present[part][t] = True
            if points.shape[1] > 2:
                landmarks.z[part][t] = points[:, 2]
            if part == "pose" and points.shape[1] > 3:
                landmarks.pose_visibility[t] = points[:, 3]
    return landmarks
