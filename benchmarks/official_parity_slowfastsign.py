"""Parity of our SlowFastSign with the official code, on CPU: same weights, same padded input, same outputs.

Our full-size model (SlowFast R101 64x2 + BFF, three heads, 1296 classes) is built from a seed with random
BatchNorm statistics, non-zero fusion weights (``weight_s``/``weight_f`` start at 0 and would hide the fusion)
and small final-BN scales in the bottlenecks (random statistics through 33 blocks otherwise grow the features to
1e6 and saturate the BiLSTMs, which would hide differences). The official ``SLRModel`` of ``slr_network_multi``
(imported from the checkout, see ``official_import.py``) loads our state dict exported with
``zoo.checkpoints.export_official``, ``strict=True``, after the official loader's key rule. Both get the same
clips normalised as the official loader does (``(x / 255 - 0.45) / 0.225``) and padded by the checkout's own
``collate_fn`` (ours by ``bench.data.video.pad_batch``, checked equal), as a pair and as a batch of one.

Compared in eval mode (the official inference computes only the main head): both heads' logits (max abs, and
max relative = max |a - b| / max |b|), ``feat_len``, and the labels decoded by ``bench.decoding`` (beam 10 over
softmax, and greedy) from both outputs. Also measured: how far the pair's shorter clip moves against the same clip
alone (the 3D backbone's temporal kernels reach into the repeated last frames). In training mode the three heads
of both models are compared too, dropout and BatchNorm batch statistics included (same seed before each forward).

Run (1-2 minutes on 2 cores, about 4 GiB at the peak)::

    python benchmarks/official_parity_slowfastsign.py --slowfastsign-repo /work/ref/kaistmm+SlowFastSign

Exits 1 when a relative difference exceeds ``--tolerance`` (1e-4), a decode differs, or the padding differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_import import (LAYOUT, official_collate, official_slowfast_checkpoint_loader,  # noqa: E402
                             official_slowfastsign_model, official_state_dict)
from official_parity import HEADS, decode, difference, randomise_  # noqa: E402

from bench.data.video import pad_batch  # noqa: E402
from zoo import get_card  # noqa: E402
from zoo.checkpoints import export_official  # noqa: E402
from zoo.layers.slowfast import Bottleneck, FuseBiAdd  # noqa: E402
from zoo.slowfast_caffe2 import caffe2_blobs, load_caffe2_slowfast  # noqa: E402

BRANCH_NAMES = ("slow", "fast")  # official indices 1 and 2


@torch.no_grad()
def randomise_slowfastsign_(model: nn.Module, seed: int) -> nn.Module:
    """Random BatchNorm affine and statistics, non-zero fusion weights, final bottleneck BN scales in [0.05, 0.2]."""
    randomise_(model, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    for module in model.modules():
        if isinstance(module, FuseBiAdd):
            module.weight_s.uniform_(0.5, 1.5, generator=generator)
            module.weight_f.uniform_(0.5, 1.5, generator=generator)
        elif isinstance(module, Bottleneck):
            module.c_bn.weight.uniform_(0.05, 0.2, generator=generator)
    return model


def make_clips(frames: tuple[int, ...], size: int, seed: int) -> list[torch.Tensor]:
    """Random uint8 RGB clips normalised as SlowFastSign's loader does: ``[T, 3, size, size]`` each."""
    rng = np.random.default_rng(seed)
    return [((torch.from_numpy(rng.integers(0, 256, size=(n, 3, size, size), dtype=np.uint8)).float() / 255.)
             - 0.45) / 0.225 for n in frames]


def official_main_head(out: dict) -> dict[str, torch.Tensor]:
    """The official output lists index 0 as the main head."""
    return {"feat_len": out["feat_len"], "conv_logits": out["conv_logits"][0],
            "sequence_logits": out["sequence_logits"][0]}


def run_both(ours: nn.Module, official: nn.Module, clips: list[torch.Tensor], collate) -> tuple[dict, dict, bool]:
    video, lengths, _ = pad_batch(clips, LAYOUT)
    official_video, official_lengths = collate([(clip, [1], {"fileid": str(i)}) for i, clip in enumerate(clips)])[:2]
    same_input = torch.equal(video, official_video) and torch.equal(lengths, official_lengths)
    with torch.no_grad():
        out_ours = ours(video, lengths)
        out_official = official(official_video, official_lengths)
    return out_ours, official_main_head(out_official), same_input


def compare(out_ours: dict, out_official: dict) -> dict:
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


def training_heads(ours: nn.Module, official: nn.Module, clips: list[torch.Tensor], seed: int) -> dict:
    """Training-mode outputs of all three heads (dropout and batch statistics included), same RNG for both."""
    video, lengths, _ = pad_batch(clips, LAYOUT)
    states = {}
    for name, model in (("ours", ours), ("official", official)):
        states[name] = {k: v.clone() for k, v in model.state_dict().items()}
        model.train()
    try:
        with torch.no_grad():
            torch.manual_seed(seed)
            out_ours = ours(video, lengths)
            torch.manual_seed(seed)
            out_official = official(video, lengths)
    finally:
        for name, model in (("ours", ours), ("official", official)):
            model.load_state_dict(states[name])  # put the running statistics back
            model.eval()
    result = {}
    for index, branch in enumerate(("main", *BRANCH_NAMES)):
        mine = out_ours if branch == "main" else out_ours["branches"][branch]
        for head in HEADS:
            abs_diff, rel_diff = difference(mine[head], out_official[head][index])
            result[f"{branch} {head}"] = {"max_abs": abs_diff, "max_rel": rel_diff}
    return result


def check(repo: Path, frames: tuple[int, int], size: int, seed: int, train: bool, caffe2: bool) -> dict:
    card = get_card("slowfastsign")
    torch.manual_seed(seed)
    ours = randomise_slowfastsign_(card.build(1296), seed).eval()
    official = official_slowfastsign_model(repo, 1296)
    with tempfile.TemporaryDirectory() as tmp:  # the way our checkpoints reach the official code: a file it loads
        exported = export_official(Path(tmp) / "exported.pt", ours.state_dict())
        saved = torch.load(exported, map_location="cpu", weights_only=True)["model_state_dict"]
    official.load_state_dict(official_state_dict(saved), strict=True)
    official.eval()
    collate = official_collate(repo)  # SlowFastSign's collate_fn is CorrNet's (left pad 6, stride 4)
    clips = make_clips(frames, size, seed)
    pair_ours, pair_official, pair_input_equal = run_both(ours, official, clips, collate)
    shorter = min(clips, key=len)
    alone_ours, alone_official, alone_input_equal = run_both(ours, official, [shorter], collate)
    steps = int(alone_ours["feat_len"][0])
    effect = {}
    for side, pair, alone in (("ours", pair_ours, alone_ours), ("official", pair_official, alone_official)):
        effect[side] = {head: difference(pair[head][:steps, 1], alone[head][:steps, 0])[1] for head in HEADS}
    result = {"frames": list(frames), "size": size, "padded_frames": int(pad_batch(clips, LAYOUT)[0].shape[1]),
              "padding_equal": pair_input_equal and alone_input_equal,
              "pair": compare(pair_ours, pair_official), "alone": compare(alone_ours, alone_official),
              "batch_effect_rel": effect}
    if train:
        result["training"] = training_heads(ours, official, clips, seed)
    if caffe2:
        result["caffe2"] = caffe2_check(repo, ours, seed)
    return result


def caffe2_check(repo: Path, ours: nn.Module, seed: int) -> dict:
    """Our Caffe2 loader against PySlowFast's ``load_checkpoint`` (from the checkout) on one synthetic file.

    The file has the Kinetics pretraining layout (``caffe2_blobs(pretraining_layout=True)``: wider slow first
    blocks, ratio-2 laterals) plus blobs without counterpart (non-local blocks at res4 6/13/20, the 600-class
    classifier, momentum, ``lr``, ``model_iter``). Both loaders must fill the same keys with the same values.
    """
    import io
    import pickle
    from contextlib import redirect_stdout

    blobs = caffe2_blobs(ours.conv2d, pretraining_layout=True, seed=seed)
    junk = {"pred_w": np.zeros((600, 2304), np.float32), "pred_b": np.zeros(600, np.float32),
            "conv1_w_momentum": np.zeros_like(blobs["conv1_w"]), "lr": np.array([0.1], np.float32),
            "model_iter": np.array([1000]), **{f"nonlocal_conv4_{i}_theta_w": np.zeros((512, 1024, 1, 1, 1), np.float32)
                                             for i in (6, 13, 20)}}
    fresh = get_card("slowfastsign").build(1296).conv2d
    official = official_slowfastsign_model(repo, 1296)  # freshly initialised: every loaded tensor changes
    before = {k: v.clone() for k, v in official.conv2d.state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SLOWFAST_64x2_R101_50_50.pkl"
        path.write_bytes(pickle.dumps({"blobs": {**blobs, **junk}}, protocol=2))
        with redirect_stdout(io.StringIO()) as printed:
            official_slowfast_checkpoint_loader(repo)(str(path), official.conv2d)
        report = load_caffe2_slowfast(fresh, path)
    after, mine = official.conv2d.state_dict(), fresh.state_dict()
    changed = sorted(k for k in after if not torch.equal(after[k], before[k]))
    return {"keys_equal": changed == report.loaded,
            "values_equal": all(torch.equal(after[k], mine[k]) for k in changed),
            "loaded": len(report.loaded), "adapted": sorted(report.adapted), "unconverted": sorted(report.unconverted),
            "unfilled": report.unfilled, "official_printed_lines": len(printed.getvalue().splitlines())}


def failures(result: dict, tolerance: float) -> list[str]:
    problems = [] if result["padding_equal"] else ["bench.data.video.pad_batch differs from the official collate_fn"]
    for batch in ("pair", "alone"):
        if not result[batch]["feat_len_equal"]:
            problems.append(f"{batch}: feat_len differs")
        for head in HEADS:
            entry = result[batch][head]
            if entry["max_rel"] > tolerance:
                problems.append(f"{batch} {head}: relative difference {entry['max_rel']:.2e} > {tolerance:.0e}")
            problems += [f"{batch} {head}: {kind} decodes differ" for kind in ("beam", "greedy")
                         if not entry[f"{kind}_identical"]]
    for name, entry in result.get("training", {}).items():
        if entry["max_rel"] > tolerance:
            problems.append(f"training {name}: relative difference {entry['max_rel']:.2e} > {tolerance:.0e}")
    if "caffe2" in result and not (result["caffe2"]["keys_equal"] and result["caffe2"]["values_equal"]):
        problems.append("the Caffe2 loader fills other keys or values than PySlowFast's load_checkpoint")
    return problems


def report_lines(result: dict) -> list[str]:
    lines = [f"slowfastsign (1296 classes, clips {result['frames']} at {result['size']}px, padded to "
             f"{result['padded_frames']} frames; padding equal: {result['padding_equal']})"]
    for batch in ("pair", "alone"):
        entry = result[batch]
        for head in HEADS:
            h = entry[head]
            lines.append(f"  {batch:5} {head:15} max abs {h['max_abs']:.3e}  max rel {h['max_rel']:.3e} "
                         f"(of {h['max_official']:.3f})  beam {'same' if h['beam_identical'] else 'DIFFERENT'} "
                         f"(lengths {h['beam_lengths']})  greedy {'same' if h['greedy_identical'] else 'DIFFERENT'}")
        lines.append(f"  {batch:5} feat_len {entry['feat_len']} equal: {entry['feat_len_equal']}")
    for side, effect in result["batch_effect_rel"].items():
        lines.append(f"  batch effect ({side}, shorter clip, pair vs alone): sequence rel "
                     f"{effect['sequence_logits']:.3e}, conv rel {effect['conv_logits']:.3e}")
    for name, entry in result.get("training", {}).items():
        lines.append(f"  train {name:28} max abs {entry['max_abs']:.3e}  max rel {entry['max_rel']:.3e}")
    if "caffe2" in result:
        c = result["caffe2"]
        lines.append(f"  caffe2 pickle vs PySlowFast load_checkpoint: same keys {c['keys_equal']}, same values "
                     f"{c['values_equal']}; {c['loaded']} loaded ({len(c['adapted'])} adapted), "
                     f"{len(c['unconverted'])} blobs not converted, {len(c['unfilled'])} keys not filled")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slowfastsign-repo", type=Path, required=True,
                        help="a checkout of github.com/kaistmm/SlowFastSign")
    parser.add_argument("--frames", type=int, nargs=2, default=(24, 16), help="lengths of the two clips")
    parser.add_argument("--size", type=int, default=224, help="frame size (the official head needs 7x7 maps: 224)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest relative logit difference")
    parser.add_argument("--no-train", action="store_true", help="skip the training-mode comparison of all heads")
    parser.add_argument("--no-caffe2", action="store_true", help="skip the Caffe2 loader comparison")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    result = check(args.slowfastsign_repo, tuple(args.frames), args.size, args.seed, not args.no_train,
                   not args.no_caffe2)
    result["failures"] = failures(result, args.tolerance)
    print("\n".join(report_lines(result)))
    print("  " + ("PASS" if not result["failures"] else "FAIL: " + "; ".join(result["failures"])), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
