"""The input pipeline at a release's real size: end-to-end ``bench eval`` clips/s and where the time goes.

``make`` writes the data: a synthetic PHOENIX-2014 dev split with the real clips' ids, annotations and frame
counts (every ``--every``-th row of the official dev_info.npy: 540 / 9 = 60 clips, 8310 frames, mean 138.5) as
256x256 PNGs, and a synthetic WLASL test split (256x256 mp4, clips of 40-100 frames, COCO-WholeBody keypoints).
``run`` evaluates the demo's models on them (their random weights saved as a checkpoint: loaded strictly) with
each worker count, in a fresh process per run through the runners' API (wall time of the evaluation, model loading
included), with ``--code`` the checkout whose bench runs (the main branch for "before", where ``workers`` are
decoding threads); ``--profile`` (new code) adds the per-stage table.

    python benchmarks/bench_pipeline.py make --out /tmp/pipe --every 1 --per-class 22   # full size: ~10 GB
    python benchmarks/bench_pipeline.py run --out /tmp/pipe --workers 1 2 --code . --profile

``--every 1`` is the whole dev split (540 clips, 75,186 frames at their real counts); ``--per-class 22`` gives 264
WLASL test clips (WLASL-100's test split has 258). The keypoint row evaluates the first 48 of them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BENCH_SHARED", REPO.parent / "shared"))
if not (SHARED / "reference").is_dir():
    SHARED = Path("/work/shared")
KEYPOINT_CLIPS = 48
DEV_INFO = SHARED / "reference" / "cslr" / "phoenix2014" / "dev_info.npy"
GLOSS_DICT = SHARED / "reference" / "cslr" / "phoenix2014" / "gloss_dict.npy"


def make(out: Path, every: int, per_class: int) -> None:
    import numpy as np
    import torch

    sys.path.insert(0, str(REPO))
    from bench.data.synthetic_isolated import make_dataset as make_wlasl
    from bench.data.synthetic_signs import make_split_like
    from bench.io.gloss_dict import read_gloss_dict
    from zoo.checkpoints import save_checkpoint, vocabulary_sha256
    from zoo.loader import load_model

    info = np.load(DEV_INFO, allow_pickle=True).item()
    rows = [info[i] for i in range(len(info) - 1)][::every]  # the 'prefix' key is not a clip
    began = time.perf_counter()
    root = out / "phoenix-2014-multisigner"
    if not (root / "annotations").is_dir():
        make_split_like(root, rows, "dev", frame_size=256, seed=0)
    print(f"phoenix dev: {len(rows)} clips, {sum(int(r['num_frames']) for r in rows)} frames "
          f"({time.perf_counter() - began:.0f} s)")
    id_to_gloss = read_gloss_dict(GLOSS_DICT)
    vocab = [id_to_gloss[i] for i in range(len(id_to_gloss))]
    torch.manual_seed(0)
    save_checkpoint(out / "corrnet_tiny.safetensors", load_model("corrnet_tiny", vocabulary=vocab).model.state_dict(),
                    {"card": "corrnet_tiny", "num_classes": len(vocab), "vocabulary_sha256": vocabulary_sha256(vocab)})
    began = time.perf_counter()
    wlasl = out / "wlasl"
    if not (wlasl / "WLASL_v0.3.json").is_file():
        make_wlasl(wlasl, {"train": 1, "test": per_class}, frame_size=256, seed=0, clip_frames=(40, 100))
    from bench.data.synthetic_isolated import SyntheticWlasl

    classes = SyntheticWlasl(wlasl).classes()
    save_checkpoint(out / "s3d_rgb_tiny.safetensors",
                    load_model("s3d_rgb_tiny", num_classes=len(classes)).model.state_dict(),
                    {"card": "s3d_rgb_tiny", "num_classes": len(classes)})
    pose = load_model("s3d_pose32", num_classes=len(classes)).model
    save_checkpoint(out / "s3d_pose32.safetensors", pose.state_dict(),
                    {"card": "s3d_pose32", "num_classes": len(classes)})  # NLA-SLR's keypoint stream, full width
    print(f"wlasl test: {per_class * len(classes)} clips ({time.perf_counter() - began:.0f} s)")


RUN = """
import json, sys, time
from pathlib import Path
kind, kwargs = json.loads(sys.argv[1])
if "views" in kwargs:
    kwargs["views"] = tuple(kwargs["views"])
for key in ("data_root", "results_dir", "gloss_dict", "keypoints"):
    if key in kwargs:
        kwargs[key] = Path(kwargs[key])
if kind == "continuous":
    from bench.runners.continuous import ContinuousEval as Config, evaluate_continuous as evaluate
else:
    from bench.runners.isolated import IsolatedEval as Config, evaluate_isolated as evaluate
began = time.perf_counter()
result = evaluate(Config(**kwargs))
wall = time.perf_counter() - began
profile = result.profile.to_dict() if getattr(result, "profile", None) is not None else None
print(json.dumps({"wall_s": wall, "clips": result.evaluated, "profile": profile}))
"""


def configs(out: Path) -> dict[str, tuple[str, dict]]:
    """The two evaluations, as keyword arguments of the runners' configs (the same in the old code and the new)."""
    return {
        "corrnet_tiny / PHOENIX-2014 dev": ("continuous", {
            "model": "corrnet_tiny", "dataset": "synthetic_phoenix2014", "split": "dev",
            "data_root": str(out / "phoenix-2014-multisigner"), "checkpoint": str(out / "corrnet_tiny.safetensors"),
            "gloss_dict": str(GLOSS_DICT)}),
        "s3d_rgb_tiny / WLASL test": ("isolated", {
            "model": "s3d_rgb_tiny", "dataset": "synthetic_wlasl", "split": "test", "data_root": str(out / "wlasl"),
            "checkpoint": str(out / "s3d_rgb_tiny.safetensors")}),
        # the keypoint stream: 63 Gaussian heatmaps per frame on the 256 grid, resized to 112 (NLA-SLR's input);
        # full-width S3D, the first KEYPOINT_CLIPS clips of the split (its heatmaps cost ~1-2 s a clip on a core)
        "s3d_pose32 / WLASL test (keypoint heatmaps)": ("isolated", {
            "model": "s3d_pose32", "dataset": "synthetic_wlasl", "split": "test", "data_root": str(out / "wlasl"),
            "checkpoint": str(out / "s3d_pose32.safetensors"), "views": ["1view"], "limit": KEYPOINT_CLIPS,
            "keypoints": str(out / "wlasl" / "keypoints_synthetic_wholebody.pkl")}),
    }


def run(out: Path, workers: list[int], code: Path, profile: bool, label: str, only: str | None = None,
        extra: dict | None = None) -> list[dict]:
    """Each evaluation with each worker count, in a fresh process on ``code``'s bench (the runners' API: the old
    code's ``workers`` are decoding threads, the new code's DataLoader processes)."""
    rows = []
    env = {**os.environ, "PYTHONPATH": str(code.resolve()), "BENCH_THREADS": os.environ.get("BENCH_THREADS", "1")}
    for name, (kind, kwargs) in configs(out).items():
        if only and only not in name:
            continue
        for count in workers:
            results = out / "results" / f"{label}-w{count}-{int(time.time())}"
            config = {**kwargs, "results_dir": str(results), "restart": True, "workers": count, **(extra or {})}
            if profile:
                config["profile"] = True
            load = os.getloadavg()[0]
            done = subprocess.run([sys.executable, "-c", RUN, json.dumps([kind, config])], env=env,
                                  capture_output=True, text=True, cwd=code)
            if done.returncode:
                raise SystemExit(f"{name} with {count} workers failed:\n{done.stdout}\n{done.stderr}")
            measured = json.loads(done.stdout.splitlines()[-1])
            row = {"label": label, "run": name, "workers": count, "clips": measured["clips"],
                   "wall_s": round(measured["wall_s"], 1), "clips_per_s": round(measured["clips"] / measured["wall_s"], 2),
                   "load_1min_before": round(load, 2), "load_1min_after": round(os.getloadavg()[0], 2),
                   "profile": measured["profile"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--every", type=int, default=9, help="every N-th PHOENIX dev clip (1: all 540)")
    m.add_argument("--per-class", type=int, default=10, help="WLASL test clips per class (12 classes)")
    r = sub.add_parser("run")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    r.add_argument("--only", help="only the evaluation whose name holds this (corrnet, s3d)")
    r.add_argument("--config", default="{}", help="more config fields, JSON (new code: cache_frames, amp)")
    r.add_argument("--code", type=Path, default=REPO, help="the checkout whose bench runs")
    r.add_argument("--profile", action="store_true")
    r.add_argument("--label", default="after")
    r.add_argument("--json", type=Path, help="append the rows here")
    args = parser.parse_args()
    if args.command == "make":
        make(args.out, args.every, args.per_class)
    else:
        rows = run(args.out, args.workers, args.code, args.profile, args.label, args.only, json.loads(args.config))
        if args.json:
            with open(args.json, "a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
