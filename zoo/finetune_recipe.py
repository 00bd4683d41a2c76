"""VideoMAE(v2)'s fine-tuning recipe (``run_class_finetuning.py``), as data on a card; SignNet ran it unchanged.

The official loop, as :func:`bench.runners.train_steps.train_steps` runs it for a :class:`FinetuneRecipe`:

- the batch counts every clip of one optimiser update: per-GPU ``--batch_size`` x GPUs x ``--update_freq``
  (SignNet's scripts: 2 x 8 or 4 x 4 = 16, ``--num_sample 1``); one epoch = ``len(train) // batch`` updates (the
  loader drops the last partial batch);
- AdamW (betas 0.9/0.999, eps 1e-8), ``lr``, ``min_lr`` and ``warmup_lr`` scaled by ``batch / 256``; the schedule
  is a per-update table: ``warmup_epochs`` of ``linspace(0, lr, n)`` (the ``warmup_lr`` argument is parsed and
  scaled but never passed: the ramp starts at 0), then ``min_lr + (lr - min_lr) (1 + cos(pi i / N)) / 2`` for
  ``i < N`` (``utils.cosine_scheduler``);
- layer-wise lr decay: ``lr_scale = layer_decay ** (depth + 1 - layer)`` with layer 0 = patch embedding and
  position table, ``blocks.i`` = i + 1, the rest (final norm, head) = depth + 1 (scale 1); no weight decay for 1-D
  tensors, ``*.bias``, ``*.scale`` and ``pos_embed``/``cls_token`` (``optim_factory.get_parameter_groups``);
- per clip: the card's frame count and stride (``--num_frames``, ``--sampling_rate``) in VideoMAE's training
  window, then (``VideoClsDataset._aug_frame``) RandAugment with one draw per clip, ``/ 255``, ImageNet mean/std, one
  random resized crop box for every frame (area 8-100 %, aspect 0.75-1.3333, bilinear), horizontal flip with p 0.5,
  random erasing with one box for every frame (``cube=True``: prob 0.25, area 2-33 %, per-pixel N(0, 1));
- per batch: timm's ``Mixup`` in mode ``batch``: always on (``mixup_prob`` 1), cutmix with p ``switch_prob``
  (lambda ~ Beta(1, 1), box area corrected) else mixup (Beta(0.8, 0.8)), each clip mixed with the batch reversed,
  targets smoothed (``smoothing / N`` off, ``1 - smoothing + smoothing / N`` on); soft-target cross-entropy;
- drop path rising linearly over the blocks up to ``drop_path``; no gradient clipping, no EMA.

Precision: the official runs train under DeepSpeed fp16 (fp16 weights and activations, fp32 master weights,
dynamic loss scale from 2^7); here CUDA runs autocast with a loss scaler (``--amp``) and the CPU stays fp32.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from zoo.cards import PerDatasetRecipe


@dataclass(frozen=True)
class FinetuneRecipe(PerDatasetRecipe):
    epochs: int = 50
    batch_size: int = 16  # clips per optimiser update: per-GPU batch x GPUs x update_freq (SignNet: 16)
    lr: float = 1e-3  # the base rate; the run uses lr x batch / 256
    min_lr: float = 1e-6  # scaled as lr
    warmup_epochs: int = 5
    warmup_start: float = 0.0  # the official ramp starts at 0 (warmup_lr is never passed to the schedule)
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.1
    layer_decay: float = 0.9
    no_decay_names: tuple[str, ...] = ("pos_embed", "cls_token")  # the model's no_weight_decay()
    drop_path: float = 0.3
    auto_augment: str | None = "rand-m7-n4-mstd0.5-inc1"
    interpolation: str = "bicubic"  # RandAugment's geometric ops (--train_interpolation)
    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 1.3333)
    flip: float = 0.5
    erase_prob: float = 0.25
    erase_mode: str = "pixel"
    erase_count: int = 1
    mixup_alpha: float = 0.8
    cutmix_alpha: float = 1.0
    mixup_prob: float = 1.0
    switch_prob: float = 0.5
    label_smoothing: float = 0.1
    seed: int = 0
    sync_batchnorm: bool = False  # DDP only: the ViT has LayerNorm
    dataset_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def scaled(self, value: float, batch_size: int) -> float:
        """A rate as the run uses it: ``value x batch / 256`` (the linear scaling rule of the official script)."""
        return value * batch_size / 256


SIGNNET = FinetuneRecipe(
    dataset_overrides={name: {"epochs": 200} for name in ("wlasl100", "wlasl300", "wlasl1000")},
    notes=("SignNet's scripts (github ganzobtn/slr_vit at 45e3c48, scripts/finetune/distribute): vit_base_patch16_224, "
           "32 frames at sampling rate 2, batch 2 x 8 GPUs or 4 x 4 (16), lr 1e-3 (x 16 / 256), layer decay 0.9, "
           "wd 0.1, 5 warm-up epochs, drop path 0.3, 50 epochs (ASL-Citizen, WLASL-2000) or 200 (WLASL-100/300/1000), "
           "--num_sample 1, DeepSpeed fp16; RandAugment, mixup, cutmix, smoothing and erasing at the script defaults.",
           "Chain: vit_b_k710_dl_from_giant.pth -> ASL-Citizen (2731 classes) -> WLASL; each stage drops a head of "
           "another class count and starts a new one (bench train --init)."))
