"""Image resizing as the official preprocessing does it (OpenCV), and the closest fallback without OpenCV.

The CSLR repositories resize with OpenCV: ``INTER_LANCZOS4`` to make 256x256 frames from the originals, and
SlowFastSign's CSL-Daily loader crops the top 40 rows and resizes back with ``INTER_LINEAR``. OpenCV's uint8
resizes use fixed-point arithmetic that no other library reproduces, so where ``cv2`` is installed
(``pip install slr-bench[opencv]``) it is used and the pixels are the official ones; otherwise Pillow's filter
of the same family is used, which differs by a few levels per pixel, and :func:`exact_resizer` says so.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_PIL = {"lanczos4": Image.LANCZOS, "linear": Image.BILINEAR}


def _cv2():
    try:
        import cv2
    except ImportError:
        return None
    return cv2


def exact_resizer() -> bool:
    """Whether resizes here reproduce the official OpenCV ones bit for bit."""
    return _cv2() is not None


def resize(image: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    """Resize one uint8 RGB ``[H, W, 3]`` image to ``size = (width, height)`` ("lanczos4" or "linear")."""
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    cv2 = _cv2()
    if cv2 is not None:
        flag = {"lanczos4": cv2.INTER_LANCZOS4, "linear": cv2.INTER_LINEAR}[interpolation]
        return cv2.resize(np.ascontiguousarray(image), size, interpolation=flag)  # channel order does not matter
    return np.asarray(Image.fromarray(image).resize(size, _PIL[interpolation]), dtype=np.uint8)


def crop_top_and_resize(frames: np.ndarray, rows: int, size: int) -> np.ndarray:
    """SlowFastSign's CSL-Daily frames: ``cv2.resize(img[rows:], (size, size))`` (bilinear) for each frame."""
    return np.stack([resize(frame[rows:], (size, size), "linear") for frame in frames])
