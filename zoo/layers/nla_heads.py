"""NLA-SLR's classification head (``SepConvVisualHead`` as configured by every released model).

A linear classifier over one feature vector per clip (``gloss_output_layer``). With language (the NLA-SLR
configs' ``contras_setting: dual_ema_cosine``), two more layers serve inter-modality mixup in training:
``word_emb_mapper`` maps a 300-d gloss word vector to the visual feature size and
``word_fused_gloss_output_layer`` classifies the visual feature plus a mapped word vector. They do not take part
in prediction (the official eval forward computes their logits for the top 5 classes but nothing reads them);
the gloss classifier is kept as an EMA of the word-fused one during training (``bench.runners.islr_losses``).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from zoo.layers.s3d import clip_feature

WORD_DIM = 300  # fastText crawl-300d-2M-subword vectors


class GlossHead(nn.Module):
    """``logits = gloss_output_layer(clip feature)``; ``word_dim`` adds the language layers (None: without)."""

    def __init__(self, in_features: int, num_classes: int, word_dim: int | None = None):
        super().__init__()
        self.gloss_output_layer = nn.Linear(in_features, num_classes)
        self.word_dim = word_dim
        if word_dim:
            self.word_emb_mapper = nn.Linear(word_dim, in_features)
            self.word_fused_gloss_output_layer = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits [B, N], clip feature [B, C])`` for ``x`` as the official head receives it: a backbone map
        ``[B, C, T, H, W]``, pooled steps ``[B, T', C]`` or a clip feature ``[B, C]``."""
        feature = clip_feature(x)
        return self.gloss_output_layer(feature), feature

    def word_fused_logits(self, feature: torch.Tensor, word_vectors: torch.Tensor,
                          classes: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, K, N]`` of ``feature [B, C] + word_emb_mapper(word_vectors)[classes]`` for ``classes [B, K]``.

        ``word_vectors [N, word_dim]`` is the gloss vector table in class order (not a parameter: it is not in the
        checkpoints, the official code reads it from a pickle at start-up).
        """
        if not self.word_dim:
            raise ValueError("this head has no language layers (built with word_dim=None, e.g. the NMFs-CSL model)")
        mapped = self.word_emb_mapper(word_vectors)  # [N, C]
        batch, k = classes.shape
        fused = feature.unsqueeze(1) + mapped.index_select(0, classes.reshape(-1)).reshape(batch, k, -1)
        return self.word_fused_gloss_output_layer(fused)
