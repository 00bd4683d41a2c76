"""EVL's decoder (Lin et al., "Frozen CLIP Models are Efficient Video Learners", ECCV 2022), as SignVLM uses it.

Official: github OpenGVLab/efficient-video-recognition ``model.py`` (``EVLDecoder``, ``TemporalCrossAttention``) and
``vision_transformer.py`` (``TransformerDecoderLayer``); key names follow them. Per decoder layer ``i``, the frame
features of backbone block ``-L + i`` get, in this order, a depthwise temporal Conv1d (kernel 3) of themselves, a
temporal position embedding ``[frames, C]`` and a temporal cross-attention term built from that block's q/k
(neighbouring frames, patch tokens only, with relative-position tables ``w1``/``w2``); one class token then
cross-attends to all frames' tokens.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from zoo.layers.vit import Attention, LayerNorm32, mlp


def relative_index(grid: tuple[int, int]) -> torch.Tensor:
    """``[P, P]`` indices into a ``(2h - 1)(2w - 1)`` table: the offset from key patch to query patch."""
    h, w = grid
    rows, cols = torch.arange(h * w) // w, torch.arange(h * w) % w
    dr = rows[:, None] - rows[None, :] + h - 1
    dc = cols[:, None] - cols[None, :] + w - 1
    return dr * (2 * w - 1) + dc


class TemporalCrossAttention(nn.Module):
    """Attention maps between each frame's patch queries and the previous (``w1``) / next (``w2``) frame's patch
    keys, head-averaged, weighting per-offset vectors; the class token and the edge frames get zeros there."""

    def __init__(self, grid: tuple[int, int], dim: int):
        super().__init__()
        self.grid = grid
        table = (2 * grid[0] - 1) * (2 * grid[1] - 1)
        self.w1 = nn.Parameter(torch.zeros(table, dim))
        self.w2 = nn.Parameter(torch.zeros(table, dim))
        self.register_buffer("index", relative_index(grid), persistent=False)  # not in official checkpoints

    def half(self, q: torch.Tensor, k: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        q, k = q[:, :, 1:], k[:, :, 1:]  # patch tokens only
        attn = torch.einsum("ntqhd,ntkhd->ntqkh", q / (q.size(-1) ** 0.5), k).softmax(dim=-2).mean(dim=-1)
        return torch.einsum("ntqk,qkc->ntqc", attn, table[self.index])

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        n, t, tokens = q.shape[:3]
        if tokens != self.grid[0] * self.grid[1] + 1:
            raise ValueError(f"{tokens} tokens per frame; this decoder was built for a {self.grid} patch grid + 1")
        out = torch.zeros(n, t, tokens, self.w1.size(-1), device=q.device, dtype=self.w1.dtype)
        out[:, 1:, 1:] += self.half(q[:, 1:], k[:, :-1], self.w1)
        out[:, :-1, 1:] += self.half(q[:, :-1], k[:, 1:], self.w2)
        return out


class DecoderLayer(nn.Module):
    """``x + attn(norm1(x), norm3(y), norm3(y))``, then ``x + mlp(norm2(x))`` (QuickGELU, dropout inside)."""

    def __init__(self, dim: int, qkv_dim: int, heads: int, mlp_factor: float, mlp_dropout: float):
        super().__init__()
        self.attn = Attention(dim, heads, qkv_dim)
        self.mlp = mlp(dim, mlp_factor, mlp_dropout)
        self.norm1, self.norm2, self.norm3 = LayerNorm32(dim), LayerNorm32(dim), LayerNorm32(dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = self.norm3(y)
        x = x + self.attn(self.norm1(x), y, y)[0]
        return x + self.mlp(self.norm2(x))


class EVLDecoder(nn.Module):
    """``forward(features)``: one ``{"out": [N, T, L, C], "q"/"k": [N, T, L, H, D]}`` per layer -> ``[N, 1, C]``."""

    def __init__(self, frames: int, grid: tuple[int, int], layers: int, dim: int, qkv_dim: int, heads: int,
                 mlp_factor: float = 4.0, mlp_dropout: float = 0.5):
        super().__init__()
        self.frames = frames
        self.decoder_layers = nn.ModuleList(DecoderLayer(dim, qkv_dim, heads, mlp_factor, mlp_dropout)
                                            for _ in range(layers))
        self.temporal_conv = nn.ModuleList(nn.Conv1d(dim, dim, 3, padding=1, groups=dim) for _ in range(layers))
        self.temporal_pos_embed = nn.ParameterList(nn.Parameter(torch.zeros(frames, dim)) for _ in range(layers))
        self.cross_attention = nn.ModuleList(TemporalCrossAttention(grid, dim) for _ in range(layers))
        self.cls_token = nn.Parameter(torch.zeros(dim))  # official: zeros (its init method is never called)

    def forward(self, features: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        n, t, tokens, c = features[0]["out"].shape
        if t != self.frames:
            raise ValueError(f"clips of {t} frames; this decoder's temporal_pos_embed is for {self.frames} frames")
        x = self.cls_token.view(1, 1, -1).repeat(n, 1, 1)
        for i, layer in enumerate(self.decoder_layers):
            frames = features[i]["out"]
            conv = self.temporal_conv[i](frames.permute(0, 2, 3, 1).flatten(0, 1))  # [N * L, C, T]
            frames = frames + conv.view(n, tokens, c, t).permute(0, 3, 1, 2)
            frames = frames + self.temporal_pos_embed[i].view(1, t, 1, c)
            frames = frames + self.cross_attention[i](features[i]["q"], features[i]["k"])
            x = layer(x, frames.flatten(1, 2))
        return x
