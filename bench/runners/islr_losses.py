"""NLA-SLR's training terms (``modelling/recognition.py``, ``utils/loss.py``, ``training.py``) as pure functions.

- language-aware label smoothing: target ``1 - eps`` on the label, ``eps * softmax_{j != y}(cos(e_y, e_j) / tau)``
  elsewhere (``label_smooth: word_emb_sim_softmax_0.2_0.5``); uniform smoothing puts ``eps / (N - 1)`` off the
  label (NMFs-CSL, ``label_smooth: 0.2``);
- mixup of the input streams (``mixup: 0.75_0.8``): with probability p, one lambda ~ Beta(alpha, alpha) and one
  permutation for every stream; each head's loss becomes ``lam L(y_a) + (1 - lam) L(y_b)``;
- inter-modality mixup (``contras_setting: dual_ema_cosine``): the clip feature plus the mapped word vector of
  each candidate class (the label first, then every other class by descending logit; ``topk`` = all classes in
  the configs), classified by the word-fused layer, target half the label(s) and half the candidate, weighted
  ``0.5 (1 + cos(pi epoch / 100))``;
- after each optimiser step, the gloss classifier becomes an EMA of the word-fused one, beta from 0.99 to 1.

Every head of the four-stream model gets the recognition loss; every head with language layers the inter-modality
loss (:func:`nla_slr_loss`). The gloss word vectors are read by :func:`bench.io.word_vectors.read_word_vectors` (fastText ``.vec``,
fastText ``.bin`` without the fasttext package, or the official ``{gloss: vector}`` pickle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def gloss_similarity(word_vectors: torch.Tensor) -> torch.Tensor:
    """Cosine similarities ``[N, N]`` of the gloss vectors ``[N, D]`` (class order)."""
    unit = F.normalize(word_vectors.float(), dim=-1)
    return unit @ unit.T


def language_aware_targets(labels: torch.Tensor, similarity: torch.Tensor, eps: float = 0.2,
                           tau: float = 0.5) -> torch.Tensor:
    """Soft targets ``[B, N]``: ``1 - eps`` on the label, ``eps * softmax_{j != y}(sim[y, j] / tau)`` elsewhere."""
    rows = torch.arange(labels.shape[0])
    targets = similarity[labels].clone()
    targets[rows, labels] = float("-inf")  # the label takes no part in the softmax over the other classes
    targets = F.softmax(targets / tau, dim=-1) * eps
    targets[rows, labels] = 1.0 - eps
    return targets


def uniform_targets(labels: torch.Tensor, num_classes: int, eps: float) -> torch.Tensor:
    """The official uniform smoothing: ``1 - eps`` on the label, ``eps / (N - 1)`` on each other class."""
    targets = torch.full((labels.shape[0], num_classes), eps / (num_classes - 1))
    return targets.scatter_(1, labels.unsqueeze(1), 1.0 - eps)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``-sum(targets * log_softmax(logits))`` over classes, averaged over every leading position (fp32)."""
    per_item = -(F.log_softmax(logits.float(), dim=-1) * targets.to(logits.device)).sum(dim=-1)
    return per_item.sum() / per_item.numel()


@dataclass(frozen=True)
class Mixup:
    """What one batch's mixup did: ``lam * x + (1 - lam) * x[index]`` with labels ``y_a`` (own) and ``y_b``."""

    lam: float
    index: torch.Tensor
    y_a: torch.Tensor
    y_b: torch.Tensor
    applied: bool

    @staticmethod
    def none(labels: torch.Tensor) -> "Mixup":
        return Mixup(1.0, torch.arange(labels.shape[0]), labels, labels, False)


def mixup_streams(streams: Sequence[torch.Tensor | None], labels: torch.Tensor, p: float, alpha: float,
                  rng: np.random.Generator) -> tuple[list[torch.Tensor | None], Mixup]:
    """Mix every stream with one lambda and one permutation, with probability ``p`` (``rng`` draws all three)."""
    if p <= 0 or rng.random() >= p:
        return list(streams), Mixup.none(labels)
    lam = float(rng.beta(alpha, alpha))
    index = torch.from_numpy(rng.permutation(labels.shape[0])).to(labels.device)
    mixed = [None if x is None else lam * x + (1.0 - lam) * x[index] for x in streams]
    return mixed, Mixup(lam, index, labels, labels[index], True)


def mixed_loss(loss_of_labels, mixup: Mixup) -> torch.Tensor:
    """``lam * L(y_a) + (1 - lam) * L(y_b)`` for ``loss_of_labels(labels)``, as every official head loss."""
    return mixup.lam * loss_of_labels(mixup.y_a) + (1.0 - mixup.lam) * loss_of_labels(mixup.y_b)


def inter_modality_candidates(logits: torch.Tensor, labels: torch.Tensor, k: int | None = None) -> torch.Tensor:
    """``[B, K]`` classes per sample: the label, then the ``K - 1`` others by descending logit (``K``: all)."""
    k = logits.shape[-1] if k is None else k
    others = logits.detach().clone()
    others[torch.arange(labels.shape[0]), labels] = float("-inf")
    order = torch.argsort(others, dim=1, descending=True)[:, :k - 1]
    return torch.cat([labels.unsqueeze(1), order], dim=1)


def inter_modality_targets(candidates: torch.Tensor, mixup: Mixup, num_classes: int) -> torch.Tensor:
    """``[B, K, N]``: half on each candidate, half on the label (split ``lam``/``1 - lam`` when mixed)."""
    batch, k = candidates.shape
    targets = torch.zeros(batch * k, num_classes)
    rows = torch.arange(batch * k)
    targets[rows, candidates.reshape(-1).cpu()] += 0.5
    targets[rows, mixup.y_a.cpu().repeat_interleave(k)] += mixup.lam * 0.5
    targets[rows, mixup.y_b.cpu().repeat_interleave(k)] += (1.0 - mixup.lam) * 0.5
    return targets.reshape(batch, k, num_classes)


def inter_modality_loss(word_fused_logits: torch.Tensor, candidates: torch.Tensor, mixup: Mixup) -> torch.Tensor:
    """Soft cross-entropy of the word-fused logits ``[B, K, N]`` against :func:`inter_modality_targets`."""
    return soft_cross_entropy(word_fused_logits, inter_modality_targets(candidates, mixup, word_fused_logits.shape[-1]))


def inter_modality_weight(epoch: int, weight: float = 1.0) -> float:
    """``0.5 * weight * (1 + cos(pi * epoch / 100))``: the official schedule (100 hard-coded, not the epochs)."""
    return 0.5 * weight * (1.0 + math.cos(epoch * math.pi / 100))


def ema_beta(epoch: int, total_epochs: int, beta: float = 0.99) -> float:
    """``1 - (1 - beta) * (cos(pi * epoch / total) + 1) / 2``: ``beta`` at the start, 1 at the end."""
    return 1.0 - (1.0 - beta) * (math.cos(math.pi * epoch / total_epochs) + 1.0) / 2.0


@torch.no_grad()
def update_ema_(average: nn.Module, current: nn.Module, beta: float) -> None:
    """``average <- beta * average + (1 - beta) * current``, parameter by parameter (after the optimiser step)."""
    for avg, cur in zip(average.parameters(), current.parameters()):
        avg.copy_(beta * avg + (1.0 - beta) * cur)


def update_gloss_ema_(model: nn.Module, beta: float) -> int:
    """The official EMA step for every head with language layers; returns how many heads it updated."""
    heads = [model.head(name) for name in model.head_names() if getattr(model.head(name), "word_dim", None)]
    for head in heads:
        update_ema_(head.gloss_output_layer, head.word_fused_gloss_output_layer, beta)
    return len(heads)


def nla_slr_loss(model: nn.Module, out: Mapping, labels: torch.Tensor, mixup: Mixup, epoch: int, *,
                 smoothing: str = "language", eps: float = 0.2, tau: float = 0.5,
                 similarity: torch.Tensor | None = None, word_vectors: torch.Tensor | None = None,
                 inter_modality: float = 1.0, topk: int | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The official total loss of a training forward (``out`` from ``model(..., return_features=True)``).

    Sum over the model's heads of the mixup-weighted recognition loss (``smoothing``: "language" with
    ``similarity``, "uniform", or "none"), plus ``inter_modality_weight(epoch, inter_modality)`` times the sum of
    the inter-modality losses of the heads with language layers (``word_vectors`` in class order).
    """
    num_classes = out[model.head_names()[0]].shape[-1]

    def recognition(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if smoothing == "language":
            return soft_cross_entropy(logits, language_aware_targets(y.cpu(), similarity.cpu(), eps, tau))
        if smoothing == "uniform":
            return soft_cross_entropy(logits, uniform_targets(y.cpu(), num_classes, eps))
        return F.cross_entropy(logits.float(), y)

    total, values, language = 0.0, {}, 0.0
    for name in model.head_names():
        term = mixed_loss(lambda y: recognition(out[name], y), mixup)
        total, values[f"recognition/{name}"] = total + term, float(term.detach())
        head = model.head(name)
        if inter_modality and getattr(head, "word_dim", None):
            candidates = inter_modality_candidates(out[name], labels, topk)
            fused = head.word_fused_logits(out["features"][name], word_vectors.to(out[name].device), candidates)
            term = inter_modality_loss(fused, candidates, mixup)
            language, values[f"inter_modality/{name}"] = language + term, float(term.detach())
    weight = inter_modality_weight(epoch, inter_modality)
    total = total + weight * language
    values["inter_modality_weight"] = weight
    return total, values


# --- gloss word vectors ------------------------------------------------------------------------------------------
# The official code reads a pickle {gloss: float32 [300]} made outside the repository; its authors describe it as
# fastText crawl-300d-2M-subword vectors looked up for each gloss (SLRT issue #9). How multi-word glosses were
# embedded is not published: ``multiword`` says which rule to use where the file does not settle it.
