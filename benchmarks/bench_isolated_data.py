"""Isolated-SLR data pipeline speed on CPU: PyAV decoding of WLASL-like clips, and keypoint heatmaps per view.

Decoding: an mp4 (H.264 as ``bench.io.video.write_video`` writes it, 256x256, 25 fps, keyframe every 12 frames;
WLASL's released clips are 256x256 at 25 fps) of ``--frames`` frames with moving content; timed: the whole clip,
the central 64-frame window (``1view``) and the three ``temporal3`` windows read once, as the eval runner does.

Heatmaps: one 64-frame view of 63 keypoints -> ``[63, 64, 112, 112]`` (Gaussians on the 256 grid, bilinear
resize, normalisation): ours (``bench.data.keypoints.heatmap_input``, vectorised over points and frames) and,
with ``--nla-slr-repo``, the official ``gen_gaussian_hmap_op`` followed by the same resize; outputs compared.

Run::

    python benchmarks/bench_isolated_data.py [--nla-slr-repo /work/ref/SLRT/NLA-SLR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))


def clip(frames: int, size: int = 256, seed: int = 0) -> np.ndarray:
    """Frames with a textured background and a moving bright square (so the encoder has real work)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (size // 8, size // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    video = np.repeat(base[None], frames, axis=0)
    for t in range(frames):
        x = int((size - 48) * t / max(1, frames - 1))
        video[t, 100:148, x:x + 48] = 255
    return video


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    from bench.data.keypoints import NLA_SLR_POINTS, heatmap_input
    from bench.data.views import eval_views
    from bench.io.video import read_video_frames, write_video

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=120, help="clip length (WLASL clips: ~60-200 frames)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nla-slr-repo", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        write_video(path, clip(args.frames))
        whole = np.arange(args.frames)
        central = np.asarray(eval_views(args.frames - 2, "1view")[0].indices)
        windows = np.unique(np.concatenate([v.indices for v in eval_views(args.frames - 2, "temporal3")]))
        for name, indices in (("whole clip", whole), ("1view window", central), ("temporal3 windows", windows)):
            seconds = best_of(lambda: read_video_frames(path, indices), args.repeats)
            figures[f"decode {name}: frames/s"] = round(len(indices) / seconds, 1)
            figures[f"decode {name}: ms"] = round(1000 * seconds, 1)
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.uniform(0, 256, (64, 133, 2)), rng.uniform(0.5, 1, (64, 133, 1))], axis=-1)
    view = torch.from_numpy(points[:, list(NLA_SLR_POINTS)].astype(np.float32))
    ours = heatmap_input(view)
    figures["heatmaps ours: s per 64-frame view"] = round(best_of(lambda: heatmap_input(view), args.repeats), 3)
    separable = lambda: heatmap_input(view, separable=True)  # noqa: E731  (the --separable-heatmaps speed mode)
    figures["heatmaps separable: s per 64-frame view"] = round(best_of(separable, args.repeats), 3)
    figures["heatmaps separable: max abs difference"] = float((separable() - ours).abs().max())
    if args.nla_slr_repo:
        from official_import import official_nla_slr_function

        official_op = official_nla_slr_function(args.nla_slr_repo, "utils.gen_gaussian", "gen_gaussian_hmap_op")

        def official():
            maps = torch.cat([official_op(coords=chunk, raw_size=(256, 256), sigma=8)
                              for chunk in view.split(8)])
            maps = F.interpolate(maps, size=[112, 112], mode="bilinear", align_corners=False)
            return ((maps - 0.5) / 0.5).permute(1, 0, 2, 3)

        figures["heatmaps official: s per 64-frame view"] = round(best_of(official, args.repeats), 3)
        figures["heatmaps max abs difference"] = float((official() - ours).abs().max())
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
