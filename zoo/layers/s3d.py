"""S3D (separable 3D Inception, Xie et al. 2018) as the NLA-SLR code base builds it: the shared video backbone.

Every convolution is bias-free and followed by ``BatchNorm3d(eps=1e-3, momentum=0.001)`` and ReLU (the official
``BasicConv3d``/``SepConv3d`` of ``modelling/S3D_base.py``). The trunk is one ``nn.Sequential`` named ``base`` so
that official keys (``backbone.base.5.branch1.1.conv_s.weight``) load as they are; layer indices:

    0 SepConv 7x7x7 /2 (block 1, 64)   1 max-pool 1x3x3   2 Conv 1x1   3 SepConv 3x3x3 (block 2, 192)
    4 max-pool 1x3x3   5-6 Mixed 3b-3c (block 3, 480)    7 max-pool 3x3x3 /2   8-12 Mixed 4b-4f (block 4, 832)
    13 max-pool 2x2x2 /2   14-15 Mixed 5b-5c (block 5, 1024)

The released models use all five blocks and freeze none (``use_block: 5``, ``freeze_block: 0`` in every config);
both are parameters here as in the official ``S3Ds``. The coordinate-channel option of ``SepConv3d``
(``coord_conv``) is used by no config and is not reproduced.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCK_END = {1: 0, 2: 3, 3: 6, 4: 12, 5: 15}  # index in ``base`` of each block's last layer
BLOCK_CHANNELS = {1: 64, 2: 192, 3: 480, 4: 832, 5: 1024}
# Mixed blocks: input, branch0, branch1 (reduce, out), branch2 (reduce, out), branch3 (after the max-pool)
MIXED = {
    "3b": (192, 64, (96, 128), (16, 32), 32), "3c": (256, 128, (128, 192), (32, 96), 64),
    "4b": (480, 192, (96, 208), (16, 48), 64), "4c": (512, 160, (112, 224), (24, 64), 64),
    "4d": (512, 128, (128, 256), (24, 64), 64), "4e": (512, 112, (144, 288), (32, 64), 64),
    "4f": (528, 256, (160, 320), (32, 128), 128), "5b": (832, 256, (160, 320), (32, 128), 128),
    "5c": (832, 384, (192, 384), (48, 128), 128),
}


def _bn(channels: int) -> nn.BatchNorm3d:
    return nn.BatchNorm3d(channels, eps=1e-3, momentum=0.001, affine=True)  # TF-style statistics, as released


class BasicConv3d(nn.Module):
    """Convolution (no bias), BatchNorm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = _bn(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class SepConv3d(nn.Module):
    """A k x k x k convolution factorised into spatial 1 x k x k then temporal k x 1 x 1, each with BN + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0):
        super().__init__()
        k, s, p = kernel_size, stride, padding
        self.conv_s = nn.Conv3d(in_channels, out_channels, (1, k, k), (1, s, s), (0, p, p), bias=False)
        self.bn_s = _bn(out_channels)
        self.relu_s = nn.ReLU()
        self.conv_t = nn.Conv3d(out_channels, out_channels, (k, 1, 1), (s, 1, 1), (p, 0, 0), bias=False)
        self.bn_t = _bn(out_channels)
        self.relu_t = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu_s(self.bn_s(self.conv_s(x)))
        return self.relu_t(self.bn_t(self.conv_t(x)))


class Mixed(nn.Module):
    """An Inception block: 1x1 | 1x1 -> sep 3x3x3 | 1x1 -> sep 3x3x3 | max-pool -> 1x1, concatenated."""

    def __init__(self, in_channels: int, b0: int, b1: tuple[int, int], b2: tuple[int, int], b3: int):
        super().__init__()
        self.branch0 = nn.Sequential(BasicConv3d(in_channels, b0, 1))
        self.branch1 = nn.Sequential(BasicConv3d(in_channels, b1[0], 1), SepConv3d(b1[0], b1[1], 3, 1, 1))
        self.branch2 = nn.Sequential(BasicConv3d(in_channels, b2[0], 1), SepConv3d(b2[0], b2[1], 3, 1, 1))
        self.branch3 = nn.Sequential(nn.MaxPool3d(3, stride=1, padding=1), BasicConv3d(in_channels, b3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)), 1)


class S3D(nn.Module):
    """The S3D trunk (``S3Ds``): ``base`` holds the layers of blocks 1..``use_block``; no classifier.

    ``freeze_block`` k > 0 freezes layers 0..end of block k as the official code does: no gradients, and their
    BatchNorms stay in eval mode when the model is put in training mode.
    """

    def __init__(self, in_channels: int = 3, use_block: int = 5, freeze_block: int = 0, width: int = 1):
        """``width`` divides every channel count (1: the released model; larger: reduced models for CPU demos)."""
        super().__init__()
        w = lambda n: n // width  # noqa: E731
        mixed = {k: (w(i), w(b0), (w(b1[0]), w(b1[1])), (w(b2[0]), w(b2[1])), w(b3))
                 for k, (i, b0, b1, b2, b3) in MIXED.items()}
        layers: list[nn.Module] = [SepConv3d(in_channels, w(64), 7, 2, 3)]
        if use_block >= 2:
            layers += [nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)), BasicConv3d(w(64), w(64), 1),
                       SepConv3d(w(64), w(192), 3, 1, 1)]
        if use_block >= 3:
            layers += [nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)), Mixed(*mixed["3b"]), Mixed(*mixed["3c"])]
        if use_block >= 4:
            layers += [nn.MaxPool3d(3, 2, 1)] + [Mixed(*mixed[f"4{c}"]) for c in "bcdef"]
        if use_block >= 5:
            layers += [nn.MaxPool3d(2, 2, 0), Mixed(*mixed["5b"]), Mixed(*mixed["5c"])]
        self.base = nn.Sequential(*layers)
        self.use_block = use_block
        self.out_channels = w(BLOCK_CHANNELS[use_block])
        self.frozen = list(self.base[:BLOCK_END[freeze_block] + 1]) if freeze_block > 0 else []
        for module in self.frozen:
            module.requires_grad_(False)

    def train(self, mode: bool = True) -> "S3D":
        super().train(mode)
        for module in self.frozen:  # the official set_train(): frozen layers keep their running statistics
            module.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x)


class S3DBackbone(nn.Module):
    """The official ``S3D_backbone`` wrapper: only adds the ``backbone.`` level to the keys."""

    def __init__(self, in_channels: int = 3, use_block: int = 5, freeze_block: int = 0, width: int = 1):
        super().__init__()
        self.backbone = S3D(in_channels, use_block, freeze_block, width)
        self.out_channels = self.backbone.out_channels

    @property
    def layers(self) -> nn.Sequential:
        return self.backbone.base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)


def pool_time_steps(x: torch.Tensor) -> torch.Tensor:
    """``[B, C, T, H, W] -> [B, T', C]``: ``avg_pool3d`` with kernel (2, H, W), stride 1, as every NLA-SLR head.

    Averaging adjacent steps before the mean over time weighs the first and last steps half. A clip with a single
    step left uses kernel (1, H, W), the fallback of the official two- and four-stream code.
    """
    steps = 2 if x.size(2) >= 2 else 1
    x = F.avg_pool3d(x, (steps, x.size(3), x.size(4)), stride=1)
    return x.view(x.size(0), x.size(1), x.size(2)).permute(0, 2, 1)


def clip_feature(x: torch.Tensor) -> torch.Tensor:
    """One vector per clip, ``[B, C]``, from a backbone map ``[B, C, T, H, W]`` or pooled steps ``[B, T', C]``."""
    if x.ndim > 3:
        x = pool_time_steps(x)
    return x.mean(dim=1) if x.ndim > 2 else x


def load_kinetics_s3d(model: nn.Module, path: str) -> list[str]:
    """Every S3D trunk of ``model`` from ``S3D_kinetics400.pt`` (github.com/kylemin/S3D), as the official
    ``load_s3d_model_weight``: keys ``module.base.*`` -> ``base.*``; tensors whose shape differs (a keypoint
    stream's first convolution: 63 input channels, not 3) keep their initialisation, the Kinetics classifier
    (``fc.*``) is unused. Returns one line per trunk naming what was not loaded."""
    from zoo.checkpoints import read_checkpoint  # weights_only reading of any torch file, hf:// and URLs too

    state = read_checkpoint(path, weights_key="state_dict").state_dict
    weights = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    trunks = [(name, module) for name, module in model.named_modules() if isinstance(module, S3D)]
    if not trunks:
        raise ValueError(f"{type(model).__name__} has no S3D trunk to initialise from {path}")
    lines = []
    for name, trunk in trunks:
        own = trunk.state_dict()
        fitting = {k: v for k, v in weights.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
        if not fitting:
            raise ValueError(f"{path}: no tensor fits the S3D trunk {name} (expected keys like base.0.conv_s.weight)")
        trunk.load_state_dict({**own, **fitting}, strict=True)
        reshaped = sorted(k for k in own if k in weights and k not in fitting)
        unfilled = sorted(k for k in own if k not in weights)
        unused = sorted(k for k in weights if k not in own)
        lines.append(f"{name}: {len(fitting)} of {len(own)} tensors from {path}; other shape, kept initialised: "
                     f"{', '.join(reshaped) or 'none'}; not in the file: {', '.join(unfilled) or 'none'}; "
                     f"unused: {', '.join(unused) or 'none'}")
    return lines
