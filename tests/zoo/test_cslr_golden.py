"""Golden outputs of reduced CorrNet and VAC models (open_clip style): same weights, same input, same logits.

Four variants (CorrNet, CorrNet without ``corr1`` as on CSL-Daily, VAC baseline, VAC SMKD) at widths
(8, 16, 32, 64), hidden size 32, 12 classes. Weights are regenerated, not stored, with ``golden.fill_model_``
(platform-stable, well conditioned: the correlation blocks' frame-to-frame projection is kept small, as a trained
CorrNet's is, so that the affinities stay in the sigmoid's working range). The input is two seeded clips of 20 and
13 frames at 64x64, padded as the official ``collate_fn`` does. The full-size models were checked against the
official code with ``benchmarks/official_parity.py`` (identical logits); this file guards those numerics.
Regenerate ``tests/fixtures/cslr_golden.npz`` with ``python tests/zoo/make_golden.py cslr``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from bench.data.video import pad_batch
from bench.decoding import greedy_decode
from golden import (SeededFill, assert_well_conditioned, assert_within_tolerance, checked_inputs, checked_weights,
                    fill_model_, load_golden, one_thread, perturbation_response)
from zoo import get_card
from zoo.corrnet import Correlation, CorrelationResNet18
from zoo.layers.temporal import NormLinear

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "cslr_golden.npz"
CASES = {  # name: (card, build variant)
    "corrnet": ("corrnet", {}),
    "corrnet_csl_daily": ("corrnet", {"correlation_after": (3, 4)}),
    "vac_baseline": ("vac", {"weight_norm": False, "share_classifier": False}),
    "vac_smkd": ("vac", {}),
}
NUM_CLASSES = 12
REDUCED = {"widths": (8, 16, 32, 64), "hidden_size": 32}
FRAMES = (20, 13)
SIZE = 64
LAYOUT = ("K5", "P2", "K5", "P2")
SEED = 0
HEADS = ("conv_logits", "sequence_logits")
RANKED = 2  # the best path: the fixture refuses near ties between the top two logits


def fill_cslr(fill: SeededFill, module: nn.Module, name: str, tensor: torch.Tensor) -> bool:
    """CorrNet's own parameters and the normalised classifier; everything else follows ``golden.fill_common``."""
    if isinstance(module, NormLinear):
        fill.centred_(tensor, 1.0)
    elif isinstance(module, Correlation) and name in ("weights", "weights2"):  # the branch mixing coefficients
        fill.uniform_(tensor, 0.2, 1.0)
    elif isinstance(module, CorrelationResNet18) and name == "alpha":  # zero alpha would hide the correlation
        fill.uniform_(tensor, 0.5, 1.0)
    elif isinstance(module, nn.Conv3d) and module.kernel_size == (1, 1, 1) and module.in_channels == module.out_channels:
        fill.centred_(tensor, 0.01 / math.sqrt(module.in_channels))  # down_conv2: affinities of order one
    else:
        return False
    return True


def golden_input(seed: int = SEED) -> dict[str, torch.Tensor]:
    """Two seeded clips (``x / 127.5 - 1`` of uint8 frames), padded as the official ``collate_fn`` does."""
    fill = SeededFill(seed)
    clips = [torch.from_numpy(fill.integers(0, 256, (n, 3, SIZE, SIZE))).float() / 127.5 - 1 for n in FRAMES]
    video, lengths, _ = pad_batch(clips, LAYOUT)
    return {"video": video, "lengths": lengths}


def build(case: str) -> nn.Module:
    card, variant = CASES[case]
    return fill_model_(get_card(card).build(NUM_CLASSES, **variant, **REDUCED), [fill_cslr], SEED).eval()


def run(model: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    with one_thread(), torch.no_grad():
        out = model(inputs["video"], inputs["lengths"])
    return {"feat_len": out["feat_len"].numpy().astype(np.int64),
            **{head: out[head].numpy().astype(np.float32) for head in HEADS}}


def ranked(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The logits whose best path is checked: each sample's valid steps."""
    return {head: np.concatenate([out[head][:n, b] for b, n in enumerate(out["feat_len"])]) for head in HEADS}


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    return load_golden(GOLDEN)


@pytest.fixture(scope="module")
def inputs(golden) -> dict[str, torch.Tensor]:
    return checked_inputs(golden_input(), golden, "cslr")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_outputs(case, golden, inputs):
    model = checked_weights(build(case), golden[f"{case}__weights_sha256"], "cslr", case)
    got = run(model, inputs)
    np.testing.assert_array_equal(got["feat_len"], golden[f"{case}__feat_len"])
    assert_within_tolerance(got, {head: golden[f"{case}__{head}"] for head in HEADS}, case)
    for head in HEADS:
        want = golden[f"{case}__{head}"]
        for b, steps in enumerate(got["feat_len"]):  # the best path over each sample's valid steps
            np.testing.assert_array_equal(got[head][:steps, b].argmax(-1), want[:steps, b].argmax(-1),
                                          err_msg=f"{case} {head}: best path of sample {b} differs")
        assert greedy_decode(got[head].transpose(1, 0, 2), got["feat_len"]) == \
            greedy_decode(want.transpose(1, 0, 2), got["feat_len"]), f"{case} {head}: greedy decodes differ"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_case_is_well_conditioned(case, inputs):
    """A rounding-sized input change moves the logits far less than the tolerance: the case holds on any CPU."""
    model = build(case)
    assert_well_conditioned(perturbation_response(lambda streams: run(model, streams), inputs), case)
