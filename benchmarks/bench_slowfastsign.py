"""SlowFastSign speed and memory on CPU: eval forwards (ours, and the official code with the same weights), and a
training step with and without activation checkpointing.

``eval`` (default): the official test setting, a batch of 2 PHOENIX-length clips (200 and 160 frames, padded as
the official ``collate_fn`` does to 212) at 224x224, fp32, eval mode, ``torch.set_num_threads(2)``, random
weights (``official_parity_slowfastsign.randomise_slowfastsign_``). Each implementation runs in its own process
(``bench_cslr_forward``'s RSS sampler: peak, and growth above the RSS before the first forward); ``--repeats``
forwards each, the first one included in the figures but shown apart. The outputs are compared.

``train``: one training step (forward in training mode, the recipe's loss with the slow/fast branches at 0.25,
backward; no optimizer state) of the full-width R101 model on a reduced input (2 clips of 24 and 16 frames at
112x112 by default: the backbone averages whatever spatial size it ends with), in one process with
``checkpoint_activations=False`` and one with ``True``. Peak RSS growth is the activation memory; the logits and
every parameter's gradient are compared between the two processes (same seed, same dropout masks).

Run::

    python benchmarks/bench_slowfastsign.py [--slowfastsign-repo /work/ref/kaistmm+SlowFastSign]
    python benchmarks/bench_slowfastsign.py train
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cslr_forward import PeakRss, rss_bytes  # noqa: E402
from official_import import LAYOUT, official_slowfastsign_model, official_state_dict  # noqa: E402
from official_parity_slowfastsign import make_clips, randomise_slowfastsign_  # noqa: E402

from bench.data.video import pad_batch  # noqa: E402
from bench.runners.cslr_losses import cslr_loss  # noqa: E402
from zoo import get_card  # noqa: E402


def eval_worker(impl: str, args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = randomise_slowfastsign_(get_card("slowfastsign").build(args.num_classes), args.seed).eval()
    if impl == "official":
        official = official_slowfastsign_model(args.slowfastsign_repo, args.num_classes)
        official.load_state_dict(official_state_dict(model.state_dict()), strict=True)
        model = official.eval()
    video, lengths, _ = pad_batch(make_clips(tuple(args.frames), args.size, args.seed), LAYOUT)
    before, times = rss_bytes(), []
    with PeakRss() as peak, torch.no_grad():
        for _ in range(args.repeats):
            start = time.perf_counter()
            out = model(video, lengths)
            times.append(time.perf_counter() - start)
    logits = out["sequence_logits"]
    np.save(args.out_dir / f"{impl}.npy", (logits[0] if isinstance(logits, list) else logits).numpy())
    return {"impl": impl, "padded_frames": int(video.shape[1]), "times_s": times,
            "rss_before_mib": before / 2**20, "peak_rss_mib": peak.peak / 2**20,
            "peak_growth_mib": (peak.peak - before) / 2**20}


def train_worker(impl: str, args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = get_card("slowfastsign").build(args.num_classes, checkpoint_activations=impl == "checkpointed").train()
    video, lengths, _ = pad_batch(make_clips(tuple(args.train_frames), args.train_size, args.seed), LAYOUT)
    targets, target_lengths = torch.arange(1, 7), torch.tensor([3, 3])
    card = get_card("slowfastsign")
    before = rss_bytes()
    with PeakRss() as peak:
        start = time.perf_counter()
        torch.manual_seed(args.seed + 1)  # the same dropout masks in both processes
        out = model(video, lengths)
        loss, _ = cslr_loss(out, targets, target_lengths, card.training.loss_weights,
                            branch_weights=card.training.branch_weights)
        loss.backward()
        elapsed = time.perf_counter() - start
    grads = np.array([float(p.grad.double().norm()) for p in model.parameters()])
    np.savez(args.out_dir / f"{impl}.npz", logits=out["sequence_logits"].detach().numpy(), grads=grads,
             loss=float(loss))
    return {"impl": impl, "padded_frames": int(video.shape[1]), "times_s": [elapsed], "loss": float(loss),
            "rss_before_mib": before / 2**20, "peak_rss_mib": peak.peak / 2**20,
            "peak_growth_mib": (peak.peak - before) / 2**20}


def run_worker(args: argparse.Namespace, impl: str, out_dir: str) -> dict:
    command = [sys.executable, __file__, args.mode, "--worker", impl, "--out-dir", out_dir,
               "--frames", *map(str, args.frames), "--size", str(args.size), "--train-frames",
               *map(str, args.train_frames), "--train-size", str(args.train_size), "--num-classes",
               str(args.num_classes), "--repeats", str(args.repeats), "--threads", str(args.threads),
               "--seed", str(args.seed)]
    command += ["--slowfastsign-repo", str(args.slowfastsign_repo)] if args.slowfastsign_repo else []
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", choices=["eval", "train"], default="eval")
    parser.add_argument("--slowfastsign-repo", type=Path, help="a SlowFastSign checkout: also time the official code")
    parser.add_argument("--frames", type=int, nargs="+", default=[200, 160], help="eval: clip lengths (one batch)")
    parser.add_argument("--size", type=int, default=224, help="eval: frame size")
    parser.add_argument("--train-frames", type=int, nargs="+", default=[24, 16], help="train: clip lengths")
    parser.add_argument("--train-size", type=int, default=112, help="train: frame size")
    parser.add_argument("--num-classes", type=int, default=1296)
    parser.add_argument("--repeats", type=int, default=2, help="eval: forwards per process")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", choices=["ours", "official", "plain", "checkpointed"], help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps((train_worker if args.mode == "train" else eval_worker)(args.worker, args)))
        return 0
    impls = (["plain", "checkpointed"] if args.mode == "train" else
             ["ours"] + (["official"] if args.slowfastsign_repo else []))
    clips = len(args.train_frames if args.mode == "train" else args.frames)
    with tempfile.TemporaryDirectory() as out_dir:
        runs = {}
        for impl in impls:
            load = os.getloadavg()[0]
            runs[impl] = r = run_worker(args, impl, out_dir)
            rest = r["times_s"][1:]
            print(f"{impl:12} {'step' if args.mode == 'train' else 'forwards'} "
                  f"{', '.join(f'{t:.2f}' for t in r['times_s'])} s ({clips / min(rest or r['times_s']):.3f} clips/s "
                  f"{'after the first' if rest else ''}), peak RSS {r['peak_rss_mib']:.0f} MiB "
                  f"(+{r['peak_growth_mib']:.0f} MiB over {r['rss_before_mib']:.0f} MiB before), load {load:.2f}",
                  flush=True)
        if args.mode == "eval" and len(impls) == 2:
            ours, official = (np.load(Path(out_dir) / f"{impl}.npy") for impl in impls)
            print(f"sequence_logits max abs difference ours vs official: {np.abs(ours - official).max():.3e}")
        if args.mode == "train":
            plain, checkpointed = (np.load(Path(out_dir) / f"{impl}.npz") for impl in impls)
            grad_rel = np.abs(plain["grads"] - checkpointed["grads"]) / np.maximum(plain["grads"], 1e-30)
            print(f"checkpointed vs plain: loss {float(plain['loss']):.6f} / {float(checkpointed['loss']):.6f}, "
                  f"sequence_logits max abs difference {np.abs(plain['logits'] - checkpointed['logits']).max():.3e}, "
                  f"per-parameter gradient norms max relative difference {grad_rel.max():.3e} "
                  f"({len(grad_rel)} parameters)")
    frames, size = (args.train_frames, args.train_size) if args.mode == "train" else (args.frames, args.size)
    print(f"{args.mode}: batch of {clips} clips {frames} -> {runs[impls[0]]['padded_frames']} padded frames at "
          f"{size}px, torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
