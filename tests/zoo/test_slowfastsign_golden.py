"""Golden outputs of a reduced SlowFastSign (open_clip style): same weights, same input, same logits.

The model is ``slowfastsign_tiny`` (SlowFast width 16, blocks (1, 1, 2, 1), hidden 64) with 12 classes. Weights
are regenerated, not stored, with ``golden.fill_model_`` (platform-stable, well conditioned) and the CSLR rules of
``test_cslr_golden.py``, plus non-zero fusion weights (``weight_s``, ``weight_f`` start at 0 and would hide the
fusion). The input is two seeded clips of 20 and 13 frames at 64x64, normalised as SlowFastSign's loader does and
padded as the official ``collate_fn``. Stored: the eval-mode main head and the training-mode (batch statistics,
dropout off) logits of all three heads. The full-size model matches the official code bit for bit
(``benchmarks/official_parity_slowfastsign.py``); this file guards those numerics.
Regenerate ``tests/fixtures/slowfastsign_golden.npz`` with ``python tests/zoo/make_golden.py slowfastsign``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from bench.data.video import pad_batch
from bench.decoding import greedy_decode
from golden import (SeededFill, assert_well_conditioned, assert_within_tolerance, checked_inputs, checked_weights,
                    fill_model_, one_thread, perturbation_response)
from test_cslr_golden import fill_cslr
from zoo import get_card
from zoo.layers.slowfast import FuseBiAdd

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "slowfastsign_golden.npz"
CASES = ("slowfastsign_tiny",)
NUM_CLASSES = 12
FRAMES = (20, 13)
SIZE = 64
LAYOUT = ("K5", "P2", "K5", "P2")
SEED = 1
HEADS = ("conv_logits", "sequence_logits")
BRANCHES = ("main", "train_main", "train_slow", "train_fast")
RANKED = 2  # the best path: the fixture refuses near ties between the top two logits


def fill_fusion(fill: SeededFill, module: nn.Module, name: str, tensor: torch.Tensor) -> bool:
    if isinstance(module, FuseBiAdd) and name in ("weight_s", "weight_f"):
        fill.uniform_(tensor, 0.5, 1.5)
        return True
    return False


def golden_input(seed: int = SEED) -> dict[str, torch.Tensor]:
    """Two seeded uint8 clips, ``(x / 255 - 0.45) / 0.225``, padded as the official ``collate_fn`` does."""
    fill = SeededFill(seed)
    clips = [(torch.from_numpy(fill.integers(0, 256, (n, 3, SIZE, SIZE))).float() / 255.0 - 0.45) / 0.225
             for n in FRAMES]
    video, lengths, _ = pad_batch(clips, LAYOUT)
    return {"video": video, "lengths": lengths}


def build(case: str = CASES[0]) -> nn.Module:
    return fill_model_(get_card(case).build(NUM_CLASSES), [fill_fusion, fill_cslr], SEED).eval()


def run(model: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Eval-mode main head (``main__*``) and training-mode heads with dropout off (``train_{branch}__*``)."""
    video, lengths = inputs["video"], inputs["lengths"]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        with one_thread(), torch.no_grad():
            out = model.eval()(video, lengths)
            model.train()
            for module in model.modules():  # dropout off: the training-mode numbers are then deterministic
                if isinstance(module, nn.Dropout):
                    module.p = 0.0
                elif isinstance(module, nn.LSTM):
                    module.dropout = 0.0
            train = model(video, lengths)
    finally:
        model.load_state_dict(state)  # training mode updated the BatchNorm statistics
        model.eval()
    arrays = {"feat_len": out["feat_len"].numpy().astype(np.int64)}
    heads = {"main": out, "train_main": train, **{f"train_{k}": v for k, v in train["branches"].items()}}
    for prefix, head in heads.items():
        arrays.update({f"{prefix}__{name}": head[name].numpy().astype(np.float32) for name in HEADS})
    return arrays


def ranked(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The logits whose best path is checked: each sample's valid steps, every head."""
    return {key: np.concatenate([value[:n, b] for b, n in enumerate(out["feat_len"])])
            for key, value in out.items() if key.endswith(HEADS)}


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        return {k.removeprefix(f"{CASES[0]}__"): v for k, v in data.items()}


@pytest.fixture(scope="module")
def inputs(golden) -> dict[str, torch.Tensor]:
    return checked_inputs(golden_input(), golden, "slowfastsign")


@pytest.fixture(scope="module")
def model(golden) -> nn.Module:
    return checked_weights(build(), golden["weights_sha256"], "slowfastsign", CASES[0])


@pytest.fixture(scope="module")
def outputs(model, inputs) -> dict[str, np.ndarray]:
    return run(model, inputs)


def test_feature_lengths(outputs, golden):
    np.testing.assert_array_equal(outputs["feat_len"], golden["feat_len"])
    assert outputs["feat_len"].tolist() == [5, 4]  # ceil(20 / 4), ceil(13 / 4)


@pytest.mark.parametrize("head", BRANCHES)
def test_golden_logits(outputs, golden, head):
    steps = golden["feat_len"]
    assert_within_tolerance(outputs, {f"{head}__{name}": golden[f"{head}__{name}"] for name in HEADS}, head)
    for name in HEADS:
        got, want = outputs[f"{head}__{name}"], golden[f"{head}__{name}"]
        for b, n in enumerate(steps):  # the best path over each sample's valid steps
            np.testing.assert_array_equal(got[:n, b].argmax(-1), want[:n, b].argmax(-1),
                                          err_msg=f"{head} {name}: best path of sample {b} differs")
        assert greedy_decode(got.transpose(1, 0, 2), steps) == greedy_decode(want.transpose(1, 0, 2), steps)


def test_golden_case_is_well_conditioned(model, inputs):
    """A rounding-sized input change moves every head far less than the tolerance: the case holds on any CPU."""
    assert_well_conditioned(perturbation_response(lambda streams: run(model, streams), inputs), CASES[0])


def test_heads_differ(golden):
    """The three training heads are distinct computations (a wiring slip would make two of them equal)."""
    logits = [golden[f"train_{b}__sequence_logits"] for b in ("main", "slow", "fast")]
    assert all(not np.allclose(a, b) for i, a in enumerate(logits) for b in logits[i + 1:])
