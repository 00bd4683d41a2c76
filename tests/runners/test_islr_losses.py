"""NLA-SLR's training terms against hand-written forms of the official formulas (utils/loss.py, recognition.py,
training.py), on tiny tensors; and the gloss word-vector reader on small files written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from bench.runners import islr_losses as L
from zoo.layers.nla_heads import GlossHead


def _official_word_sim_loss(logits, labels, vectors, eps, tau):
    """LabelSmoothCE(variant='word_sim', norm_type='softmax'), written out sample by sample."""
    total = 0.0
    for b, y in enumerate(labels.tolist()):
        unit = vectors / vectors.norm(dim=-1, keepdim=True)
        sims = unit[y] @ unit.T
        others = [j for j in range(len(sims)) if j != y]
        denom = sum(math.exp(sims[j] / tau) for j in others)
        target = [(1 - eps) if j == y else eps * math.exp(sims[j] / tau) / denom for j in range(len(sims))]
        log_p = torch.log_softmax(logits[b].double(), -1)
        total -= sum(t * float(lp) for t, lp in zip(target, log_p))
    return total / len(labels)


def test_language_aware_label_smoothing_against_the_official_formula():
    gen = torch.Generator().manual_seed(0)
    vectors, logits = torch.randn(6, 5, generator=gen), torch.randn(3, 6, generator=gen) * 3
    labels = torch.tensor([2, 0, 5])
    similarity = L.gloss_similarity(vectors)
    targets = L.language_aware_targets(labels, similarity, 0.2, 0.5)
    assert torch.allclose(targets.sum(-1), torch.ones(3))
    assert torch.allclose(targets[[0, 1, 2], labels], torch.tensor(0.8))
    nearest = similarity[2].clone()
    nearest[2] = -2
    assert targets[0].argsort()[-2] == nearest.argmax()  # the closest gloss gets the largest share of eps
    ours = L.soft_cross_entropy(logits, targets)
    assert float(ours) == pytest.approx(_official_word_sim_loss(logits, labels, vectors, 0.2, 0.5), rel=1e-6)
    # with mixup every head's loss is lam L(y_a) + (1 - lam) L(y_b)
    mix = L.Mixup(0.3, torch.tensor([1, 2, 0]), labels, labels[[1, 2, 0]], True)
    mixed = L.mixed_loss(lambda y: L.soft_cross_entropy(logits, L.language_aware_targets(y, similarity)), mix)
    want = 0.3 * _official_word_sim_loss(logits, labels, vectors, 0.2, 0.5) + \
        0.7 * _official_word_sim_loss(logits, labels[[1, 2, 0]], vectors, 0.2, 0.5)
    assert float(mixed) == pytest.approx(want, rel=1e-6)


def test_uniform_smoothing_puts_eps_over_n_minus_1_off_the_label():
    labels, logits = torch.tensor([1, 3]), torch.randn(2, 5)
    targets = L.uniform_targets(labels, 5, 0.2)
    assert torch.allclose(targets, torch.tensor([[0.05, 0.8, 0.05, 0.05, 0.05], [0.05, 0.05, 0.05, 0.8, 0.05]]))
    want = -(torch.log_softmax(logits, -1) * targets).sum() / 2  # LabelSmoothCE(lb_smooth=0.2, variant=None)
    assert torch.allclose(L.soft_cross_entropy(logits, targets), want)


def test_mixup_mixes_every_stream_alike():
    streams = [torch.randn(4, 2, 3), None, torch.randn(4, 5)]
    labels = torch.tensor([0, 1, 2, 3])
    mixed, mix = L.mixup_streams(streams, labels, p=1.0, alpha=0.8, rng=np.random.default_rng(0))
    assert mix.applied and 0 < mix.lam < 1 and sorted(mix.index.tolist()) == [0, 1, 2, 3]
    for x, m in zip(streams, mixed):
        assert (m is None) if x is None else torch.allclose(m, mix.lam * x + (1 - mix.lam) * x[mix.index])
    assert torch.equal(mix.y_b, labels[mix.index])
    unmixed, none = L.mixup_streams(streams, labels, p=0.0, alpha=0.8, rng=np.random.default_rng(0))
    assert not none.applied and unmixed[0] is streams[0] and torch.equal(none.y_a, none.y_b)
    rng = np.random.default_rng(1)
    share = np.mean([L.mixup_streams(streams, labels, 0.75, 0.8, rng)[1].applied for _ in range(400)])
    assert 0.68 < share < 0.82  # p 0.75


def _official_dual_targets(topk, labels, num_classes, lam=None, y_a=None, y_b=None):
    """LabelSmoothCE(variant='dual...') targets, written as the official code builds them."""
    b, k = topk.shape
    t = torch.zeros(b * k, num_classes)
    rows, flat = torch.arange(b * k), topk.reshape(-1)
    if lam is None:
        t[rows, labels.repeat_interleave(k)] = 0.5
        t[rows, flat] += 0.5
    else:
        t[rows, flat] += 0.5
        t[rows, y_a.repeat_interleave(k)] += lam * 0.5
        t[rows, y_b.repeat_interleave(k)] += (1 - lam) * 0.5
    return t.reshape(b, k, num_classes)


def test_inter_modality_mixup_against_the_official_formula():
    torch.manual_seed(0)
    head = GlossHead(4, 6, word_dim=3)
    features, vectors, labels = torch.randn(2, 4), torch.randn(6, 3), torch.tensor([4, 1])
    logits, _ = head(features)
    candidates = L.inter_modality_candidates(logits, labels)  # topk = N: the label, then every other class
    assert candidates.shape == (2, 6) and torch.equal(candidates[:, 0], labels)
    assert all(sorted(row.tolist()) == list(range(6)) for row in candidates)
    others = logits.detach().clone()
    others[[0, 1], labels] = -1e9
    assert torch.equal(candidates[:, 1:], others.argsort(-1, descending=True)[:, :5])
    fused = head.word_fused_logits(features, vectors, candidates)
    mapped = vectors @ head.word_emb_mapper.weight.T + head.word_emb_mapper.bias
    want = (features[:, None] + mapped[candidates]) @ head.word_fused_gloss_output_layer.weight.T + \
        head.word_fused_gloss_output_layer.bias
    assert torch.allclose(fused, want, atol=1e-6)
    for mix, official in [(L.Mixup.none(labels), _official_dual_targets(candidates, labels, 6)),
                          (L.Mixup(0.25, torch.tensor([1, 0]), labels, labels[[1, 0]], True),
                           _official_dual_targets(candidates, labels, 6, 0.25, labels, labels[[1, 0]]))]:
        assert torch.allclose(L.inter_modality_targets(candidates, mix, 6), official)
        loss = L.inter_modality_loss(fused, candidates, mix)
        assert torch.allclose(loss, -(torch.log_softmax(fused, -1) * official).sum() / (2 * 6))
    assert L.inter_modality_candidates(logits, labels, k=3).shape == (2, 3)


def test_schedules_and_the_gloss_ema():
    assert L.inter_modality_weight(0) == 1.0 and L.inter_modality_weight(50) == pytest.approx(0.5)
    assert L.inter_modality_weight(100) == pytest.approx(0.0) and L.inter_modality_weight(25, 2.0) == \
        pytest.approx(1 + math.cos(math.pi / 4))
    assert L.ema_beta(0, 100) == pytest.approx(0.99) and L.ema_beta(100, 100) == pytest.approx(1.0)
    assert L.ema_beta(50, 100) == pytest.approx(0.995)
    average, current = nn.Linear(3, 2), nn.Linear(3, 2)
    before = [p.clone() for p in average.parameters()]
    L.update_ema_(average, current, 0.99)
    for old, new, cur in zip(before, average.parameters(), current.parameters()):
        assert torch.allclose(new, 0.99 * old + 0.01 * cur)  # update_moving_average


class _TwoHeads(nn.Module):
    """The interface nla_slr_loss reads (head names, heads), with one language head and one without."""

    def __init__(self):
        super().__init__()
        self.a, self.b = GlossHead(4, 5, word_dim=3), GlossHead(4, 5)

    def head_names(self):
        return ("a", "b")

    def head(self, name):
        return getattr(self, name)


def test_total_loss_sums_every_head_and_weights_the_language_terms():
    torch.manual_seed(1)
    model, labels, vectors = _TwoHeads(), torch.tensor([0, 3]), torch.randn(5, 3)
    features = {"a": torch.randn(2, 4), "b": torch.randn(2, 4)}
    out = {name: model.head(name)(features[name])[0] for name in ("a", "b")}
    out["features"] = features
    similarity = L.gloss_similarity(vectors)
    total, values = L.nla_slr_loss(model, out, labels, L.Mixup.none(labels), epoch=50, similarity=similarity,
                                   word_vectors=vectors)
    rec = sum(L.soft_cross_entropy(out[n], L.language_aware_targets(labels, similarity)) for n in ("a", "b"))
    cands = L.inter_modality_candidates(out["a"], labels)
    imm = L.inter_modality_loss(model.a.word_fused_logits(features["a"], vectors, cands), cands, L.Mixup.none(labels))
    assert torch.allclose(total, rec + 0.5 * imm)
    assert set(values) == {"recognition/a", "recognition/b", "inter_modality/a", "inter_modality_weight"}
    assert L.update_gloss_ema_(model, 0.99) == 1  # only the head with language layers


# --- word vectors ---------------------------------------------------------------------------------------------
