"""Parity of our NLA-SLR family with the official code, on CPU: same weights, same inputs, same logits.

For each variant (NLA-SLR on WLASL-2000, the NMFs-CSL layout without language layers, VKNet-64, the single RGB
and keypoint S3D streams) our model is built from a seed with random weights and BatchNorm statistics, written in
the official ``best.ckpt`` layout (``export_official(..., 'model_state', key_prefix='recognition_network.')``),
read back through ``zoo.loader.load_model`` (strict, prefix stripped) and loaded by the official
``SignLanguageModel`` (imported from the checkout, see ``official_import.py``) the way ``prediction.py`` reads
the file, but with ``strict=True`` instead of ``neq_load_customized``.

Inputs: random RGB frames (``[B, T, 3, size, size]``, uint8 /255, a coarse 7x7 pattern per clip and frame plus
noise) and random keypoints (``[B, T, 63, 3]``, a few frames
without detection), the 32-frame streams cut as ``from64`` does at test (16:48). The official network gets them
as its data loader would; ours gets the tensors the official preprocessing makes of them (its own heatmap
generation ``gen_gaussian_hmap_op``, its resize, BGR and normalisation), so both see identical stream tensors.
The BatchNorm statistics are those of one training-mode pass of our model over these streams, so that the
logits are not saturated (random statistics drive the four-stream logits to ~150 and the ensembles to log 0).
Both in eval mode. Compared: every head's logits and the ensembles (max abs, and max relative = max|a-b|/max|b|),
the top-5 classes of every head and clip, the 32-frame streams derived by our model against given ones, and the
official eval-mode losses against ``bench.runners.islr_losses`` computed on our outputs.

Run::

    python benchmarks/official_parity_nla_slr.py --nla-slr-repo /work/ref/SLRT/NLA-SLR [--json parity.json]

Exits 1 when a relative difference exceeds ``--tolerance`` (1e-4) or a top-5 list differs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_import import official_nla_slr_model  # noqa: E402

from bench.runners import islr_losses as L  # noqa: E402
from zoo.checkpoints import export_official  # noqa: E402
from zoo.loader import load_model  # noqa: E402

PREFIX = "recognition_network."
FOUR = {"rgb-h": "rgb-64", "rgb-l": "rgb-32", "kp-h": "keypoint-64", "kp-l": "keypoint-32", "fuse": "fuse",
        "fuse-h": "fuse-64", "fuse-l": "fuse-32"}


@dataclass(frozen=True)
class Variant:
    name: str
    config: str  # official configs/<config>.yaml
    card: str
    num_classes: int
    streams: tuple[str, ...]  # what the official forward reads
    outputs: dict  # official output key -> ours
    losses: dict  # official loss key -> (our head, loss kind: "recognition" / "inter_modality")
    smoothing: str = "none"
    language: bool = False
    keypoint_frame: int = 256
    variant: dict = field(default_factory=dict)


def _four(language: bool, smoothing: str) -> tuple[dict, dict]:
    outputs = {f"{k}_gloss_logits": v for k, v in FOUR.items()}
    outputs.update({"ensemble_last_gloss_logits": "ensemble_last", "ensemble_all_gloss_logits": "ensemble_all"})
    losses = {f"recognition_loss_{k}": (v, "recognition") for k, v in FOUR.items()}
    if language:
        losses.update({f"contras_loss_{k}_": (v, "inter_modality") for k, v in FOUR.items()})
    return outputs, losses


_NLA, _NLA_LOSSES = _four(True, "language")
_NMF, _NMF_LOSSES = _four(False, "uniform")
_VK = {"rgb_gloss_logits": "rgb", "keypoint_gloss_logits": "keypoint", "fuse_gloss_logits": "fuse",
       "ensemble_last_gloss_logits": "ensemble_last"}
_VK_LOSSES = {f"recognition_loss_{k}": (k, "recognition") for k in ("rgb", "keypoint", "fuse")}
VARIANTS = (
    Variant("nla_slr-wlasl2000", "nla_slr_wlasl_2000", "nla_slr", 2000, ("rgb", "keypoint", "low"), _NLA,
            _NLA_LOSSES, "language", True),
    Variant("nla_slr-nmfs_csl", "nla_slr_nmf", "nla_slr", 1067, ("rgb", "keypoint", "low"), _NMF, _NMF_LOSSES,
            "uniform", keypoint_frame=512, variant={"language": False}),
    Variant("vknet64-wlasl2000", "two_frame64", "vknet64", 2000, ("rgb", "keypoint"), _VK, _VK_LOSSES),
    Variant("s3d_rgb64-wlasl2000", "rgb_frame64", "s3d_rgb64", 2000, ("rgb",), {"gloss_logits": "rgb"},
            {"recognition_loss": ("rgb", "recognition")}),
    Variant("s3d_pose64-wlasl2000", "pose_frame64", "s3d_pose64", 2000, ("keypoint",),
            {"gloss_logits": "keypoint"}, {"recognition_loss": ("keypoint", "recognition")}),
)


@torch.no_grad()
def randomise_(model: nn.Module, seed: int) -> nn.Module:
    """He-normal convolutions, random BatchNorm affine parameters and statistics, heads N(0, 9/fan_in) (logits
    of a few units: softmax neither flat nor saturated)."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Conv3d, nn.ConvTranspose3d)):
            fan_in = math.prod(module.weight.shape[1:])
            module.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
        elif isinstance(module, nn.BatchNorm3d):
            module.weight.uniform_(0.5, 1.5, generator=generator)
            module.bias.normal_(0.0, 0.1, generator=generator)
            module.running_mean.normal_(0.0, 0.1, generator=generator)
            module.running_var.uniform_(0.5, 2.0, generator=generator)
            module.num_batches_tracked.fill_(1000)
        elif isinstance(module, nn.Linear):
            module.weight.normal_(0.0, 3.0 / math.sqrt(module.weight.shape[1]), generator=generator)
            module.bias.normal_(0.0, 0.1, generator=generator)
    return model


def make_inputs(clips: int, frames: int, size: int, keypoint_frame: int, seed: int) -> dict[str, torch.Tensor]:
    """Official loader-shaped inputs: frames ``[B, T, 3, H, W]`` in [0, 1] and keypoints ``[B, T, 63, 3]``."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (clips, frames, 3, 7, 7)).repeat(size // 7 + 1, -2).repeat(size // 7 + 1, -1)
    noise = rng.integers(0, 64, (clips, frames, 3, size, size))  # each clip its own coarse pattern, plus noise
    video = torch.from_numpy(np.clip(coarse[..., :size, :size] + noise - 32, 0, 255).astype(np.uint8)).float() / 255
    keypoints = rng.uniform(0, keypoint_frame, (clips, frames, 63, 3)).astype(np.float32)
    keypoints[:, ::9] = 0.0  # frames without a detection are stored as zeros
    labels = torch.from_numpy(rng.integers(0, 1000, clips))
    return {"video": video, "keypoints": torch.from_numpy(keypoints), "labels": labels}


def official_batch(variant: Variant, inputs: dict) -> tuple[list, list]:
    """``sgn_videos``, ``sgn_keypoints`` as the official loader hands them over (64 frames, then 16:48)."""
    video, keypoints = inputs["video"], inputs["keypoints"]
    frames = video.shape[1]
    low = slice(frames // 4, frames // 4 + frames // 2)  # from64 at test
    if "low" not in variant.streams:
        return [video], [keypoints]
    # .contiguous(): what move_to_device's .to('cuda') makes of the sliced batch (the official code views it)
    return [video, video[:, low].contiguous()], [keypoints, keypoints[:, low].contiguous()]


@torch.no_grad()
def official_streams(official: nn.Module, variant: Variant, inputs: dict) -> dict[str, torch.Tensor]:
    """The stream tensors the official preprocessing makes (heatmaps, resize, BGR, normalisation, eval path)."""
    net = official.recognition_network
    videos, kps = official_batch(variant, inputs)
    heat = [net.generate_batch_heatmap(k, net.heatmap_cfg) for k in kps] if "keypoint" in variant.streams else []
    rgb = videos if "rgb" in variant.streams else []
    pick = lambda items, i: items[i] if len(items) > i else None  # noqa: E731
    made = net.augment_preprocess_inputs(False, pick(rgb, 0), pick(heat, 0), pick(rgb, 1), pick(heat, 1))
    return {k: v for k, v in zip(("rgb", "keypoint", "rgb_low", "keypoint_low"), made) if v is not None}


@torch.no_grad()
def calibrate_batchnorm_(model: nn.Module, streams: dict[str, torch.Tensor]) -> nn.Module:
    """Running statistics := the statistics of one forward on ``streams``, so that activations keep their scale
    through the lateral sums (with random statistics the four-stream logits reach ~150 and the ensembles
    saturate to log 0)."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm3d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: after one batch, exactly its statistics
    model.train()
    model(**streams)
    for m in norms:
        m.momentum = 0.001
        m.num_batches_tracked.fill_(1000)
    return model.eval()


def our_losses(model: nn.Module, variant: Variant, out: dict, labels: torch.Tensor,
               word_vectors: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """The official eval-mode loss terms computed by ``islr_losses`` on our outputs (mixup configured, not
    applied: lambda 0 in the official code; inter-modality candidates: the top 5 by logit, as its eval head)."""
    not_mixed = L.Mixup(0.0, torch.arange(labels.shape[0]), labels, labels, False)
    similarity = L.gloss_similarity(word_vectors) if word_vectors is not None else None
    values = {}
    for key, (head, kind) in variant.losses.items():
        logits = out[head]
        if kind == "inter_modality":
            candidates = torch.argsort(logits, dim=1, descending=True)[:, :5]
            fused = model.head(head).word_fused_logits(out["features"][head], word_vectors, candidates)
            values[key] = L.inter_modality_loss(fused, candidates, not_mixed)
        elif variant.smoothing == "language":
            values[key] = L.mixed_loss(lambda y: L.soft_cross_entropy(
                logits, L.language_aware_targets(y, similarity, 0.2, 0.5)), not_mixed)
        elif variant.smoothing == "uniform":
            values[key] = L.mixed_loss(lambda y: L.soft_cross_entropy(
                logits, L.uniform_targets(y, variant.num_classes, 0.2)), not_mixed)
        else:
            values[key] = F.cross_entropy(logits, labels)
    return values


def difference(ours: torch.Tensor, official: torch.Tensor) -> tuple[float, float]:
    """``(max |a - b|, max |a - b| / max |b|)``."""
    abs_diff = float((ours - official).abs().max())
    return abs_diff, abs_diff / max(float(official.abs().max()), 1e-30)


def check_variant(variant: Variant, repo: Path, clips: int, frames: int, size: int, seed: int) -> dict:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    word_vectors = torch.randn(variant.num_classes, 300, generator=generator) if variant.language else None
    official = official_nla_slr_model(repo, variant.config, variant.num_classes, word_emb_tab=word_vectors)
    inputs = make_inputs(clips, frames, size, variant.keypoint_frame, seed)
    streams = official_streams(official, variant, inputs)
    built = randomise_(load_model(variant.card, num_classes=variant.num_classes, **variant.variant).model, seed)
    calibrate_batchnorm_(built, streams)
    with tempfile.TemporaryDirectory() as tmp:  # our weights reach both sides through a best.ckpt-layout file
        path = export_official(Path(tmp) / "best.ckpt", built.state_dict(), "model_state", key_prefix=PREFIX)
        loaded = load_model(variant.card, str(path), num_classes=variant.num_classes)
        saved = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
    official.load_state_dict(saved, strict=True)  # prediction.py uses neq_load_customized: it would skip misfits
    ours, official = loaded.model.eval(), official.eval()
    start = time.perf_counter()
    with torch.no_grad():
        videos, kps = official_batch(variant, inputs)
        out_official = official(is_train=False, labels=inputs["labels"], sgn_videos=videos, sgn_keypoints=kps,
                                epoch=0)
    official_s = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        out = ours(**streams, return_features=True)
    ours_s = time.perf_counter() - start
    result = {"variant": variant.name, "card": variant.card, "num_classes": variant.num_classes,
              "card_variant": loaded.variant, "clips": clips, "frames": frames, "size": size,
              "streams": {k: list(v.shape) for k, v in streams.items()}, "seconds": {"ours": ours_s,
                                                                                     "official": official_s},
              "outputs": {}, "losses": {}}
    for key, name in variant.outputs.items():
        abs_diff, rel_diff = difference(out[name], out_official[key])
        top5 = torch.equal(out[name].topk(5).indices, out_official[key].topk(5).indices)
        result["outputs"][name] = {"max_abs": abs_diff, "max_rel": rel_diff, "top5_identical": top5,
                                   "max_official": float(out_official[key].abs().max()),
                                   "top1": out[name].argmax(-1).tolist()}
    with torch.no_grad():
        losses = our_losses(ours, variant, out, inputs["labels"], word_vectors)
    for key, value in losses.items():
        abs_diff, rel_diff = difference(value.reshape(1), out_official[key].reshape(1))
        result["losses"][key] = {"ours": float(value), "official": float(out_official[key]), "max_rel": rel_diff}
    if "rgb_low" in streams:
        with torch.no_grad():
            derived = ours(rgb=streams["rgb"], keypoint=streams["keypoint"])
        result["short_window_derived_equal"] = all(torch.equal(derived[n], out[n]) for n in variant.outputs.values())
    return result


def failures(result: dict, tolerance: float) -> list[str]:
    problems = [f"{name}: relative difference {o['max_rel']:.2e} > {tolerance:.0e}"
                for name, o in result["outputs"].items() if o["max_rel"] > tolerance]
    problems += [f"{name}: top-5 differs" for name, o in result["outputs"].items() if not o["top5_identical"]]
    problems += [f"loss {key}: relative difference {v['max_rel']:.2e}" for key, v in result["losses"].items()
                 if v["max_rel"] > tolerance]
    if result.get("short_window_derived_equal") is False:
        problems.append("the 32-frame streams derived by our model differ from the from64 ones")
    return problems


def report_lines(result: dict) -> list[str]:
    lines = [f"{result['variant']} ({result['num_classes']} classes, {result['clips']} clips x {result['frames']} "
             f"frames, streams {result['streams']}; card variant {result['card_variant'] or 'default'}; forward "
             f"ours {result['seconds']['ours']:.1f} s, official {result['seconds']['official']:.1f} s incl. "
             "its preprocessing)"]
    for name, o in result["outputs"].items():
        lines.append(f"  {name:14} max abs {o['max_abs']:.3e}  max rel {o['max_rel']:.3e} (of {o['max_official']:.3f})"
                     f"  top-5 {'same' if o['top5_identical'] else 'DIFFERENT'}  top-1 {o['top1']}")
    for key, v in result["losses"].items():
        lines.append(f"  {key:28} ours {v['ours']:.6f} official {v['official']:.6f} rel {v['max_rel']:.1e}")
    if "short_window_derived_equal" in result:
        lines.append(f"  32-frame streams derived by our model (frames 16:48) = given: "
                     f"{result['short_window_derived_equal']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nla-slr-repo", type=Path, required=True, help="the NLA-SLR folder of an SLRT checkout")
    parser.add_argument("--clips", type=int, default=2)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--size", type=int, default=224, help="RGB size (the official model needs a multiple of 32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest relative difference")
    parser.add_argument("--only", nargs="*", choices=[v.name for v in VARIANTS], help="variants to run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.size != 224:
        parser.error("the official configs fix the input sizes (img_size 224, heatmap input_size 112)")
    torch.set_num_threads(args.threads)
    results, failed = [], False
    for variant in [v for v in VARIANTS if not args.only or v.name in args.only]:
        result = check_variant(variant, args.nla_slr_repo, args.clips, args.frames, args.size, args.seed)
        result["failures"] = failures(result, args.tolerance)
        results.append(result)
        print("\n".join(report_lines(result)))
        print("  " + ("PASS" if not result["failures"] else "FAIL: " + "; ".join(result["failures"])), flush=True)
        failed |= bool(result["failures"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
