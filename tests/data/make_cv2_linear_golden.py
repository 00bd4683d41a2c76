"""Writes tests/fixtures/cv2_resize_linear.npz: ``cv2.resize`` (INTER_LINEAR) of small random uint8 images.

Run with OpenCV installed: ``python tests/data/make_cv2_linear_golden.py``. The stored outputs were made with
opencv-python-headless 5.1.0 and are the same with 4.10.0 and 4.14.0 (checked by tests/data/test_cv2_linear.py
against whichever cv2 is installed).
"""

from pathlib import Path

import cv2
import numpy as np

CASES = [  # (height, width, channels, out width, out height): up, down, 2x, 1-pixel, odd, tails of a row
    (7, 9, 3, 20, 13), (23, 31, 3, 11, 9), (16, 12, 3, 8, 6), (5, 1, 3, 3, 9), (1, 6, 1, 17, 1), (40, 34, 3, 17, 20),
    (9, 57, 1, 28, 38), (12, 11, 3, 101, 7), (3, 3, 3, 2, 2), (30, 20, 3, 32, 24),
]


def main() -> None:
    rng = np.random.default_rng(2026)
    arrays = {}
    for k, (h, w, c, ow, oh) in enumerate(CASES):
        image = rng.integers(0, 256, (h, w, c) if c > 1 else (h, w), dtype=np.uint8)
        arrays[f"in{k}"], arrays[f"out{k}"] = image, cv2.resize(image, (ow, oh))
    arrays["cv2_version"] = np.array(cv2.__version__)
    path = Path(__file__).resolve().parents[1] / "fixtures" / "cv2_resize_linear.npz"
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size} bytes, cv2 {cv2.__version__})")


if __name__ == "__main__":
    main()
