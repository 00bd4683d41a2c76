"""The fast vectorised path equals the step-for-step replay; inputs are validated."""

import numpy as np
import pytest

from bench.decoding import beam_search
from bench.decoding.beam_exact import decode_exact
from bench.decoding.beam_fast import decode_fast


def _posteriors(rng, batch, frames, classes):
    logits = rng.standard_normal((batch, frames, classes)).astype(np.float32) * 2.0
    logits[:, :, 0] += rng.uniform(2, 6, size=(batch, frames)).astype(np.float32)
    for b in range(batch):
        for t in range(0, frames, 4):
            logits[b, t, rng.integers(1, classes)] += 8.0
    p = np.exp(logits - logits.max(axis=2, keepdims=True))
    return (p / p.sum(axis=2, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("classes", [6, 40, 41, 300])
def test_fast_path_equals_exact_replay(classes):
    rng = np.random.default_rng(classes)
    probs = _posteriors(rng, 6, 30, classes)
    lengths = np.array([30, 29, 17, 1, 0, 30])
    fast = decode_fast(probs, lengths)
    for b in range(len(lengths)):
        assert fast[b] == [(beam.labels, beam.score) for beam in decode_exact(probs[b, : lengths[b]])]


@pytest.mark.parametrize("seed", range(12))
def test_fast_path_equals_exact_replay_with_many_ties(seed):
    # near-uniform or quantised posteriors: equal scores with equal last labels everywhere, so the fast path
    # has to rebuild ctcdecode's trie order and emulate nth_element to pick the same prefixes
    rng = np.random.default_rng(100 + seed)
    classes = int(rng.choice([2, 3, 5, 41, 60]))
    frames = int(rng.integers(2, 30))
    logits = rng.standard_normal((3, frames, classes)) * float(rng.choice([0.01, 0.1, 1.0]))
    if seed % 2:
        logits = np.round(logits * 2) / 2  # exactly equal probabilities
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))
    probs = (probs / probs.sum(axis=2, keepdims=True)).astype(np.float32)
    lengths = rng.integers(0, frames + 1, size=3)
    fast = decode_fast(probs, lengths)
    for b in range(3):
        assert fast[b] == [(beam.labels, beam.score) for beam in decode_exact(probs[b, : lengths[b]])]


def test_empty_sequence_is_the_empty_prefix():
    probs = np.full((1, 5, 4), 0.25, dtype=np.float32)
    assert beam_search(probs, [0]) == [[([], -0.0)]]


def test_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    probs = _posteriors(rng, 2, 12, 50)
    assert beam_search(torch.from_numpy(probs), torch.tensor([12, 7])) == beam_search(probs, np.array([12, 7]))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="batch, frames, classes"):
        beam_search(np.zeros((4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="2 lengths for a batch of 1"):
        beam_search(np.zeros((1, 5, 3), dtype=np.float32), [1, 2])
