"""The H&HT mosaic's geometry, checked by hand: boxes (+/-30 px, clipped, truncation, Python slicing), quadrants
(whole frame top-left, right hand top-right, face bottom-left, left hand bottom-right), stretch, black when missed;
and, where OpenCV is installed, against a cv2.resize construction of the official code's steps."""

import numpy as np
import pytest

from bench.data.cv2_linear import resize_linear
from bench.hht.mosaic import MosaicStats, crop_box, mosaic

W, H = 160, 120


def _points(x0, y0, x1, y1, n=21):
    """n float32 points whose extent is exactly (x0, y0) .. (x1, y1) (normalised)."""
    xy = np.full((n, 2), [(x0 + x1) / 2, (y0 + y1) / 2], np.float32)
    xy[0], xy[1] = (x0, y0), (x1, y1)
    return xy


def test_crop_box_margin_clipping_and_truncation():
    assert crop_box(_points(0.5, 0.5, 0.625, 0.75), W, H) == (50, 30, 130, 120)  # 80-30, 60-30, 100+30, 90+30=H
    assert crop_box(_points(0.1, 0.1, 0.2, 0.2), W, H) == (0, 0, 62, 54)  # 16-30 -> 0; int(32.0..)+30
    # int() truncates toward zero: x = -0.003 * 160 = -0.48 -> 0 -> -30 -> clipped to 0
    assert crop_box(_points(-0.003, 0.4, 0.05, 0.5), W, H)[0] == 0
    # a part left of the frame: the high end is negative, and a Python slice counts it from the far edge
    assert crop_box(_points(-0.5, 0.4, -0.25, 0.5), W, H)[2] == -40 + 30


def test_box_follows_mediapipe_float32_values():
    # float32(0.3) = 0.3000000119 -> * 160 = 48.0000019 -> 48; float32(0.35) = 0.3499999940 -> * 120 = 41.9999993
    # -> 41, not the 42 of the decimal 0.35: the box is computed on the stored float32 points
    xy = _points(0.3, 0.35, 0.3, 0.35)
    assert crop_box(xy, W, H) == (18, 11, 78, 71)


def _frame():
    frame = np.zeros((H, W, 3), np.uint8)
    frame[..., 0] = np.arange(W, dtype=np.uint8)[None, :]  # a ramp, so that crops differ from each other
    frame[..., 1] = np.arange(H, dtype=np.uint8)[:, None]
    frame[..., 2] = 200
    return frame


def test_quadrants_stretch_and_black_when_missed():
    frame = _frame()
    face = _points(0.5, 0.5, 0.625, 0.75)  # box (50, 30) .. (130, 120): 80 x 90 px, stretched to 80 x 60
    out = mosaic(frame, {"face": face, "left_hand": None, "right_hand": None})
    assert out.shape == frame.shape
    assert np.array_equal(out[:60, :80], resize_linear(frame, (80, 60)))  # whole frame, top-left
    assert np.array_equal(out[60:, :80], resize_linear(frame[30:120, 50:130], (80, 60)))  # face, bottom-left
    assert not out[:60, 80:].any() and not out[60:, 80:].any()  # both hands missed: black
    # stretched, aspect not kept: the crop's first and last columns land on the quadrant's edges
    assert out[60:, 0, 0].tolist() == [50] * 60 and out[60, 79, 0] == 129
    assert out[60, 0, 1] == 30 and out[119, 0, 1] == 119


def test_right_hand_top_right_left_hand_bottom_right():
    frame = _frame()
    right, left = _points(0.1, 0.1, 0.2, 0.2), _points(0.8, 0.8, 0.9, 0.9)
    out = mosaic(frame, {"face": None, "right_hand": right, "left_hand": left})
    assert np.array_equal(out[:60, 80:], resize_linear(frame[0:54, 0:62], (80, 60)))
    assert np.array_equal(out[60:, 80:], resize_linear(frame[66:120, 98:160], (80, 60)))
    assert not out[60:, :80].any()


def test_empty_crop_and_odd_size_stay_black_and_are_counted():
    frame = _frame()
    stats = MosaicStats()
    off = _points(1.5, 0.4, 1.6, 0.5)  # right of the frame: box x from 210 to 160 -> empty
    out = mosaic(frame, {"face": off}, stats)
    assert not out[60:, :80].any() and stats.empty_crops == 1 and not stats.odd_size
    odd = mosaic(frame[:119, :159], {"face": _points(0.5, 0.5, 0.6, 0.6)}, stats)
    assert stats.odd_size and odd.shape == (119, 159, 3)
    assert not odd[118].any() and not odd[:, 158].any()  # (H // 2) x (W // 2) quadrants: the last row/column black


def test_against_a_cv2_construction_of_the_official_steps():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    for _ in range(20):
        w, h = (int(v) * 2 for v in rng.integers(20, 90, 2))
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        parts = {p: (rng.random((21, 2)).astype(np.float32) * rng.uniform(0.2, 1) + rng.uniform(-0.2, 0.6))
                 if rng.random() > 0.25 else None for p in ("face", "left_hand", "right_hand")}
        expected = np.zeros_like(frame)  # the official steps: zeros, whole frame, each found part's crop
        expected[:h // 2, :w // 2] = cv2.resize(frame, (w // 2, h // 2))
        slots = {"face": (slice(h // 2, None), slice(None, w // 2)), "left_hand": (slice(h // 2, None), slice(w // 2, None)),
                 "right_hand": (slice(None, h // 2), slice(w // 2, None))}
        for part, slot in slots.items():
            if parts[part] is not None:
                xs, ys = [float(v) for v in parts[part][:, 0]], [float(v) for v in parts[part][:, 1]]
                x0, y0 = max(int(min(xs) * w) - 30, 0), max(int(min(ys) * h) - 30, 0)
                x1, y1 = min(int(max(xs) * w) + 30, w), min(int(max(ys) * h) + 30, h)
                if frame[y0:y1, x0:x1].size:
                    expected[slot] = cv2.resize(frame[y0:y1, x0:x1], (w // 2, h // 2))
        assert np.array_equal(mosaic(frame, parts), expected)
