"""SignVLM / EVL forward on CPU: clips per second and peak memory, ours and the official code, same weights; and how
far the official fp16 backbone moves the logits from fp32.

``python benchmarks/bench_signvlm.py --signvlm-repo <checkout> [--arch ViT-L/14] [--views 3]`` builds each side in
its own process (so that peak RSS is its own) from the same random CLIP file and decoder as
``official_parity_signvlm.py``, runs ``--views`` clips (spatial3: 3 crops of one sample) twice, and prints the best
time, clips/s and peak RSS. ``--fp16-shift`` instead prints the max relative logit difference between our fp32 and
fp16 (``freeze_fp16``) backbones on the same clips.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_parity_signvlm import CARDS, DECODER, official_model_module, random_decoder_  # noqa: E402
from clip_files import write_openai_clip  # noqa: E402

from zoo.layers.vit import VIT_PRESETS  # noqa: E402
from zoo.loader import load_model  # noqa: E402


def build(side: str, repo: Path, arch: str, frames: int, tmp: Path, fp16: bool = False):
    from zoo.cards import get_card

    clip_path, _ = write_openai_clip(tmp / "random_clip.pt", VIT_PRESETS[arch], seed=0)
    ours = get_card(CARDS[arch]).build(100, num_frames=frames)
    random_decoder_(ours, 1)
    ckpt = tmp / "checkpoint.pth"
    torch.save({"model": {"module." + k: v for k, v in ours.state_dict().items()}}, ckpt)
    if side == "ours":
        return load_model(CARDS[arch], str(ckpt), backbone=str(clip_path), num_frames=frames,
                          freeze_fp16=fp16).model.eval()
    qkv, heads = DECODER[arch]
    theirs = official_model_module(repo).EVLTransformer(
        num_frames=frames, backbone_name=f"{arch}-lnpre", backbone_type="clip", backbone_path=str(clip_path),
        backbone_mode="freeze_fp16" if fp16 else "freeze_fp32", decoder_num_layers=4, decoder_qkv_dim=qkv,
        decoder_num_heads=heads, num_classes=100).eval()
    theirs.load_state_dict({k[len("module."):]: v for k, v in torch.load(ckpt)["model"].items()}, strict=True)
    return theirs


def measure(side: str, repo: Path, arch: str, frames: int, views: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        model = build(side, repo, arch, frames, Path(tmp))
    size = VIT_PRESETS[arch].input_size
    clips = torch.randn(views, 3, frames, size, size, generator=torch.Generator().manual_seed(2))
    times = []
    with torch.no_grad():
        for _ in range(2):
            began = time.perf_counter()
            out = model(clips)
            times.append(time.perf_counter() - began)
    logits = out["logits"] if isinstance(out, dict) else out
    return {"best_s": min(times), "clips_per_s": views / min(times), "peak_rss_mib":
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "checksum": float(logits.double().sum())}


def fp16_shift(repo: Path, arch: str, frames: int, views: int) -> float:
    size = VIT_PRESETS[arch].input_size
    clips = torch.randn(views, 3, frames, size, size, generator=torch.Generator().manual_seed(2))
    outs = []
    for fp16 in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            model = build("ours", repo, arch, frames, Path(tmp), fp16=fp16)
        with torch.no_grad():
            outs.append(model(clips)["logits"].float())
    return float((outs[1] - outs[0]).abs().max() / outs[0].abs().max())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signvlm-repo", "--evl-repo", dest="repo", type=Path, required=True)
    parser.add_argument("--arch", choices=sorted(CARDS), default="ViT-B/16")
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--side", choices=("ours", "official"))
    parser.add_argument("--fp16-shift", action="store_true")
    args = parser.parse_args()
    frames = 8 if args.arch == "ViT-B/16" else 24
    if args.fp16_shift:
        print(f"{args.arch}, {frames} frames, {args.views} clips: fp16 backbone vs fp32, max relative logit "
              f"difference {fp16_shift(args.repo.resolve(), args.arch, frames, args.views):.2e}")
        return
    if args.side:
        print(json.dumps(measure(args.side, args.repo.resolve(), args.arch, frames, args.views)))
        return
    print(f"{args.arch}, {frames} frames, {args.views} clips per forward, {torch.get_num_threads()} threads")
    for side in ("ours", "official"):
        out = subprocess.run([sys.executable, __file__, "--signvlm-repo", str(args.repo), "--arch", args.arch,
                              "--views", str(args.views), "--side", side], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.splitlines()[-1])
        print(f"{side:9s} best {r['best_s']:.2f} s, {r['clips_per_s']:.3f} clips/s, peak RSS {r['peak_rss_mib']:.0f} "
              f"MiB, logits checksum {r['checksum']:.6f}")


if __name__ == "__main__":
    main()
