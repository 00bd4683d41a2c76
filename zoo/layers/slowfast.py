"""SlowFast (Feichtenhofer et al., ICCV 2019) as SlowFastSign configures it, frame features for CSLR.

SlowFastSign's ``slowfast_modules`` are PySlowFast's with their bidirectional fusion (BFF); the configuration is
``SLOWFAST_64x2_R101_50_50.yaml``: ResNet-101 bottlenecks (3, 4, 23, 3), slow pathway on every 4th frame
(``ALPHA`` 4), fast pathway on every frame with 1/8 of the channels (``BETA_INV`` 8), ``FuseBiAdd`` after stages
1-4 (fast -> slow: a (5, 1, 1) convolution with temporal stride 4; slow -> fast: a 1x1x1 convolution,
nearest-neighbour upsampled in time; each added with a learned scalar that starts at 0), no non-local blocks,
temporal kernels 1/3 (slow, from res4 on) and 5/3 (fast), only the first (3, 4, 6, 3) blocks of a stage temporal.
The classification head is replaced by per-frame features: spatial average, slow features repeated 4 times in
time, concatenated with the fast ones, ``(B, 2048 + 256, T)``, dropout 0.5 in training.

Module and parameter names are PySlowFast's (``s1.pathway0_stem.conv.weight``, ``s4.pathway1_res5.branch2.a_bn``,
``s2_fuse.conv_f2s``), so official state dicts load as they are. ``checkpoint_activations=True`` recomputes every
stem, residual block and fusion in the backward pass (``torch.utils.checkpoint``) instead of keeping activations.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint


@dataclass(frozen=True)
class SlowFastConfig:
    """The knobs of ``SLOWFAST_64x2_R101_50_50.yaml`` that shape the network (defaults: that file)."""

    width: int = 64  # RESNET.WIDTH_PER_GROUP: the slow stem's channels; stage i has 4 * 2**(i-2) times that
    blocks: tuple[int, int, int, int] = (3, 4, 23, 3)  # bottlenecks of res2..res5 (DEPTH 101)
    temporal_blocks: tuple[int, int, int, int] = (3, 4, 6, 3)  # NUM_BLOCK_TEMP_KERNEL: the first n use their kernel
    alpha: int = 4  # SLOWFAST.ALPHA: frame-rate ratio of fast to slow
    beta_inv: int = 8  # SLOWFAST.BETA_INV: channel ratio of slow to fast
    fusion_kernel: int = 5  # SLOWFAST.FUSION_KERNEL_SZ
    dropout: float = 0.5  # MODEL.DROPOUT_RATE, applied to the frame features in training
    slow_kernels: tuple[int, ...] = (1, 1, 1, 3, 3)  # temporal kernels of stem, res2..res5 (slow pathway)
    fast_kernels: tuple[int, ...] = (5, 3, 3, 3, 3)  # the same for the fast pathway

    @property
    def out_channels(self) -> tuple[int, int]:
        """Feature channels of the slow and the fast pathway (2048, 256 for R101 64x2)."""
        return self.width * 32, self.width * 32 // self.beta_inv


def _conv(cin: int, cout: int, kernel: Sequence[int], stride: Sequence[int] = (1, 1, 1),
          padding: Sequence[int] = (0, 0, 0)) -> nn.Conv3d:
    return nn.Conv3d(cin, cout, kernel_size=tuple(kernel), stride=tuple(stride), padding=tuple(padding), bias=False)


class BasicStem(nn.Module):
    """``ResNetBasicStem``: (t, 7, 7) convolution with spatial stride 2, BN, ReLU, (1, 3, 3) max pool with stride 2."""

    def __init__(self, cin: int, cout: int, temporal_kernel: int):
        super().__init__()
        self.conv = _conv(cin, cout, (temporal_kernel, 7, 7), (1, 2, 2), (temporal_kernel // 2, 3, 3))
        self.bn = nn.BatchNorm3d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.pool_layer = nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool_layer(self.relu(self.bn(self.conv(x))))


class Bottleneck(nn.Module):
    """``BottleneckTransform``: (t, 1, 1) -> (1, 3, 3) with the spatial stride -> 1x1x1, BN after each."""

    def __init__(self, cin: int, cout: int, inner: int, temporal_kernel: int, stride: int):
        super().__init__()
        self.a = _conv(cin, inner, (temporal_kernel, 1, 1), padding=(temporal_kernel // 2, 0, 0))
        self.a_bn = nn.BatchNorm3d(inner)
        self.a_relu = nn.ReLU(inplace=True)
        self.b = _conv(inner, inner, (1, 3, 3), (1, stride, stride), (0, 1, 1))
        self.b_bn = nn.BatchNorm3d(inner)
        self.b_relu = nn.ReLU(inplace=True)
        self.c = _conv(inner, cout, (1, 1, 1))
        self.c_bn = nn.BatchNorm3d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a_relu(self.a_bn(self.a(x)))
        x = self.b_relu(self.b_bn(self.b(x)))
        return self.c_bn(self.c(x))


class ResBlock(nn.Module):
    """A residual bottleneck block; a projection (``branch1``) where channels or resolution change."""

    def __init__(self, cin: int, cout: int, inner: int, temporal_kernel: int, stride: int):
        super().__init__()
        if cin != cout or stride != 1:
            self.branch1 = _conv(cin, cout, (1, 1, 1), (1, stride, stride))
            self.branch1_bn = nn.BatchNorm3d(cout)
        self.branch2 = Bottleneck(cin, cout, inner, temporal_kernel, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.branch2(x)
        shortcut = self.branch1_bn(self.branch1(x)) if hasattr(self, "branch1") else x
        return self.relu(shortcut + residual)  # a new tensor: the block input stays intact (needed for recomputation)


class FuseBiAdd(nn.Module):
    """SlowFastSign's bidirectional fusion: ``slow + w_s * f2s(fast)`` and ``fast + w_f * up(s2f(slow))``."""

    def __init__(self, fast_channels: int, beta_inv: int, kernel: int, alpha: int):
        super().__init__()
        slow_channels = fast_channels * beta_inv
        self.conv_f2s = _conv(fast_channels, slow_channels, (kernel, 1, 1), (alpha, 1, 1), (kernel // 2, 0, 0))
        self.bn = nn.BatchNorm3d(slow_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv_s2f = _conv(slow_channels, fast_channels, (1, 1, 1))
        self.bn2 = nn.BatchNorm3d(fast_channels)
        self.weight_s = nn.Parameter(torch.zeros(1))  # zero: the fused network starts as the plain SlowFast
        self.weight_f = nn.Parameter(torch.zeros(1))

    def forward(self, pathways: list[torch.Tensor]) -> list[torch.Tensor]:
        slow, fast = pathways
        to_slow = self.relu(self.bn(self.conv_f2s(fast)))
        to_fast = self.relu(self.bn2(self.conv_s2f(slow)))
        to_fast = F.interpolate(to_fast, size=fast.shape[2:])  # nearest: each slow step covers alpha fast steps
        return [slow + self.weight_s * to_slow, fast + self.weight_f * to_fast]


class PathwayStage(nn.Module):
    """Modules applied to each pathway on its own: ``pathway{p}_stem`` or the blocks ``pathway{p}_res{i}``."""

    def __init__(self, pathways: Sequence[Sequence[nn.Module]], kind: str):
        super().__init__()
        self.depths = [len(modules) for modules in pathways]
        self.kind = kind
        for p, modules in enumerate(pathways):
            for i, module in enumerate(modules):
                self.add_module(f"pathway{p}_stem" if kind == "stem" else f"pathway{p}_res{i}", module)
        self.checkpoint = False  # recompute each block in backward (set by the backbone)

    def forward(self, pathways: list[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for p, x in enumerate(pathways):
            for i in range(self.depths[p]):
                module = getattr(self, f"pathway{p}_stem" if self.kind == "stem" else f"pathway{p}_res{i}")
                x = checkpointed(module, x) if self.checkpoint and _recording(self) else module(x)
            out.append(x)
        return out


class SlowFast(nn.Module):
    """Two-pathway 3D ResNet; ``forward(video [B, 3, T, H, W])`` -> frame features ``[B, C_slow + C_fast, T]``."""

    def __init__(self, config: SlowFastConfig = SlowFastConfig(), checkpoint_activations: bool = False):
        super().__init__()
        self.config = c = config
        if any(t > b for t, b in zip(c.temporal_blocks, c.blocks)):
            raise ValueError(f"temporal_blocks {c.temporal_blocks} exceed blocks {c.blocks}")
        fast = lambda channels: channels // c.beta_inv  # noqa: E731
        self.s1 = PathwayStage([[BasicStem(3, c.width, c.slow_kernels[0])],
                                [BasicStem(3, fast(c.width), c.fast_kernels[0])]], "stem")
        self.s1_fuse = FuseBiAdd(fast(c.width), c.beta_inv, c.fusion_kernel, c.alpha)
        cin = c.width
        for stage in range(2, 6):
            scale = 2 ** (stage - 2)
            cout, inner, stride = c.width * 4 * scale, c.width * scale, 1 if stage == 2 else 2
            pathways = [self._blocks(cin, cout, inner, c.slow_kernels[stage - 1], stride, stage),
                        self._blocks(fast(cin), fast(cout), fast(inner), c.fast_kernels[stage - 1], stride, stage)]
            setattr(self, f"s{stage}", PathwayStage(pathways, "res"))
            if stage < 5:
                setattr(self, f"s{stage}_fuse", FuseBiAdd(fast(cout), c.beta_inv, c.fusion_kernel, c.alpha))
            cin = cout
        self.dropout = nn.Dropout(c.dropout)
        self.out_channels = c.out_channels
        self.set_checkpointing(checkpoint_activations)
        self._init_weights()

    def _blocks(self, cin: int, cout: int, inner: int, kernel: int, stride: int, stage: int) -> list[ResBlock]:
        temporal = self.config.temporal_blocks[stage - 2]
        return [ResBlock(cin if i == 0 else cout, cout, inner, kernel if i < temporal else 1, stride if i == 0 else 1)
                for i in range(self.config.blocks[stage - 2])]

    def _init_weights(self) -> None:
        """PySlowFast's ``init_weights``: He-normal convolutions, BN 1/0, the last BN of each bottleneck at 0."""
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm3d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for module in self.modules():
            if isinstance(module, Bottleneck):  # ZERO_INIT_FINAL_BN: each block starts as the identity
                nn.init.zeros_(module.c_bn.weight)

    def set_checkpointing(self, enabled: bool) -> None:
        """Recompute stems, blocks and fusions in backward instead of storing their activations (training only)."""
        self.checkpoint_activations = bool(enabled)
        for stage in range(1, 6):
            getattr(self, f"s{stage}").checkpoint = self.checkpoint_activations

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        pathways = [video[:, :, :: self.config.alpha], video]  # slow: frames 0, alpha, 2 alpha, ...; fast: all
        for stage in range(1, 6):
            pathways = getattr(self, f"s{stage}")(pathways)
            if stage < 5:
                fuse = getattr(self, f"s{stage}_fuse")
                pathways = checkpointed(fuse, pathways) if self.checkpoint_activations and _recording(self) \
                    else fuse(pathways)
        slow, fast = (F.avg_pool3d(x, kernel_size=(1, *x.shape[-2:]), stride=1) for x in pathways)  # AvgPool3d(1,7,7)
        slow = slow.repeat_interleave(self.config.alpha, dim=2)[:, :, : fast.shape[2]]  # the slow step of each frame
        return self.dropout(torch.cat([slow, fast], dim=1).flatten(2))


def _recording(module: nn.Module) -> bool:
    return module.training and torch.is_grad_enabled()


def checkpointed(module: nn.Module, *inputs):
    """``module(*inputs)`` under ``torch.utils.checkpoint``, BatchNorm statistics updated once, not twice.

    The recomputation in backward runs the forward again; in training mode that would apply the running-statistics
    update a second time, so the buffers are put back as the first pass left them.
    """
    calls = []

    def run(*args):
        if not calls:
            calls.append(True)
            return module(*args)
        with _kept_batchnorm_statistics(module):
            return module(*args)

    return torch.utils.checkpoint.checkpoint(run, *inputs, use_reentrant=False)


@contextlib.contextmanager
def _kept_batchnorm_statistics(module: nn.Module) -> Iterator[None]:
    saved = [(m, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
             for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, mean, var, count in saved:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)
