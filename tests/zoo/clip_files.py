"""Small CLIP files in the two layouts SignVLM's backbone comes in, with random weights of a given ViT shape.

- OpenAI's: a TorchScript archive (``torch.jit.save`` of a scripted module) whose attribute tree is CLIP's:
  ``visual.{class_embedding, positional_embedding, proj, conv1, ln_pre, ln_post, transformer.resblocks.i.{ln_1,
  attn (nn.MultiheadAttention: in_proj_weight/bias, out_proj), ln_2, mlp.{c_fc, gelu, c_proj}}}`` plus a text part;
  weights in fp16 as OpenAI ships them.
- Hugging Face's: a safetensors file with transformers' ``CLIPModel`` key names (``vision_model.*`` and a text part).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn as nn

from zoo.layers.vit import ViTPreset


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads)
        self.ln_1 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(dim, dim * 4)), ("gelu", QuickGELU()),
                                              ("c_proj", nn.Linear(dim * 4, dim))]))
        self.ln_2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, dim: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(dim, heads) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, p: ViTPreset, out_dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, p.dim, p.patch, p.patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(p.dim) * p.dim ** -0.5)
        self.positional_embedding = nn.Parameter(torch.randn(p.grid ** 2 + 1, p.dim) * p.dim ** -0.5)
        self.ln_pre = nn.LayerNorm(p.dim)
        self.transformer = Transformer(p.dim, p.layers, p.heads)
        self.ln_post = nn.LayerNorm(p.dim)
        self.proj = nn.Parameter(torch.randn(p.dim, out_dim) * p.dim ** -0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x).flatten(2).permute(0, 2, 1)
        x = torch.cat([self.class_embedding.expand(x.size(0), 1, -1), x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x).permute(1, 0, 2)).permute(1, 0, 2)
        return self.ln_post(x[:, 0]) @ self.proj


class CLIP(nn.Module):
    def __init__(self, p: ViTPreset, out_dim: int = 32):
        super().__init__()
        self.visual = VisionTransformer(p, out_dim)
        self.token_embedding = nn.Embedding(49, out_dim)
        self.logit_scale = nn.Parameter(torch.ones([]))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.visual(image) * self.logit_scale.exp()


def random_layernorms_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial LayerNorm weights and biases (their defaults would hide a swapped norm)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.copy_(1 + 0.1 * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=gen))
            elif isinstance(module, (nn.Linear, nn.MultiheadAttention)):
                for name, tensor in module.named_parameters(recurse=False):
                    if name.endswith("bias"):
                        tensor.copy_(0.02 * torch.randn(tensor.shape, generator=gen))
    return model


def write_openai_clip(path: Path, preset: ViTPreset, seed: int = 0, half: bool = True) -> tuple[Path, dict]:
    """A TorchScript CLIP file like OpenAI's; returns it and its ``visual`` state dict (as saved)."""
    torch.manual_seed(seed)
    model = random_layernorms_(CLIP(preset), seed)
    if half:
        model = model.half()
    with warnings.catch_warnings():  # torch.jit is deprecated, but it is how OpenAI's files were made
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(model), str(path))
    return path, {k: v.detach().clone() for k, v in model.visual.state_dict().items()}


def transformers_state(visual: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An OpenAI ``visual`` state dict renamed to transformers' ``CLIPModel`` keys (plus a text part and ids)."""
    dim = visual["class_embedding"].shape[0]
    out = {"vision_model.embeddings.class_embedding": visual["class_embedding"],
           "vision_model.embeddings.patch_embedding.weight": visual["conv1.weight"],
           "vision_model.embeddings.position_embedding.weight": visual["positional_embedding"],
           "vision_model.embeddings.position_ids": torch.arange(visual["positional_embedding"].shape[0])[None],
           "vision_model.pre_layrnorm.weight": visual["ln_pre.weight"],
           "vision_model.pre_layrnorm.bias": visual["ln_pre.bias"],
           "vision_model.post_layernorm.weight": visual["ln_post.weight"],
           "vision_model.post_layernorm.bias": visual["ln_post.bias"],
           "visual_projection.weight": visual["proj"].t().contiguous(),
           "text_model.embeddings.token_embedding.weight": torch.zeros(49, 32), "logit_scale": torch.ones([])}
    blocks = {int(k.split(".")[2]) for k in visual if k.startswith("transformer.resblocks.")}
    for i in sorted(blocks):
        src, dst = f"transformer.resblocks.{i}.", f"vision_model.encoder.layers.{i}."
        weight, bias = visual[src + "attn.in_proj_weight"], visual[src + "attn.in_proj_bias"]
        for part, name in enumerate(("q", "k", "v")):
            out[f"{dst}self_attn.{name}_proj.weight"] = weight[part * dim:(part + 1) * dim].contiguous()
            out[f"{dst}self_attn.{name}_proj.bias"] = bias[part * dim:(part + 1) * dim].contiguous()
        for theirs, ours in (("attn.out_proj", "self_attn.out_proj"), ("mlp.c_fc", "mlp.fc1"),
                             ("mlp.c_proj", "mlp.fc2"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2")):
            for leaf in ("weight", "bias"):
                out[f"{dst}{ours}.{leaf}"] = visual[f"{src}{theirs}.{leaf}"]
    return out


def write_transformers_clip(path: Path, visual: dict[str, torch.Tensor]) -> Path:
    """A transformers-named safetensors file holding ``visual``'s weights."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in transformers_state(visual).items()}, str(path))
    return path
