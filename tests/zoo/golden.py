"""What the golden-output tests share: platform-stable seeded weights and inputs, the tolerance, the conditioning check.

Golden tests (open_clip style) compare a model's outputs on a fixed input with stored outputs. They must catch a
real change of the numerics and pass on any CPU: different CPU kernels (AVX-512, AVX2, the scalar ``default``
path, oneDNN or not) round float32 differently, and a model amplifies those differences by its condition number.
So the weights and inputs are drawn with numpy's PCG64 in float64 (bit-identical on every platform, unlike torch's
vectorised ``normal_``), chosen so that the models are well conditioned, and every test file keeps a conditioning
test: a ``PERTURBATION`` relative change of the input must move the outputs by at most ``CONDITIONING_LIMIT``.

``TOLERANCE`` (relative to the largest output magnitude) is justified by measurement, torch 2.13.0, these fixtures
regenerated on an AMD EPYC (AVX-512) and checked with ``ATEN_CPU_CAPABILITY=avx2``, ``=default`` and
``torch.backends.mkldnn.enabled = False``: the largest spread over all cases was recorded in
``tests/fixtures/README.md``; it sits an order of magnitude below ``TOLERANCE``, while any real change (a wrong
weight, a swapped layer, a changed padding) moves the outputs by 1e-2 or more.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn

TOLERANCE = 1e-4  # max |got - golden| / max |golden|, per output
PERTURBATION = 1e-7  # about one float32 rounding step: what another CPU kernel changes in an input
CONDITIONING_LIMIT = TOLERANCE / 10  # a rounding-sized input change must stay an order of magnitude below it


class SeededFill:
    """Uniform draws from numpy's PCG64 in float64, cast to float32: the same bytes on every CPU."""

    def __init__(self, seed: int):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def uniform_(self, tensor: torch.Tensor, low: float, high: float) -> None:
        draw = low + (high - low) * self.rng.random(tuple(tensor.shape))
        tensor.copy_(torch.from_numpy(np.asarray(draw, dtype=np.float32)))

    def centred_(self, tensor: torch.Tensor, std: float) -> None:
        """Zero mean and standard deviation ``std`` (uniform: no platform-dependent transcendental functions)."""
        self.uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> np.ndarray:
        return self.rng.integers(low, high, shape)


Rule = Callable[[SeededFill, nn.Module, str, torch.Tensor], bool]


def fill_common(fill: SeededFill, module: nn.Module, name: str, tensor: torch.Tensor) -> bool:
    """Blocks every family has: BatchNorm with mild random statistics, He-scaled convolutions, small linears."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        if name == "num_batches_tracked":
            tensor.fill_(1000)
        elif name in ("weight", "running_var"):
            fill.uniform_(tensor, 0.8, 1.25)
        else:  # bias, running_mean
            fill.centred_(tensor, 0.05)
    elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose3d)):
        fan_in = math.prod(module.weight.shape[1:])
        fill.centred_(tensor, math.sqrt(2.0 / fan_in) if name == "weight" else 0.05)
    elif isinstance(module, nn.Linear):
        fill.centred_(tensor, 1.0 / math.sqrt(module.weight.shape[1]) if name == "weight" else 0.05)
    elif isinstance(module, nn.LSTM):
        fill.centred_(tensor, 0.5 / math.sqrt(module.hidden_size))
    else:
        return False
    return True


@torch.no_grad()
def fill_model_(model: nn.Module, rules: Iterable[Rule], seed: int) -> nn.Module:
    """Every parameter and buffer from one seeded stream, module by module in sorted-name order; the first rule
    that claims a tensor fills it. A shared module (a tied classifier) is filled once, under its first name."""
    fill, rules, seen = SeededFill(seed), [*rules, fill_common], set()
    for module_name, module in sorted(model.named_modules(remove_duplicate=False), key=lambda item: item[0]):
        if id(module) in seen:
            continue
        seen.add(id(module))
        for name, tensor in sorted([*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]):
            if not any(rule(fill, module, name, tensor) for rule in rules):
                raise AssertionError(f"no golden fill rule for {type(module).__name__} {module_name}.{name}: add one "
                                     "and regenerate")
    return model


def weights_sha256(model: nn.Module) -> str:
    """sha256 over sorted keys and tensor bytes of the state dict."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def inputs_sha256(inputs: dict[str, torch.Tensor]) -> str:
    """sha256 over the input tensors' bytes, in sorted-name order."""
    return hashlib.sha256(b"".join(inputs[k].contiguous().numpy().tobytes() for k in sorted(inputs))).hexdigest()


@contextmanager
def one_thread():
    """Tiny tensors: one thread is faster, and immune to OpenMP spin-waits on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def checked_inputs(inputs: dict[str, torch.Tensor], golden: dict[str, np.ndarray], suite: str) -> dict:
    """``inputs``, after checking that they are the bytes the fixture was made from."""
    if inputs_sha256(inputs) != str(golden["input_sha256"]):
        raise AssertionError(f"golden input generated differently (the input code or pad_batch changed): if "
                             f"intended, regenerate with python tests/zoo/make_golden.py {suite}")
    return inputs


def checked_weights(model: nn.Module, want_sha256, suite: str, case: str) -> nn.Module:
    """``model``, after checking that its regenerated weights are the fixture's."""
    if weights_sha256(model) != str(want_sha256):
        raise AssertionError(f"{case}: weights generated differently (the model's keys/shapes or the fill rules "
                             f"changed); if intended, regenerate with python tests/zoo/make_golden.py {suite}")
    return model


def load_golden(path) -> dict[str, np.ndarray]:
    """A fixture's arrays."""
    with np.load(path) as data:
        return dict(data)


def assert_classifier_matches(got: dict[str, np.ndarray], golden: dict[str, np.ndarray], case: str) -> None:
    """Every stored output of ``case`` (``{case}__{output}``) within the tolerance, with the same top-1 classes."""
    names = sorted(k[len(case) + 2:] for k in golden if k.startswith(f"{case}__") and not k.endswith("sha256"))
    assert sorted(got) == names, f"{case}: outputs {sorted(got)}, golden {names}"
    assert_within_tolerance(got, {name: golden[f"{case}__{name}"] for name in names}, case)
    for name in names:
        np.testing.assert_array_equal(got[name].argmax(-1), golden[f"{case}__{name}"].argmax(-1),
                                      err_msg=f"{case} {name}: top-1 differs")


def relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max |want|: rounding noise scales with the largest magnitude of an output."""
    return float(np.abs(got.astype(np.float64) - want).max() / np.abs(want).max())


def assert_within_tolerance(got: dict[str, np.ndarray], want: dict[str, np.ndarray], what: str) -> None:
    for name, value in want.items():
        assert got[name].shape == value.shape, f"{what} {name}: shape {got[name].shape}, golden {value.shape}"
        rel = relative_difference(got[name], value)
        assert rel <= TOLERANCE, f"{what} {name}: max relative difference {rel:.2e} > {TOLERANCE}"


def perturbation_response(forward: Callable[[dict[str, torch.Tensor]], dict[str, np.ndarray]],
                          inputs: dict[str, torch.Tensor], trials: int = 2, seed: int = 1) -> dict[str, float]:
    """Largest relative output change, per output, when every float input is scaled by ``1 + PERTURBATION * u``
    (``u`` uniform in [-1, 1]): how much the model amplifies a rounding-sized difference."""
    base, fill, worst = forward(inputs), SeededFill(seed), {}
    for _ in range(trials):
        shaken = {}
        for key, value in inputs.items():
            if value.is_floating_point():
                u = torch.empty_like(value)
                fill.uniform_(u, -1.0, 1.0)
                value = value * (1 + PERTURBATION * u)
            shaken[key] = value
        for name, out in forward(shaken).items():
            if np.issubdtype(out.dtype, np.floating):
                worst[name] = max(worst.get(name, 0.0), relative_difference(out, base[name]))
    return worst


def assert_well_conditioned(response: dict[str, float], what: str) -> None:
    for name, change in response.items():
        assert change <= CONDITIONING_LIMIT, (
            f"{what} {name}: a {PERTURBATION:.0e} relative input change moves the output by {change:.2e} "
            f"(limit {CONDITIONING_LIMIT:.0e}): the golden case amplifies rounding; its outputs would differ "
            "between CPUs. Choose better-conditioned weights or input.")


def best_path_margin(logits: np.ndarray, top: int = 2) -> float:
    """Smallest gap between consecutive top-``top`` values along the last axis, relative to the largest magnitude."""
    ranked = -np.sort(-logits, axis=-1)[..., :top]
    return float(np.min(ranked[..., :-1] - ranked[..., 1:]) / np.abs(logits).max())


def classifier_suite(suite: str, path, cases: Iterable[str], build: Callable[[str], nn.Module],
                     run: Callable[[nn.Module, dict], dict[str, np.ndarray]], make_input: Callable[[], dict]):
    """The tests every classifier golden file shares, as module globals: ``golden, inputs, test_golden_outputs,
    test_golden_case_is_well_conditioned = classifier_suite(...)`` (the stored logits are matched; each case's
    response to a rounding-sized input change stays far below the tolerance, so it holds on any CPU)."""
    import pytest

    @pytest.fixture(scope="module")
    def golden() -> dict[str, np.ndarray]:
        return load_golden(path)

    @pytest.fixture(scope="module")
    def inputs(golden) -> dict[str, torch.Tensor]:
        return checked_inputs(make_input(), golden, suite)

    @pytest.mark.parametrize("case", sorted(cases))
    def test_golden_outputs(case, golden, inputs):
        model = checked_weights(build(case), golden[f"{case}__weights_sha256"], suite, case)
        assert_classifier_matches(run(model, inputs), golden, case)

    @pytest.mark.parametrize("case", sorted(cases))
    def test_golden_case_is_well_conditioned(case, inputs):
        model = build(case)
        assert_well_conditioned(perturbation_response(lambda streams: run(model, streams), inputs), case)

    return golden, inputs, test_golden_outputs, test_golden_case_is_well_conditioned
