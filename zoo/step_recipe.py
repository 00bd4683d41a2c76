"""A step-based training recipe for video classifiers (EVL / SignVLM's ``main.py``), as data on a card.

EVL trains for a number of optimiser steps, not epochs: AdamW over the trainable parameters (the frozen backbone
is outside the module tree), a cosine schedule over all steps (``CosineAnnealingLR(T_max=num_steps)``, stepped
after every step, no warm-up), cross-entropy, batches split into ``batch_split`` chunks whose gradients add up
(``loss / batch_split``), autocast with the fp16 backbone on GPU, a checkpoint every ``save_every`` steps. Each
training clip: a random strided window (``_random_sample_frame_idx``), ``/ 255``, normalised, one random resized
crop of the whole clip (area ``crop_scale``, log-uniform ``crop_ratio``) resized to the card's crop; no flips;
RandAugment before the normalisation when ``auto_augment`` names one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from zoo.cards import PerDatasetRecipe


@dataclass(frozen=True)
class StepTrainRecipe(PerDatasetRecipe):
    steps: int = 10000
    batch_size: int = 16  # global: main.py splits it over the processes (batch_size // world_size each)
    sync_batchnorm: bool = False  # main.py wraps in DDP only (the ViT has LayerNorm)
    batch_split: int = 1  # gradient accumulation: the batch in this many chunks (same update, less memory)
    optimizer: str = "adamw"
    lr: float = 4e-5
    weight_decay: float = 0.05
    scheduler: str = "cosine_steps"
    crop_scale: tuple[float, float] = (0.08, 1.0)  # EVL's random_resized_crop defaults
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    auto_augment: str | None = "rand-m7-n4-mstd0.5-inc1"  # SignVLM's scripts (bench.data.rand_augment)
    flip: bool = False  # the official mirror flag is never applied
    save_every: int = 2500
    gpu_fp16: bool = True  # on GPU, as officially: autocast, a loss scaler and the fp16 frozen backbone (freeze_fp16)
    seed: int = 0
    dataset_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


SIGNVLM = StepTrainRecipe(
    dataset_overrides={"lsa64": {"steps": 4000}},
    notes=("SignVLM's scripts: ViT-L/14, decoder 4x1024, batch 16, AdamW 4e-5, wd 0.05, fp16; KArSL-502 24x8 "
           "10k steps, WLASL-100 24x4 10k, LSA64 32x4 4k, AUTSL 24x4 10k.",
           "RandAugment rand-m7-n4-mstd0.5-inc1 as the official scripts (bicubic, EVL's default); its draws come "
           "from the step's seeded generators, so they are not the official run's random stream."))
