"""Parity of our VideoMAEv2 / SignNet model with the official ``modeling_finetune.py``, on CPU: same weights, same
input, same logits, at 16 and 32 frames with both position tables.

The official model is imported from each checkout given (``official_import_videomae.py``: timm stood in for, the
checkout untouched). Random weights (every tensor non-zero, unlike the official zero biases and near-zero head) are
written in the released layout (``{"module": fp16 tensors}``), read by ours through ``zoo.loader.load_model`` and
loaded by the official model with ``strict=True``. Position tables as each code computes them: native = the
official model's own ``get_sinusoid_encoding_table`` at ``all_frames``; interpolated = the checkout's
``if args.num_frames != 16:`` block (upstream's ``run_class_finetuning.py``, the fork's
``run_class_finetuning_new.py``) run as written on a 16-frame official model, whose table it assumes (run on the
32-frame model itself, as committed, it fails reshaping to 19x19 patches; printed below). Both in eval mode, fp32.

Run (checkouts of github OpenGVLab/VideoMAEv2 and ganzobtn/slr_vit at 45e3c48)::

    python benchmarks/official_parity_videomae.py --videomae-repo /tmp/VideoMAEv2 --signnet-repo /tmp/slr_vit

Prints the max relative logit difference (max |ours - theirs| / max |theirs|) per case; exits 1 above
``--tolerance``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from official_import_videomae import (build_official, interpolation_script, official_finetune_module,  # noqa: E402
                                      run_interpolation_block)

from zoo.loader import load_model  # noqa: E402


def random_state(model: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Random non-zero tensors for every key: LayerNorm weights near 1, the rest small (fan-in scaled)."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, tensor in model.state_dict().items():
        if "norm" in name and name.endswith("weight"):
            value = 1.0 + 0.1 * torch.randn(tensor.shape, generator=gen)
        else:
            fan_in = tensor[0].numel() if tensor.dim() > 1 else 50
            value = torch.randn(tensor.shape, generator=gen) * fan_in ** -0.5
        state[name] = value.half()  # as released (fp16); both sides read the same rounded values
    return state


def official_model(module, repo: Path, state: dict, classes: int, frames: int, table: str) -> torch.nn.Module:
    model = build_official(module, classes, frames).eval()
    model.load_state_dict(state, strict=True)
    if table == "interpolated":
        model.pos_embed = run_interpolation_block(interpolation_script(repo), build_official(module, classes, 16),
                                                  frames)
    return model


def as_committed(module, repo: Path, frames: int) -> str:
    """What the checkout's interpolation block does on the model it is given (the ``frames``-frame one)."""
    try:
        run_interpolation_block(interpolation_script(repo), build_official(module, 10, frames), frames)
        return "runs"
    except RuntimeError as err:
        return f"fails: {str(err).splitlines()[0]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videomae-repo", type=Path, required=True, help="checkout of OpenGVLab/VideoMAEv2")
    parser.add_argument("--signnet-repo", type=Path, help="checkout of ganzobtn/slr_vit at 45e3c48")
    parser.add_argument("--frames", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--tables", nargs="+", default=["native", "interpolated"], choices=["native", "interpolated"])
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    repos = {"upstream": args.videomae_repo.resolve()}
    if args.signnet_repo:
        repos["signnet"] = args.signnet_repo.resolve()
    modules = {name: official_finetune_module(repo, f"official_{name}") for name, repo in repos.items()}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, {args.classes} classes")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for frames in args.frames:
            shape = load_model("signnet", num_classes=args.classes, num_frames=frames).model
            path = Path(tmp) / f"weights{frames}.pth"
            state = random_state(shape, args.seed + frames)
            torch.save({"module": state}, path)
            clip = torch.randn(args.batch, 3, frames, 224, 224, generator=torch.Generator().manual_seed(frames))
            for table in args.tables:
                ours = load_model("signnet", str(path), num_classes=args.classes, num_frames=frames,
                                  pos_table=table).model.eval()
                with torch.no_grad():
                    start = time.perf_counter()
                    mine = ours(clip)["logits"]
                    ours_s = time.perf_counter() - start
                    for name, module in modules.items():
                        official = official_model(module, repos[name], state, args.classes, frames, table)
                        start = time.perf_counter()
                        theirs = official(clip)
                        theirs_s = time.perf_counter() - start
                        rel = ((mine - theirs).abs().max() / theirs.abs().max()).item()
                        worst = max(worst, rel)
                        same_top1 = bool((mine.argmax(1) == theirs.argmax(1)).all())
                        print(f"{frames} frames, {table:12s} table, {name:8s}: max relative logit difference "
                              f"{rel:.2e} (max |logit| {theirs.abs().max().item():.3f}, top-1 equal: {same_top1}; "
                              f"forward ours {ours_s:.1f} s, official {theirs_s:.1f} s)")
                        del official
    for name, module in modules.items():
        print(f"{name}: the interpolation block as committed, on the 32-frame model: "
              f"{as_committed(module, repos[name], 32)}")
    print(f"worst: {worst:.2e} (tolerance {args.tolerance:.0e})")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    raise SystemExit(main())
