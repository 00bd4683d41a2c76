"""Continuous-SLR data and evaluation speed: frame loading (frames/s) and a full bench eval on the demo data.

- frame loading: PNG frames at the official 256x256 (synthetic signing, upscaled) decoded with Pillow by the
  PHOENIX-2014 reader, one thread, and as bench eval reads them (two prefetch threads);
- bench eval of corrnet_tiny on the demo's dev split (trains the demo model first if bench-demo/ lacks it).
Run: ``python benchmarks/bench_cslr_eval.py [--demo-dir bench-demo]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from bench.data.phoenix import Phoenix2014, write_phoenix2014
from bench.data.synthetic_signs import make_signer, render_sentence


def frame_loading(videos: int = 12, frames: int = 100) -> None:
    rng = np.random.default_rng(0)
    signer = make_signer(rng)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "phoenix-2014-multisigner"
        samples = [Phoenix2014.make_sample("dev", f"video{i}", ["REGEN"]) for i in range(videos)]
        clips = {}
        for s in samples:
            small = render_sentence(("SONNE", "REGEN", "WIND", "NORD", "KALT", "GRAD", "MORGEN", "SUED"), signer, 36, rng)
            clips[s.id] = np.stack([np.asarray(Image.fromarray(f).resize((256, 256), Image.BILINEAR))
                                    for f in small[:frames]])
        write_phoenix2014(root, {"dev": samples, "train": [], "test": []}, clips)
        dataset = Phoenix2014(root)
        total = sum(len(c) for c in clips.values())
        start = time.perf_counter()
        for s in dataset.samples("dev"):
            dataset.read_frames(s)
        one = time.perf_counter() - start
        start = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(dataset.read_frames, dataset.samples("dev")))
        two = time.perf_counter() - start
        size = sum(p.stat().st_size for s in samples for p in dataset.frame_paths(s)) / total / 1024
        print(f"frame loading, 256x256 PNG ({size:.0f} KiB a frame), {total} frames: "
              f"{total / one:.0f} frames/s on one thread, {total / two:.0f} frames/s on two")


def demo_eval(demo_dir: Path) -> None:
    from bench import api
    from bench.runners.continuous import ContinuousEval, evaluate_continuous

    best = demo_dir / "train" / "best.safetensors"
    if not best.is_file():
        api.demo(demo_dir, log=lambda *_: None)
    root = demo_dir / "phoenix-2014-multisigner"
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = evaluate_continuous(ContinuousEval("corrnet_tiny", "synthetic_phoenix2014", "dev", root, str(best),
                                                    Path(tmp)))
        seconds = time.perf_counter() - start
    print(f"bench eval, corrnet_tiny on the demo dev split ({result.evaluated} clips, 36x36, beam search, three "
          f"scorers): {seconds:.1f} s, {result.evaluated / seconds:.1f} clips/s, WER {result.scores['python'].wer:.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-dir", type=Path, default=Path("bench-demo"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    frame_loading()
    demo_eval(args.demo_dir)


if __name__ == "__main__":
    main()
