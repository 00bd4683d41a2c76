"""The input pipeline at a release's real size: end-to-end ``bench eval`` clips/s and where the time goes.

``make`` writes the data: a synthetic PHOENIX-2014 dev split with the real clips' ids, annotations and frame
counts (every ``--every``-th row of the official dev_info.npy: 540 / 9 = 60 clips, 8310 frames, mean 138.5) as
256x256 PNGs, and a synthetic WLASL test split (256x256 mp4, clips of 40-100 frames, COCO-WholeBody keypoints).
``run`` evaluates the demo's models on them (their random weights saved as a checkpoint: loaded strictly) with
each worker count, in a fresh process per run (``python -m bench eval``, wall time of the whole command), with
``--code`` the checkout whose bench runs (the main branch for "before"); ``--profile`` tables where supported.

    python benchmarks/bench_pipeline.py make --out /tmp/pipe --every 9 --per-class 10
    python benchmarks/bench_pipeline.py run --out /tmp/pipe --workers 1 2 --code . --profile
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
    print(f"wlasl test: {per_class * len(classes)} clips ({time.perf_counter() - began:.0f} s)")


def commands(out: Path) -> dict[str, list[str]]:
    return {
        "corrnet_tiny / PHOENIX-2014 dev": ["--model", "corrnet_tiny", "--dataset", "synthetic_phoenix2014", "--split",
                                            "dev", "--data-root", str(out / "phoenix-2014-multisigner"),
                                            "--checkpoint", str(out / "corrnet_tiny.safetensors"),
                                            "--gloss-dict", str(GLOSS_DICT)],
        "s3d_rgb_tiny / WLASL test": ["--model", "s3d_rgb_tiny", "--dataset", "synthetic_wlasl", "--split", "test",
                                      "--data-root", str(out / "wlasl"),
                                      "--checkpoint", str(out / "s3d_rgb_tiny.safetensors")],
    }


def run(out: Path, workers: list[int], code: Path, profile: bool, extra: list[str], label: str) -> list[dict]:
    rows = []
    env = {**os.environ, "PYTHONPATH": str(code.resolve()), "BENCH_THREADS": os.environ.get("BENCH_THREADS", "1")}
    for name, args in commands(out).items():
        for count in workers:
            results = out / "results" / f"{label}-w{count}-{int(time.time())}"
            cmd = [sys.executable, "-m", "bench", "eval", *args, "--results", str(results), "--restart", *extra]
            if count >= 0:
                cmd += ["--workers", str(count)]
            cmd += ["--profile"] if profile else []
            load = os.getloadavg()[0]
            began = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=code)
            wall = time.perf_counter() - began
            if done.returncode:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
            record = json.loads(sorted(results.glob("*.json"))[0].read_text())
            clips = record["samples"]["evaluated"]
            row = {"label": label, "run": name, "workers": count, "clips": clips, "wall_s": round(wall, 1),
                   "clips_per_s": round(clips / wall, 2), "load_1min": round(load, 2),
                   "profile": record.get("extra", {}).get("profile")}
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
    r.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="-1: don't pass --workers (old code)")
    r.add_argument("--code", type=Path, default=REPO, help="the checkout whose bench runs")
    r.add_argument("--profile", action="store_true")
    r.add_argument("--label", default="after")
    r.add_argument("--json", type=Path, help="append the rows here")
    r.add_argument("extra", nargs="*", help="more bench eval options (after --)")
    args = parser.parse_args()
    if args.command == "make":
        make(args.out, args.every, args.per_class)
    else:
        rows = run(args.out, args.workers, args.code, args.profile, args.extra, args.label)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
