"""Golden outputs of reduced CorrNet and VAC models (open_clip style): same weights, same input, same logits.

Four variants (CorrNet, CorrNet without ``corr1`` as on CSL-Daily, VAC baseline, VAC SMKD) at widths
(8, 16, 32, 64), hidden size 32, 12 classes. Weights are regenerated, not stored: every tensor is filled from one
seeded generator in sorted module-name order (non-zero correlation ``alpha``, random BatchNorm statistics), so
they depend on the keys and shapes only. The input is two seeded clips of 20 and 13 frames at 64x64, padded as
the official ``collate_fn`` does. The full-size models were checked against the official code with
``benchmarks/official_parity.py`` (identical logits); this file guards those numerics against regressions.
Regenerate ``tests/fixtures/cslr_golden.npz`` with ``python tests/zoo/make_cslr_golden.py``.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from bench.data.video import pad_batch
from bench.decoding import greedy_decode
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
RELATIVE_TOLERANCE = 1e-5


@torch.no_grad()
def golden_weights_(model: nn.Module, seed: int = SEED) -> nn.Module:
    """Fill every parameter and statistic from one seeded generator, module by module in sorted-name order."""
    generator = torch.Generator().manual_seed(seed)
    seen: set[int] = set()
    for _, module in sorted(model.named_modules(remove_duplicate=False), key=lambda item: item[0]):
        if id(module) in seen:  # a shared classifier is filled once, under its first name in sorted order
            continue
        seen.add(id(module))
        for name, tensor in sorted([*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]):
            _fill(module, name, tensor, generator)
    return model


def _fill(module: nn.Module, name: str, tensor: torch.Tensor, generator: torch.Generator) -> None:
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        if name == "num_batches_tracked":
            tensor.fill_(1000)
        elif name in ("weight", "running_var"):
            tensor.uniform_(0.5, 2.0, generator=generator)
        else:  # bias, running_mean
            tensor.normal_(0.0, 0.2, generator=generator)
    elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
        fan_in = math.prod(module.weight.shape[1:])
        tensor.normal_(0.0, math.sqrt(2.0 / fan_in) if name == "weight" else 0.1, generator=generator)
    elif isinstance(module, nn.LSTM):
        bound = 1.0 / math.sqrt(module.hidden_size)
        tensor.uniform_(-bound, bound, generator=generator)
    elif isinstance(module, NormLinear):
        tensor.normal_(0.0, 1.0, generator=generator)
    elif isinstance(module, Correlation):  # weights, weights2: the branch mixing coefficients
        tensor.uniform_(0.2, 1.0, generator=generator)
    elif isinstance(module, CorrelationResNet18) and name == "alpha":  # zero alpha would hide the correlation
        tensor.uniform_(0.5, 1.5, generator=generator)
    else:
        raise AssertionError(f"no golden fill rule for {type(module).__name__}.{name}: add one and regenerate")


def weights_sha256(model: nn.Module) -> str:
    """sha256 over sorted keys and tensor bytes of the state dict."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def golden_input(seed: int = SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Two seeded clips (``x / 127.5 - 1`` of uint8 frames), padded as the official ``collate_fn`` does."""
    generator = torch.Generator().manual_seed(seed)
    clips = [torch.randint(0, 256, (n, 3, SIZE, SIZE), generator=generator).float() / 127.5 - 1 for n in FRAMES]
    video, lengths, _ = pad_batch(clips, LAYOUT)
    return video, lengths


def input_sha256(video: torch.Tensor, lengths: torch.Tensor) -> str:
    return hashlib.sha256(video.numpy().tobytes() + lengths.numpy().tobytes()).hexdigest()


def build(case: str) -> nn.Module:
    card, variant = CASES[case]
    return golden_weights_(get_card(card).build(NUM_CLASSES, **variant, **REDUCED)).eval()


def run(model: nn.Module, video: torch.Tensor, lengths: torch.Tensor) -> dict[str, np.ndarray]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is faster, and immune to OpenMP spin-waits on a busy machine
    try:
        with torch.no_grad():
            out = model(video, lengths)
    finally:
        torch.set_num_threads(threads)
    return {"feat_len": out["feat_len"].numpy().astype(np.int64),
            "conv_logits": out["conv_logits"].numpy().astype(np.float32),
            "sequence_logits": out["sequence_logits"].numpy().astype(np.float32)}


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        return dict(data)


@pytest.fixture(scope="module")
def inputs(golden) -> tuple[torch.Tensor, torch.Tensor]:
    video, lengths = golden_input()
    if input_sha256(video, lengths) != str(golden["input_sha256"]):
        pytest.fail("golden input generated differently (torch RNG or pad_batch changed): if intended, regenerate "
                    "with python tests/zoo/make_cslr_golden.py")
    return video, lengths


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_outputs(case, golden, inputs):
    model = build(case)
    if weights_sha256(model) != str(golden[f"{case}__weights_sha256"]):
        pytest.fail(f"{case}: weights generated differently (torch RNG, or the model's keys/shapes changed); if "
                    "intended, regenerate with python tests/zoo/make_cslr_golden.py")
    got = run(model, *inputs)
    np.testing.assert_array_equal(got["feat_len"], golden[f"{case}__feat_len"])
    for head in ("conv_logits", "sequence_logits"):
        want = golden[f"{case}__{head}"]
        assert got[head].shape == want.shape, f"{case} {head}: shape {got[head].shape}, golden {want.shape}"
        rel = np.abs(got[head] - want).max() / np.abs(want).max()
        assert rel <= RELATIVE_TOLERANCE, f"{case} {head}: max relative difference {rel:.2e} > {RELATIVE_TOLERANCE}"
        for b, steps in enumerate(got["feat_len"]):  # the best path over each sample's valid steps
            np.testing.assert_array_equal(got[head][:steps, b].argmax(-1), want[:steps, b].argmax(-1),
                                          err_msg=f"{case} {head}: best path of sample {b} differs")
        assert greedy_decode(got[head].transpose(1, 0, 2), got["feat_len"]) == \
            greedy_decode(want.transpose(1, 0, 2), got["feat_len"]), f"{case} {head}: greedy decodes differ"
