"""PySlowFast's Caffe2 checkpoints (``SLOWFAST_64x2_R101_50_50.pkl``) into our SlowFast backbone, strictly.

SlowFastSign trains from PySlowFast's Kinetics-600 SlowFast R101 64x2 (the AVA "pretrain" file): a Python-2
pickle ``{"blobs": {caffe2_name: ndarray}, ...}``. Names follow the Caffe2 video models: ``conv1_w`` and
``res_conv1_bn_{s,b,rm,riv}`` (stem), ``res4_5_branch2b_w`` / ``_bn_s`` (blocks), a ``t_`` prefix for the fast
pathway, ``t_pool1_subsample*`` and ``t_res{N}_{last}_branch2c_bn_subsample*`` (the fast-to-slow lateral
connections), ``nonlocal_conv4_{6,13,20}_*`` (non-local blocks), ``pred_*`` (the classifier) and solver state
(``*_momentum``, ``lr``, ``model_iter``). :func:`convert_name` maps them as PySlowFast's ``checkpoint.py`` does.

:func:`load_caffe2_slowfast` fills the trunk (stems and residual blocks) strictly: every trunk tensor must come
from the file, with the two shape adaptations the official loader makes, named in the report: the slow pathway's
first block of res2-res5 was trained on ``slow + lateral`` channels (80 = 64 + 16 for res2) and keeps the first
ones, and a temporal kernel longer than ours keeps its first slice. The pretrained lateral connections
(``FUSION_CONV_CHANNEL_RATIO`` 2, concatenated) do not fit SlowFastSign's ``FuseBiAdd`` (ratio 8, added): their
convolutions are not loaded; their BatchNorm vectors are tiled 4 times into ``s{N}_fuse.bn`` as the official
loader's sub-BN rule does (``tile_fusion_bn=False`` leaves them at their initialisation). ``conv_s2f``, ``bn2``,
``weight_s`` and ``weight_f`` have no Caffe2 counterpart. BatchNorm ``num_batches_tracked`` is never in the file.
"""

from __future__ import annotations

import io
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn as nn

_BN = {"s": "weight", "b": "bias", "rm": "running_mean", "riv": "running_var"}
_BN_FIELD = r"(?P<bn>s|b|rm|riv)"
_BLOCK = r"(?P<fast>t_)?res(?P<stage>\d+)_(?P<block>\d+)"
_RULES = (  # (Caffe2 name, full match) -> our key; {p} is 1 for the fast pathway ("t_" prefix)
    (r"(?P<fast>t_)?conv1_w", "s1.pathway{p}_stem.conv.weight"),
    (rf"(?P<fast>t_)?res_conv1_bn_{_BN_FIELD}", "s1.pathway{p}_stem.bn.{bn}"),
    (rf"{_BLOCK}_branch1_w", "s{stage}.pathway{p}_res{block}.branch1.weight"),
    (rf"{_BLOCK}_branch1_bn_{_BN_FIELD}", "s{stage}.pathway{p}_res{block}.branch1_bn.{bn}"),
    (rf"{_BLOCK}_branch2(?P<conv>[abc])_w", "s{stage}.pathway{p}_res{block}.branch2.{conv}.weight"),
    (rf"{_BLOCK}_branch2(?P<conv>[abc])_bn_{_BN_FIELD}", "s{stage}.pathway{p}_res{block}.branch2.{conv}_bn.{bn}"),
    (r"t_pool1_subsample_w", "s1_fuse.conv_f2s.weight"),
    (rf"t_pool1_subsample_bn_{_BN_FIELD}", "s1_fuse.bn.{bn}"),
    (r"t_res(?P<stage>\d+)_\d+_branch2c_bn_subsample_w", "s{stage}_fuse.conv_f2s.weight"),
    (rf"t_res(?P<stage>\d+)_\d+_branch2c_bn_subsample_bn_{_BN_FIELD}", "s{stage}_fuse.bn.{bn}"),
    (r"nonlocal_conv(?P<stage>\d+)_(?P<block>\d+)_(?P<conv>theta|phi|g|out)_(?P<wb>w|b)",
     "s{stage}.pathway0_nonlocal{block}.conv_{conv}.{wb}"),
    (rf"nonlocal_conv(?P<stage>\d+)_(?P<block>\d+)_bn_{_BN_FIELD}", "s{stage}.pathway0_nonlocal{block}.bn.{bn}"),
    (r"pred_(?P<wb>w|b)", "head.projection.{wb}"),
)
_COMPILED = tuple((re.compile(pattern), template) for pattern, template in _RULES)
_SOLVER = re.compile(r".*_momentum|lr|model_iter")  # optimizer state saved with the weights
_TRUNK = re.compile(r"s1\.pathway\d_stem\.|s[2-5]\.pathway\d_res\d+\.")


def convert_name(caffe2_name: str) -> str | None:
    """Our (PySlowFast's) key for a Caffe2 blob name, or ``None`` for names that are no weight (solver state)."""
    for pattern, template in _COMPILED:
        match = pattern.fullmatch(caffe2_name)
        if match:
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            if "bn" in groups:
                groups["bn"] = _BN[groups["bn"]]
            if "wb" in groups:
                groups["wb"] = {"w": "weight", "b": "bias"}[groups["wb"]]
            return template.format(p=1 if groups.pop("fast", None) else 0, **groups)
    return None


def caffe2_name(key: str, blocks: tuple[int, ...] = (3, 4, 23, 3)) -> str | None:
    """The inverse of :func:`convert_name` for our backbone's keys (``None``: no Caffe2 counterpart).

    ``blocks`` (per stage) names the lateral connections after the last block of their stage (``t_res4_22_...``).
    """
    bn = {v: k for k, v in _BN.items()}
    if key.endswith("num_batches_tracked"):  # Caffe2 keeps no batch count
        return None
    stem = re.fullmatch(r"s1\.pathway(\d)_stem\.(conv\.weight|bn\.(\w+))", key)
    if stem:
        prefix = "t_" if stem.group(1) == "1" else ""
        return f"{prefix}conv1_w" if stem.group(3) is None else f"{prefix}res_conv1_bn_{bn[stem.group(3)]}"
    block = re.fullmatch(r"s(\d)\.pathway(\d)_res(\d+)\.(branch1|branch1_bn|branch2\.([abc])(_bn)?)\.(\w+)", key)
    if block:
        stage, pathway, index, module, conv, is_bn, leaf = block.groups()
        base = f"{'t_' if pathway == '1' else ''}res{stage}_{index}_"
        base += "branch1" if module.startswith("branch1") else f"branch2{conv}"
        return base + ("_bn_" + bn[leaf] if module == "branch1_bn" or is_bn else "_w")
    fuse = re.fullmatch(r"s(\d)_fuse\.(conv_f2s\.weight|bn\.(\w+))", key)
    if fuse:
        stage = int(fuse.group(1))
        base = "t_pool1_subsample" if stage == 1 else f"t_res{stage}_{blocks[stage - 2] - 1}_branch2c_bn_subsample"
        return base + ("_w" if fuse.group(3) is None else f"_bn_{bn[fuse.group(3)]}")
    return None


class _BlobUnpickler(pickle.Unpickler):
    """Unpickles dicts of numpy arrays and nothing else (a pickle can otherwise run code from the file)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("collections", "OrderedDict"),
               ("_codecs", "encode")}  # protocol-2 pickles written by Python 3 rebuild array bytes with it

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not a numpy array part; refusing to unpickle it")
        return super().find_class(module, name)


def read_caffe2_blobs(path: str | Path, trust: bool = False) -> dict[str, np.ndarray]:
    """The ``blobs`` of a Caffe2 pickle (Python 2, latin-1 strings); only numpy objects unless ``trust``."""
    data = Path(path).read_bytes()
    try:
        obj = (pickle.loads(data, encoding="latin1") if trust
               else _BlobUnpickler(io.BytesIO(data), encoding="latin1").load())
    except pickle.UnpicklingError as err:
        raise ValueError(f"{path}: not a Caffe2 blob pickle of numpy arrays ({err}); a torch file (.pyth) is read "
                         "by zoo.checkpoints, and trust=True allows other pickled objects") from err
    if not isinstance(obj, Mapping) or "blobs" not in obj:
        raise ValueError(f"{path}: expected a dict with 'blobs' (a Caffe2 checkpoint); found "
                         f"{sorted(obj)[:5] if isinstance(obj, Mapping) else type(obj).__name__}")
    return {str(k): np.asarray(v) for k, v in obj["blobs"].items()}


@dataclass
class Caffe2Report:
    """What :func:`load_caffe2_slowfast` did, by name."""

    loaded: list[str] = field(default_factory=list)  # our keys filled from the file
    adapted: dict[str, str] = field(default_factory=dict)  # our key -> the blob and how it was made to fit
    unconverted: dict[str, str] = field(default_factory=dict)  # Caffe2 blob -> why it was not used
    unfilled: list[str] = field(default_factory=list)  # our keys left at their initialisation


def _fit(blob: np.ndarray, shape: tuple[int, ...], tile: bool) -> tuple[np.ndarray | None, str]:
    """The official loader's shape rules; ``(None, "")`` where the blob does not fit."""
    how = []
    if blob.ndim < len(shape):  # e.g. a linear layer's weight for a 1x1x1 convolution
        blob = blob.reshape(blob.shape + (1,) * (len(shape) - blob.ndim))
    if blob.ndim == 5 and blob.shape[2] > 1 and shape[2] == 1:
        how.append(f"temporal kernel {blob.shape[2]} -> 1 (first slice)")
        blob = blob[:, :, :1]
    if blob.ndim >= 2 and blob.shape[1] > shape[1] and blob.shape[:1] + blob.shape[2:] == shape[:1] + shape[2:]:
        how.append(f"input channels {blob.shape[1]} -> {shape[1]} (the slow pathway's; the lateral's dropped)")
        blob = blob[:, : shape[1]]
    if tile and blob.ndim == 1 and len(shape) == 1 and shape[0] > blob.shape[0] and shape[0] % blob.shape[0] == 0:
        how.append(f"{blob.shape[0]} values tiled x{shape[0] // blob.shape[0]} (PySlowFast's sub-BN rule)")
        blob = np.concatenate([blob] * (shape[0] // blob.shape[0]))
    return (blob, "; ".join(how)) if tuple(blob.shape) == tuple(shape) else (None, "")


def load_caffe2_slowfast(backbone: nn.Module, source: str | Path | Mapping[str, np.ndarray], trust: bool = False,
                         tile_fusion_bn: bool = True) -> Caffe2Report:
    """Load a Caffe2 SlowFast checkpoint (a path, or its ``blobs``) into ``backbone`` (``SlowFastSign.conv2d``).

    Every stem and residual-block tensor must be in the file and fit (shapes checked, adaptations named in the
    report); otherwise ``ValueError`` names each problem and nothing is loaded. Returns the blobs not converted
    and our keys not filled (fusion layers without counterpart), by name.
    """
    blobs = read_caffe2_blobs(source, trust) if isinstance(source, (str, Path)) else dict(source)
    own = backbone.state_dict()
    trunk = {k for k in own if _TRUNK.match(k) and not k.endswith("num_batches_tracked")}
    report, filled, problems, unfit = Caffe2Report(), {}, [], set()
    for name, blob in blobs.items():
        key = convert_name(name)
        if key is None:
            report.unconverted[name] = "solver state" if _SOLVER.fullmatch(name) else "not a SlowFast weight"
            continue
        if key not in own:  # non-local blocks, the Kinetics classifier
            report.unconverted[name] = f"{key}: not in SlowFastSign's backbone"
            continue
        tensor, how = _fit(np.asarray(blob), tuple(own[key].shape), tile_fusion_bn and key not in trunk)
        if tensor is None:
            problem = f"{name}: shape {list(np.shape(blob))} does not fit {key} {list(own[key].shape)}"
            if key in trunk:
                problems.append(problem)
                unfit.add(key)
            else:
                report.unconverted[name] = problem
            continue
        filled[key] = torch.tensor(np.array(tensor))  # a copy: the blob may be a read-only view
        if how:
            report.adapted[key] = f"{name}: {how}"
    missing = sorted(trunk - set(filled) - unfit)
    problems += [f"{key}: no Caffe2 blob for it (expected {caffe2_name(key, backbone.config.blocks)})"
                 for key in missing]
    if problems:
        raise ValueError(f"not a SlowFast R101 checkpoint for this backbone ({len(problems)} problems):\n  "
                         + "\n  ".join(problems[:40]))
    with torch.no_grad():
        for key, tensor in filled.items():
            own[key].copy_(tensor)
    report.loaded = sorted(filled)
    report.unfilled = sorted(k for k in own if k not in filled and not k.endswith("num_batches_tracked"))
    return report


def caffe2_blobs(backbone: nn.Module, pretraining_layout: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
    """``backbone``'s weights under their Caffe2 names (the inverse of the conversion; fusion-only layers left out).

    ``pretraining_layout`` writes the shapes of PySlowFast's Kinetics checkpoint instead (lateral connections with
    channel ratio 2 and their outputs concatenated to the slow pathway): the slow first blocks of res2-res5 get
    extra input channels and the laterals their own smaller convolution and BN, filled from ``seed``. Loading
    such blobs gives back the backbone's trunk exactly; used by the tests and the official-loader comparison.
    """
    config = backbone.config
    rng = np.random.default_rng(seed)
    blobs = {}
    for key, tensor in backbone.state_dict().items():
        name = caffe2_name(key, config.blocks)
        if name is None:
            continue
        blob = tensor.detach().cpu().numpy().copy()
        if pretraining_layout and name.startswith("t_") and "subsample" in name:  # ratio 2 instead of beta_inv
            channels = blob.shape[0] * 2 // config.beta_inv
            blob = (rng.standard_normal((channels, *blob.shape[1:])) * 0.1).astype(np.float32) if blob.ndim > 1 \
                else np.abs(rng.standard_normal(channels)).astype(np.float32) + 0.5
        elif pretraining_layout and re.fullmatch(r"res[2-5]_0_branch(1|2a)_w", name):  # slow + lateral channels
            lateral = blob.shape[1] * 2 // config.beta_inv
            extra = (rng.standard_normal((blob.shape[0], lateral, *blob.shape[2:])) * 0.1).astype(np.float32)
            blob = np.concatenate([blob, extra], axis=1)
        blobs[name] = blob
    return blobs
