"""Parity of our CorrNet and VAC with the official code, on CPU: same weights, same padded input, same outputs.

For each variant (CorrNet PHOENIX layout, CorrNet CSL-Daily layout, VAC baseline, VAC SMKD) our model is built
from a seed, its correlation ``alpha`` and weights and all BatchNorm statistics are randomised (zero ``alpha``
would hide the correlation path), and the official ``SLRModel`` (imported from the checkout, see
``official_import.py``) loads our state dict with ``strict=True``. Both get the same clips padded the official
way (the checkout's own ``collate_fn``; ours pads with ``bench.data.video.pad_batch``, checked equal), as a pair
and as a batch of one. Compared: both heads' logits (max abs and max relative difference, relative to the
official logits' largest magnitude), ``feat_len`` and the decoded labels (``bench.decoding`` beam search over
softmax and greedy, applied to both outputs). Also measured: the batch-composition effect PROTOCOLS.md
describes (the shorter clip's logits in a pair against alone): present in CorrNet, absent in VAC.

Run::

    python benchmarks/official_parity.py --corrnet-repo /work/ref/hulianyuyy+CorrNet \
        --vac-repo /work/ref/ycmin95+VAC_CSLR [--json parity.json]

Exits 1 when a relative difference exceeds ``--tolerance`` (1e-4, the issue's bar), a decode differs, the
padding differs, or the batch-composition effect is not as described.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_import import (LAYOUT, official_collate, official_model, official_state_dict,  # noqa: E402
                             remove_first_correlation)

from bench.data.video import pad_batch  # noqa: E402
from bench.decoding import beam_search, greedy_decode, merge_repeats  # noqa: E402
from zoo import get_card  # noqa: E402
from zoo.checkpoints import export_official  # noqa: E402
from zoo.corrnet import Correlation, CorrelationResNet18  # noqa: E402
from zoo.layers.temporal import temporal_padding  # noqa: E402

HEADS = ("conv_logits", "sequence_logits")
EFFECT_PRESENT = 1e-3  # CorrNet: the shorter clip of a pair must move by more than this (relative) against alone


@dataclass(frozen=True)
class Variant:
    name: str
    repo: str  # "corrnet" or "vac": which checkout builds the official model
    model: str  # our card
    num_classes: int
    ours: dict = field(default_factory=dict)  # card.build(num_classes, **ours); what variant_for(keys) must say
    official: dict = field(default_factory=dict)  # SLRModel(..., **official)
    adapt: Callable[[nn.Module], nn.Module] | None = None  # run-time edit of the official model
    batch_effect: bool = False  # does the shorter clip of a pair differ from the clip alone (if padded longer)?


VARIANTS = (
    Variant("corrnet-phoenix", "corrnet", "corrnet", 1296, ours={"correlation_after": (2, 3, 4)}, batch_effect=True),
    Variant("corrnet-csl-daily", "corrnet", "corrnet", 2001, ours={"correlation_after": (3, 4)},
            adapt=remove_first_correlation, batch_effect=True),
    Variant("vac-baseline", "vac", "vac", 1296, ours={"weight_norm": False, "share_classifier": False},
            official={"weight_norm": False, "share_classifier": False}),
    Variant("vac-smkd", "vac", "vac", 1296, ours={"weight_norm": True, "share_classifier": True}),
)


@torch.no_grad()
def randomise_(model: nn.Module, seed: int) -> nn.Module:
    """Non-zero correlation ``alpha`` and weights, random BatchNorm affine parameters and running statistics."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.weight.uniform_(0.5, 1.5, generator=generator)
            module.bias.normal_(0.0, 0.1, generator=generator)
            module.running_mean.normal_(0.0, 0.1, generator=generator)
            module.running_var.uniform_(0.5, 2.0, generator=generator)
        elif isinstance(module, Correlation):
            module.weights.uniform_(0.2, 1.0, generator=generator)
            module.weights2.uniform_(0.2, 1.0, generator=generator)
        if isinstance(module, CorrelationResNet18):
            module.alpha.uniform_(0.5, 1.5, generator=generator)
    return model


def make_clips(frames: tuple[int, ...], size: int, seed: int) -> list[torch.Tensor]:
    """Random uint8 RGB clips, normalised as CorrNet/VAC do (``x / 127.5 - 1``): ``[T, 3, size, size]`` each."""
    rng = np.random.default_rng(seed)
    return [torch.from_numpy(rng.integers(0, 256, size=(n, 3, size, size), dtype=np.uint8)).float() / 127.5 - 1
            for n in frames]


def decode(outputs: dict[str, torch.Tensor], head: str) -> dict[str, list[list[int]]]:
    """Best beam (beam 10, top 40, over softmax; repeats merged as the papers do) and greedy labels per sample."""
    lengths = outputs["feat_len"].numpy()
    assert np.all(lengths == np.round(lengths)), f"non-integral feat_len {lengths}"
    lengths = lengths.astype(np.int64)
    logits = outputs[head].permute(1, 0, 2)  # [B, T', C]
    beams = beam_search(logits.softmax(-1).numpy(), lengths)
    return {"beam": [merge_repeats(item[0][0]) for item in beams], "greedy": greedy_decode(logits, lengths)}


def difference(ours: torch.Tensor, official: torch.Tensor) -> tuple[float, float]:
    """``(max |a - b|, max |a - b| / max |b|)``."""
    abs_diff = float((ours - official).abs().max())
    return abs_diff, abs_diff / float(official.abs().max())


def run_both(ours: nn.Module, official: nn.Module, clips: list[torch.Tensor],
             collate: Callable) -> tuple[dict, dict, bool]:
    """Pad ``clips`` both ways, run both models; returns both outputs and whether the padded inputs were equal."""
    video, lengths, _ = pad_batch(clips, LAYOUT)
    batch = [(clip, [1], {"fileid": str(i)}) for i, clip in enumerate(clips)]
    official_video, official_lengths = collate(batch)[:2]
    same_input = torch.equal(video, official_video) and torch.equal(lengths, official_lengths)
    with torch.no_grad():
        out_ours = ours(video, lengths)
        out_official = official(official_video, official_lengths)
    return out_ours, {k: out_official[k] for k in ("feat_len", *HEADS)}, same_input


def compare(out_ours: dict, out_official: dict) -> dict:
    """Differences of both heads, ``feat_len`` values, and the decoded labels of both outputs."""
    result = {"feat_len": out_ours["feat_len"].tolist(),
              "feat_len_equal": bool(torch.equal(out_ours["feat_len"].double(), out_official["feat_len"].double()))}
    for head in HEADS:
        abs_diff, rel_diff = difference(out_ours[head], out_official[head])
        ours_decoded, official_decoded = decode(out_ours, head), decode(out_official, head)
        result[head] = {"max_abs": abs_diff, "max_rel": rel_diff, "max_official": float(out_official[head].abs().max()),
                        "beam_identical": ours_decoded["beam"] == official_decoded["beam"],
                        "greedy_identical": ours_decoded["greedy"] == official_decoded["greedy"],
                        "beam_lengths": [len(labels) for labels in ours_decoded["beam"]]}
    return result


def batch_effect(pair: dict, alone: dict) -> dict:
    """How far the shorter clip's valid logits move between the pair (position 1) and alone (position 0)."""
    steps = int(alone["feat_len"][0])
    effect = {}
    for head in HEADS:
        abs_diff, rel_diff = difference(pair[head][:steps, 1], alone[head][:steps, 0])
        effect[head] = {"max_abs": abs_diff, "max_rel": rel_diff}
    short_pair = {k: v[:, 1:] if k in HEADS else v[1:] for k, v in pair.items()}
    effect["beam_changed"] = decode(short_pair, "sequence_logits")["beam"] != decode(alone, "sequence_logits")["beam"]
    return effect


def check_variant(variant: Variant, repos: dict[str, Path], frames: tuple[int, int], size: int, seed: int) -> dict:
    card = get_card(variant.model)
    torch.manual_seed(seed)
    ours = randomise_(card.build(variant.num_classes, **variant.ours), seed).eval()
    official = official_model(repos[variant.repo], variant.num_classes, **variant.official)
    if variant.adapt is not None:
        official = variant.adapt(official)
    with tempfile.TemporaryDirectory() as tmp:  # the way our checkpoints reach the official code: a file it loads
        exported = export_official(Path(tmp) / "exported.pt", ours.state_dict())
        saved = torch.load(exported, map_location="cpu", weights_only=True)["model_state_dict"]
    official.load_state_dict(official_state_dict(saved), strict=True)
    official.eval()
    collate = official_collate(repos[variant.repo])
    clips = make_clips(frames, size, seed)
    _, stride = temporal_padding(LAYOUT)
    pair_lengths_differ = math.ceil(frames[0] / stride) != math.ceil(frames[1] / stride)  # else no extra frames
    pair_ours, pair_official, pair_input_equal = run_both(ours, official, clips, collate)
    shorter = clips[1] if len(clips[1]) <= len(clips[0]) else clips[0]  # position 1 of the sorted pair
    alone_ours, alone_official, alone_input_equal = run_both(ours, official, [shorter], collate)
    return {
        "variant": variant.name, "num_classes": variant.num_classes, "frames": list(frames), "size": size,
        "card_variant_from_official_keys": card.variant_for(set(official.state_dict())) == variant.ours,
        "padding_equal": pair_input_equal and alone_input_equal,
        "pair": compare(pair_ours, pair_official), "alone": compare(alone_ours, alone_official),
        "batch_effect": {"expected": variant.batch_effect and pair_lengths_differ,
                         "ours": batch_effect(pair_ours, alone_ours),
                         "official": batch_effect(pair_official, alone_official)},
    }


def failures(result: dict, tolerance: float) -> list[str]:
    """What fails the bar, in words (empty: parity holds)."""
    problems = []
    if not result["card_variant_from_official_keys"]:
        problems.append("the card's variant_from_keys does not recognise the official state dict")
    if not result["padding_equal"]:
        problems.append("bench.data.video.pad_batch differs from the official collate_fn")
    for batch in ("pair", "alone"):
        if not result[batch]["feat_len_equal"]:
            problems.append(f"{batch}: feat_len differs")
        for head in HEADS:
            entry = result[batch][head]
            if entry["max_rel"] > tolerance:
                problems.append(f"{batch} {head}: relative difference {entry['max_rel']:.2e} > {tolerance:.0e}")
            for kind in ("beam", "greedy"):
                if not entry[f"{kind}_identical"]:
                    problems.append(f"{batch} {head}: {kind} decodes differ")
    effect = result["batch_effect"]
    for side in ("ours", "official"):
        rel = effect[side]["sequence_logits"]["max_rel"]
        if effect["expected"] and rel <= EFFECT_PRESENT:
            problems.append(f"batch effect missing in {side}: {rel:.2e}")
        if not effect["expected"] and rel > tolerance:
            problems.append(f"unexpected batch effect in {side}: {rel:.2e}")
    return problems


def report_lines(result: dict) -> list[str]:
    lines = [f"{result['variant']} ({result['num_classes']} classes, clips {result['frames']} at "
             f"{result['size']}px; padding equal: {result['padding_equal']}; "
             f"card variant from official keys: {result['card_variant_from_official_keys']})"]
    for batch in ("pair", "alone"):
        entry = result[batch]
        for head in HEADS:
            h = entry[head]
            lines.append(f"  {batch:5} {head:15} max abs {h['max_abs']:.3e}  max rel {h['max_rel']:.3e} "
                         f"(of {h['max_official']:.2f})  "
                         f"beam {'same' if h['beam_identical'] else 'DIFFERENT'} (lengths {h['beam_lengths']})  "
                         f"greedy {'same' if h['greedy_identical'] else 'DIFFERENT'}")
        lines.append(f"  {batch:5} feat_len {entry['feat_len']} equal: {entry['feat_len_equal']}")
    effect = result["batch_effect"]
    for side in ("ours", "official"):
        e = effect[side]
        lines.append(f"  batch effect ({side}, shorter clip, pair vs alone): sequence rel "
                     f"{e['sequence_logits']['max_rel']:.3e}, conv rel {e['conv_logits']['max_rel']:.3e}, "
                     f"best beam changed: {e['beam_changed']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corrnet-repo", type=Path, help="a checkout of github.com/hulianyuyy/CorrNet")
    parser.add_argument("--vac-repo", type=Path, help="a checkout of github.com/ycmin95/VAC_CSLR")
    parser.add_argument("--frames", type=int, nargs=2, default=(27, 18), help="lengths of the two clips")
    parser.add_argument("--size", type=int, default=224, help="frame size (the official CorrNet needs 224)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest relative logit difference")
    parser.add_argument("--only", nargs="*", choices=[v.name for v in VARIANTS], help="variants to run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    repos = {"corrnet": args.corrnet_repo, "vac": args.vac_repo}
    chosen = [v for v in VARIANTS if (not args.only or v.name in args.only) and repos[v.repo] is not None]
    if not chosen:
        parser.error("nothing to run: give --corrnet-repo and/or --vac-repo")
    results, failed = [], False
    for variant in chosen:
        result = check_variant(variant, repos, tuple(args.frames), args.size, args.seed)
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
