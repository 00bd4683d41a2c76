"""Checkpoints written the way the official NLA-SLR code writes ``best.ckpt``, with random tensors of manifest shapes
(``../shared/reference/checkpoints/{nla_slr,vknet64,s3d_rgb64,s3d_pose64}_wlasl2000.tsv``).

The full NLA-SLR model has 131 M parameters (525 MB as separate tensors): here every tensor is a view into one
shared random pool (at its own offset), so that ``torch.save`` writes the pool once (about 35 MB) and tests stay
fast. Keys, shapes, dtypes and the file layout are the official ones.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from official_files import read_manifest  # noqa: F401  (re-exported: one import for the ISLR tests)

PREFIX = "recognition_network."


def official_islr_state(manifest: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Tensors under the manifest's keys (``recognition_network.`` prefix included), views of two random pools."""
    gen = torch.Generator().manual_seed(seed)
    largest = max(math.prod(shape) for shape in manifest.values())
    pool = torch.randn(largest + 997, generator=gen) * 0.05
    variances = torch.rand(2048 + 997, generator=gen) + 0.5  # BatchNorm running_var must be positive
    state = {}
    for i, (key, shape) in enumerate(manifest.items()):
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000, dtype=torch.int64)
            continue
        source = variances if key.endswith("running_var") else pool
        offset = (i * 7919) % 997  # distinct tensors share no values in the same places
        state[key] = source[offset:offset + math.prod(shape)].view(shape)
    return state


def save_official_best(path: Path, state: dict[str, torch.Tensor], epoch: int = 99) -> Path:
    """``torch.save`` of the dict ``training.py`` writes: weights under ``model_state``, no ``module.`` prefix."""
    torch.save({"epoch": epoch, "global_step": 1234 * (epoch + 1), "model_state": state,
                "optimizer_state": {"state": {}, "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.998)}]},
                "scheduler_state": {"T_max": 100, "eta_min": 0, "last_epoch": epoch + 1, "base_lrs": [1e-3]},
                "best_score": 0.6126, "current_score": 0.6105}, path)
    return path
