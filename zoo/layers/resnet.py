"""ResNet-18 applied frame by frame, in the two layouts the CSLR repositories use.

``dims=2`` is torchvision's resnet18 (VAC: ``Conv2d`` weights ``[out, in, k, k]``, frames batched as images);
``dims=3`` is CorrNet's copy (``Conv3d`` with ``(1, k, k)`` kernels, weights ``[out, in, 1, k, k]``, video kept as
``(B, C, T, H, W)`` so that blocks between stages can look across time). Same arithmetic, different keys.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _conv(dims: int, cin: int, cout: int, k: int, stride: int = 1, padding: int = 0) -> nn.Module:
    if dims == 2:
        return nn.Conv2d(cin, cout, kernel_size=k, stride=stride, padding=padding, bias=False)
    return nn.Conv3d(cin, cout, kernel_size=(1, k, k), stride=(1, stride, stride), padding=(0, padding, padding),
                     bias=False)


def _bn(dims: int, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm3d(channels)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, dims: int, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = _conv(dims, inplanes, planes, 3, stride, 1)
        self.bn1 = _bn(dims, planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv(dims, planes, planes, 3, 1, 1)
        self.bn2 = _bn(dims, planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += residual  # in place, as the official block: one activation-sized tensor less per block
        return self.relu(out)


class ResNet18(nn.Module):
    """The convolutional trunk (no classifier); ``forward_stages`` lets subclasses act between stages."""

    def __init__(self, dims: int = 2, widths: tuple[int, int, int, int] = (64, 128, 256, 512)):
        super().__init__()
        self.dims = dims
        self.inplanes = widths[0]
        self.conv1 = _conv(dims, 3, widths[0], 7, 2, 3)
        self.bn1 = _bn(dims, widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = (nn.MaxPool2d(3, 2, 1) if dims == 2 else
                        nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)))
        self.layer1 = self._make_layer(widths[0], 2)
        self.layer2 = self._make_layer(widths[1], 2, stride=2)
        self.layer3 = self._make_layer(widths[2], 2, stride=2)
        self.layer4 = self._make_layer(widths[3], 2, stride=2)
        self.out_features = widths[3]
        for m in self.modules():  # the official initialisation (before ImageNet weights are loaded)
            if isinstance(m, (nn.Conv2d, nn.Conv3d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(_conv(self.dims, self.inplanes, planes, 1, stride), _bn(self.dims, planes))
        layers = [BasicBlock(self.dims, self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(self.dims, planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def after_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Hook after stage ``index`` (1-4); identity here."""
        return x

    def forward_stages(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index, layer in enumerate((self.layer1, self.layer2, self.layer3, self.layer4), 1):
            x = self.after_stage(index, layer(x))
        return x


class FrameResNet18(ResNet18):
    """Per-frame features ``(B, 512, T)`` of a padded video batch ``(B, T, 3, H, W)``.

    ``dims=2`` (VAC): only each video's first ``lengths[b]`` frames go through the network, the rest of its
    row is zeros (the official ``masked_bn``). ``dims=3`` (CorrNet): the whole padded batch goes through, as
    one ``(B, C, T, H, W)`` tensor.
    """

    def forward(self, video: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        batch, frames = video.shape[:2]
        if self.dims == 3:
            x = self.forward_stages(video.permute(0, 2, 1, 3, 4)).transpose(1, 2).contiguous()  # (B, T, C, h, w)
            x = x.view(batch * frames, *x.shape[2:])
            x = F.avg_pool2d(x, x.shape[-2:]).flatten(1)  # AvgPool2d(7) at the official 224 input
            return x.view(batch, frames, -1).permute(0, 2, 1)
        valid = [int(n) for n in lengths]
        x = torch.cat([video[b, :n] for b, n in enumerate(valid)])
        x = F.adaptive_avg_pool2d(self.forward_stages(x), 1).flatten(1)
        rows = torch.split(x, valid)
        out = x.new_zeros(batch, frames, x.shape[1])
        for b, row in enumerate(rows):
            out[b, : row.shape[0]] = row
        return out.permute(0, 2, 1)


def load_imagenet_resnet18(backbone: ResNet18, state_dict: dict) -> list[str]:
    """Load torchvision's ImageNet resnet18 weights (``resnet18-f37072fd.pth`` layout) into ``backbone``.

    The official code does this with ``strict=False`` (CorrNet first unsqueezes conv weights to ``(1, k, k)``); here
    every trunk tensor must be present with the right shape, and what is deliberately not loaded is returned by
    name: torchvision's ``fc.*`` (the classifier is replaced) and the backbone's own extras (e.g. correlation blocks).
    """
    import torch

    own = backbone.state_dict()
    trunk = {k for k in own if k.split(".")[0] in ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4")}
    missing = sorted(trunk - set(state_dict))
    loaded = {}
    for key in trunk & set(state_dict):
        tensor = state_dict[key]
        if backbone.dims == 3 and tensor.dim() == 4:  # Conv2d [o, i, k, k] -> Conv3d [o, i, 1, k, k]
            tensor = tensor.unsqueeze(2)
        if tuple(tensor.shape) != tuple(own[key].shape):
            raise ValueError(f"ImageNet weight {key}: expected shape {list(own[key].shape)}, found {list(tensor.shape)}")
        loaded[key] = tensor
    if missing:
        raise ValueError(f"not a torchvision resnet18 state dict: missing {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    with torch.no_grad():
        for key, tensor in loaded.items():
            own[key].copy_(tensor)
    return sorted(set(state_dict) - trunk) + sorted(set(own) - trunk)


def init_resnet18_backbone(model, path: str) -> list[str]:
    """Card hook: ``model.conv2d`` from torchvision's ImageNet resnet18 file (the CSLR papers' starting point)."""
    from zoo.checkpoints import read_checkpoint

    skipped = load_imagenet_resnet18(model.conv2d, read_checkpoint(path, weights_key="state_dict").state_dict)
    return [f"ImageNet resnet18 trunk loaded from {path}", f"not from it: {', '.join(skipped) or 'nothing'}"]
