"""OpenCV's bilinear uint8 resize reproduced in numpy: hand-computed rows, the 2x and copy cases, stored cv2
outputs, and (where cv2 is installed) random sizes against cv2.resize itself."""

from pathlib import Path

import numpy as np
import pytest

from bench.data.cv2_linear import resize_linear

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"  # made by tests/data/make_cv2_linear_golden.py


def test_hand_computed_row():
    # 2 -> 4 columns: fx = -0.25 (clamped to column 0), 0.25, 0.75, 1.25 (clamped to the last column);
    # weights 1536/512 and 512/1536: S = 100 * 512, 100 * 1536; one row (beta 2048, 0):
    # (((51200 >> 4) * 2048 >> 16) + 2) >> 2 = (100 + 2) >> 2 = 25, (300 + 2) >> 2 = 75
    row = np.array([[0, 100]], dtype=np.uint8)
    assert resize_linear(row, (4, 1)).tolist() == [[0, 25, 75, 100]]


def test_simd_rounding_not_exact_rounding():
    # 3 -> 4 rows of [1, 37, 37]: output row 1 has fy = 1.5 * 0.75 - 0.5 = 0.625, betas (768, 1280), S = v * 2048;
    # OpenCV's SIMD pass: (768 * (2048 >> 4) >> 16) + (1280 * (75776 >> 4) >> 16) = 1 + 92, (93 + 2) >> 2 = 23,
    # where exact rounding of 0.375 * 1 + 0.625 * 37 = 23.5 gives 24 (cv2 4.10, 4.14 and 5.1 give 23)
    column = np.array([[1], [37], [37]], dtype=np.uint8)
    assert resize_linear(column, (1, 4)).ravel().tolist() == [1, 23, 37, 37]
    assert resize_linear(np.repeat(column, 3, axis=1), (3, 4))[1].tolist() == [23, 23, 23]


def test_exact_half_is_the_mean_of_four_and_same_size_is_a_copy():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    blocks = image.reshape(3, 2, 4, 2, 3).astype(int).sum(axis=(1, 3))
    assert np.array_equal(resize_linear(image, (4, 3)), (blocks + 2) >> 2)
    assert np.array_equal(resize_linear(image, (8, 6)), image)


def test_stored_cv2_outputs():
    data = np.load(FIXTURES / "cv2_resize_linear.npz")
    cases = sorted(int(k[2:]) for k in data.files if k.startswith("in"))
    assert len(cases) == 10
    for k in cases:
        expected = data[f"out{k}"]
        assert np.array_equal(resize_linear(data[f"in{k}"], (expected.shape[1], expected.shape[0])), expected), k


def test_against_cv2_on_random_sizes():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(1)
    for _ in range(200):
        h, w, dh, dw = (int(v) for v in rng.integers(1, 70, 4))
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        assert np.array_equal(resize_linear(image, (dw, dh)), cv2.resize(image, (dw, dh))), (h, w, dh, dw)


def test_bad_input_says_what_was_expected():
    with pytest.raises(ValueError, match="uint8"):
        resize_linear(np.zeros((4, 4), np.float32), (2, 2))
    with pytest.raises(ValueError, match="non-empty"):
        resize_linear(np.zeros((0, 4, 3), np.uint8), (2, 2))
