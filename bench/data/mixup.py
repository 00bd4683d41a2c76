"""Batch mixup / cutmix with smoothed soft targets: the semantics of timm's ``Mixup`` in mode ``"batch"``, as
VideoMAE(v2) fine-tuning uses it (the code is not timm's; timm does not import here).

Per batch: with probability ``prob`` the batch is mixed (else lambda = 1); when both alphas are positive, cutmix is
chosen with probability ``switch_prob`` (lambda ~ Beta(cutmix_alpha, cutmix_alpha)), otherwise mixup (lambda ~
Beta(mixup_alpha, mixup_alpha)). Every clip is mixed with the batch reversed (clip ``i`` with ``B - 1 - i``):
mixup ``lam x + (1 - lam) x.flip(0)``; cutmix pastes the reversed batch into one box for every frame and channel,
the box ``int(H sqrt(1 - lam))`` x ``int(W sqrt(1 - lam))`` around a uniform centre, clipped to the frame, and
lambda becomes ``1 - box area / frame area`` (``correct_lam``). Targets: ``lam y + (1 - lam) y.flip(0)`` with
``y`` one-hot at ``1 - s + s / N`` and ``s / N`` elsewhere. The batch must be even (timm asserts it).
NLA-SLR's mixup (a random permutation, lambda-weighted losses) is :func:`bench.runners.islr_losses.mixup_streams`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class BatchMix:
    """What one batch's mixing did: ``kind`` ("none", "mixup", "cutmix"), the final lambda and the cutmix box."""

    kind: str
    lam: float
    box: tuple[int, int, int, int] | None = None  # (top, bottom, left, right), rows/columns [top, bottom)


def smoothed_one_hot(labels: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """``[B, N]``: ``1 - s + s / N`` on the label, ``s / N`` elsewhere (timm's ``one_hot`` in ``mixup_target``)."""
    off = smoothing / num_classes
    targets = torch.full((labels.shape[0], num_classes), off, dtype=torch.float32, device=labels.device)
    return targets.scatter_(1, labels.unsqueeze(1), 1.0 - smoothing + off)


def cutmix_box(height: int, width: int, lam: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """timm's ``rand_bbox`` (no margin): a box of ``int(H r) x int(W r)``, ``r = sqrt(1 - lam)``, around a uniform
    centre (row then column), halves floored, clipped to the frame; ``(top, bottom, left, right)``."""
    ratio = np.sqrt(1 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
    top, bottom = int(np.clip(cy - cut_h // 2, 0, height)), int(np.clip(cy + cut_h // 2, 0, height))
    left, right = int(np.clip(cx - cut_w // 2, 0, width)), int(np.clip(cx + cut_w // 2, 0, width))
    return top, bottom, left, right


def mix_batch(video: torch.Tensor, labels: torch.Tensor, num_classes: int, rng: np.random.Generator,
              mixup_alpha: float = 0.8, cutmix_alpha: float = 1.0, prob: float = 1.0, switch_prob: float = 0.5,
              smoothing: float = 0.1) -> tuple[torch.Tensor, torch.Tensor, BatchMix]:
    """Mix ``video`` ``[B, C, T, H, W]`` (or any ``[B, ..., H, W]``) and return it with soft targets ``[B, N]``."""
    if video.shape[0] % 2:
        raise ValueError(f"mixup/cutmix: the batch must be even (clips are paired with the reversed batch), "
                         f"found {video.shape[0]}")
    kind, lam = "none", 1.0
    if (mixup_alpha > 0 or cutmix_alpha > 0) and rng.random() < prob:
        if mixup_alpha > 0 and cutmix_alpha > 0:
            cutmix = bool(rng.random() < switch_prob)
        else:
            cutmix = cutmix_alpha > 0
        alpha = cutmix_alpha if cutmix else mixup_alpha
        kind, lam = ("cutmix" if cutmix else "mixup"), float(rng.beta(alpha, alpha))
    box = None
    if kind == "cutmix":
        height, width = video.shape[-2:]
        box = cutmix_box(height, width, lam, rng)
        top, bottom, left, right = box
        video = video.clone()
        video[..., top:bottom, left:right] = video.flip(0)[..., top:bottom, left:right]
        lam = 1.0 - (bottom - top) * (right - left) / float(height * width)
    elif kind == "mixup" and lam != 1.0:
        video = video * lam + video.flip(0) * (1.0 - lam)
    one_hot = smoothed_one_hot(labels, num_classes, smoothing)
    targets = one_hot * lam + one_hot.flip(0) * (1.0 - lam)
    return video, targets, BatchMix(kind, lam, box)
