"""Beam search speed: 540 sequences of 50-100 frames over 1,296 classes (PHOENIX-2014's vocabulary), one core.

The bar: <= 2.7 s in all (<= 5 ms a sequence); the C++ ctcdecode takes 4.2-4.6 s for this with one process on
the 2-core development machine. Three kinds of posteriors: CTC-like (blank-dominant frames with a gloss burst
every few frames, what trained CSLR models emit), softmax of N(0, 1) logits, and near-uniform softmax (N(0, 0.1)
logits: float32 score ties everywhere, the hardest case for exact tie handling).
Run: ``python benchmarks/bench_beam_search.py [--check 40]``.
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, as the bar says
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from bench.decoding import beam_search  # noqa: E402
from bench.decoding.beam_exact import decode_exact  # noqa: E402


def softmax_posteriors(batch: int, scale: float, classes: int = 1296, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(50, 101, size=batch)
    logits = rng.standard_normal((batch, int(lengths.max()), classes)).astype(np.float32) * scale
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))
    return (probs / probs.sum(axis=2, keepdims=True)).astype(np.float32), lengths


def ctc_like_posteriors(batch: int = 540, classes: int = 1296, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(50, 101, size=batch)
    logits = rng.standard_normal((batch, int(lengths.max()), classes)).astype(np.float32) * 2.0
    for b, length in enumerate(lengths):
        for k, gloss in enumerate(rng.integers(1, classes, size=length // 4)):
            start = 4 * k + int(rng.integers(0, 2))
            logits[b, start:start + 2, gloss] += rng.uniform(6, 12)
        logits[b, :, 0] += rng.uniform(4, 9, size=logits.shape[1]).astype(np.float32)
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))
    return (probs / probs.sum(axis=2, keepdims=True)).astype(np.float32), lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=540)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", type=int, default=0, help="also compare this many sequences with the exact replay")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    kinds = {
        "CTC-like": ctc_like_posteriors(args.batch),
        "softmax N(0,1)": softmax_posteriors(args.batch, 1.0),
        "near-uniform": softmax_posteriors(args.batch, 0.1),
    }
    for name, (probs, lengths) in kinds.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            results = beam_search(probs, lengths)
            times.append(time.perf_counter() - start)
        print(f"{name:15s} {args.batch} sequences, {lengths.min()}-{lengths.max()} frames, {probs.shape[2]} classes: "
              f"first run {times[0]:.2f} s, best of {args.repeat} {min(times):.2f} s "
              f"({1000 * min(times) / args.batch:.2f} ms a sequence)")
        if args.check:
            start = time.perf_counter()
            for b in range(args.check):
                exact = [(beam.labels, beam.score) for beam in decode_exact(probs[b, : lengths[b]])]
                assert results[b] == exact, f"sequence {b} differs from the exact replay"
            per = (time.perf_counter() - start) / args.check
            print(f"{'':15s} identical to the step-for-step replay on {args.check} sequences "
                  f"(which takes {1000 * per:.1f} ms a sequence)")

if __name__ == "__main__":
    main()
