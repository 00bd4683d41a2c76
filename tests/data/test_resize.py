"""Resizing: OpenCV where installed (the official pixels), Pillow otherwise, and the CSL-Daily crop."""

import numpy as np
import pytest

from bench.data import resize as resizing
from bench.data.video import dataset_adjustment
from zoo.cards import InputSpec


def test_crop_top_rows_then_resize_back():
    frames = np.random.default_rng(0).integers(0, 256, (3, 256, 256, 3), dtype=np.uint8)
    frames[:, :40] = 0  # the rows that go
    out = dataset_adjustment(frames, InputSpec(top_rows_removed={"csl_daily": 40}), "csl_daily")
    assert out.shape == (3, 256, 256, 3) and out[:, :2].mean() > 50  # no black band left at the top
    assert dataset_adjustment(frames, InputSpec(top_rows_removed={"csl_daily": 40}), "phoenix2014") is frames


def test_opencv_path_equals_cv2_resize():
    cv2 = pytest.importorskip("cv2")
    image = np.random.default_rng(1).integers(0, 256, (216, 256, 3), dtype=np.uint8)
    assert resizing.exact_resizer()
    assert np.array_equal(resizing.resize(image, (256, 256), "linear"), cv2.resize(image, (256, 256)))
    assert np.array_equal(resizing.resize(image, (120, 100), "lanczos4"),
                          cv2.resize(image, (120, 100), interpolation=cv2.INTER_LANCZOS4))


def test_pillow_fallback_is_close(monkeypatch):
    monkeypatch.setattr(resizing, "_cv2", lambda: None)
    image = np.random.default_rng(2).integers(0, 256, (216, 256, 3), dtype=np.uint8)
    smooth = np.kron(image[::8, ::8].astype(float), np.ones((8, 8, 1))).astype(np.uint8)  # a smooth picture
    out = resizing.resize(smooth, (256, 256), "linear")
    assert out.shape == (256, 256, 3) and not resizing.exact_resizer()
