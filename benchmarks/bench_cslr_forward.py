"""CorrNet forward speed and memory on CPU: ours, and the official code with the same weights.

The official test setting: a batch of 2 PHOENIX-length clips (100 and 80 frames by default) at 224x224, padded as
the official ``collate_fn`` does (to 112 frames), fp32, eval mode, ``torch.set_num_threads(2)``. Weights are
random (``official_parity.randomise_``: non-zero correlation ``alpha``), the same for both implementations.
Each implementation runs in its own process, so that its peak memory is its own: RSS is sampled every 2 ms
during the forwards; reported are the peak and the growth above the RSS just before the first forward (model and
input already in memory). Throughput is clips per second of the best (and the median) timed forward; each
process times ``--repeats`` forwards after a warm-up, and ``--rounds`` processes per implementation alternate, so
that load from other processes on the machine falls on both. The outputs are compared (they are identical).

Run::

    python benchmarks/bench_cslr_forward.py --corrnet-repo /work/ref/hulianyuyy+CorrNet
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_import import LAYOUT, official_model, official_state_dict  # noqa: E402
from official_parity import make_clips, randomise_  # noqa: E402

from bench.data.video import pad_batch  # noqa: E402
from zoo import get_card  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRss:
    """Samples this process's RSS in a thread (torch releases the GIL inside its kernels)."""

    def __init__(self, interval: float = 0.002):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> "PeakRss":
        self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def worker(impl: str, args: argparse.Namespace) -> dict:
    """Build one implementation, run the forwards, return the figures (and save the logits for comparison)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = randomise_(get_card("corrnet").build(args.num_classes), args.seed).eval()
    if impl == "official":
        official = official_model(args.corrnet_repo, args.num_classes)
        official.load_state_dict(official_state_dict(model.state_dict()), strict=True)
        model = official.eval()
    video, lengths, _ = pad_batch(make_clips(tuple(args.frames), args.size, args.seed), LAYOUT)
    before = rss_bytes()
    times, cpu = [], []
    with PeakRss() as peak, torch.no_grad():
        for _ in range(args.repeats + 1):  # the first is the warm-up
            start, start_cpu = time.perf_counter(), time.process_time()
            out = model(video, lengths)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    np.save(args.logits_dir / f"{impl}.npy", out["sequence_logits"].numpy())
    return {"impl": impl, "clips": len(args.frames), "padded_frames": int(video.shape[1]),
            "warmup_s": times[0], "times_s": times[1:], "cpu_s": cpu[1:],
            "rss_before_forward_mib": before / 2**20, "peak_rss_mib": peak.peak / 2**20,
            "peak_growth_mib": (peak.peak - before) / 2**20,
            "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def worker_command(args: argparse.Namespace, impl: str, logits_dir: str) -> list[str]:
    command = [sys.executable, __file__, "--worker", impl, "--logits-dir", logits_dir,
               "--frames", *map(str, args.frames), "--size", str(args.size), "--num-classes", str(args.num_classes),
               "--repeats", str(args.repeats), "--threads", str(args.threads), "--seed", str(args.seed)]
    return command + (["--corrnet-repo", str(args.corrnet_repo)] if args.corrnet_repo else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corrnet-repo", type=Path, help="a CorrNet checkout: also time the official code")
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 80], help="clip lengths (one batch)")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--num-classes", type=int, default=1296)
    parser.add_argument("--repeats", type=int, default=2, help="timed forwards per process (after a warm-up)")
    parser.add_argument("--rounds", type=int, default=2, help="processes per implementation, alternated")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", choices=["ours", "official"], help=argparse.SUPPRESS)
    parser.add_argument("--logits-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return 0
    impls = ["ours"] + (["official"] if args.corrnet_repo else [])
    runs: dict[str, list[dict]] = {impl: [] for impl in impls}
    with tempfile.TemporaryDirectory() as logits_dir:
        for round_index in range(args.rounds):  # alternate the implementations: load from elsewhere hits both
            for impl in impls:
                load = os.getloadavg()[0]
                r = json.loads(subprocess.run(worker_command(args, impl, logits_dir), check=True, capture_output=True,
                                              text=True).stdout.strip().splitlines()[-1])
                runs[impl].append(r)
                print(f"round {round_index + 1} {impl:8} forwards {', '.join(f'{t:.2f}' for t in r['times_s'])} s "
                      f"(warm-up {r['warmup_s']:.2f} s; CPU {', '.join(f'{t:.1f}' for t in r['cpu_s'])} s), "
                      f"peak RSS {r['peak_rss_mib']:.0f} MiB (+{r['peak_growth_mib']:.0f} MiB over "
                      f"{r['rss_before_forward_mib']:.0f} MiB before the forward; "
                      f"ru_maxrss {r['ru_maxrss_mib']:.0f} MiB), load average {load:.2f}", flush=True)
        if len(impls) == 2:
            ours, official = (np.load(Path(logits_dir) / f"{impl}.npy") for impl in impls)
            print(f"sequence_logits max abs difference ours vs official: {np.abs(ours - official).max():.3e}")
    first = runs[impls[0]][0]
    print(f"batch {first['clips']} clips {args.frames} -> {first['padded_frames']} padded frames at {args.size}px, "
          f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs")
    for impl in impls:
        times = [t for r in runs[impl] for t in r["times_s"]]
        best, median = min(times), float(np.median(times))
        print(f"{impl:8} best {best:.2f} s ({first['clips'] / best:.3f} clips/s), median {median:.2f} s "
              f"({first['clips'] / median:.3f} clips/s) of {len(times)}; peak RSS "
              f"{max(r['peak_rss_mib'] for r in runs[impl]):.0f} MiB, growth during the forward "
              f"{max(r['peak_growth_mib'] for r in runs[impl]):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
