"""VideoMAE fine-tuning augmentations: batch mixup/cutmix targets and box, random erasing, the training window."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from bench.data.mixup import cutmix_box, mix_batch, smoothed_one_hot
from bench.data.random_erasing import erase_box, erase_clip
from bench.data.videomae_train import videomae_train_clip, videomae_train_indices, videomae_train_window
from zoo.finetune_recipe import FinetuneRecipe


class Draws:
    """A generator playing back fixed draws (random(), beta(), integers()), to hand-check timm's semantics."""

    def __init__(self, randoms, betas=(), ints=()):
        self.randoms, self.betas, self.ints = list(randoms), list(betas), list(ints)

    def random(self):
        return self.randoms.pop(0)

    def beta(self, a, b):
        return self.betas.pop(0)

    def integers(self, low, high):
        value = self.ints.pop(0)
        assert low <= value < high
        return value


def test_smoothed_one_hot_is_timm_s():
    targets = smoothed_one_hot(torch.tensor([1, 0]), 4, 0.1)
    assert targets[0].tolist() == pytest.approx([0.025, 0.925, 0.025, 0.025])
    assert targets.sum(1).tolist() == pytest.approx([1.0, 1.0])


def test_mixup_pairs_each_clip_with_the_reversed_batch():
    video = torch.arange(4, dtype=torch.float32).reshape(4, 1, 1, 1, 1).expand(4, 3, 2, 4, 4).clone()
    labels = torch.tensor([0, 1, 2, 3])
    # mixed (0.3 < prob 1), switch draw 0.7 >= 0.5: mixup with lambda 0.75
    mixed, targets, mix = mix_batch(video, labels, 4, Draws([0.3, 0.7], [0.75]), smoothing=0.0)
    assert (mix.kind, mix.lam) == ("mixup", 0.75)
    assert mixed[:, 0, 0, 0, 0].tolist() == [0.75 * 0 + 0.25 * 3, 0.75 * 1 + 0.25 * 2, 0.75 * 2 + 0.25 * 1, 0.75 * 3]
    assert targets[0].tolist() == [0.75, 0.0, 0.0, 0.25] and targets[3].tolist() == [0.25, 0.0, 0.0, 0.75]
    unmixed, soft, none = mix_batch(video, labels, 4, Draws([1.0]), prob=0.5, smoothing=0.1)
    assert none.kind == "none" and torch.equal(unmixed, video) and torch.equal(soft, smoothed_one_hot(labels, 4, 0.1))
    with pytest.raises(ValueError, match="even"):
        mix_batch(video[:3], labels[:3], 4, Draws([0.0]))


def test_cutmix_box_area_and_corrected_lambda():
    # lambda 0.75 on 8x8: cut 4x4 around (row 1, column 6), clipped: rows [0, 3), columns [4, 8)
    assert cutmix_box(8, 8, 0.75, Draws([], ints=[1, 6])) == (0, 3, 4, 8)
    video = torch.zeros(2, 3, 2, 8, 8)
    video[1] = 1.0
    mixed, targets, mix = mix_batch(video, torch.tensor([0, 1]), 2, Draws([0.2, 0.1], [0.75], [1, 6]), smoothing=0.0)
    assert mix.kind == "cutmix" and mix.box == (0, 3, 4, 8)
    assert mix.lam == pytest.approx(1 - 12 / 64)  # the box's area, not the drawn 0.75
    assert mixed[0].sum().item() == 12 * 3 * 2  # clip 0 took clip 1's box on every channel and frame
    assert mixed[1, :, :, 0:3, 4:8].abs().sum().item() == 0 and mixed[1].sum().item() == 3 * 2 * (64 - 12)
    assert targets[0].tolist() == pytest.approx([1 - 12 / 64, 12 / 64])


def test_random_erasing_one_box_for_every_frame():
    rng = random.Random(3)
    video = torch.zeros(3, 4, 16, 16)
    out, boxes = erase_clip(video, 1.0, rng, torch.Generator().manual_seed(0))
    assert len(boxes) == 1
    top, left, h, w = boxes[0]
    assert 0.02 * 256 * 0.5 <= h * w <= 256 / 3 * 1.5 and h < 16 and w < 16
    erased = out != 0
    for t in range(4):  # the same region on every frame, fresh noise on each
        assert erased[:, t].any(0).nonzero().min(0).values.tolist() == [top, left]
        assert erased[:, t, top:top + h, left:left + w].all() and not erased[:, t].sum() > 3 * h * w
    assert not torch.equal(out[:, 0], out[:, 1])
    assert torch.equal(video, torch.zeros(3, 4, 16, 16))  # the input is left alone
    # same seed, same box as the box function alone (after the probability draw)
    replay = random.Random(3)
    replay.random()
    assert erase_box(16, 16, replay) == boxes[0]
    kept, none = erase_clip(video, 0.25, Draws([0.9]))
    assert none == [] and kept is video


def test_videomae_train_indices_long_and_short_clips():
    class Fixed:
        def integers(self, low, high):
            assert (low, high) == (16, 40)
            return 20

    # 40 frames, 8 x rate 2: end 20, start 4, linspace(4, 20, 8) truncated, clipped to 19
    assert videomae_train_indices(40, 8, 2, Fixed()).tolist() == [4, 6, 8, 10, 13, 15, 17, 19]
    # 10 frames <= 16: linspace(0, 10, 5) -> 0 2 5 7 10, then 10 x 3, all clipped to 9
    assert videomae_train_indices(10, 8, 2, None).tolist() == [0, 2, 5, 7, 9, 9, 9, 9]
    window = videomae_train_window(10, 8, 2, None)
    assert window.indices == (0, 2, 5, 7, 9) and window.pad == (0, 3)
    assert videomae_train_indices(1, 4, 2, None).tolist() == [0, 0, 0, 0]


def test_videomae_train_clip_shape_and_flip():
    frames = np.zeros((4, 20, 30, 3), dtype=np.uint8)
    frames[:, :, :15] = 255  # left half white
    recipe = FinetuneRecipe(auto_augment=None, crop_scale=(1.0, 1.0), crop_ratio=(1.5, 1.5), erase_prob=0.0, flip=1.0)
    clip = videomae_train_clip(frames, recipe, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 8, random.Random(0),
                               np.random.default_rng(0))
    assert clip.shape == (3, 4, 8, 8)
    assert clip[0, 0, 0, 0].item() == pytest.approx(-1.0) and clip[0, 0, 0, -1].item() == pytest.approx(1.0)  # flipped
