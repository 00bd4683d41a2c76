"""Throughput of ``bench landmarks`` (MediaPipe Holistic, SignNet's settings) and of the H&HT mosaic, on CPU.

Videos made of a real photograph (matplotlib's Grace Hopper, 512x600) cropped to a square and resized to
``--size``, sliding a few pixels per frame so that Holistic tracks a moving person; written in WLASL's layout.
Prints frames/s with 1 process and with ``--processes N``, the mosaic's frames/s (ours in numpy; cv2's where
installed), and with ``--kill-check`` stops the real command with SIGTERM after 2 finished videos, runs it again and
checks that the finished files were not rewritten (mtime) and that every video is done.

    python benchmarks/bench_landmarks.py --videos 8 --frames 48 --size 256 --processes 2 --kill-check

Needs mediapipe (bench.hht.holistic.INSTALL). Record ``uptime`` beside the figures: the machine's load moves them.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.data.wlasl import write_wlasl  # noqa: E402
from bench.hht.extract import extract_landmarks  # noqa: E402
from bench.hht.mosaic import mosaic_frames  # noqa: E402
from bench.io.landmarks import read_landmarks  # noqa: E402
from bench.data import DATASETS  # noqa: E402
from bench.data.wlasl import _Wlasl  # noqa: E402


@DATASETS.register("photo_clips")
class PhotoClips(_Wlasl):
    """The benchmark's clips, read by the WLASL reader."""

    name, num_classes = "photo_clips", 100


def make_clips(root: Path, videos: int, frames: int, size: int) -> PhotoClips:
    import matplotlib
    from PIL import Image

    photo = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    square = np.asarray(photo.crop((0, 0, 512, 512)).resize((size, size), Image.BILINEAR))
    clips = {f"{k:05d}": np.stack([np.roll(square, (k * 7 + 2 * t) % (size // 4) - size // 8, axis=1)
                                   for t in range(frames)]) for k in range(videos + 1)}
    write_wlasl(root, ["photo"], [{"video_id": vid, "gloss": "photo", "split": "test" if int(vid) else "train"}
                                  for vid in clips], clips, subsets=(100,))  # 00000: train (the vocabulary)
    return PhotoClips(root)


def landmarks_rate(dataset, processes: int, out: Path) -> tuple[float, int, float]:
    run = extract_landmarks(dataset, ["test"], out, processes=processes)
    assert not run.unreadable, run.unreadable
    return run.frames / run.seconds, run.frames, run.seconds


def mosaic_rate(dataset, out: Path) -> str:
    sample = dataset.samples("test")[0]
    marks = read_landmarks(out / "videos" / f"{sample.id}.npz")
    frames = dataset.read_frames(sample, range(marks.frames))
    began = time.perf_counter()
    for _ in range(3):
        mosaic_frames(frames, marks, range(len(frames)))
    ours = 3 * len(frames) / (time.perf_counter() - began)
    line = f"mosaic (numpy, bit-exact cv2 resize): {ours:.0f} frames/s"
    try:
        import cv2

        import bench.hht.mosaic as mosaic_module

        saved = mosaic_module.resize_linear
        mosaic_module.resize_linear = lambda image, size: cv2.resize(np.ascontiguousarray(image), size)
        try:
            began = time.perf_counter()
            for _ in range(3):
                mosaic_frames(frames, marks, range(len(frames)))
            line += f"; with cv2.resize {3 * len(frames) / (time.perf_counter() - began):.0f} frames/s"
        finally:
            mosaic_module.resize_linear = saved
    except ImportError:
        pass
    return line


def kill_check(root: Path, out: Path) -> str:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{Path(__file__).parent}"}
    # `bench landmarks ...`, with this file imported first so that its dataset is registered
    runner = [sys.executable, "-c", "import bench_landmarks, runpy, sys; sys.argv = ['bench'] + sys.argv[1:]; "
              "runpy.run_module('bench', run_name='__main__')", "landmarks", "--dataset", "photo_clips",
              "--data-root", str(root), "--split", "test", "--out", str(out), "--processes", "2"]
    process = subprocess.Popen(runner, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while len(list(out.rglob("*.npz"))) < 2 and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    first = {p: p.stat().st_mtime_ns for p in out.rglob("*.npz")}
    stopped = [line for line in output.splitlines() if "interrupted" in line]
    again = subprocess.run(runner, env=env, capture_output=True, text=True, timeout=600)
    untouched = all(p.stat().st_mtime_ns == t for p, t in first.items())
    done = [line for line in again.stdout.splitlines() if line.startswith(("landmarks in", "resuming"))]
    return (f"SIGTERM after {len(first)} videos (exit {process.returncode}; {stopped[-1].strip() if stopped else '-'})"
            f"; rerun (exit {again.returncode}): {' / '.join(done)}; finished files untouched: {untouched}; "
            f"temporaries left: {len(list(out.rglob('.*.tmp')))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--kill-check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "clips"
        dataset = make_clips(root, args.videos, args.frames, args.size)
        print(f"{args.videos} videos x {args.frames} frames of {args.size}x{args.size} (a real photograph, moving)")
        print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
        for processes in sorted({1, args.processes}):
            rate, frames, seconds = landmarks_rate(dataset, processes, Path(tmp) / f"lm{processes}")
            print(f"bench landmarks, {processes} process(es): {frames} frames in {seconds:.1f} s = {rate:.1f} frames/s"
                  f" ({rate / processes:.1f} per process)")
        print(mosaic_rate(dataset, Path(tmp) / "lm1"))
        if args.kill_check:
            print(kill_check(root, Path(tmp) / "killed"))
        print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
