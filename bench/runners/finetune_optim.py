"""VideoMAE(v2)'s optimiser set-up: layer-wise lr decay groups and the per-update warm-up + cosine table.

Written from ``optim_factory.py`` (``get_num_layer_for_vit``, ``LayerDecayValueAssigner``,
``get_parameter_groups``) and ``utils.cosine_scheduler`` of github OpenGVLab/VideoMAEv2; the recipe is
:class:`zoo.finetune_recipe.FinetuneRecipe`.
"""

from __future__ import annotations

import math
import re
from typing import Iterable

import numpy as np


def vit_layer_id(name: str, num_layers: int) -> int:
    """The layer of a ViT parameter for lr decay: 0 for the patch embedding and position/cls tokens, ``i + 1`` for
    ``blocks.i``, ``num_layers + 1`` for everything after the blocks (final norm, head)."""
    if name in ("cls_token", "mask_token", "pos_embed") or name.startswith("patch_embed"):
        return 0
    if name.startswith("rel_pos_bias"):
        return num_layers + 1
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return num_layers + 1


def count_blocks(names: Iterable[str]) -> int:
    """The number of transformer blocks (``blocks.<i>.``) among parameter names."""
    ids = {int(m.group(1)) for n in names if (m := re.match(r"blocks\.(\d+)\.", n))}
    return max(ids) + 1 if ids else 0


def layer_decay_groups(named_parameters: Iterable, weight_decay: float, layer_decay: float,
                       no_decay_names: Iterable[str] = ("pos_embed", "cls_token")) -> list[dict]:
    """Optimiser groups as ``get_parameter_groups``: one per (layer, decay or not), in order of first appearance,
    each ``{"params", "names", "weight_decay", "lr_scale"}`` with ``lr_scale = layer_decay ** (depth + 1 - layer)``
    (``layer_decay >= 1``: one scale of 1, no layer split); no weight decay for 1-D tensors, ``*.bias``, ``*.scale``
    and ``no_decay_names``; frozen parameters are left out."""
    params = [(n, p) for n, p in named_parameters if p.requires_grad]
    depth = count_blocks(n for n, _ in params)
    skip = set(no_decay_names)
    groups: dict[str, dict] = {}
    for name, param in params:
        decay = not (param.ndim == 1 or name.endswith(".bias") or name.endswith(".scale") or name in skip)
        key = "decay" if decay else "no_decay"
        scale = 1.0
        if layer_decay < 1.0:
            layer = vit_layer_id(name, depth)
            key = f"layer_{layer}_{key}"
            scale = layer_decay ** (depth + 1 - layer)
        group = groups.setdefault(key, {"params": [], "names": [], "weight_decay": weight_decay if decay else 0.0,
                                        "lr_scale": scale})
        group["params"].append(param)
        group["names"].append(name)
    return list(groups.values())


def cosine_table(base: float, final: float, epochs: int, per_epoch: int, warmup_epochs: int = 0,
                 warmup_start: float = 0.0) -> np.ndarray:
    """The rate of every update (``utils.cosine_scheduler``): ``linspace(warmup_start, base, W)`` over the
    ``W = warmup_epochs x per_epoch`` warm-up updates (both ends included), then
    ``final + (base - final) (1 + cos(pi i / N)) / 2`` for ``i = 0 .. N - 1`` over the ``N`` others."""
    total, warmup = epochs * per_epoch, warmup_epochs * per_epoch
    if total < 1 or warmup > total:
        raise ValueError(f"cosine_table: {epochs} epochs x {per_epoch} updates with {warmup_epochs} warm-up epochs; "
                         "need at least one update and no more warm-up than training")
    ramp = np.linspace(warmup_start, base, warmup) if warmup_epochs > 0 else np.array([])
    rest = total - warmup
    cosine = np.array([final + 0.5 * (base - final) * (1 + math.cos(math.pi * i / rest)) for i in range(rest)])
    return np.concatenate((ramp, cosine))


class TableSchedule:
    """Sets every group's rate to ``table[update] x lr_scale`` before each update, as the official loop does;
    ``step()`` after each optimiser step. Its state (the update count) resumes exactly."""

    def __init__(self, optimizer, table: np.ndarray):
        self.optimizer, self.table, self.update = optimizer, table, 0
        self._apply()

    def _apply(self) -> None:
        value = self.table[min(self.update, len(self.table) - 1)]
        for group in self.optimizer.param_groups:
            group["lr"] = float(value * group.get("lr_scale", 1.0))

    def step(self) -> None:
        self.update += 1
        self._apply()

    def state_dict(self) -> dict:
        return {"update": self.update}

    def load_state_dict(self, state: dict) -> None:
        self.update = int(state["update"])
        self._apply()


def finetune_optimizer(model, recipe, batch_size: int, per_epoch: int, epochs: int, lr: float | None = None):
    """AdamW over :func:`layer_decay_groups` and its :class:`TableSchedule` for a
    :class:`~zoo.finetune_recipe.FinetuneRecipe` (``lr``: a base rate replacing the recipe's, scaled the same)."""
    import torch

    groups = layer_decay_groups(model.named_parameters(), recipe.weight_decay, recipe.layer_decay,
                                recipe.no_decay_names)
    base = recipe.scaled(lr if lr is not None else recipe.lr, batch_size)
    table = cosine_table(base, recipe.scaled(recipe.min_lr, batch_size), epochs, per_epoch, recipe.warmup_epochs,
                         recipe.scaled(recipe.warmup_start, batch_size))
    optimizer = torch.optim.AdamW([{k: v for k, v in g.items() if k != "names"} for g in groups], lr=base,
                                  betas=recipe.betas, eps=recipe.eps, weight_decay=recipe.weight_decay)
    return optimizer, TableSchedule(optimizer, table), groups
