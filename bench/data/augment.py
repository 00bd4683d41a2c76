"""NLA-SLR's training augmentations in plain torch (``recognition.py: augment_preprocess_inputs``).

Per batch, as the official code: with probability ``p`` a colour jitter (brightness, contrast, saturation, hue in
a random order, one set of factors for the whole batch, on RGB in [0, 1]); then one random resized crop box for
the whole batch, applied to every RGB clip and, scaled to the heatmap grid, to the keypoint heatmaps. The
semantics are torchvision 0.10's ``ColorJitter`` and ``RandomResizedCrop.get_params`` (torchvision does not import
with the CPU torch here, so they are written out).
"""

from __future__ import annotations

import math
import random

import torch
import torch.nn.functional as F

GRAY = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights


def resized_crop_box(height: int, width: int, scale: tuple[float, float], ratio: tuple[float, float],
                     rng: random.Random) -> tuple[int, int, int, int]:
    """``(top, left, h, w)``: ten tries at a box of area ``scale`` and log-uniform aspect ``ratio``; else the
    central box with the closest admissible aspect."""
    area = height * width
    low, high = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(low, high))
        w, h = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    aspect = width / height
    if aspect < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif aspect > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        h, w = height, width
    return (height - h) // 2, (width - w) // 2, h, w


def resized_crop(video: torch.Tensor, box: tuple[int, int, int, int], size: int) -> torch.Tensor:
    """Crop ``box`` of ``[..., H, W]`` and resize it to ``size`` x ``size`` (bilinear, no antialiasing)."""
    top, left, h, w = box
    crop = video[..., top:top + h, left:left + w]
    lead = crop.shape[:-2]
    flat = crop.reshape(-1, 1, h, w)
    out = F.interpolate(flat, size=(size, size), mode="bilinear", align_corners=False)
    return out.reshape(*lead, size, size)


def scale_box(box: tuple[int, int, int, int], factor_h: float, factor_w: float) -> tuple[int, int, int, int]:
    """The RGB box on the heatmap grid, truncated as the official ``int(i * factor)``."""
    top, left, h, w = box
    return int(top * factor_h), int(left * factor_w), int(h * factor_h), int(w * factor_w)


def color_jitter(video: torch.Tensor, rng: random.Random, brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.4, hue: float = 0.1) -> torch.Tensor:
    """``[..., 3, H, W]`` RGB in [0, 1]: the four adjustments in a random order with factors drawn once."""
    order = list(range(4))
    rng.shuffle(order)
    factors = [rng.uniform(max(0.0, 1 - brightness), 1 + brightness), rng.uniform(max(0.0, 1 - contrast), 1 + contrast),
               rng.uniform(max(0.0, 1 - saturation), 1 + saturation), rng.uniform(-hue, hue)]
    for index in order:
        f = factors[index]
        if index == 0:
            video = (video * f).clamp(0, 1)
        elif index == 1:
            mean = _gray(video).mean(dim=(-3, -2, -1), keepdim=True)  # per frame
            video = (f * video + (1 - f) * mean).clamp(0, 1)
        elif index == 2:
            video = (f * video + (1 - f) * _gray(video)).clamp(0, 1)
        else:
            video = _shift_hue(video, f)
    return video


def _gray(video: torch.Tensor) -> torch.Tensor:
    r, g, b = video.unbind(dim=-3)
    return (GRAY[0] * r + GRAY[1] * g + GRAY[2] * b).unsqueeze(-3)


def _shift_hue(video: torch.Tensor, shift: float) -> torch.Tensor:
    """RGB -> HSV, hue + shift (mod 1), -> RGB."""
    r, g, b = video.unbind(dim=-3)
    value, _ = video.max(dim=-3)
    low, _ = video.min(dim=-3)
    chroma = value - low
    flat = chroma == 0
    sat = chroma / torch.where(flat, torch.ones_like(value), value)
    div = torch.where(flat, torch.ones_like(chroma), chroma)
    rc, gc, bc = (value - r) / div, (value - g) / div, (value - b) / div
    is_r, is_g = value == r, (value == g) & (value != r)
    h = torch.where(is_r, bc - gc, torch.where(is_g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = torch.fmod(h / 6.0 + 1.0, 1.0)
    h = torch.fmod(h + shift + 1.0, 1.0)
    sector = torch.floor(h * 6.0)
    frac = h * 6.0 - sector
    sector = sector.long() % 6
    p = (value * (1 - sat)).clamp(0, 1)
    q = (value * (1 - sat * frac)).clamp(0, 1)
    t = (value * (1 - sat * (1 - frac))).clamp(0, 1)
    table = [(value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value), (value, p, q)]
    out = torch.zeros_like(video)
    for k, channels in enumerate(table):
        mask = (sector == k).unsqueeze(-3)
        out = torch.where(mask, torch.stack(channels, dim=-3), out)
    return out
