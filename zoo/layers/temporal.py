"""The temporal head shared by VAC, CorrNet and SlowFastSign: 1D conv + pooling, a BiLSTM, normalised classifiers.

Parameter names follow the official ``TemporalConv``/``BiLSTMLayer``/``NormLinear`` so that official state dicts
load as they are (``conv1d.temporal_conv.0.weight``, ``temporal_model.rnn.weight_ih_l0``, ``classifier.weight``).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

Layout = Sequence[str]  # e.g. ("K5", "P2", "K5", "P2"): kernel-5 convolutions and stride-2 max pools


def feature_lengths(lengths: torch.Tensor, layout: Layout) -> torch.Tensor:
    """Valid output steps for inputs of ``lengths`` frames (integers; the official code keeps floats)."""
    lengths = lengths.to(torch.int64)
    for step in layout:
        size = int(step[1:])
        lengths = lengths // size if step[0] == "P" else lengths - (size - 1)
    return lengths


def temporal_padding(layout: Layout) -> tuple[int, int]:
    """``(left_pad, total_stride)`` of the official collate: frames repeated in front, and the length granule."""
    left_pad, last_stride, total_stride = 0, 1, 1
    for step in layout:
        size = int(step[1:])
        if step[0] == "K":
            left_pad = left_pad * last_stride + (size - 1) // 2
        else:
            last_stride = size
            total_stride *= size
    return left_pad, total_stride


class NormLinear(nn.Module):
    """A classifier with unit-norm class columns: ``x @ normalize(W, dim=0)``, ``W`` of shape (in, out)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_dim, out_dim))
        nn.init.xavier_uniform_(self.weight, gain=nn.init.calculate_gain("relu"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, F.normalize(self.weight, dim=0))


def temporal_conv_layers(input_size: int, hidden_size: int, layout: Layout) -> nn.Sequential:
    """The official ``temporal_conv`` stack over ``(B, C, T)``: ``Conv1d`` (no padding) + ``BatchNorm1d`` + ReLU
    per ``K``, a ``MaxPool1d`` per ``P``; module indices are the official ones (``0.weight``, ``1.running_mean``)."""
    modules: list[nn.Module] = []
    size = input_size  # until the first convolution, inputs keep their width
    for step in layout:
        if step[0] == "P":
            modules.append(nn.MaxPool1d(kernel_size=int(step[1:]), ceil_mode=False))
        else:
            modules += [nn.Conv1d(size, hidden_size, kernel_size=int(step[1:]), stride=1, padding=0),
                        nn.BatchNorm1d(hidden_size), nn.ReLU(inplace=True)]
            size = hidden_size
    return nn.Sequential(*modules)


class TemporalConv(nn.Module):
    """Temporal convolutions (no padding) and max pools over frame features ``(B, C, T)``."""

    def __init__(self, input_size: int, hidden_size: int, layout: Layout):
        super().__init__()
        self.layout = tuple(layout)
        self.temporal_conv = temporal_conv_layers(input_size, hidden_size, self.layout)
        self.fc: nn.Module | None = None  # set by the model (often shared with the sequence classifier)

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        visual = self.temporal_conv(frames)  # (B, H, T')
        logits = self.fc(visual.transpose(1, 2)).transpose(1, 2)
        return {"visual_feat": visual.permute(2, 0, 1), "conv_logits": logits.permute(2, 0, 1),
                "feat_len": feature_lengths(lengths, self.layout)}


class BiLSTM(nn.Module):
    """A bidirectional LSTM over ``(T, B, D)`` with per-sample lengths; ``hidden_size`` counts both directions."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 2, dropout: float = 0.3):
        super().__init__()
        self.rnn = nn.LSTM(input_size=input_size, hidden_size=hidden_size // 2, num_layers=num_layers,
                           dropout=dropout, bidirectional=True)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(features, lengths.cpu(), enforce_sorted=False)
        outputs, _ = self.rnn(packed)
        return nn.utils.rnn.pad_packed_sequence(outputs)[0]


class SequenceModel(nn.Module):
    """Frame backbone -> temporal conv (with its own classifier) -> BiLSTM -> classifier (official key names).

    ``forward(video [B, T, 3, H, W], lengths [B])`` returns the official dict: ``conv_logits`` and
    ``sequence_logits`` as ``[T', B, classes]``, and ``feat_len [B]`` (valid steps per sample).
    """

    def __init__(self, backbone: nn.Module, num_classes: int, feature_size: int = 512, hidden_size: int = 1024,
                 layout: Layout = ("K5", "P2", "K5", "P2"), weight_norm: bool = True, share_classifier: bool = True):
        super().__init__()
        self.num_classes = num_classes
        self.conv2d = backbone
        self.conv1d = TemporalConv(feature_size, hidden_size, layout)
        self.temporal_model = BiLSTM(hidden_size, hidden_size, num_layers=2)
        make = NormLinear if weight_norm else nn.Linear
        self.classifier = make(hidden_size, num_classes)
        self.conv1d.fc = self.classifier if share_classifier else make(hidden_size, num_classes)

    def forward(self, video: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        frames = self.conv2d(video, lengths)  # (B, C, T)
        conv = self.conv1d(frames, lengths)
        steps = conv["feat_len"]
        sequence = self.classifier(self.temporal_model(conv["visual_feat"], steps))
        return {"feat_len": steps, "conv_logits": conv["conv_logits"], "sequence_logits": sequence}
