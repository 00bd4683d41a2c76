"""Import VideoMAEv2's official ``models/modeling_finetune.py`` and its position-table code from a checkout, without
timm (not installable here). Used by ``official_parity_videomae.py`` and ``bench_videomae.py``.

Nothing is copied from the checkout: the file is imported from it by path, with the four timm names it imports
(``drop_path``, ``to_2tuple``, ``trunc_normal_``, ``register_model``) stood in for in ``sys.modules`` while it
loads. Upstream's temporal interpolation of the position table is a block of ``run_class_finetuning.py`` (a script
that needs DeepSpeed, timm and the datasets): :func:`run_interpolation_block` reads that block's text from the
checkout and runs it as written, on the ``model`` and ``args`` it expects.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import textwrap
import types
from pathlib import Path

import torch
import torch.nn as nn

INTERPOLATION_BLOCK = "if args.num_frames != 16:"  # the block run_class_finetuning.py runs after building the model


def _timm_stubs() -> dict[str, types.ModuleType]:
    """timm's ``drop_path`` (0.4-0.9 semantics), ``to_2tuple``, ``trunc_normal_`` and ``register_model``."""

    def drop_path(x, drop_prob: float = 0.0, training: bool = False, scale_by_keep: bool = True):
        if drop_prob == 0.0 or not training:
            return x
        keep = 1 - drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * (mask.div_(keep) if scale_by_keep else mask)

    def to_2tuple(x):
        return tuple(x) if isinstance(x, (tuple, list)) else (x, x)

    def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        return nn.init.trunc_normal_(tensor, mean, std, a, b)

    layers, registry = types.ModuleType("timm.models.layers"), types.ModuleType("timm.models.registry")
    layers.drop_path, layers.to_2tuple, layers.trunc_normal_ = drop_path, to_2tuple, trunc_normal_
    registry.register_model = lambda fn: fn
    timm, models = types.ModuleType("timm"), types.ModuleType("timm.models")
    timm.models, models.layers, models.registry = models, layers, registry
    return {"timm": timm, "timm.models": models, "timm.models.layers": layers, "timm.models.registry": registry}


def code_folder(repo: Path) -> Path:
    """The folder holding ``models/modeling_finetune.py``: upstream's root, or SignNet's ``videomaev2/``."""
    for folder in (repo, repo / "videomaev2"):
        if (folder / "models" / "modeling_finetune.py").is_file():
            return folder
    raise SystemExit(f"{repo}: no models/modeling_finetune.py (nor videomaev2/models/...): expected a checkout of "
                     "github OpenGVLab/VideoMAEv2 or of ganzobtn/slr_vit at 45e3c48")


def official_finetune_module(repo: Path, name: str = "official_modeling_finetune") -> types.ModuleType:
    """``modeling_finetune`` of the checkout, imported with the timm stand-ins (restored afterwards)."""
    path = code_folder(repo) / "models" / "modeling_finetune.py"
    stubs = _timm_stubs()
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value
    return module


def interpolation_block(script: Path) -> str:
    """The text of the (uncommented) ``if args.num_frames != 16:`` block of a fine-tuning script, dedented."""
    lines = script.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == INTERPOLATION_BLOCK), None)
    if start is None:
        raise SystemExit(f"{script}: no uncommented {INTERPOLATION_BLOCK!r} block")
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start]]
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
    return textwrap.dedent("\n".join(block))


def run_interpolation_block(script: Path, model: nn.Module, num_frames: int, tubelet: int = 2) -> torch.Tensor:
    """Run the script's block as written on ``model`` (it replaces ``model.pos_embed``) and return the new table."""
    args = types.SimpleNamespace(num_frames=num_frames, tubelet_size=tubelet)
    exec(compile(interpolation_block(script), str(script), "exec"), {"torch": torch, "math": math},
         {"args": args, "model": model})
    return model.pos_embed


def interpolation_script(repo: Path) -> Path:
    """The script that keeps upstream's interpolation: upstream's ``run_class_finetuning.py``; in SignNet's fork,
    ``run_class_finetuning_new.py`` (its ``run_class_finetuning.py`` comments the block out)."""
    folder = code_folder(repo)
    for name in ("run_class_finetuning_new.py", "run_class_finetuning.py"):
        path = folder / name
        if path.is_file() and any(line.strip() == INTERPOLATION_BLOCK for line in path.read_text().splitlines()):
            return path
    raise SystemExit(f"{folder}: no fine-tuning script with an uncommented {INTERPOLATION_BLOCK!r} block")


def build_official(module: types.ModuleType, num_classes: int, num_frames: int, **kwargs) -> nn.Module:
    """``vit_base_patch16_224`` as ``run_class_finetuning.py`` creates it (mean pooling, init_scale 0.001)."""
    return module.vit_base_patch16_224(num_classes=num_classes, all_frames=num_frames, tubelet_size=2,
                                       use_mean_pooling=True, init_scale=0.001, **kwargs)
