"""CorrNet (Hu et al., CVPR 2023): ResNet-18 with correlation blocks between stages, and the VAC/SMKD head.

Official code: github.com/hulianyuyy/CorrNet (``modules/resnet.py``, ``slr_network.py``). The CSL-Daily checkpoint
has no block after stage 2 (``corr1``) and two ``alpha`` weights; the variant is chosen from a checkpoint's keys.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from zoo.cards import CheckpointSource, EvalProtocol, InputSpec, ModelCard, TrainRecipe, register_model
from zoo.layers.resnet import FrameResNet18, init_resnet18_backbone
from zoo.layers.temporal import SequenceModel


class Correlation(nn.Module):
    """Identifies body trajectories across adjacent frames (``Get_Correlation``, names kept)."""

    def __init__(self, channels: int):
        super().__init__()
        reduced = channels // 16
        self.down_conv = nn.Conv3d(channels, reduced, kernel_size=1, bias=False)
        self.down_conv2 = nn.Conv3d(channels, channels, kernel_size=1, bias=False)
        self.spatial_aggregation1 = nn.Conv3d(reduced, reduced, kernel_size=(9, 3, 3), padding=(4, 1, 1), groups=reduced)
        self.spatial_aggregation2 = nn.Conv3d(reduced, reduced, kernel_size=(9, 3, 3), padding=(4, 2, 2),
                                              dilation=(1, 2, 2), groups=reduced)
        self.spatial_aggregation3 = nn.Conv3d(reduced, reduced, kernel_size=(9, 3, 3), padding=(4, 3, 3),
                                              dilation=(1, 3, 3), groups=reduced)
        self.weights = nn.Parameter(torch.ones(3) / 3)
        self.weights2 = nn.Parameter(torch.ones(2) / 2)
        self.conv_back = nn.Conv3d(reduced, channels, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = self.down_conv2(x)
        following = torch.cat([x2[:, :, 1:], x2[:, :, -1:]], 2)  # next frame (the last repeats itself)
        affinity = torch.sigmoid(torch.einsum("bcthw,bctsd->bthwsd", x, following)) - 0.5
        features = torch.einsum("bctsd,bthwsd->bcthw", following, affinity) * self.weights2[0]
        del following, affinity  # large (b, t, h, w, h, w) temporaries: free them before the second direction
        previous = torch.cat([x2[:, :, :1], x2[:, :, :-1]], 2)  # previous frame (the first repeats itself)
        affinity = torch.sigmoid(torch.einsum("bcthw,bctsd->bthwsd", x, previous)) - 0.5
        features = features + torch.einsum("bctsd,bthwsd->bcthw", previous, affinity) * self.weights2[1]
        del previous, affinity, x2
        x = self.down_conv(x)
        aggregated = (self.spatial_aggregation1(x) * self.weights[0] + self.spatial_aggregation2(x) * self.weights[1]
                      + self.spatial_aggregation3(x) * self.weights[2])
        return features * (torch.sigmoid(self.conv_back(aggregated)) - 0.5)


class CorrelationResNet18(FrameResNet18):
    """CorrNet's backbone: a (1, k, k) ResNet-18 with ``x + corr(x) * alpha`` after the chosen stages."""

    def __init__(self, correlation_after: tuple[int, ...] = (2, 3, 4), widths=(64, 128, 256, 512)):
        super().__init__(dims=3, widths=widths)
        self.correlation_after = tuple(correlation_after)
        for stage in self.correlation_after:  # official names: corr1 after stage 2, corr2 after 3, corr3 after 4
            setattr(self, f"corr{stage - 1}", Correlation(widths[stage - 1]))
        self.alpha = nn.Parameter(torch.zeros(len(self.correlation_after)))

    def after_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        if index in self.correlation_after:
            x = x + getattr(self, f"corr{index - 1}")(x) * self.alpha[self.correlation_after.index(index)]
        return x


def build_corrnet(num_classes: int, correlation_after: tuple[int, ...] = (2, 3, 4),
                  widths: tuple[int, int, int, int] = (64, 128, 256, 512), hidden_size: int = 1024) -> SequenceModel:
    """CorrNet as released: shared, weight-normalised classifier (SMKD), temporal layout K5 P2 K5 P2."""
    backbone = CorrelationResNet18(tuple(correlation_after), widths)
    return SequenceModel(backbone, num_classes, feature_size=widths[3], hidden_size=hidden_size,
                         weight_norm=True, share_classifier=True)


def _variant(keys: set[str]) -> dict:
    return {"correlation_after": tuple(s for s in (2, 3, 4) if f"conv2d.corr{s - 1}.weights" in keys)}


CARD = register_model(ModelCard(
    name="corrnet",
    paper="Continuous Sign Language Recognition with Correlation Network (CVPR 2023)",
    url="https://arxiv.org/abs/2303.03202",
    code="https://github.com/hulianyuyy/CorrNet",
    task="continuous",
    build=build_corrnet,
    protocol=EvalProtocol(scorer="sclite"),
    training=TrainRecipe(dataset_overrides={"csl_daily": {"lr": 5e-5, "gamma": 0.5, "temporal_rescale": 0.0}}),
    checkpoints=(
        CheckpointSource("phoenix2014", "phoenix2014", 1296, note="README: dev 18.8 / test 19.4 (retrain 18.9 / 19.7)"),
        CheckpointSource("phoenix2014t", "phoenix2014t", 1116, note="README: dev 18.9 / test 20.5"),
        CheckpointSource("csl_daily", "csl_daily", 2001, variant={"correlation_after": (3, 4)},
                         note="README: dev 30.6 / test 30.1; no correlation block after stage 2"),
    ),
    variant_from_keys=_variant,
    shared_keys=(("classifier.weight", "conv1d.fc.weight"),),
    init_backbone=init_resnet18_backbone,
    notes=("Official links are Baidu/Google Drive pages without hashes; bench checks keys and shapes strictly.",
           "CSL-Daily training per the README: lr 5e-5, decay 0.5, no temporal rescaling."),
))


def build_corrnet_tiny(num_classes: int, **variant) -> SequenceModel:
    """CorrNet at 1/8 width with a 128-unit head: the same blocks, for CPU demos and tests."""
    return build_corrnet(num_classes, **{"widths": (8, 16, 32, 64), "hidden_size": 128, **variant})


TINY = register_model(ModelCard(
    name="corrnet_tiny", published=False,
    paper=CARD.paper + ", reduced for CPU (not a published model)",
    url=CARD.url,
    code=CARD.code,
    task="continuous",
    build=build_corrnet_tiny,
    input=InputSpec(frame_size=36, crop=32),
    protocol=EvalProtocol(scorer="sclite"),
    # trained from scratch, the distillation term (weight 25) holds CTC on the all-blank plateau for the first
    # thousand steps (the paper starts from ImageNet features); the demo recipe leaves it out
    training=TrainRecipe(epochs=12, batch_size=2, lr=1e-3, milestones=(8, 11), gamma=0.2,
                         loss_weights={"SeqCTC": 1.0, "ConvCTC": 1.0}),
    variant_from_keys=_variant,
    shared_keys=CARD.shared_keys,
    notes=("The embedded default of bench demo: synthetic 36x36 signing, trained from scratch in minutes.",),
))
