"""Beam search against 104 golden cases (272 sequences) decoded by the real ctcdecode 1.0.3."""

import json

import numpy as np
import pytest

from bench.decoding import beam_search, beam_search_with_timesteps


def _cases(reference):
    manifest = json.loads((reference / "ctc" / "manifest.json").read_text())
    return manifest["cases"]


@pytest.fixture(scope="module")
def golden(reference):
    if not (reference / "ctc" / "manifest.json").is_file():
        pytest.skip("no golden CTC cases in ../shared/reference/ctc")
    out = []
    for case in _cases(reference):
        arrays = np.load(reference / "ctc" / case["npz"])
        expected = json.loads((reference / "ctc" / case["json"]).read_text())
        out.append((case["case_id"], case["kind"], arrays["probs"], arrays["seq_lens"], expected["items"]))
    return out


def _same_beams(got, expected, timesteps=False):
    if len(got) != len(expected):
        return False
    for beam, want in zip(got, expected):
        labels, score = beam[0], beam[1]
        if list(labels) != want["tokens"]:
            return False
        if timesteps and list(beam[2]) != want["timesteps"]:
            return False
        # scores are float32 -log P: identical bits, which is stricter than the 1e-6 relative bar
        if np.float32(score) != np.float32(want["score"]):
            return False
    return True


def test_every_golden_sequence_identical(golden):
    mismatches = []
    total = 0
    for case_id, kind, probs, lengths, items in golden:
        results = beam_search(probs, lengths)
        for item in items:
            total += 1
            if not _same_beams(results[item["item"]], item["beams"]):
                mismatches.append((case_id, item["item"], kind))
    assert total == 272
    assert mismatches == []  # deliberate ties (ties_*) included: introsort's tie order is reproduced too


def test_every_golden_sequence_with_timesteps(golden):
    mismatches = []
    for case_id, _, probs, lengths, items in golden:
        results = beam_search_with_timesteps(probs, lengths)
        for item in items:
            if not _same_beams(results[item["item"]], item["beams"], timesteps=True):
                mismatches.append((case_id, item["item"]))
    assert mismatches == []


def test_top_beam_relative_score_bar(golden):
    worst = 0.0
    for _, kind, probs, lengths, items in golden:
        if kind.startswith("ties"):
            continue
        results = beam_search(probs, lengths)
        for item in items:
            want = item["top1"]["score"]
            got = results[item["item"]][0][1]
            if want and abs(want) < 1e38:
                worst = max(worst, abs(got - want) / abs(want))
    assert worst <= 1e-6
