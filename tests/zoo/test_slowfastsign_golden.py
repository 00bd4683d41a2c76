"""Golden outputs of a reduced SlowFastSign (open_clip style): same weights, same input, same logits.

The model is ``slowfastsign_tiny`` (SlowFast width 16, blocks (1, 1, 2, 1), hidden 64) with 12 classes. Weights
are regenerated, not stored: every tensor is filled from one seeded generator in sorted module-name order, with
the rules of ``test_cslr_golden.py`` (random BatchNorm statistics) and non-zero fusion weights (``weight_s``,
``weight_f`` start at 0 and would hide the fusion). The input is two seeded clips of 20 and 13 frames at 64x64,
normalised as SlowFastSign's loader does and padded as the official ``collate_fn``. Stored: the eval-mode main head
and the training-mode (batch statistics, dropout off) logits of all three heads. The full-size model matches the
official code bit for bit (``benchmarks/official_parity_slowfastsign.py``); this file guards those numerics.
Regenerate ``tests/fixtures/slowfastsign_golden.npz`` with ``python tests/zoo/make_slowfastsign_golden.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from bench.data.video import pad_batch
from bench.decoding import greedy_decode
from test_cslr_golden import _fill, weights_sha256
from zoo import get_card
from zoo.layers.slowfast import FuseBiAdd

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "slowfastsign_golden.npz"
NUM_CLASSES = 12
FRAMES = (20, 13)
SIZE = 64
LAYOUT = ("K5", "P2", "K5", "P2")
SEED = 0
HEADS = ("conv_logits", "sequence_logits")
RELATIVE_TOLERANCE = 1e-5


@torch.no_grad()
def golden_weights_(model: nn.Module, seed: int = SEED) -> nn.Module:
    """Every parameter and statistic from one seeded generator, module by module in sorted-name order."""
    generator = torch.Generator().manual_seed(seed)
    seen: set[int] = set()
    for _, module in sorted(model.named_modules(remove_duplicate=False), key=lambda item: item[0]):
        if id(module) in seen:  # the shared classifiers are filled once, under their first name in sorted order
            continue
        seen.add(id(module))
        for name, tensor in sorted([*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]):
            if isinstance(module, FuseBiAdd) and name in ("weight_s", "weight_f"):
                tensor.uniform_(0.5, 1.5, generator=generator)
            else:
                _fill(module, name, tensor, generator)
    return model


def golden_input(seed: int = SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Two seeded uint8 clips, ``(x / 255 - 0.45) / 0.225``, padded as the official ``collate_fn`` does."""
    generator = torch.Generator().manual_seed(seed)
    clips = [(torch.randint(0, 256, (n, 3, SIZE, SIZE), generator=generator).float() / 255.0 - 0.45) / 0.225
             for n in FRAMES]
    video, lengths, _ = pad_batch(clips, LAYOUT)
    return video, lengths


def input_sha256(video: torch.Tensor, lengths: torch.Tensor) -> str:
    import hashlib

    return hashlib.sha256(video.numpy().tobytes() + lengths.numpy().tobytes()).hexdigest()


def build() -> nn.Module:
    return golden_weights_(get_card("slowfastsign_tiny").build(NUM_CLASSES)).eval()


def run(model: nn.Module, video: torch.Tensor, lengths: torch.Tensor) -> dict[str, np.ndarray]:
    """Eval-mode main head (``main__*``) and training-mode heads with dropout off (``train_{branch}__*``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is faster, and immune to OpenMP spin-waits on a busy machine
    state = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        with torch.no_grad():
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
        torch.set_num_threads(threads)
    arrays = {"feat_len": out["feat_len"].numpy().astype(np.int64)}
    heads = {"main": out, "train_main": train, **{f"train_{k}": v for k, v in train["branches"].items()}}
    for prefix, head in heads.items():
        arrays.update({f"{prefix}__{name}": head[name].numpy().astype(np.float32) for name in HEADS})
    return arrays


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        return dict(data)


@pytest.fixture(scope="module")
def outputs(golden) -> dict[str, np.ndarray]:
    video, lengths = golden_input()
    if input_sha256(video, lengths) != str(golden["input_sha256"]):
        pytest.fail("golden input generated differently (torch RNG or pad_batch changed): if intended, regenerate "
                    "with python tests/zoo/make_slowfastsign_golden.py")
    model = build()
    if weights_sha256(model) != str(golden["weights_sha256"]):
        pytest.fail("weights generated differently (torch RNG, or the model's keys/shapes changed); if intended, "
                    "regenerate with python tests/zoo/make_slowfastsign_golden.py")
    return run(model, video, lengths)


def test_feature_lengths(outputs, golden):
    np.testing.assert_array_equal(outputs["feat_len"], golden["feat_len"])
    assert outputs["feat_len"].tolist() == [5, 4]  # ceil(20 / 4), ceil(13 / 4)


@pytest.mark.parametrize("head", ["main", "train_main", "train_slow", "train_fast"])
def test_golden_logits(outputs, golden, head):
    steps = golden["feat_len"]
    for name in HEADS:
        got, want = outputs[f"{head}__{name}"], golden[f"{head}__{name}"]
        assert got.shape == want.shape, f"{head} {name}: shape {got.shape}, golden {want.shape}"
        rel = np.abs(got - want).max() / np.abs(want).max()
        assert rel <= RELATIVE_TOLERANCE, f"{head} {name}: max relative difference {rel:.2e} > {RELATIVE_TOLERANCE}"
        for b, n in enumerate(steps):  # the best path over each sample's valid steps
            np.testing.assert_array_equal(got[:n, b].argmax(-1), want[:n, b].argmax(-1),
                                          err_msg=f"{head} {name}: best path of sample {b} differs")
        assert greedy_decode(got.transpose(1, 0, 2), steps) == greedy_decode(want.transpose(1, 0, 2), steps)


def test_heads_differ(golden):
    """The three training heads are distinct computations (a wiring slip would make two of them equal)."""
    logits = [golden[f"train_{b}__sequence_logits"] for b in ("main", "slow", "fast")]
    assert all(not np.allclose(a, b) for i, a in enumerate(logits) for b in logits[i + 1:])
