"""VideoMAEv2's fine-tuning ViT (Wang et al., CVPR 2023), the backbone of SignNet.

Official code: github OpenGVLab/VideoMAEv2, ``models/modeling_finetune.py`` (``VisionTransformer`` with
``use_mean_pooling``, ``init_values=0``, no cls token); SignNet's fork (github ganzobtn/slr_vit @45e3c48) keeps the
file unchanged. Module names follow it, so that the released files (``{"module": ...}`` in fp16, or ``"model"``)
and SignNet's DeepSpeed ``mp_rank_00_model_states.pt`` (weights under ``"module"``) load strictly:
``patch_embed.proj`` (tubelet Conv3d), ``blocks.i.{norm1, attn.{qkv, q_bias, v_bias, proj}, norm2, mlp.{fc1, fc2}}``,
``fc_norm``, ``head``. The position table is a fixed sinusoid, not in the state dict (:func:`position_table`).

Input ``rgb [B, 3, T, H, W]`` normalised by the card's mean/std; output ``{"logits": [B, classes]}`` (mean of the
tokens -> ``fc_norm`` -> ``head``). Not shared with :mod:`zoo.layers.vit` (CLIP): GELU instead of QuickGELU, one
bias-free ``qkv`` with separate q/v biases instead of three biased projections, no class token, no ``ln_pre``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as checkpoint

from zoo.cards import CheckpointSource, InputSpec, IsolatedProtocol, ModelCard, register_model

POS_TABLES = ("native", "interpolated")


@dataclass(frozen=True)
class VideoViTPreset:
    """A VideoMAEv2 ViT shape (``vit_base_patch16_224``: 768 wide, 12 blocks, 12 heads, patch 16, tubelet 2)."""

    dim: int = 768
    depth: int = 12
    heads: int = 12
    patch: int = 16
    tubelet: int = 2
    input_size: int = 224
    mlp_ratio: float = 4.0

    @property
    def grid(self) -> int:
        """Patches per side (14 for 224 / 16)."""
        return self.input_size // self.patch


VIT_B16 = VideoViTPreset()


def position_table(tokens: int, dim: int) -> torch.Tensor:
    """``get_sinusoid_encoding_table``: angle ``pos / 10000^(2 (j // 2) / dim)`` in float64, sin on even and cos on
    odd dims, cast to float32; ``[1, tokens, dim]`` over the flattened token index ``t * grid^2 + h * grid + w``."""
    position = torch.arange(tokens, dtype=torch.float64)[:, None]
    exponent = torch.tensor([2 * (j // 2) / dim for j in range(dim)], dtype=torch.float64)
    table = position / torch.pow(torch.tensor(10000.0, dtype=torch.float64), exponent)
    table[:, 0::2] = table[:, 0::2].sin()
    table[:, 1::2] = table[:, 1::2].cos()
    return table.float().unsqueeze(0)


def interpolated_table(tubelets: int, base_tubelets: int, grid: int, dim: int) -> torch.Tensor:
    """Upstream's fine-tuning table for another frame count: the ``base_tubelets`` table, linearly interpolated
    along time per patch position (``run_class_finetuning.py``, ``if args.num_frames != 16``)."""
    base = position_table(base_tubelets * grid * grid, dim)
    per_patch = base.reshape(1, base_tubelets, grid, grid, dim).permute(0, 2, 3, 4, 1).reshape(-1, dim, base_tubelets)
    stretched = F.interpolate(per_patch, size=tubelets, mode="linear")
    return stretched.reshape(1, grid, grid, dim, tubelets).permute(0, 4, 1, 2, 3).flatten(1, 3)


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth (timm's ``drop_path``): a whole sample's residual branch dropped with probability ``rate``,
    kept ones scaled by ``1 / (1 - rate)``."""
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask.div_(keep)


class DropPath(nn.Module):
    def __init__(self, rate: float = 0.0):
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_path(x, self.rate, self.training)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


class Attention(nn.Module):
    """Multi-head self-attention with a bias-free ``qkv`` and separate ``q_bias``/``v_bias`` (the k bias is zero)."""

    def __init__(self, dim: int, heads: int, attn_drop: float = 0.0, proj_drop: float = 0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        q, k, v = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        # one fused kernel: the official explicit softmax(q k^T) holds a 3136 x 3136 map per head at 32 frames
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))


class Mlp(nn.Module):
    """``fc1 -> GELU -> fc2 -> Dropout`` (no dropout between, as officially)."""

    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.act(self.fc1(x))))


class Block(nn.Module):
    """Pre-LN block (LayerNorm eps 1e-6): ``x + drop_path(attn(norm1(x)))``, then the MLP likewise."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, drop_path_rate: float = 0.0, drop: float = 0.0,
                 attn_drop: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, attn_drop, drop)
        self.drop_path = DropPath(drop_path_rate)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    """Non-overlapping tubelets (``tubelet`` frames x ``patch`` x ``patch``) by a Conv3d, flattened ``t, h, w``."""

    def __init__(self, preset: VideoViTPreset, channels: int = 3):
        super().__init__()
        size = (preset.tubelet, preset.patch, preset.patch)
        self.proj = nn.Conv3d(channels, preset.dim, kernel_size=size, stride=size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class VideoMAEClassifier(nn.Module):
    """VideoMAEv2's ``VisionTransformer`` for fine-tuning: tubelets + fixed sinusoid table -> blocks -> token mean ->
    ``fc_norm`` -> ``head``. ``pos_table``: ``"native"`` (the table of ``num_frames``) or ``"interpolated"`` (the
    ``base_frames`` table stretched along time, upstream's fine-tuning at another frame count)."""

    inputs = ("rgb",)

    def __init__(self, num_classes: int, preset: VideoViTPreset = VIT_B16, num_frames: int = 16,
                 pos_table: str = "native", base_frames: int = 16, drop_path_rate: float = 0.0,
                 head_drop_rate: float = 0.0, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 init_scale: float = 0.001, grad_checkpointing: bool = False):
        super().__init__()
        if pos_table not in POS_TABLES:
            raise ValueError(f"pos_table {pos_table!r}: expected one of {POS_TABLES}")
        if num_frames % preset.tubelet or base_frames % preset.tubelet:
            raise ValueError(f"num_frames {num_frames} / base_frames {base_frames}: not whole tubelets of "
                             f"{preset.tubelet} frames")
        self.preset, self.num_frames, self.pos_table_kind = preset, num_frames, pos_table
        self.grad_checkpointing = grad_checkpointing
        self.patch_embed = PatchEmbed(preset)
        tubelets = num_frames // preset.tubelet
        table = (position_table(tubelets * preset.grid ** 2, preset.dim) if pos_table == "native" else
                 interpolated_table(tubelets, base_frames // preset.tubelet, preset.grid, preset.dim))
        self.register_buffer("pos_embed", table, persistent=False)  # fixed: not in checkpoints, as officially
        self.pos_drop = nn.Dropout(drop_rate)
        rates = torch.linspace(0, drop_path_rate, preset.depth, device="cpu").tolist()  # stochastic depth, linear
        self.blocks = nn.ModuleList(Block(preset.dim, preset.heads, preset.mlp_ratio, rate, drop_rate, attn_drop_rate)
                                    for rate in rates)
        self.fc_norm = nn.LayerNorm(preset.dim, eps=1e-6)
        self.head_dropout = nn.Dropout(head_drop_rate)
        self.head = nn.Linear(preset.dim, num_classes)
        self.apply(_init_weights)
        with torch.no_grad():  # the new head starts near zero (init_scale 0.001)
            self.head.weight.mul_(init_scale)
            self.head.bias.mul_(init_scale)

    def get_num_layers(self) -> int:
        """Blocks, for layer-wise lr decay (:func:`layer_id`)."""
        return len(self.blocks)

    def no_weight_decay(self) -> set[str]:
        """Names the official optimiser always exempts (besides 1-D tensors and biases)."""
        return {"pos_embed", "cls_token"}

    def forward_features(self, rgb: torch.Tensor) -> torch.Tensor:
        _, _, t, h, w = rgb.shape
        size = self.preset.input_size
        if (t, h, w) != (self.num_frames, size, size):
            raise ValueError(f"clips of {t} frames of {h}x{w}; this model takes {self.num_frames} frames of "
                             f"{size}x{size} (its position table is fixed to that)")
        x = self.patch_embed(rgb)
        x = self.pos_drop(x + self.pos_embed.type_as(x))
        for block in self.blocks:
            x = checkpoint.checkpoint(block, x, use_reentrant=False) if self.grad_checkpointing else block(x)
        return self.fc_norm(x.mean(1))

    def forward(self, rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"logits": self.head(self.head_dropout(self.forward_features(rgb)))}


def _init_weights(module: nn.Module) -> None:
    """Official initialisation: Linear weights truncated normal (std 0.02, cut at +/-2), biases 0, LayerNorm 1/0
    (the Conv3d keeps PyTorch's default)."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def layer_id(name: str, num_layers: int) -> int:
    """``get_num_layer_for_vit`` with ``num_layers + 2`` scales: the embedding 0, block i -> i + 1, the rest (fc_norm,
    head) ``num_layers + 1``; the lr scale of id i is ``decay ** (num_layers + 1 - i)``."""
    if name in ("cls_token", "mask_token", "pos_embed") or name.startswith("patch_embed"):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return num_layers + 1


def build_videomae_vitb16(num_classes: int, num_frames: int = 16, pos_table: str = "native",
                          drop_path_rate: float = 0.0, head_drop_rate: float = 0.0,
                          grad_checkpointing: bool = False) -> VideoMAEClassifier:
    """``vit_base_patch16_224`` (768 x 12, 12 heads, 224 px, tubelet 2)."""
    return VideoMAEClassifier(num_classes, VIT_B16, num_frames, pos_table, drop_path_rate=drop_path_rate,
                              head_drop_rate=head_drop_rate, grad_checkpointing=grad_checkpointing)


# --- the plain VideoMAEv2 card -----------------------------------------------------------------------------------

PAPER = "VideoMAE V2: Scaling Video Masked Autoencoders with Dual Masking (CVPR 2023)"
URL = "https://arxiv.org/abs/2303.16727"
CODE = "https://github.com/OpenGVLab/VideoMAEv2"
IMAGENET_MEAN_STD = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# VideoMAE's test transform (VideoClsDataset): each uint8 frame's short side resized (cv2 bilinear), a crop along
# the long side, then /255 and normalised (bench.data.spatial "short_side_uint8")
VIDEOMAE_INPUT = InputSpec(frame_size=224, crop=224, normalization="mean_std", mean=IMAGENET_MEAN_STD[0],
                           std=IMAGENET_MEAN_STD[1], channels="RGB", spatial="short_side_uint8")
# weights under "module" in the released files and in DeepSpeed's mp_rank_00_model_states.pt ("model" also read:
# run_class_finetuning.py's --model_key model|module); no prefix; the head's rows tell the class count
FILE_KEYS = dict(task="isolated", temporal_layout=(), checkpoint_key="module", other_checkpoint_keys=("model",),
                 classifier_key="head.weight")
FILE_NOTE = ("Official files: the released {'module': fp16 weights}; DeepSpeed runs write "
             "checkpoint-*/mp_rank_00_model_states.pt with the weights under 'module' beside DeepSpeed's entries; "
             "'model' is read too (torch.amp runs, whose files also pickle argparse args: --trust-checkpoint). The "
             "position table is a fixed sinusoid and not in the files.")
STRICT_NOTE = ("run_class_finetuning.py drops a checkpoint head of another size silently (a random head is then "
               "evaluated); bench refuses it, naming head.weight.")


def segment_protocol(frames: int, stride: int, reported: str | None, crop_position: str = "first",
                     per_class: str = "all_classes") -> IsolatedProtocol:
    """VideoMAE's test sampler (``sampling="segments"``, bench.data.views): ``--test_num_segment`` temporal clips of
    ``frames`` at ``stride`` x one spatial crop, softmax averaged; every decoded frame used (decord: ``frame_drop``
    0). Defaults are SignNet's: the fork's patched one-crop window is the left-most (``first``; the run records the
    centred twin beside it) and its per-class mean counts absent classes as 0 (``all_classes``)."""
    return IsolatedProtocol(views=("segment1", "segment3"), reported_view=reported, frames=frames,
                            fusion="softmax_mean", outputs=("logits",), reported_output="logits", sampling="segments",
                            stride=stride, crop_position=crop_position, per_class=per_class, frame_drop=0)


K710_CARD = register_model(ModelCard(
    name="videomaev2_vitb16_k710", paper=PAPER, url=URL, code=CODE, build=build_videomae_vitb16,
    input=VIDEOMAE_INPUT, training=None,
    # upstream's one-crop sampler divides by test_num_crop - 1 (fails): its crop here is the centre
    protocol=segment_protocol(16, 4, reported=None, crop_position="center", per_class="present_classes"),
    checkpoints=(CheckpointSource(
        "k710_dl_from_giant", "kinetics710", 710, url="hf://OpenGVLab/VideoMAE2/distill/vit_b_k710_dl_from_giant.pth",
        note="docs/MODEL_ZOO.md: ViT-B distilled from vit_g_hybrid_pt_1200e_k710_ft, 16x5x3 views, top-1 K710 81.5 / "
             "K400 86.6 / K600 85.9; 173,574,417 bytes, fp16 under 'module'; no hash published"),),
    notes=(FILE_NOTE, STRICT_NOTE,
           "16 frames at sampling rate 4; the published figures use 5 temporal x 3 spatial views (16x5x3), not a "
           "view protocol of the harness: reported_view is None.",
           "Variants: num_frames (the position table follows it), pos_table native | interpolated (upstream's "
           "fine-tuning at another frame count stretches the 16-frame table along time), drop_path_rate.",
           "No training recipe on this card (training=None): its file is the start of SignNet's chain, fine-tuned "
           "through the signnet card (bench train --model signnet --init vit_b_k710_dl_from_giant.pth)."),
    **FILE_KEYS))
