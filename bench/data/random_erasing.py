"""Random erasing of a video clip as VideoMAE(v2)'s ``dataset/random_erasing.py`` (``cube=True``), in plain torch.

On the normalised clip ``[C, T, H, W]``: with probability ``prob`` (one draw per clip), ``count`` boxes (one when
``min_count == max_count``, else uniform in ``[min_count, max_count]``); for each, up to 100 tries at an area
``U(min_area, max_area) x H x W / count`` and a log-uniform aspect in ``[min_aspect, 1 / min_aspect]`` with
``h = round(sqrt(area x aspect))``, ``w = round(sqrt(area / aspect))``, accepted when ``w < W`` and ``h < H``
(strictly); the same box on every frame (the cube), filled per frame with N(0, 1) noise (mode ``pixel``), one
N(0, 1) colour per channel and frame (``rand``) or zeros (``const``). The official ``num_splits`` is the erase count
(1), so no clean split is kept.
"""

from __future__ import annotations

import math
import random

import torch

MODES = ("pixel", "rand", "const")


def erase_box(height: int, width: int, rng: random.Random, count: int = 1, min_area: float = 0.02,
              max_area: float = 1 / 3, min_aspect: float = 0.3, tries: int = 100) -> tuple[int, int, int, int] | None:
    """One erasing box ``(top, left, h, w)`` drawn as the official ``_erase_cube``, or None after ``tries`` misses."""
    low, high = math.log(min_aspect), math.log(1 / min_aspect)
    for _ in range(tries):
        target = rng.uniform(min_area, max_area) * height * width / count
        aspect = math.exp(rng.uniform(low, high))
        h, w = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if w < width and h < height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    return None


def erase_clip(video: torch.Tensor, prob: float, rng: random.Random, generator: torch.Generator | None = None,
               mode: str = "pixel", min_count: int = 1, max_count: int = 1) -> tuple[torch.Tensor, list]:
    """Erase boxes of ``video`` ``[C, T, H, W]`` (a copy); returns it and the boxes ``(top, left, h, w)`` erased.
    ``rng`` draws the probability and the boxes, ``generator`` the noise."""
    if mode not in MODES:
        raise ValueError(f"random erasing mode {mode!r}; expected one of {', '.join(MODES)}")
    if prob <= 0 or rng.random() > prob:
        return video, []
    channels, frames, height, width = video.shape
    count = min_count if min_count == max_count else rng.randint(min_count, max_count)
    out, boxes = video.clone(), []
    for _ in range(count):
        box = erase_box(height, width, rng, count)
        if box is None:
            continue
        top, left, h, w = box
        for t in range(frames):  # the official fills frame by frame: fresh noise for each
            if mode == "pixel":
                fill = torch.empty((channels, h, w)).normal_(generator=generator)
            elif mode == "rand":
                fill = torch.empty((channels, 1, 1)).normal_(generator=generator)
            else:
                fill = torch.zeros((channels, 1, 1))
            out[:, t, top:top + h, left:left + w] = fill.to(out.dtype)
        boxes.append(box)
    return out, boxes
