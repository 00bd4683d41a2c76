"""One training clip as VideoMAE(v2)'s ``VideoClsDataset`` makes it (``load_video`` in train mode, ``_aug_frame``).

Temporal: ``converted = frames x rate``; a clip longer than that gives ``linspace(start, end, frames)`` (clipped to
``end - 1``, truncated) with ``end`` uniform in ``[converted, vlen)`` and ``start = end - converted``; a shorter one
``linspace(0, vlen, vlen // rate)`` then ``vlen`` repeated, all clipped to ``vlen - 1`` (the last frame repeats).
Spatial, per clip: RandAugment with one draw for every frame (:mod:`bench.data.rand_augment`, the same
SlowFast port as EVL's), ``/ 255``, mean/std, one random resized crop box for every frame (bilinear), a horizontal
flip of every frame with p ``flip`` (on an H&HT mosaic this also swaps the hand quadrants, as officially), random
erasing with one box for every frame (:mod:`bench.data.random_erasing`). The recipe is
:class:`zoo.finetune_recipe.FinetuneRecipe`.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from bench.data.augment import resized_crop, resized_crop_box
from bench.data.rand_augment import parse_rand_augment, rand_augment_clip
from bench.data.random_erasing import erase_clip
from bench.data.views import TemporalView


def videomae_train_indices(vlen: int, frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """The frame indices of one training clip (``load_video``, one segment, train mode)."""
    if vlen < 1:
        raise ValueError(f"videomae_train_indices: a clip needs at least one frame, found {vlen}")
    converted = frames * rate
    if vlen <= converted:
        index = np.linspace(0, vlen, num=vlen // rate)
        index = np.concatenate((index, np.ones(frames - vlen // rate) * vlen))
        return np.clip(index, 0, vlen - 1).astype(np.int64)
    end = int(rng.integers(converted, vlen))
    start = end - converted
    return np.clip(np.linspace(start, end, num=frames), start, end - 1).astype(np.int64)


def videomae_train_window(vlen: int, frames: int, rate: int, rng: np.random.Generator) -> TemporalView:
    """:func:`videomae_train_indices` as a window (distinct increasing indices, the last one repeated after)."""
    index = videomae_train_indices(vlen, frames, rate, rng)
    distinct = tuple(int(i) for i in dict.fromkeys(index.tolist()))
    if list(distinct) != sorted(distinct) or any(index[len(distinct):] != distinct[-1]):
        raise AssertionError(f"unexpected VideoMAE indices for {vlen} frames: {index.tolist()}")
    return TemporalView("train", distinct, (0, frames - len(distinct)))


def videomae_train_clip(frames: np.ndarray, recipe, mean, std, crop: int, rng: random.Random,
                        nprng: np.random.Generator, generator: torch.Generator | None = None) -> torch.Tensor:
    """Augment uint8 ``frames`` ``[T, H, W, 3]`` into a training clip ``[3, T, crop, crop]``.

    ``rng`` plays the official ``random`` (RandAugment's apply/magnitude/sign draws, the crop box, erasing),
    ``nprng`` ``np.random`` (RandAugment's op choice, the flip), ``generator`` the erasing noise."""
    if recipe.auto_augment:
        frames = rand_augment_clip(np.ascontiguousarray(frames), parse_rand_augment(recipe.auto_augment), rng, nprng,
                                   recipe.interpolation)
    video = torch.from_numpy(np.ascontiguousarray(frames)).float() / 255  # T, H, W, 3
    video = ((video - torch.tensor(mean)) / torch.tensor(std)).permute(3, 0, 1, 2)  # C, T, H, W
    box = resized_crop_box(video.shape[-2], video.shape[-1], recipe.crop_scale, recipe.crop_ratio, rng)
    video = resized_crop(video, box, crop)
    if recipe.flip > 0 and nprng.uniform() < recipe.flip:
        video = video.flip(-1)
    if recipe.erase_prob > 0:
        video, _ = erase_clip(video, recipe.erase_prob, rng, generator, recipe.erase_mode, 1, recipe.erase_count)
    return video.contiguous()
