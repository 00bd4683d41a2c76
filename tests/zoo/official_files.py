"""Checkpoints written the way the official CSLR code writes them, filled with random tensors of manifest shapes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch


def read_manifest(path: Path) -> dict[str, tuple[int, ...]]:
    """``key<TAB>shape`` rows of a ../shared/reference/checkpoints manifest (empty shape: a scalar)."""
    rows = [line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return {key: tuple(int(x) for x in shape.split(",")) if shape else () for key, shape in rows[1:]}


def official_state(manifest: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in manifest.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000, dtype=torch.int64)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(shape, generator=gen) * 0.05
    state["conv1d.fc.weight"] = state["classifier.weight"]  # one shared tensor, saved under both names
    return state


def save_official(path: Path, state: dict[str, torch.Tensor], module_prefix: bool = True) -> Path:
    """``torch.save`` of the official training dict, with DataParallel's ``.module`` inside the keys."""
    weights = {(k.replace("conv2d.", "conv2d.module.", 1) if module_prefix else k): v for k, v in state.items()}
    torch.save({"epoch": 39, "model_state_dict": weights, "optimizer_state_dict": {"state": {}, "param_groups": []},
                "scheduler_state_dict": {"milestones": {20: 1, 35: 1}, "last_epoch": 40},
                "rng_state": {"torch": torch.get_rng_state(), "cuda": [], "numpy": np.random.get_state(),
                              "random": random.getstate()}}, path)
    return path
