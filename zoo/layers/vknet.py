"""VKNet: S3D streams joined by lateral connections (NLA-SLR, ``modelling/two_stream.py``, ``four_stream.py``).

Two-stream VKNet: an RGB S3D (224x224 clips) and a keypoint S3D (63 heatmaps of 112x112) run layer by layer;
after blocks 1-4 (layers 0, 3, 6, 12: ``fusion_features: [c1, c2, c3, c4]``) each stream adds the other's map,
resized by a bias-free convolution: heatmaps -> RGB by a 1x3x3 transposed convolution of stride (1, 2, 2),
RGB -> heatmaps by a 1x3x3 convolution of stride (1, 2, 2). Both directions read the maps from before the
exchange. Four-stream (NLA-SLR): two VKNets on 64 and 32 frames ("high"/"low" in the official names), which at
the same four points also exchange maps over time: 3x1x1 transposed convolutions of temporal stride 2 (low ->
high) and 3x1x1 convolutions of temporal stride 2 (high -> low), first within each VKNet, then across.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from zoo.layers.s3d import BLOCK_CHANNELS, BLOCK_END, S3DBackbone, pool_time_steps

FUSION_LAYERS = tuple(BLOCK_END[b] for b in (1, 2, 3, 4))  # after blocks c1..c4
FUSION_CHANNELS = tuple(BLOCK_CHANNELS[b] for b in (1, 2, 3, 4))


class LateralConnection(nn.Module):
    """``Lateral_Conn``: ``upsample=True`` adds a transposed conv of the second map to the first (official
    'pose2rgb'), ``upsample=False`` a strided conv of the first map to the second ('rgb2pose'). No bias."""

    def __init__(self, channels: int, kernel_size=(1, 3, 3), stride=(1, 2, 2), upsample: bool = True):
        super().__init__()
        padding = tuple(k // 2 for k in kernel_size)
        self.upsample = upsample
        if upsample:
            output_padding = tuple(s - 1 for s in stride)  # doubles the size exactly
            self.conv = nn.ConvTranspose3d(channels, channels, kernel_size, stride, padding, output_padding, bias=False)
        else:
            self.conv = nn.Conv3d(channels, channels, kernel_size, stride, padding, bias=False)
        nn.init.kaiming_normal_(self.conv.weight)  # the official init_weights (training from scratch only)

    def forward(self, large: torch.Tensor, small: torch.Tensor) -> torch.Tensor:
        """The fused map: ``large + up(small)`` when upsampling, else ``down(large) + small``."""
        return large + self.conv(small) if self.upsample else self.conv(large) + small


def _laterals(kernel_size, stride, upsample: bool) -> nn.ModuleList:
    return nn.ModuleList(LateralConnection(c, kernel_size, stride, upsample) for c in FUSION_CHANNELS)


class TwoStreamS3D(nn.Module):
    """VKNet's backbone (``S3D_two_stream_v2`` with bilateral connections after blocks 1-4)."""

    def __init__(self, keypoint_channels: int = 63, use_block: int = 5, freeze_block: tuple[int, int] = (0, 0)):
        super().__init__()
        self.rgb_stream = S3DBackbone(3, use_block, freeze_block[0])
        self.pose_stream = S3DBackbone(keypoint_channels, use_block, freeze_block[1])
        self.rgb_stream_lateral = _laterals((1, 3, 3), (1, 2, 2), upsample=True)  # heatmaps -> RGB
        self.pose_stream_lateral = _laterals((1, 3, 3), (1, 2, 2), upsample=False)  # RGB -> heatmaps

    def exchange(self, index: int, rgb: torch.Tensor, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both maps after the lateral connections of fusion point ``index`` (both read the maps before)."""
        return self.rgb_stream_lateral[index](rgb, pose), self.pose_stream_lateral[index](rgb, pose)

    def forward(self, rgb: torch.Tensor, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Last maps pooled to ``[B, T', C]`` per stream (``pool_time_steps``), as the official heads receive them."""
        for i, (rgb_layer, pose_layer) in enumerate(zip(self.rgb_stream.layers, self.pose_stream.layers)):
            rgb, pose = rgb_layer(rgb), pose_layer(pose)
            if i in FUSION_LAYERS:
                rgb, pose = self.exchange(FUSION_LAYERS.index(i), rgb, pose)
        return pool_time_steps(rgb), pool_time_steps(pose)


class FourStreamS3D(nn.Module):
    """NLA-SLR's backbone (``S3D_four_stream``): VKNets on the long (``ts_high``) and short (``ts_low``) clips."""

    def __init__(self, keypoint_channels: int = 63, use_block: int = 5, freeze_block: tuple[int, int] = (0, 0)):
        super().__init__()
        self.ts_high = TwoStreamS3D(keypoint_channels, use_block, freeze_block)
        self.ts_low = TwoStreamS3D(keypoint_channels, use_block, freeze_block)
        self.rgb_low2high = _laterals((3, 1, 1), (2, 1, 1), upsample=True)
        self.rgb_high2low = _laterals((3, 1, 1), (2, 1, 1), upsample=False)
        self.pose_low2high = _laterals((3, 1, 1), (2, 1, 1), upsample=True)
        self.pose_high2low = _laterals((3, 1, 1), (2, 1, 1), upsample=False)

    def forward(self, rgb_high: torch.Tensor, rgb_low: torch.Tensor, pose_high: torch.Tensor,
                pose_low: torch.Tensor) -> dict[str, torch.Tensor]:
        """Clip features ``[B, C]`` of the four streams: ``rgb-h``, ``rgb-l``, ``kp-h``, ``kp-l`` (official keys)."""
        layers = zip(self.ts_high.rgb_stream.layers, self.ts_high.pose_stream.layers,
                     self.ts_low.rgb_stream.layers, self.ts_low.pose_stream.layers)
        for i, (rgb_h_layer, pose_h_layer, rgb_l_layer, pose_l_layer) in enumerate(layers):
            rgb_high, pose_high = rgb_h_layer(rgb_high), pose_h_layer(pose_high)
            rgb_low, pose_low = rgb_l_layer(rgb_low), pose_l_layer(pose_low)
            if i in FUSION_LAYERS:
                j = FUSION_LAYERS.index(i)
                rgb_high, pose_high = self.ts_high.exchange(j, rgb_high, pose_high)
                rgb_low, pose_low = self.ts_low.exchange(j, rgb_low, pose_low)
                rgb_low, rgb_high = self.rgb_high2low[j](rgb_high, rgb_low), self.rgb_low2high[j](rgb_high, rgb_low)
                pose_low, pose_high = (self.pose_high2low[j](pose_high, pose_low),
                                       self.pose_low2high[j](pose_high, pose_low))
        return {"rgb-h": pool_time_steps(rgb_high).mean(dim=1), "rgb-l": pool_time_steps(rgb_low).mean(dim=1),
                "kp-h": pool_time_steps(pose_high).mean(dim=1), "kp-l": pool_time_steps(pose_low).mean(dim=1)}
