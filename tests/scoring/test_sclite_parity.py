"""The python scorer equals the real sclite count for count (the bar: 1,000 random pairs, PHOENIX vocabulary)."""

import random

import numpy as np
import pytest

from bench.io.transcripts import StmSegment
from bench.scoring import score

STM_END = 1.79769e308


def _random_pairs(vocabulary, n, seed):
    rng = random.Random(seed)
    segments, hypotheses = [], {}
    for i in range(n):
        length = rng.choice([1, 2, 3, 5, 8, 12, 15, 20, 30, 60, 100])  # up to long sentences
        pool = rng.sample(vocabulary, rng.choice([3, 10, 50]))  # small pools give repeated glosses
        ref = [rng.choice(pool) for _ in range(length)]
        if rng.random() < 0.05:
            hyp = []  # an empty hypothesis: scored as [EMPTY]
        elif rng.random() < 0.1:
            hyp = [rng.choice(pool) for _ in range(rng.randint(1, 2 * length))]
        else:
            hyp = list(ref)
            for _ in range(rng.randint(0, max(1, length // 2))):
                op = rng.random()
                if op < 0.3 and hyp:
                    hyp[rng.randrange(len(hyp))] = rng.choice(pool)
                elif op < 0.6 and hyp:
                    del hyp[rng.randrange(len(hyp))]
                else:
                    hyp.insert(rng.randint(0, len(hyp)), rng.choice(pool))
        key = f"{i:04d}_sample"
        segments.append(StmSegment(key, "1", "Signer01", 0.0, STM_END, tuple(ref)))
        hypotheses[key] = hyp
    return segments, hypotheses


def test_python_equals_sclite_on_1000_random_pairs(reference, sclite_binary):
    vocabulary = sorted(np.load(reference / "cslr" / "phoenix2014" / "gloss_dict.npy", allow_pickle=True).item())
    segments, hypotheses = _random_pairs(vocabulary, 1000, seed=2)
    ours = score(segments, hypotheses, scorer="python")
    real = score(segments, hypotheses, scorer="sclite")
    assert ours.sentences == real.sentences  # every per-sentence C/S/D/I, in reference order
    assert ours.wer == real.wer
    assert sum(1 for s in ours.sentences if s.ref_words >= 60) > 100
    assert sum(1 for key, h in hypotheses.items() if not h) > 20


def test_sclite_missing_is_an_error_not_a_wer_of_100(monkeypatch, tmp_path):
    from bench.scoring import ScliteNotFound

    monkeypatch.setenv("SCLITE", str(tmp_path / "nowhere" / "sclite"))
    segments = [StmSegment("a", "1", "s", 0.0, STM_END, ("A",))]
    with pytest.raises(ScliteNotFound, match="apt-get install sctk"):
        score(segments, {"a": ["A"]}, scorer="sclite")
