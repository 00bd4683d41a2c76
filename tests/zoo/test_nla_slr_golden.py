"""Golden outputs of the NLA-SLR family at reduced input size (open_clip style): same weights, same input, same logits.

Four cases (NLA-SLR four-stream with language layers, VKNet, single RGB and single keypoint S3D), full widths,
12 classes. Weights are regenerated, not stored: every tensor is filled from one seeded generator in sorted
module-name order, so they depend on the keys and shapes only. The input is two seeded clips of 16 frames, RGB at
64x64 and 63 heatmaps at 32x32; the four-stream model derives its 8-frame streams (frames 4:12), whose last map has
a single time step (the kernel-1 pooling fallback). The full-size models were checked against the official code
with ``benchmarks/official_parity_nla_slr.py`` (identical logits); this file guards those numerics.
Regenerate ``tests/fixtures/nla_slr_golden.npz`` with ``python tests/zoo/make_nla_slr_golden.py``.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from zoo import get_card

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "nla_slr_golden.npz"
CASES = {"nla_slr": {}, "vknet64": {}, "s3d_rgb64": {}, "s3d_pose64": {}}
NUM_CLASSES = 12
CLIPS, FRAMES, SIZE = 2, 16, 64  # heatmaps at SIZE // 2, as 112 is to 224
SEED = 0
RELATIVE_TOLERANCE = 1e-5


@torch.no_grad()
def golden_weights_(model: nn.Module, seed: int = SEED) -> nn.Module:
    """Fill every parameter and statistic from one seeded generator, module by module in sorted-name order."""
    generator = torch.Generator().manual_seed(seed)
    for _, module in sorted(model.named_modules(), key=lambda item: item[0]):
        for name, tensor in sorted([*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]):
            _fill(module, name, tensor, generator)
    return model


def _fill(module: nn.Module, name: str, tensor: torch.Tensor, generator: torch.Generator) -> None:
    if isinstance(module, nn.BatchNorm3d):
        if name == "num_batches_tracked":
            tensor.fill_(1000)
        elif name == "running_var":
            tensor.uniform_(0.5, 2.0, generator=generator)
        elif name == "weight":
            tensor.uniform_(0.5, 1.5, generator=generator)
        else:  # bias, running_mean
            tensor.normal_(0.0, 0.1, generator=generator)
    elif isinstance(module, (nn.Conv3d, nn.ConvTranspose3d)):
        tensor.normal_(0.0, math.sqrt(2.0 / math.prod(module.weight.shape[1:])), generator=generator)
    elif isinstance(module, nn.Linear):
        std = 0.3 / math.sqrt(module.weight.shape[1]) if name == "weight" else 0.1  # logits of a few units
        tensor.normal_(0.0, std, generator=generator)
    else:
        raise AssertionError(f"no golden fill rule for {type(module).__name__}.{name}: add one and regenerate")


def weights_sha256(model: nn.Module) -> str:
    """sha256 over sorted keys and tensor bytes of the state dict."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def golden_input(seed: int = SEED) -> dict[str, torch.Tensor]:
    """Seeded streams: RGB ``(x / 255 - 0.5) / 0.5`` of uint8 frames (a coarse 8x8 pattern per clip and frame,
    plus noise), heatmap-like ``(u^8 - 0.5) / 0.5`` (u: a coarse 4x4 pattern per clip, frame and keypoint)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, 256, (CLIPS, 3, FRAMES, 8, 8), generator=generator).repeat_interleave(SIZE // 8, -2)
    noise = torch.randint(-32, 32, (CLIPS, 3, FRAMES, SIZE, SIZE), generator=generator)
    rgb = (coarse.repeat_interleave(SIZE // 8, -1) + noise).clamp(0, 255).float() / 255
    blobs = torch.rand((CLIPS, 63, FRAMES, 4, 4), generator=generator).repeat_interleave(SIZE // 8, -2)
    heat = blobs.repeat_interleave(SIZE // 8, -1) ** 8
    return {"rgb": (rgb - 0.5) / 0.5, "keypoint": (heat - 0.5) / 0.5}


def input_sha256(inputs: dict[str, torch.Tensor]) -> str:
    return hashlib.sha256(b"".join(inputs[k].numpy().tobytes() for k in sorted(inputs))).hexdigest()


def build(case: str) -> nn.Module:
    return golden_weights_(get_card(case).build(NUM_CLASSES, **CASES[case])).eval()


def forward(model: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``model`` on the streams of ``inputs`` it reads, on one thread (small tensors: faster, and immune to
    OpenMP spin-waits on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return model(**{k: v for k, v in inputs.items() if k in model.inputs})
    finally:
        torch.set_num_threads(threads)


def run(model: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Every output (heads and ensembles) of ``model`` as float32 arrays."""
    return {name: value.numpy().astype(np.float32) for name, value in forward(model, inputs).items()}


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        return dict(data)


@pytest.fixture(scope="module")
def inputs(golden) -> dict[str, torch.Tensor]:
    streams = golden_input()
    if input_sha256(streams) != str(golden["input_sha256"]):
        pytest.fail("golden input generated differently (torch RNG changed): if intended, regenerate with "
                    "python tests/zoo/make_nla_slr_golden.py")
    return streams


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_outputs(case, golden, inputs):
    model = build(case)
    if weights_sha256(model) != str(golden[f"{case}__weights_sha256"]):
        pytest.fail(f"{case}: weights generated differently (torch RNG, or the model's keys/shapes changed); if "
                    "intended, regenerate with python tests/zoo/make_nla_slr_golden.py")
    got = run(model, inputs)
    names = sorted(k[len(case) + 2:] for k in golden if k.startswith(f"{case}__") and not k.endswith("sha256"))
    assert sorted(got) == names, f"{case}: outputs {sorted(got)}, golden {names}"
    for name in names:
        want = golden[f"{case}__{name}"]
        assert got[name].shape == want.shape, f"{case} {name}: shape {got[name].shape}, golden {want.shape}"
        rel = np.abs(got[name] - want).max() / np.abs(want).max()
        assert rel <= RELATIVE_TOLERANCE, f"{case} {name}: max relative difference {rel:.2e} > {RELATIVE_TOLERANCE}"
        np.testing.assert_array_equal(np.argsort(-got[name], axis=-1)[:, :5], np.argsort(-want, axis=-1)[:, :5],
                                      err_msg=f"{case} {name}: top-5 differs")


def test_derived_short_streams_are_the_middle_half(inputs):
    """The four-stream model's default 8 of 16 frames are frames 4:12 (16:48 of 64), as given explicitly."""
    model = build("nla_slr")
    derived = forward(model, inputs)
    window = {"rgb_low": inputs["rgb"][:, :, 4:12], "keypoint_low": inputs["keypoint"][:, :, 4:12]}
    given = forward(model, {**inputs, **window})
    assert all(torch.equal(derived[k], given[k]) for k in derived)
    assert torch.allclose(derived["ensemble_all"].exp().sum(-1), torch.full((CLIPS,), 7.0))  # log(sum of 7 softmax)
