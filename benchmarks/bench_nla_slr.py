"""NLA-SLR forward speed and memory (CPU, or ``--device cuda``): ours, and the official code with the same weights.

The official test input: a batch of clips (2 by default) of 64 frames, RGB 224x224 and 63 keypoint heatmaps of
112x112, with the 32-frame streams cut at 16:48; fp32, eval mode, ``torch.set_num_threads(2)``. Weights are
random (``official_parity_nla_slr.randomise_``), the same for both. Each implementation runs in its own process
(peak RSS is its own: sampled every 2 ms during the forwards; reported are the peak and the growth above the RSS
just before the first forward, model and inputs already in memory).

What is timed: ours, ``model(rgb, keypoint, rgb_low, keypoint_low)`` on ready-made stream tensors (heatmaps come
from the data pipeline); ``ours_raw``, ours from the same frames and keypoints as the official forward (our
heatmaps, ``bench.data.keypoints.heatmap_input``, on the device, then the network; ``ours_raw_separable`` with the
separable speed mode); the official ``SignLanguageModel`` forward as ``prediction.py`` calls it, on frames and
keypoints, which also makes the heatmaps (``gen_gaussian_hmap_op`` on a 256 grid, then resized) and computes its
losses; and, separately, that preprocessing alone (``official preprocessing``), so that the official network's
share is the difference. Ours gets the streams made the same way (the official heatmap function, torchvision
0.10's resize, BGR, normalisation) outside the timed region; the outputs of both are compared.

Run::

    python benchmarks/bench_nla_slr.py --nla-slr-repo /work/ref/SLRT/NLA-SLR
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cslr_forward import PeakRss, rss_bytes  # noqa: E402
from official_import import official_nla_slr_function, official_nla_slr_model  # noqa: E402
from official_parity_nla_slr import make_inputs, randomise_  # noqa: E402

from zoo import get_card  # noqa: E402

CONFIG, NUM_CLASSES = "nla_slr_wlasl_2000", 2000
IMPLS = ("ours", "ours_raw", "ours_raw_separable", "official", "preprocessing")


def make_streams(repo: Path, inputs: dict, size: int = 224, heatmap_size: int = 112) -> dict[str, torch.Tensor]:
    """Stream tensors as the official eval preprocessing makes them, clip by clip (bounded memory)."""
    heatmaps_of = official_nla_slr_function(repo, "utils.gen_gaussian", "gen_gaussian_hmap_op")
    video, keypoints = inputs["video"], inputs["keypoints"]
    frames = video.shape[1]
    rgb, heat = [], []
    for b in range(video.shape[0]):
        clip = F.interpolate(video[b], size=[size, size], mode="bilinear", align_corners=False)  # [T, 3, H, W]
        rgb.append((clip[:, [2, 1, 0]] - 0.5) / 0.5)
        maps = torch.cat([heatmaps_of(coords=chunk, raw_size=(256, 256), sigma=8)
                          for chunk in keypoints[b].split(8)])  # [T, 63, 256, 256]
        maps = F.interpolate(maps, size=[heatmap_size, heatmap_size], mode="bilinear", align_corners=False)
        heat.append((maps - 0.5) / 0.5)
    rgb = torch.stack(rgb).permute(0, 2, 1, 3, 4).contiguous()
    heat = torch.stack(heat).permute(0, 2, 1, 3, 4).contiguous()
    low = slice(frames // 4, frames // 4 + frames // 2)
    return {"rgb": rgb, "keypoint": heat, "rgb_low": rgb[:, :, low], "keypoint_low": heat[:, :, low]}


def our_streams(video: torch.Tensor, keypoints: torch.Tensor, size: int = 224, heatmap_size: int = 112,
                separable: bool = False) -> dict[str, torch.Tensor]:
    """The same streams from frames and keypoints with our heatmaps (``bench.data.keypoints.heatmap_input``, on
    the tensors' device), clip by clip; the RGB steps as :func:`make_streams`."""
    from bench.data.keypoints import heatmap_input

    frames = video.shape[1]
    rgb, heat = [], []
    for b in range(video.shape[0]):
        clip = F.interpolate(video[b], size=[size, size], mode="bilinear", align_corners=False)
        rgb.append((clip[:, [2, 1, 0]] - 0.5) / 0.5)
        heat.append(heatmap_input(keypoints[b], (256, 256), None, 8.0, heatmap_size, keypoints.device,
                                  separable=separable))  # [P, T, S, S]
    rgb = torch.stack(rgb).permute(0, 2, 1, 3, 4).contiguous()
    heat = torch.stack(heat)
    low = slice(frames // 4, frames // 4 + frames // 2)
    return {"rgb": rgb, "keypoint": heat, "rgb_low": rgb[:, :, low], "keypoint_low": heat[:, :, low]}


def worker(impl: str, args: argparse.Namespace) -> dict:
    """Build one implementation, run the forwards, return the figures (and save the logits for comparison)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = args.device
    model = randomise_(get_card("nla_slr").build(NUM_CLASSES), args.seed).eval()
    inputs = make_inputs(args.clips, args.frames, 224, 256, args.seed)
    if impl == "ours":
        streams = {k: v.to(device) for k, v in make_streams(args.nla_slr_repo, inputs).items()}
        model = model.to(device)
        run = lambda: model(**streams)  # noqa: E731
    elif impl in ("ours_raw", "ours_raw_separable"):  # from frames and keypoints, as the official forward
        video, keypoints, model = inputs["video"].to(device), inputs["keypoints"].to(device), model.to(device)
        separable = impl == "ours_raw_separable"
        run = lambda: model(**our_streams(video, keypoints, separable=separable))  # noqa: E731
    else:
        vectors = torch.randn(NUM_CLASSES, 300, generator=torch.Generator().manual_seed(args.seed))
        official = official_nla_slr_model(args.nla_slr_repo, CONFIG, NUM_CLASSES, word_emb_tab=vectors)
        official.load_state_dict({"recognition_network." + k: v for k, v in model.state_dict().items()}, strict=True)
        model, net = official.eval().to(device), official.recognition_network
        low = slice(args.frames // 4, args.frames // 4 + args.frames // 2)
        inputs = {k: v.to(device) for k, v in inputs.items()}
        videos = [inputs["video"], inputs["video"][:, low].contiguous()]
        kps = [inputs["keypoints"], inputs["keypoints"][:, low].contiguous()]
        if impl == "official":
            run = lambda: model(is_train=False, labels=inputs["labels"], sgn_videos=videos,  # noqa: E731
                                sgn_keypoints=kps, epoch=0)
        else:  # the official preprocessing alone: heatmaps, resize, BGR, normalisation
            run = lambda: net.augment_preprocess_inputs(  # noqa: E731
                False, videos[0], net.generate_batch_heatmap(kps[0], net.heatmap_cfg), videos[1],
                net.generate_batch_heatmap(kps[1], net.heatmap_cfg))
    cuda = device.startswith("cuda")
    before = rss_bytes()
    times, cpu = [], []
    with PeakRss() as peak, torch.no_grad():
        for _ in range(args.repeats + 1):  # the first is the warm-up
            start, start_cpu = time.perf_counter(), time.process_time()
            out = run()
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    if impl != "preprocessing":
        key = "fuse_gloss_logits" if impl == "official" else "fuse"
        np.save(args.logits_dir / f"{impl}.npy", out[key].float().cpu().numpy())
    return {"impl": impl, "clips": args.clips, "warmup_s": times[0], "times_s": times[1:], "cpu_s": cpu[1:],
            "rss_before_forward_mib": before / 2**20, "peak_rss_mib": peak.peak / 2**20,
            "peak_growth_mib": (peak.peak - before) / 2**20,
            "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None}


def worker_command(args: argparse.Namespace, impl: str, logits_dir: str) -> list[str]:
    return [sys.executable, __file__, "--worker", impl, "--logits-dir", logits_dir, "--nla-slr-repo",
            str(args.nla_slr_repo), "--clips", str(args.clips), "--frames", str(args.frames), "--repeats",
            str(args.repeats), "--threads", str(args.threads), "--seed", str(args.seed), "--device", args.device]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nla-slr-repo", type=Path, required=True, help="the NLA-SLR folder of an SLRT checkout")
    parser.add_argument("--clips", type=int, default=2)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2, help="timed forwards per process (after a warm-up)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the official code moves its inputs there)")
    parser.add_argument("--impls", nargs="+", default=["ours", "ours_raw", "official", "preprocessing"],
                        choices=IMPLS)
    parser.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--logits-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return 0
    runs = {}
    with tempfile.TemporaryDirectory() as logits_dir:
        for impl in args.impls:
            load = os.getloadavg()[0]
            r = json.loads(subprocess.run(worker_command(args, impl, logits_dir), check=True, capture_output=True,
                                          text=True).stdout.strip().splitlines()[-1])
            runs[impl] = r
            print(f"{impl:13} forwards {', '.join(f'{t:.2f}' for t in r['times_s'])} s (warm-up {r['warmup_s']:.2f} s;"
                  f" CPU {', '.join(f'{t:.1f}' for t in r['cpu_s'])} s), peak RSS {r['peak_rss_mib']:.0f} MiB "
                  f"(+{r['peak_growth_mib']:.0f} MiB over {r['rss_before_forward_mib']:.0f} MiB before the forward;"
                  f" ru_maxrss {r['ru_maxrss_mib']:.0f} MiB), load average {load:.2f}", flush=True)
        official = np.load(Path(logits_dir) / "official.npy") if "official" in runs else None
        for impl in (i for i in runs if i.startswith("ours") and official is not None):
            ours = np.load(Path(logits_dir) / f"{impl}.npy")
            print(f"fuse logits max abs difference {impl} vs official: {np.abs(ours - official).max():.3e} "
                  f"(max |logit| {np.abs(official).max():.1f})")
    print(f"batch {args.clips} clips x {args.frames} frames (+ {args.frames // 2}-frame streams), RGB 224, heatmaps "
          f"112, torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, {args.device}")
    for impl, r in runs.items():
        best, median = min(r["times_s"]), float(np.median(r["times_s"]))
        print(f"{impl:13} best {best:.2f} s ({args.clips / best:.3f} clips/s), median {median:.2f} s; peak RSS "
              f"{r['peak_rss_mib']:.0f} MiB, growth during the forward {r['peak_growth_mib']:.0f} MiB")
    if "official" in runs and "preprocessing" in runs:
        network = min(runs["official"]["times_s"]) - min(runs["preprocessing"]["times_s"])
        print(f"official network alone (forward - preprocessing, best): {network:.2f} s "
              f"({args.clips / network:.3f} clips/s)" if network > 0 and not math.isnan(network) else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
