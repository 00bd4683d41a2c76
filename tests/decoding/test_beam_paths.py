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
        exact = [(beam.labels, beam.score) for beam in decode_exact(probs[b, : lengths[b]])]
        if fast[b] is not None:  # None: handed to the exact path because of ties
            assert fast[b] == exact
        assert beam_search(probs[b : b + 1], lengths[b : b + 1])[0] == exact


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
