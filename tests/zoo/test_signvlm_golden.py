"""Golden outputs of the SignVLM/EVL architecture at tiny size (open_clip style): same weights, same input, same logits.

One case, ``signvlm_tiny`` (a 64-wide, 4-block CLIP-like ViT, patch 16, 64x64 frames, 8 frames, the EVL decoder
4 x 64 with 4 heads), 12 classes. The decoder/head and the frozen backbone (kept outside the model's state dict,
so wrapped here to be filled and hashed with it) are regenerated with ``golden.fill_model_``, not stored; every
tensor is non-zero (the official init leaves the temporal tables at zero, which would hide them). The full-size
models were checked against the official ``EVLTransformer`` with ``benchmarks/official_parity_signvlm.py``
(identical logits); this file guards those numerics. Regenerate ``tests/fixtures/signvlm_golden.npz`` with
``python tests/zoo/make_golden.py signvlm``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from golden import SeededFill, classifier_suite, fill_model_, one_thread
from zoo import get_card
from zoo.layers.evl_decoder import EVLDecoder, TemporalCrossAttention
from zoo.layers.vit import CLIPViT

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "signvlm_golden.npz"
CASES = {"signvlm_tiny": {}}
NUM_CLASSES = 12
CLIPS, FRAMES, SIZE = 2, 8, 64
SEED = 0
RANKED = 2  # the top-1 class: the fixture refuses near ties between the top two


class WithBackbone(nn.Module):
    """The model plus its frozen backbone as one module tree, so that both are filled and hashed."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model, self.backbone = model, model.backbone


def fill_evl(fill: SeededFill, module: nn.Module, name: str, tensor: torch.Tensor) -> bool:
    """LayerNorms near identity, the learned tables and tokens small and non-zero; the index buffer is derived."""
    if isinstance(module, nn.LayerNorm):
        fill.uniform_(tensor, 0.8, 1.25) if name == "weight" else fill.centred_(tensor, 0.05)
    elif isinstance(module, TemporalCrossAttention):
        if name != "index":
            fill.centred_(tensor, 0.1)
    elif isinstance(module, (nn.ParameterList, EVLDecoder)):  # temporal_pos_embed.i, cls_token
        fill.centred_(tensor, 0.1)
    elif isinstance(module, CLIPViT):  # cls_token, pos_embed
        fill.centred_(tensor, 0.2)
    else:
        return False
    return True


def golden_input(seed: int = SEED) -> dict[str, torch.Tensor]:
    """Seeded clips normalised as the card says, ``(x / 255 - 0.45) / 0.225`` of uint8 frames (a coarse 8x8
    pattern per clip and frame, plus noise)."""
    fill = SeededFill(seed)
    coarse = torch.from_numpy(fill.integers(0, 256, (CLIPS, 3, FRAMES, 8, 8))).repeat_interleave(SIZE // 8, -2)
    noise = torch.from_numpy(fill.integers(-32, 32, (CLIPS, 3, FRAMES, SIZE, SIZE)))
    rgb = (coarse.repeat_interleave(SIZE // 8, -1) + noise).clamp(0, 255).float() / 255
    return {"rgb": (rgb - 0.45) / 0.225}


def build(case: str) -> nn.Module:
    model = get_card(case).build(NUM_CLASSES, **CASES[case])
    return fill_model_(WithBackbone(model), [fill_evl], SEED).eval()


def run(model: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """The logits as float32 arrays."""
    with one_thread(), torch.no_grad():
        out = model.model(**inputs)
    return {name: value.numpy().astype(np.float32) for name, value in out.items()}


def ranked(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The logits' top-1 class is checked."""
    return out


golden, inputs, test_golden_outputs, test_golden_case_is_well_conditioned = classifier_suite(
    "signvlm", GOLDEN, CASES, build, run, golden_input)


def test_every_decoder_part_matters(inputs):
    """Zeroing the temporal conv, position embedding or cross-attention tables each changes the logits."""
    base = run(build("signvlm_tiny"), inputs)["logits"]
    for part in ("temporal_conv.0.weight", "temporal_pos_embed.1", "cross_attention.2.w1", "cross_attention.3.w2"):
        model = build("signvlm_tiny")
        with torch.no_grad():
            model.model.decoder.state_dict()[part].zero_()
        assert np.abs(run(model, inputs)["logits"] - base).max() > 1e-3, part
