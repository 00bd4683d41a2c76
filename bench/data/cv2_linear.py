"""OpenCV's ``cv2.resize(image, (w, h))`` (``INTER_LINEAR``, the default) on uint8 images, bit for bit, in numpy.

The H&HT generator stretches every crop with this call; reproducing it here keeps OpenCV optional. What OpenCV
computes (``modules/imgproc/src/resize.cpp``, 4.x and 5.x):

- per output column, ``fx = float((dx + 0.5) * scale_x - 0.5)`` with ``scale_x = 1 / (dst_w / src_w)`` in double,
  ``sx = floor(fx)``, ``fx -= sx`` in float; outside the image the column is clamped (``sx`` to the edge, ``fx``
  0); the weights ``1 - fx`` and ``fx`` become shorts ``round(w * 2048)``. Rows alike, without the clamping: both
  source rows are clipped to the image and keep their weights.
- the horizontal pass is exact integer arithmetic; the vertical pass is OpenCV's SIMD code
  (``VResizeLinearVec_32s8u``): ``(((b0 * (S0 >> 4)) >> 16) + ((b1 * (S1 >> 4)) >> 16) + 2) >> 2``, which rounds
  differently from the scalar ``(b0*S0 + b1*S1 + 2**21) >> 22``. Measured against opencv-python-headless 4.10,
  4.14 and 5.1 (x86-64): every output value, row tails and 1-pixel rows included, takes the SIMD rounding.
- an exact 2x reduction in both directions goes to ``INTER_AREA``'s fast path, ``(a + b + c + d + 2) >> 2``, which
  both formulas above also give; the same size is a copy.
"""

from __future__ import annotations

import numpy as np

COEF_BITS = 11
COEF_SCALE = 1 << COEF_BITS


def _taps(src: int, dst: int, clamp: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first source index, weight of it, weight of the next) per output index, as OpenCV's shorts."""
    scale = 1.0 / (float(dst) / float(src))
    f = ((np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    first = np.floor(f).astype(np.int64)
    f = (f - first.astype(np.float32)).astype(np.float32)
    if clamp:
        low, high = first < 0, first >= src - 1
        f[low | high] = 0
        first[low] = 0
        first[high] = src - 1
    one = np.float32(1) - f
    w0 = np.rint(one * np.float32(COEF_SCALE)).astype(np.int64)  # cvRound: half to even, as rint
    w1 = np.rint(f * np.float32(COEF_SCALE)).astype(np.int64)
    return first, w0, w1


def resize_linear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(image, size)`` for a uint8 ``[H, W]`` or ``[H, W, C]`` image; ``size = (width, height)``."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or 0 in image.shape:
        raise ValueError(f"resize_linear: expected a non-empty uint8 [H, W] or [H, W, C] image, got {image.dtype} "
                         f"{list(image.shape)}")
    width, height = int(size[0]), int(size[1])
    if width <= 0 or height <= 0:
        raise ValueError(f"resize_linear: the output size must be positive, got {width}x{height}")
    plane = image.ndim == 2
    src = image[..., None] if plane else image
    src_h, src_w, channels = src.shape
    if (src_w, src_h) == (width, height):
        return image.copy()
    if (src_w, src_h) == (2 * width, 2 * height):  # OpenCV's INTER_AREA fast path; the formulas below agree
        wide = src.astype(np.uint16)  # 4 * 255 + 2 fits
        out = ((wide[0::2, 0::2] + wide[0::2, 1::2] + wide[1::2, 0::2] + wide[1::2, 1::2] + 2) >> 2).astype(np.uint8)
        return out[..., 0] if plane else out
    x0, a0, a1 = _taps(src_w, width, clamp=True)
    y0, b0, b1 = _taps(src_h, height, clamp=False)
    y_top, y_bottom = np.clip(y0, 0, src_h - 1), np.clip(y0 + 1, 0, src_h - 1)
    used = np.unique(np.concatenate([y_top, y_bottom]))  # the horizontal pass only for rows the output reads
    pixels = src[used].astype(np.int32)  # int32 holds every value: 255 * 2048 here, 32640 * 2048 below
    x1 = np.minimum(x0 + 1, src_w - 1)  # the clamped columns have weight 0 on it
    rows = pixels[:, x0] * a0[None, :, None].astype(np.int32) + pixels[:, x1] * a1[None, :, None].astype(np.int32)
    rows = rows.reshape(len(used), width * channels)
    top, bottom = rows[np.searchsorted(used, y_top)], rows[np.searchsorted(used, y_bottom)]
    beta0, beta1 = b0[:, None].astype(np.int32), b1[:, None].astype(np.int32)
    out = ((((top >> 4) * beta0) >> 16) + (((bottom >> 4) * beta1) >> 16) + 2) >> 2  # the SIMD rounding
    out = np.clip(out, 0, 255).astype(np.uint8).reshape(height, width, channels)
    return out[..., 0] if plane else out
