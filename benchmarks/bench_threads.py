"""Training-step time of the demo models per thread count, on a quiet and on a busy machine: the thread policy's evidence.

``python benchmarks/bench_threads.py [--busy N] [--steps S]`` times S training steps of ``corrnet_tiny`` (2 clips of
60 frames at 32x32, the demo's batches) and ``s3d_rgb_tiny`` (8 clips of 16 frames at 64x64) with 1 and 2 torch
threads, and with 2 threads under ``OMP_WAIT_POLICY=PASSIVE``; each in a fresh process (OpenMP reads its settings
once). ``--busy N`` starts N busy-loop processes for the duration (another job loading the cores) and stops them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time

SETTINGS = {"1 thread": ({}, 1), "2 threads": ({}, 2), "2 threads, passive wait": ({"OMP_WAIT_POLICY": "PASSIVE"}, 2)}


def _spin() -> None:
    while True:
        pass


def one(model: str, threads: int, steps: int) -> float:
    import torch

    from zoo import get_card

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if model == "corrnet_tiny":
        net = get_card(model).build(30)
        video, lengths = torch.randn(2, 60, 3, 32, 32), torch.tensor([60, 52])
        run = lambda: net(video, lengths)["sequence_logits"].logsumexp(-1).mean()  # noqa: E731
    else:
        net = get_card(model).build(20)
        video = torch.randn(8, 3, 16, 64, 64)
        run = lambda: next(iter(net(rgb=video).values())).logsumexp(-1).mean()  # noqa: E731
    optimizer = torch.optim.Adam(net.parameters(), 1e-4)
    net.train()
    run().backward()  # warm-up
    began = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad()
        run().backward()
        optimizer.step()
    return (time.perf_counter() - began) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", type=int, default=0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--one", nargs=2)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.steps)))
        return
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    try:
        print(f"{os.cpu_count()} cores, {args.busy} busy loops, load average {os.getloadavg()[0]:.2f}")
        for model in ("corrnet_tiny", "s3d_rgb_tiny"):
            for label, (env, threads) in SETTINGS.items():
                out = subprocess.run([sys.executable, __file__, "--one", model, str(threads), "--steps",
                                      str(args.steps)], env={**os.environ, **env}, capture_output=True, text=True,
                                     check=True).stdout
                print(f"{model:13s} {label:24s} {1000 * json.loads(out):8.1f} ms/step", flush=True)
    finally:
        for p in spinners:
            p.terminate()


if __name__ == "__main__":
    main()
