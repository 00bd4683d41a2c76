"""Frame tensors for continuous SLR: the official test transform, training augmentation, and batch padding.

The official pipeline (``dataset/dataloader_video.py`` of VAC/CorrNet/SlowFastSign): frames are 256x256 RGB
uint8; test: centre crop 224, then ``x / 127.5 - 1`` (or per-channel mean/std); train: random crop 224,
horizontal flip of the whole clip with probability 0.5, temporal rescaling; batches are sorted longest first
and padded with the first frame in front and the last frame behind (``collate_fn``).
"""

from __future__ import annotations

import math
import random
from typing import Sequence

import numpy as np
import torch

from bench.data.resize import crop_top_and_resize
from zoo.cards import InputSpec
from zoo.layers.temporal import Layout, temporal_padding


def center_crop(frames: np.ndarray, size: int) -> np.ndarray:
    """``CenterCrop``: ``[T, H, W, 3]`` -> ``[T, size, size, 3]`` (offsets ``round((H - size) / 2)``)."""
    height, width = frames.shape[1:3]
    new_h, new_w = min(size, height), min(size, width)
    top, left = int(round((height - new_h) / 2.0)), int(round((width - new_w) / 2.0))
    return frames[:, top:top + new_h, left:left + new_w]


def random_crop(frames: np.ndarray, size: int, rng: random.Random) -> np.ndarray:
    """``RandomCrop``: one offset for the whole clip (frames smaller than ``size`` are zero-padded)."""
    height, width = frames.shape[1:3]
    if width < size or height < size:
        pad_h, pad_w = max(0, size - height), max(0, size - width)
        frames = np.pad(frames, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
        height, width = frames.shape[1:3]
    top, left = rng.randint(0, height - size), rng.randint(0, width - size)
    return frames[:, top:top + size, left:left + size]


def temporal_rescale(frames: np.ndarray, scale: float, rng: random.Random, min_len: int = 32,
                     max_len: int = 230) -> np.ndarray:
    """``TemporalRescale``: length x U(1-scale, 1+scale), clamped, rounded up to (len - 4) % 4 == 0, resampled."""
    length = len(frames)
    new_len = int(length * ((1.0 - scale) + 2 * scale * rng.random()))
    new_len = min(max(new_len, min_len), max_len)
    if (new_len - 4) % 4:
        new_len += 4 - (new_len - 4) % 4
    if new_len <= length:
        index = sorted(rng.sample(range(length), new_len))
    else:
        index = sorted(rng.choices(range(length), k=new_len))
    return frames[index]


def to_tensor(frames: np.ndarray, spec: InputSpec) -> torch.Tensor:
    """uint8 ``[T, H, W, 3]`` -> float32 ``[T, 3, H, W]``, normalised as the card says."""
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    if spec.normalization == "symmetric":
        return video / 127.5 - 1
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1)
    std = torch.tensor(spec.std).view(1, 3, 1, 1)
    return (video / 255.0 - mean) / std


def dataset_adjustment(frames: np.ndarray, spec: InputSpec, dataset: str | None) -> np.ndarray:
    """What a card does to one dataset's frames before the transform (SlowFastSign: CSL-Daily's top 40 rows)."""
    rows = spec.top_rows_removed.get(dataset or "", 0)
    return crop_top_and_resize(frames, rows, spec.frame_size) if rows else frames


def test_transform(frames: np.ndarray, spec: InputSpec, dataset: str | None = None) -> torch.Tensor:
    """The official test transform: (the card's dataset adjustment), centre crop, normalisation."""
    return to_tensor(center_crop(dataset_adjustment(frames, spec, dataset), spec.crop), spec)


def train_transform(frames: np.ndarray, spec: InputSpec, rng: random.Random, flip: float = 0.5,
                    rescale: float = 0.2, dataset: str | None = None) -> torch.Tensor:
    """The official training transform: random crop, clip-level flip, temporal rescale, normalisation."""
    frames = random_crop(dataset_adjustment(frames, spec, dataset), spec.crop, rng)
    if rng.random() < flip:
        frames = frames[:, :, ::-1]
    if rescale > 0:
        frames = temporal_rescale(frames, rescale, rng)
    return to_tensor(frames, spec)


def pad_batch(videos: Sequence[torch.Tensor], layout: Layout, longest: int | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """The official ``collate_fn`` for videos ``[T, 3, H, W]``: ``(padded [B, T', 3, H, W], lengths [B], order)``.

    ``order`` lists the input positions longest first (stable), which is the batch order. Each video becomes
    ``first frame x left_pad + frames + last frame repeated``; ``lengths`` are ``ceil(T / stride) * stride +
    2 * left_pad``; all are padded to ``ceil(T_max / stride) * stride + 2 * left_pad`` (``longest``: a larger
    ``T_max``, the global batch's longest clip when each process collates its share).
    """
    order = sorted(range(len(videos)), key=lambda i: len(videos[i]), reverse=True)
    ordered = [videos[i] for i in order]
    left_pad, stride = temporal_padding(layout)
    longest = max(len(ordered[0]), longest or 0)
    total = int(math.ceil(longest / stride)) * stride + 2 * left_pad
    lengths = torch.tensor([int(math.ceil(len(v) / stride)) * stride + 2 * left_pad for v in ordered])
    padded = torch.stack([torch.cat([v[:1].expand(left_pad, *v.shape[1:]), v,
                                     v[-1:].expand(total - len(v) - left_pad, *v.shape[1:])]) for v in ordered])
    return padded, lengths, order
