"""SlowFastSign (Ahn, Jang, Chung, ICASSP 2024): a SlowFast R101 backbone with bidirectional fusion, and the VAC
head three times over (fused features, slow channels, fast channels: Pathway Feature Enhancement).

Official code: github.com/kaistmm/SlowFastSign (``slr_network_multi.py``, ``modules/tconv.py``
``TemporalSlowFastFuse``, ``slowfast_modules``, ``configs/baseline.yaml``). Index 0 of ``temporal_model``,
``classifier`` and ``conv1d.fc`` is the reported (main) head; 1 and 2 are the slow and fast branches, trained with
0.25 of the main losses each and not computed at inference. ``conv1d.fc`` is the ``classifier`` ModuleList itself
(``share_classifier=1``), so its keys are saved twice. The released configuration is the same for every dataset.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from zoo.cards import CheckpointSource, EvalProtocol, InputSpec, ModelCard, TrainRecipe, register_model
from zoo.layers.slowfast import SlowFast, SlowFastConfig
from zoo.layers.temporal import BiLSTM, Layout, NormLinear, feature_lengths, temporal_conv_layers

BRANCHES = ("main", "slow", "fast")  # official index order of the heads
LAYOUT = ("K5", "P2", "K5", "P2")  # conv_type 2


class SlowFastTemporalConv(nn.Module):
    """``TemporalSlowFastFuse``: a temporal conv stack over the fused features and one over each pathway's channels."""

    def __init__(self, slow_size: int, fast_size: int, hidden_size: int, layout: Layout = LAYOUT):
        super().__init__()
        self.layout = tuple(layout)
        self.slow_size = slow_size
        self.fast_temporal_conv = temporal_conv_layers(fast_size, hidden_size, self.layout)  # official module order
        self.slow_temporal_conv = temporal_conv_layers(slow_size, hidden_size, self.layout)
        self.main_temporal_conv = temporal_conv_layers(slow_size + fast_size, hidden_size, self.layout)
        self.fc: nn.ModuleList | None = None  # the model's classifiers (shared)

    def forward(self, features: torch.Tensor, branches: tuple[str, ...] = BRANCHES) -> dict[str, torch.Tensor]:
        """``(B, C_slow + C_fast, T)`` -> ``{branch: (B, hidden, T')}``; the slow channels come first."""
        inputs = {"main": features, "slow": features[:, : self.slow_size], "fast": features[:, self.slow_size:]}
        return {name: getattr(self, f"{name}_temporal_conv")(inputs[name]) for name in branches}


class SlowFastSign(nn.Module):
    """SlowFast frames -> three temporal conv stacks -> three BiLSTMs -> three shared normalised classifiers.

    ``forward(video [B, T, 3, H, W], lengths [B])`` returns the main head as the other CSLR models do
    (``feat_len``, ``conv_logits`` and ``sequence_logits`` as ``[T', B, classes]``); in training mode also
    ``branches = {"slow": {...}, "fast": {...}}`` with each branch's two logits (``bench.runners.cslr_losses``).
    """

    def __init__(self, num_classes: int, config: SlowFastConfig = SlowFastConfig(), hidden_size: int = 1024,
                 layout: Layout = LAYOUT, checkpoint_activations: bool = False):
        super().__init__()
        self.num_classes = num_classes
        self.conv2d = SlowFast(config, checkpoint_activations)
        slow_size, fast_size = config.out_channels
        self.conv1d = SlowFastTemporalConv(slow_size, fast_size, hidden_size, layout)
        self.temporal_model = nn.ModuleList([BiLSTM(hidden_size, hidden_size, num_layers=2) for _ in BRANCHES])
        self.classifier = nn.ModuleList([NormLinear(hidden_size, num_classes) for _ in BRANCHES])
        self.conv1d.fc = self.classifier  # share_classifier=1: one module under two names

    def forward(self, video: torch.Tensor, lengths: torch.Tensor) -> dict:
        features = self.conv2d(video.permute(0, 2, 1, 3, 4))  # (B, C, T)
        steps = feature_lengths(lengths, self.conv1d.layout)
        branches = BRANCHES if self.training else BRANCHES[:1]  # the official inference runs the main head only
        visual = self.conv1d(features, branches)
        heads = {}
        for index, name in enumerate(branches):
            frames = visual[name].permute(2, 0, 1)  # (T', B, hidden)
            conv_logits = self.conv1d.fc[index](visual[name].transpose(1, 2)).transpose(0, 1)
            sequence = self.classifier[index](self.temporal_model[index](frames, steps))
            heads[name] = {"conv_logits": conv_logits, "sequence_logits": sequence}
        out = {"feat_len": steps, **heads.pop("main")}
        if heads:
            out["branches"] = heads
        return out


def build_slowfastsign(num_classes: int, width: int = 64, blocks: tuple[int, int, int, int] = (3, 4, 23, 3),
                       temporal_blocks: tuple[int, int, int, int] = (3, 4, 6, 3), hidden_size: int = 1024,
                       checkpoint_activations: bool = False, dropout: float = 0.5) -> SlowFastSign:
    """SlowFastSign as released (R101 64x2, hidden 1024); smaller ``width``/``blocks`` for tests and demos.

    ``checkpoint_activations`` recomputes the backbone's blocks in backward: less memory for training, same numbers.
    """
    temporal_blocks = tuple(min(t, b) for t, b in zip(temporal_blocks, blocks))
    config = SlowFastConfig(width=width, blocks=tuple(blocks), temporal_blocks=temporal_blocks, dropout=dropout)
    return SlowFastSign(num_classes, config, hidden_size, checkpoint_activations=checkpoint_activations)


README = "README (Google Drive folder 1_gn6g4ZsjzKuhptdzHmDqKoFc3zIYpVf)"
DRIVE = "https://drive.google.com/drive/folders/1_gn6g4ZsjzKuhptdzHmDqKoFc3zIYpVf"

def init_caffe2_backbone(model, path: str) -> list[str]:
    """Card hook: the backbone from PySlowFast's Caffe2 pickle (``SLOWFAST_64x2_R101_50_50.pkl``), as the paper."""
    from zoo.slowfast_caffe2 import load_caffe2_slowfast

    report = load_caffe2_slowfast(model.conv2d, path)
    return [f"PySlowFast Caffe2 weights loaded from {path}: {len(report.loaded)} tensors "
            f"({len(report.adapted)} adapted: {', '.join(report.adapted) or 'none'})",
            f"not converted: {', '.join(report.unconverted) or 'nothing'}",
            f"not filled: {', '.join(report.unfilled) or 'nothing'}"]


CARD = register_model(ModelCard(
    name="slowfastsign",
    paper="SlowFast Network for Continuous Sign Language Recognition (ICASSP 2024)",
    url="https://ieeexplore.ieee.org/abstract/document/10445841/",
    code="https://github.com/kaistmm/SlowFastSign",
    task="continuous",
    build=build_slowfastsign,
    # dataset/dataloader_video.py: ((x / 255) - 0.45) / 0.225; CSL-Daily frames lose their top 40 rows and are
    # resized back to 256x256 (cv2.resize, bilinear) before the centre crop
    input=InputSpec(normalization="mean_std", mean=(0.45, 0.45, 0.45), std=(0.225, 0.225, 0.225),
                    top_rows_removed={"csl_daily": 40}),
    protocol=EvalProtocol(scorer="official-python", batch_size=2),  # configs/baseline.yaml: test_batch_size 2
    # configs/baseline.yaml + the README's --loss-weights Slow=0.25 Fast=0.25 (added to SeqCTC/ConvCTC/Dist)
    training=TrainRecipe(epochs=80, batch_size=2, lr=1e-4, weight_decay=1e-4, milestones=(40, 60), gamma=0.2,
                         loss_weights={"SeqCTC": 1.0, "ConvCTC": 1.0, "Dist": 25.0},
                         branch_weights={"slow": 0.25, "fast": 0.25}),
    checkpoints=(
        CheckpointSource("phoenix2014", "phoenix2014", 1296, url=DRIVE,
                         note=f"{README}: phoenix2014_dev_18.01_test_18.28.pt, dev 18.01 / test 18.28"),
        CheckpointSource("phoenix2014t", "phoenix2014t", 1116, url=DRIVE, note=f"{README}: dev 17.66 / test 18.71"),
        CheckpointSource("csl_daily", "csl_daily", 2001, url=DRIVE, note=f"{README}: dev 25.49 / test 24.85"),
    ),
    shared_keys=tuple((f"classifier.{i}.weight", f"conv1d.fc.{i}.weight") for i in range(len(BRANCHES))),
    classifier_key="classifier.0.weight",
    init_backbone=init_caffe2_backbone,
    notes=("Official links are a Google Drive folder without hashes; bench checks keys and shapes strictly.",
           "Training starts from PySlowFast's SLOWFAST_64x2_R101_50_50.pkl (zoo.slowfast_caffe2.load_caffe2_slowfast).",
           "Only the main head (index 0) runs at inference; the slow/fast heads (1, 2) are trained at 0.25 each.",
           "The 3D backbone mixes neighbouring frames: a test pair's shorter clip sees the repeated last frames."),
))


def build_slowfastsign_tiny(num_classes: int, **variant) -> SlowFastSign:
    """SlowFastSign at 1/4 width, one or two blocks per stage, a 64-unit head: the same blocks, for CPU tests."""
    return build_slowfastsign(num_classes, **{"width": 16, "blocks": (1, 1, 2, 1), "temporal_blocks": (1, 1, 1, 1),
                                              "hidden_size": 64, "dropout": 0.0, **variant})


TINY = register_model(ModelCard(
    name="slowfastsign_tiny", published=False,
    paper=CARD.paper + ", reduced for CPU (not a published model)",
    url=CARD.url,
    code=CARD.code,
    task="continuous",
    build=build_slowfastsign_tiny,
    input=InputSpec(frame_size=36, crop=32, normalization="mean_std", mean=CARD.input.mean, std=CARD.input.std),
    protocol=CARD.protocol,
    # from scratch, as corrnet_tiny: the distillation term keeps CTC on the all-blank plateau, so it is left out
    training=TrainRecipe(epochs=24, batch_size=2, lr=1e-3, milestones=(16, 22), gamma=0.2,
                         loss_weights={"SeqCTC": 1.0, "ConvCTC": 1.0}, branch_weights={"slow": 0.25, "fast": 0.25}),
    shared_keys=CARD.shared_keys,
    classifier_key=CARD.classifier_key,
    notes=("Widths (16, 64, 128, 256, 512) slow / (2, 8, 16, 32, 64) fast, blocks (1, 1, 2, 1), 32x32 crops.",
           "No feature dropout: with the released 0.5 the demo-data dev WER stayed at 100% for the 7 epochs run; "
           "without it, it leaves 100% at epoch 7 and reaches 42.7% at epoch 23 of 24 (bench train, 2 cores)."),
))
