"""Parity of our SignVLM/EVL model with the official ``EVLTransformer``, on CPU: same weights, same input, same logits.

A random CLIP file in OpenAI's TorchScript layout (``tests/zoo/clip_files.py``, fp16 as OpenAI ships) is the backbone
of both: the official code reads it with its own ``weight_loaders.load_weights_clip`` (``torch.jit.load``, fine
for a file made here), ours with ``zoo.clip_weights`` (never executed). Our decoder and head get random weights
(every tensor non-zero, unlike the official zero init), written in the official layout
(``{"model": {"module.<key>": ...}}``), read back through ``zoo.loader.load_model(..., backbone=...)`` and loaded by
the official model with ``strict=True``. The official ``TemporalCrossAttention`` makes its zeros on
``device='cuda'``: while it runs here, its module's ``torch.zeros`` is replaced by one that drops that argument
(the checkout's files are untouched). Both in eval mode, fp32 (``freeze_fp32``; ``--fp16``: ``freeze_fp16`` both).

Run (a checkout of github Hamzah-Luqman/signVLM, or of OpenGVLab/efficient-video-recognition)::

    python benchmarks/official_parity_signvlm.py --signvlm-repo /tmp/signVLM [--arch ViT-L/14 --frames 24]

Prints the max relative logit difference (max |ours - theirs| / max |theirs|); exits 1 above ``--tolerance``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
import tempfile
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "zoo")]
from clip_files import write_openai_clip  # noqa: E402

from zoo.layers.vit import VIT_PRESETS  # noqa: E402
from zoo.loader import load_model  # noqa: E402

CARDS = {"ViT-L/14": "signvlm", "ViT-B/16": "evl_vitb16_8f_k400"}
DECODER = {"ViT-L/14": (1024, 16), "ViT-B/16": (768, 12)}


def official_model_module(repo: Path) -> types.ModuleType:
    """The checkout's ``model.py`` (with its ``vision_transformer``/``weight_loaders``), imported from the checkout."""
    sys.path.insert(0, str(repo))
    try:
        module = importlib.import_module("model")
    finally:
        sys.path.remove(str(repo))
    shim = types.ModuleType("torch_on_cpu")  # ``torch`` for model.py, with zeros(device='cuda') made on the CPU
    shim.__dict__.update(torch.__dict__)
    shim.zeros = functools.wraps(torch.zeros)(lambda *a, **k: torch.zeros(*a, **{**k, "device": "cpu"}))
    module.torch = shim
    return module


def random_decoder_(model: torch.nn.Module, seed: int) -> None:
    """Every decoder/head tensor random and non-zero (official init leaves several at zero)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            scale = 1.0 if name.endswith(("norm1.weight", "norm2.weight", "norm3.weight", "proj.0.weight")) else 0.0
            spread = 0.1 if scale else (tensor.shape[-1] ** -0.5 if tensor.dim() > 1 else 0.05)
            tensor.copy_(scale + spread * torch.randn(tensor.shape, generator=gen))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signvlm-repo", "--evl-repo", dest="repo", type=Path, required=True)
    parser.add_argument("--arch", choices=sorted(CARDS), default="ViT-B/16")
    parser.add_argument("--frames", type=int, default=None, help="default: the card's (8 for B/16, 24 for L/14)")
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--fp16", action="store_true", help="freeze_fp16 backbones on both sides")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    frames = args.frames or (8 if args.arch == "ViT-B/16" else 24)
    official = official_model_module(args.repo.resolve())
    with tempfile.TemporaryDirectory() as tmp:
        clip_path, _ = write_openai_clip(Path(tmp) / "random_clip.pt", VIT_PRESETS[args.arch], seed=args.seed)
        card = CARDS[args.arch]
        from zoo.cards import get_card

        ours = get_card(card).build(args.classes, num_frames=frames)
        random_decoder_(ours, args.seed + 1)
        ckpt = Path(tmp) / "checkpoint.pth"
        torch.save({"model": {"module." + k: v for k, v in ours.state_dict().items()}, "next_step": 2500}, ckpt)
        loaded = load_model(card, str(ckpt), backbone=str(clip_path), num_frames=frames, freeze_fp16=args.fp16)
        ours = loaded.model.eval()
        qkv, heads = DECODER[args.arch]
        theirs = official.EVLTransformer(
            num_frames=frames, backbone_name=f"{args.arch}-lnpre", backbone_type="clip", backbone_path=str(clip_path),
            backbone_mode="freeze_fp16" if args.fp16 else "freeze_fp32", decoder_num_layers=4,
            decoder_qkv_dim=qkv, decoder_num_heads=heads, num_classes=args.classes).eval()
        theirs.load_state_dict({k[len("module."):]: v for k, v in torch.load(ckpt)["model"].items()}, strict=True)
    size = VIT_PRESETS[args.arch].input_size
    clip = torch.randn(args.batch, 3, frames, size, size, generator=torch.Generator().manual_seed(args.seed + 2))
    with torch.no_grad():
        start = time.perf_counter()
        got = ours(clip)["logits"]
        middle = time.perf_counter()
        want = theirs(clip)
        end = time.perf_counter()
    rel = float((got - want).abs().max() / want.abs().max())
    same_top5 = bool((got.topk(5).indices == want.topk(5).indices).all())
    print(f"{card} ({args.arch}, {frames} frames, {args.classes} classes, batch {args.batch}, "
          f"{'fp16' if args.fp16 else 'fp32'} backbone): max |logit| {want.abs().max():.3f}, "
          f"max relative difference {rel:.2e}, top-5 identical: {same_top5}; "
          f"ours {middle - start:.1f} s, official {end - middle:.1f} s")
    print("\n".join(loaded.backbone))
    return 0 if rel <= args.tolerance and same_top5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
