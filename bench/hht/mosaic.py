"""SignNet's head-and-hands tunnelling (H&HT) mosaic, as the official generator builds it, from a frame and landmarks.

Official generator: ``multiprocessing_create_head_hands_stack.py`` (github ganzobtn/video_data_preprocess). For a
frame of W x H pixels, an output of the same size made of four (W // 2) x (H // 2) quadrants, each filled by
``cv2.resize`` (bilinear, aspect ratio not kept; :func:`bench.data.cv2_linear.resize_linear` here, bit for bit):

    whole frame   | right hand
    --------------+-----------
    face          | left hand

A part's crop box is ``int(min(x) * W) - 30 .. int(max(x) * W) + 30`` (likewise in y), the low end clipped at 0
and the high end at W (H), taken with Python slicing from the frame (``int`` truncates toward 0; a negative high end
counts from the far edge, as the official slice does). A part Holistic missed leaves its quadrant black.
Where the official code fails, this one goes on and says so in :class:`MosaicStats`: an odd W or H (the official
assignment of a (H // 2)-row crop to (H - H // 2) rows raises; here the extra row/column stays black) and an empty
crop box (``cv2.resize`` raises; here the quadrant stays black).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data.cv2_linear import resize_linear
from bench.io.landmarks import Landmarks

MARGIN = 30  # pixels around the landmarks' extent (the official MARGIN)
QUADRANTS = {"right_hand": (0, 1), "face": (1, 0), "left_hand": (1, 1)}  # part -> (row, column) of its quadrant


@dataclass
class MosaicStats:
    """Counts of what the official generator would not have survived (see the module doc)."""

    frames: int = 0
    empty_crops: int = 0
    odd_size: bool = False


def crop_box(xy: np.ndarray, width: int, height: int, margin: int = MARGIN) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the official ``get_crop`` for normalised float32 points ``xy [N, 2]``."""
    x, y = xy[:, 0], xy[:, 1]
    x0 = max(int(float(x.min()) * width) - margin, 0)  # float32 -> double, then * int, as the official list of floats
    y0 = max(int(float(y.min()) * height) - margin, 0)
    x1 = min(int(float(x.max()) * width) + margin, width)
    y1 = min(int(float(y.max()) * height) + margin, height)
    return x0, y0, x1, y1


def mosaic(frame: np.ndarray, parts: dict[str, np.ndarray | None], stats: MosaicStats | None = None) -> np.ndarray:
    """The H&HT mosaic of one uint8 ``[H, W, 3]`` frame; ``parts`` maps face / left_hand / right_hand to their
    normalised xy ``[N, 2]`` points, or None where the part was not found."""
    height, width = frame.shape[:2]
    half_w, half_h = width // 2, height // 2
    out = np.zeros_like(frame)
    out[:half_h, :half_w] = resize_linear(frame, (half_w, half_h))
    if stats is not None:
        stats.frames += 1
        stats.odd_size = stats.odd_size or bool(width % 2 or height % 2)
    for part, (row, column) in QUADRANTS.items():
        points = parts.get(part)
        if points is None:
            continue
        x0, y0, x1, y1 = crop_box(points, width, height)
        crop = frame[y0:y1, x0:x1]  # Python slicing, negative ends included, as the official code
        if crop.size == 0:
            if stats is not None:
                stats.empty_crops += 1
            continue
        out[row * half_h:(row + 1) * half_h, column * half_w:(column + 1) * half_w] = resize_linear(crop, (half_w, half_h))
    return out


def frame_parts(landmarks: Landmarks, index: int) -> dict[str, np.ndarray | None]:
    """The parts of frame ``index`` of ``landmarks`` as :func:`mosaic` takes them."""
    return {part: landmarks.xy[part][index] if landmarks.present[part][index] else None for part in QUADRANTS}


def mosaic_frames(frames: np.ndarray, landmarks: Landmarks, indices, stats: MosaicStats | None = None) -> np.ndarray:
    """Mosaics of ``frames [N, H, W, 3]``, the video's frames ``indices``, from the video's ``landmarks`` (their
    normalised points apply to frames of any size: landmarks found on the original video serve a resized copy)."""
    indices = [int(i) for i in indices]
    if len(frames) != len(indices):
        raise ValueError(f"mosaic_frames: {len(frames)} frames for {len(indices)} indices")
    if indices and max(indices) >= landmarks.frames:
        raise ValueError(f"the landmarks cover {landmarks.frames} frames, but frame {max(indices)} was asked for: they "
                         f"belong to another (or a re-encoded) video; run `bench landmarks` again for it")
    return np.stack([mosaic(f, frame_parts(landmarks, i), stats) for f, i in zip(frames, indices)]) if indices else \
        frames.copy()
