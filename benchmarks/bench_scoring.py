"""Scoring speed: 1,000 sentences with the python scorer (the bar: < 1 s), and the real sclite for comparison.

Sentences use the PHOENIX-2014 vocabulary when ../shared is present (else synthetic glosses), edited as in the
sclite-parity test (bench.data.synthetic_transcripts.edited_transcripts): lengths up to 100 words, repeats, every edit kind.
Run: ``python benchmarks/bench_scoring.py [--sclite]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.data.synthetic_transcripts import edited_transcripts
from bench.io.transcripts import StmSegment
from bench.scoring import find_sclite, score

VOCAB = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cslr" / "phoenix2014" / "gloss_dict.npy"


def sentences(n: int, seed: int = 0, long: bool = True):
    vocabulary = (sorted(np.load(VOCAB, allow_pickle=True).item()) if VOCAB.is_file()
                  else [f"GLOSS{i}" for i in range(1295)])
    references, hypotheses = edited_transcripts(vocabulary, n, seed, long)
    return [StmSegment(key, "1", "Signer01", 0.0, 1.79769e308, words) for key, words in references], hypotheses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sclite", action="store_true", help="also time the real sclite on the same input")
    args = parser.parse_args()
    for label, long in (("mixed lengths up to 100 words", True), ("PHOENIX-like 5-25 words", False)):
        segments, hyps = sentences(1000, long=long)
        words = sum(len(s.words) for s in segments)
        best = min(_timed(lambda: score(segments, hyps, scorer="python")) for _ in range(3))
        print(f"python scorer, 1000 sentences ({label}, {words} words): {best:.3f} s")
        if args.sclite and find_sclite():
            print(f"  real sclite on the same input: {_timed(lambda: score(segments, hyps, scorer='sclite')):.2f} s")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
