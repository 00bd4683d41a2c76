"""SignNet (VideoMAEv2 ViT-B/16) forward: clips per second and peak memory, ours and the official
``modeling_finetune.py``, same weights, same input.

``python benchmarks/bench_videomae.py --videomae-repo <checkout> [--frames 32] [--batch 1] [--iters 2]`` writes one
random weights file in the released layout (``{"module": fp16}``), then runs each side in its own process (so that
peak RSS is its own): ours through ``zoo.loader.load_model("signnet", ...)``, the official model built as
``run_class_finetuning.py`` does and loaded with ``strict=True``; one warm-up forward, then ``--iters`` timed ones
(best and mean printed), eval mode, ``torch.no_grad``, fp32 on CPU. ``--device cuda`` times on a GPU instead
(``--amp``: fp16 autocast, as the official DeepSpeed evaluation). The logits' checksum is printed per side: equal
sums mean the two computed the same thing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from official_import_videomae import build_official, official_finetune_module  # noqa: E402
from official_parity_videomae import random_state  # noqa: E402

CLASSES = 2000  # SignNet on WLASL-2000


def run_side(side: str, repo: Path, weights: Path, frames: int, batch: int, iters: int, device: str,
             amp: bool) -> dict:
    """Build one side, load the weights, time ``iters`` forwards after a warm-up."""
    state = torch.load(weights, map_location="cpu", weights_only=True)["module"]
    if side == "ours":
        from zoo.loader import load_model

        model = load_model("signnet", str(weights), num_classes=CLASSES, num_frames=frames).model
        forward = lambda x: model(x)["logits"]  # noqa: E731
    else:
        model = build_official(official_finetune_module(repo), CLASSES, frames, drop_path_rate=0.3)
        model.load_state_dict(state, strict=True)
        forward = model
    model = model.to(device).eval()
    if side == "official":  # a plain tensor attribute: .to() does not move it (forward moves it every call)
        model.pos_embed = model.pos_embed.to(device)
    clip = torch.randn(batch, 3, frames, 224, 224, generator=torch.Generator().manual_seed(0)).to(device)
    times = []
    with torch.no_grad(), torch.autocast(device.split(":")[0], torch.float16, enabled=amp):
        for i in range(iters + 1):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            logits = forward(clip)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if i:  # the first forward warms up (allocations, kernel selection)
                times.append(time.perf_counter() - start)
    peak_gpu = torch.cuda.max_memory_allocated() / 2 ** 20 if device.startswith("cuda") else None
    return {"side": side, "best_s": min(times), "mean_s": sum(times) / len(times),
            "checksum": logits.float().sum().item(),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "peak_gpu_mib": peak_gpu,
            "threads": torch.get_num_threads()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videomae-repo", type=Path, required=True, help="checkout of OpenGVLab/VideoMAEv2 (or of "
                        "ganzobtn/slr_vit at 45e3c48: the same model file)")
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--iters", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true", help="fp16 autocast (GPU)")
    parser.add_argument("--side", choices=["ours", "official"], help=argparse.SUPPRESS)
    parser.add_argument("--weights", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    repo = args.videomae_repo.resolve()
    if args.side:  # a child process: one side
        print(json.dumps(run_side(args.side, repo, args.weights, args.frames, args.batch, args.iters, args.device,
                                  args.amp)))
        return 0
    from zoo.loader import load_model

    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "weights.pth"
        shape = load_model("signnet", num_classes=CLASSES, num_frames=args.frames).model
        torch.save({"module": random_state(shape, 0)}, weights)
        del shape
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.device}"
              f"{' fp16 autocast' if args.amp else ' fp32'}, ViT-B/16, {args.frames} frames, 224 px, batch "
              f"{args.batch}, {args.iters} timed forwards after 1 warm-up; load: {os.getloadavg()}")
        for side in ("ours", "official"):
            cmd = [sys.executable, __file__, "--videomae-repo", str(repo), "--frames", str(args.frames), "--batch",
                   str(args.batch), "--iters", str(args.iters), "--device", args.device, "--side", side,
                   "--weights", str(weights)] + (["--amp"] if args.amp else [])
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            gpu = f", peak GPU {out['peak_gpu_mib']:.0f} MiB" if out["peak_gpu_mib"] is not None else ""
            print(f"{side:8s}: best {out['best_s']:.2f} s, mean {out['mean_s']:.2f} s per batch, "
                  f"{args.batch / out['best_s']:.3f} clips/s, peak RSS {out['peak_rss_mib']:.0f} MiB{gpu}, "
                  f"{out['threads']} threads, logits checksum {out['checksum']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
