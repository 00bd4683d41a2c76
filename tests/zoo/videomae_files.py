"""VideoMAEv2 / SignNet checkpoints in the official layouts, with random fp16 tensors of manifest shapes
(``../shared/reference/checkpoints/videomaev2_vitb16_k710.tsv``).

Every tensor is a view into one random fp16 pool (at its own offset), so that ``torch.save`` writes the pool once
(about 5 MB instead of the released file's 174 MB); keys, shapes, dtype and the file layouts are the official ones.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import torch


def fp16_state(manifest: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    """fp16 tensors under the manifest's keys, views of one random pool."""
    gen = torch.Generator().manual_seed(seed)
    pool = (torch.randn(max(math.prod(s) for s in manifest.values()) + 997, generator=gen) * 0.05).half()
    return {key: pool[(i * 7919) % 997:][:math.prod(shape)].view(shape)
            for i, (key, shape) in enumerate(manifest.items())}


def save_released(path: Path, state: dict[str, torch.Tensor], key: str = "module") -> Path:
    """The released ``vit_b_k710_dl_from_giant.pth``: the weights alone under ``module``."""
    torch.save({key: state}, path)
    return path


def save_deepspeed(path: Path, state: dict[str, torch.Tensor], epoch: int = 49) -> Path:
    """DeepSpeed's ``mp_rank_00_model_states.pt`` as ``engine.save_checkpoint`` writes it for VideoMAEv2's runs (fp16
    engine without ZeRO, so the optimiser's state is in this file; ``client_state={'epoch': epoch}``)."""
    shapes = OrderedDict((k, v.shape) for k, v in state.items())
    torch.save({
        "module": state, "buffer_names": [], "optimizer": {
            "dynamic_loss_scale": True, "cur_scale": 128.0, "cur_iter": 1000, "last_overflow_iter": 990,
            "scale_factor": 2.0, "scale_window": 128, "clip_grad": 0.0,
            "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                                                    "weight_decay": 0.1, "params": [0]}]},
            "fp32_groups_flat": [torch.zeros(4)]},
        "param_shapes": [shapes], "frozen_param_shapes": None, "shared_params": {}, "frozen_param_fragments": None,
        "lr_scheduler": None, "data_sampler": None, "random_ltd": None, "sparse_tensor_module_names": set(),
        "skipped_steps": 3, "global_steps": 1000, "global_samples": 64000, "dp_world_size": 1, "mp_world_size": 1,
        "ds_config": {"train_batch_size": 64, "train_micro_batch_size_per_gpu": 64, "steps_per_print": 1000,
                      "gradient_clipping": 0.0, "optimizer": {"type": "Adam", "adam_w_mode": True, "params": {
                          "lr": 1e-3, "weight_decay": 0.1, "bias_correction": True, "betas": [0.9, 0.999],
                          "eps": 1e-8}},
                      "fp16": {"enabled": True, "loss_scale": 0, "initial_scale_power": 7,
                               "loss_scale_window": 128}},
        "ds_version": "0.9.5", "epoch": epoch}, path)
    return path
