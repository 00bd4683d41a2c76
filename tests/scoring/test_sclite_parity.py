"""The python scorer equals the real sclite count for count (the bar: 1,000 random pairs, PHOENIX vocabulary)."""

import numpy as np
import pytest

from bench.data.synthetic_transcripts import edited_transcripts
from bench.io.transcripts import StmSegment
from bench.scoring import score

STM_END = 1.79769e308


def test_python_equals_sclite_on_1000_random_pairs(reference, sclite_binary):
    vocabulary = sorted(np.load(reference / "cslr" / "phoenix2014" / "gloss_dict.npy", allow_pickle=True).item())
    references, hypotheses = edited_transcripts(vocabulary, 1000, seed=2)
    segments = [StmSegment(key, "1", "Signer01", 0.0, STM_END, words) for key, words in references]
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
