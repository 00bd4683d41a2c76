"""``beam_search``: ctcdecode's CTC prefix beam search as the CSLR papers call it, without ctcdecode."""

from __future__ import annotations

import numpy as np

from bench.decoding.beam_exact import TimedBeam, decode_exact
from bench.decoding.beam_fast import decode_fast
from bench.decoding.greedy import _as_array

Beams = list[tuple[list[int], float]]


def beam_search(probs, lengths=None, beam_width: int = 10, blank: int = 0, cutoff_top_n: int = 40,
                cutoff_prob: float = 1.0, backend: str = "bench") -> list[Beams]:
    """Decode ``probs [B, T, C]`` (softmax outputs) with ``lengths [B]``; per item, beams best first.

    Each beam is ``(labels, score)``: the CTC-collapsed labels and ctcdecode's score, -log P(labels) as float32.
    ``backend="bench"`` reproduces ctcdecode 1.0.3 exactly (tokens, scores and order; ties between equal
    scores and equal last labels are broken the way libstdc++'s introsort leaves them, as ctcdecode's are);
    ``backend="ctcdecode"`` calls the real package if it is installed.
    """
    probs, lengths = _inputs(probs, lengths)
    if backend == "ctcdecode":
        from bench.decoding.ctcdecode_backend import decode_with_ctcdecode

        return decode_with_ctcdecode(probs, lengths, beam_width, blank, cutoff_top_n, cutoff_prob)
    if backend != "bench":
        raise ValueError(f"unknown beam-search backend {backend!r}: expected 'bench' or 'ctcdecode'")
    if cutoff_prob >= 1.0:
        return decode_fast(probs, lengths, beam_width, blank, cutoff_top_n)
    # a mass cut-off is rare (the papers keep 1.0): replay ctcdecode step for step
    return [[(beam.labels, beam.score) for beam in decode_exact(probs[b, : lengths[b]], beam_width, blank,
                                                                  cutoff_top_n, cutoff_prob)]
            for b in range(probs.shape[0])]


def beam_search_with_timesteps(probs, lengths=None, beam_width: int = 10, blank: int = 0, cutoff_top_n: int = 40,
                               cutoff_prob: float = 1.0) -> list[list[TimedBeam]]:
    """Like :func:`beam_search`, with ctcdecode's per-label timesteps (the frame of each label's peak).

    Runs the step-for-step replay for every sequence: exact, about thirty times slower than ``beam_search``.
    """
    probs, lengths = _inputs(probs, lengths)
    return [decode_exact(probs[b, : lengths[b]], beam_width, blank, cutoff_top_n, cutoff_prob)
            for b in range(probs.shape[0])]


def _inputs(probs, lengths) -> tuple[np.ndarray, np.ndarray]:
    probs = _as_array(probs)
    if probs.ndim != 3:
        raise ValueError(f"beam_search expects probabilities shaped (batch, frames, classes); got {probs.shape}")
    probs = np.ascontiguousarray(probs, dtype=np.float32)
    batch, frames, _ = probs.shape
    if lengths is None:
        lengths = np.full(batch, frames, dtype=np.int64)
    lengths = _as_array(lengths).astype(np.int64).reshape(-1)
    if lengths.shape[0] != batch:
        raise ValueError(f"beam_search got {lengths.shape[0]} lengths for a batch of {batch}")
    if (lengths < 0).any():
        raise ValueError(f"beam_search got negative lengths: {lengths[lengths < 0].tolist()}")
    return probs, np.minimum(lengths, frames)
