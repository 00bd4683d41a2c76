"""CLIP's image transformer as EVL (and SignVLM) hold it: a frozen feature extractor whose blocks also expose q/k.

Key names are EVL's ``VisionTransformer2D`` (github OpenGVLab/efficient-video-recognition, ``vision_transformer.py``):
``cls_token``, ``pos_embed``, ``patch_embed.proj`` (a Linear over (C, pH, pW)-flattened patches), ``ln_pre``,
``blocks.i.{norm1, attn.{q,k,v,out}_proj, norm2, mlp.fc1, mlp.fc2}``; no ``ln_post`` and no projection (EVL drops
them). Blocks are pre-LN with QuickGELU, LayerNorm eps 1e-5 computed in float32 (CLIP's fp16-safe LayerNorm).
:func:`zoo.clip_weights` maps OpenAI's and Hugging Face's CLIP files onto these keys.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass(frozen=True)
class ViTPreset:
    """A backbone shape (EVL's ``vit_presets``): width, depth, heads, patch and input size."""

    dim: int
    layers: int
    heads: int
    patch: int
    input_size: int = 224
    mlp_factor: float = 4.0
    residual_init: float = 1.0  # random init only: residual branches' output weights scaled (near-identity blocks)

    @property
    def grid(self) -> int:
        """Patches per side (16 x 16 for L/14 at 224)."""
        return self.input_size // self.patch


VIT_PRESETS = {
    "ViT-B/16": ViTPreset(dim=768, layers=12, heads=12, patch=16),
    "ViT-L/14": ViTPreset(dim=1024, layers=24, heads=16, patch=14),
}


class QuickGELU(nn.Module):
    """CLIP's activation, ``x * sigmoid(1.702 x)`` (not ``nn.GELU``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class LayerNorm32(nn.LayerNorm):
    """LayerNorm computed in float32 and cast back, so that an fp16 backbone keeps fp32 statistics (as CLIP does)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).to(x.dtype)


class Attention(nn.Module):
    """Multi-head attention with separate q/k/v/out projections (EVL's ``Attention``); ``forward`` also returns the
    projected q and k ``[N, L, heads, head_dim]``, which the decoder's temporal cross-attention reads."""

    def __init__(self, dim: int, heads: int, qkv_dim: int | None = None):
        super().__init__()
        inner = qkv_dim or dim
        self.heads = heads
        self.q_proj, self.k_proj = nn.Linear(dim, inner), nn.Linear(dim, inner)
        self.v_proj, self.out_proj = nn.Linear(dim, inner), nn.Linear(inner, dim)
        for proj in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):  # EVL's initialisation
            nn.init.xavier_uniform_(proj.weight)
            nn.init.zeros_(proj.bias)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
        n, lq, lk = q.size(0), q.size(1), k.size(1)
        q = self.q_proj(q).view(n, lq, self.heads, -1)
        k = self.k_proj(k).view(n, lk, self.heads, -1)
        v = self.v_proj(v).view(n, lk, self.heads, -1)
        affinity = torch.einsum("nqhc,nkhc->nqkh", q / (q.size(-1) ** 0.5), k).softmax(dim=-2)
        mixed = torch.einsum("nqkh,nkhc->nqhc", affinity, v)
        return self.out_proj(mixed.flatten(-2)), q, k


def mlp(dim: int, factor: float, dropout: float = 0.0) -> nn.Sequential:
    """``fc1 -> QuickGELU -> Dropout -> fc2`` under EVL's names."""
    hidden = round(factor * dim)
    block = nn.Sequential(OrderedDict([("fc1", nn.Linear(dim, hidden)), ("act", QuickGELU()),
                                       ("dropout", nn.Dropout(dropout)), ("fc2", nn.Linear(hidden, dim))]))
    for linear in (block.fc1, block.fc2):  # EVL's initialisation
        nn.init.xavier_uniform_(linear.weight)
        nn.init.normal_(linear.bias, std=1e-6)
    return block


class EncoderBlock(nn.Module):
    """Pre-LN residual block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``."""

    def __init__(self, dim: int, heads: int, mlp_factor: float = 4.0):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.mlp = mlp(dim, mlp_factor)
        self.norm1, self.norm2 = LayerNorm32(dim), LayerNorm32(dim)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        normed = self.norm1(x)
        attended, q, k = self.attn(normed, normed, normed)
        x = x + attended
        return {"out": x + self.mlp(self.norm2(x)), "q": q, "k": k}


class PatchEmbed(nn.Module):
    """Non-overlapping patches flattened in (C, pH, pW) order, then a Linear (CLIP's bias-free conv1, reshaped)."""

    def __init__(self, patch: int, dim: int, channels: int = 3):
        super().__init__()
        self.patch = patch
        self.proj = nn.Linear(channels * patch * patch, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        p = self.patch
        if h % p or w % p:
            raise ValueError(f"frames of {h}x{w} are not a whole number of {p}x{p} patches")
        x = x.view(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).flatten(3).flatten(1, 2)
        return self.proj(x)


class CLIPViT(nn.Module):
    """CLIP's ViT with ``ln_pre``; ``forward(frames [B, 3, H, W])`` returns the last ``taps`` blocks' outputs, each
    ``{"out": [B, L, D], "q"/"k": [B, L, heads, D/heads]}`` (L = 1 + patches, the class token first)."""

    def __init__(self, preset: ViTPreset):
        super().__init__()
        self.preset = preset
        d = preset.dim
        self.patch_embed = PatchEmbed(preset.patch, d)
        self.cls_token = nn.Parameter(torch.zeros(d))
        self.pos_embed = nn.Parameter(torch.zeros(preset.grid ** 2 + 1, d))
        self.ln_pre = LayerNorm32(d)
        self.blocks = nn.ModuleList(EncoderBlock(d, preset.heads, preset.mlp_factor) for _ in range(preset.layers))
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.pos_embed, std=0.02)
        if preset.residual_init != 1.0:  # a random frozen ViT whose tokens keep their patches' content
            with torch.no_grad():
                for block in self.blocks:
                    block.attn.out_proj.weight.mul_(preset.residual_init)
                    block.mlp.fc2.weight.mul_(preset.residual_init)

    def forward(self, frames: torch.Tensor, taps: int = 4) -> list[dict[str, torch.Tensor]]:
        x = self.patch_embed(frames.to(self.patch_embed.proj.weight.dtype))  # fp16 when frozen in fp16
        x = torch.cat([self.cls_token.view(1, 1, -1).expand(x.size(0), 1, -1), x], dim=1) + self.pos_embed
        x = self.ln_pre(x)
        tapped = []
        for i, block in enumerate(self.blocks):
            features = block(x)
            x = features["out"]
            if i >= len(self.blocks) - taps:
                tapped.append(features)
        return tapped


def freeze_fp16_(vit: CLIPViT) -> CLIPViT:
    """EVL's ``freeze_fp16``: Linear layers, ``pos_embed`` and ``cls_token`` in fp16; LayerNorms stay fp32."""
    for module in vit.modules():
        if isinstance(module, nn.Linear):
            module.half()
    vit.pos_embed.data = vit.pos_embed.data.half()
    vit.cls_token.data = vit.cls_token.data.half()
    return vit
