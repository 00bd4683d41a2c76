"""Checkpoint averaging as SignVLM's ``avg_checkpoints.py``: the uniform mean of several checkpoints' weights.

The official script globs ``<folder>/*.pth``, sorts the paths, starts from zeros, adds every checkpoint's ``model``
tensors in that order and divides by their number (in the tensors' own dtype). Here the same order and arithmetic,
over files of one format: official ``.pth``/``.pt`` files (keys kept as the files spell them, ``module.`` included)
or our ``.safetensors``; a file whose keys or shapes differ from the first is an error naming both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from zoo.checkpoints import Checkpoint, CheckpointError, read_checkpoint

SUFFIXES = (".pth", ".pt", ".safetensors")


def checkpoint_files(sources: Sequence[str | os.PathLike]) -> list[str]:
    """Files given, and every checkpoint file of the folders given, each folder's sorted by path (``glob`` order)."""
    files: list[str] = []
    for source in map(Path, sources):
        if source.is_dir():
            found = sorted(str(p) for p in source.iterdir() if p.suffix in SUFFIXES and not p.name.startswith("."))
            if not found:
                raise CheckpointError(f"{source}: no checkpoint files ({', '.join(SUFFIXES)}) in this folder")
            files += found
        else:
            files.append(str(source))
    return files


def average_checkpoints(files: Sequence[str], weights_key: str | Sequence[str] = "model") -> tuple[dict, Checkpoint]:
    """The mean state dict of ``files`` (summed from zeros in the given order, then divided), and the first
    checkpoint (for its format and metadata)."""
    import torch

    if not files:
        raise CheckpointError("no checkpoints to average")
    first = read_checkpoint(files[0], weights_key)
    total = {k: torch.zeros_like(v) for k, v in first.state_dict.items()}
    for path in files:
        ckpt = first if path == files[0] else read_checkpoint(path, weights_key)
        if ckpt.format != first.format:
            raise CheckpointError(f"{path}: a {ckpt.format} checkpoint among {first.format} ones ({files[0]})")
        if set(ckpt.state_dict) != set(total):
            odd = sorted(set(ckpt.state_dict) ^ set(total))[:3]
            raise CheckpointError(f"{path}: its keys differ from {files[0]}'s, e.g. {odd}")
        for key, value in ckpt.state_dict.items():
            if value.shape != total[key].shape:
                raise CheckpointError(f"{path}: {key} has shape {list(value.shape)}, {files[0]} "
                                      f"{list(total[key].shape)}")
            total[key] += value
    return {k: v / len(files) for k, v in total.items()}, first
