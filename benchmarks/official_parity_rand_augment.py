"""EVL / SignVLM training RandAugment: ours (``bench.data.rand_augment``) against the official module.

``python benchmarks/official_parity_rand_augment.py --evl-repo <efficient-video-recognition checkout>`` imports
the checkout's ``video_dataset/rand_augment.py`` (it needs only Pillow and numpy) and, for many seeds, runs the
dataset's path on random clips: uint8 -> ``/ 255`` floats -> ``ToPILImage`` (``mul(255).byte()``) ->
``rand_augment_transform(spec, hparams)`` on the list of frames -> ``ToTensor`` (``/ 255``), with the hparams
``create_random_augment`` builds. Ours gets ``random.Random(seed)`` and ``np.random.RandomState(seed)``, the
official code the global generators seeded with the same ``seed``. Prints, per case, the clips that differ
(expected: 0), how many the augmentation changed at all, and whether both sides consumed their generators
identically (expected: yes). The official ``ImageOps.posterize`` is stood in for by Pillow 9's (0 bits: a black
frame), which Pillow 13 refuses; the other Pillow calls are the installed ones on both sides.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import types
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from bench.data.rand_augment import parse_rand_augment, rand_augment_clip

CASES = (("rand-m7-n4-mstd0.5-inc1", "bicubic", (8, 32, 48)), ("rand-m7-n4-mstd0.5-inc1", "random", (4, 40, 24)),
         ("rand-m9-n3-mstd0.5", "bilinear", (4, 24, 24)), ("rand-m10-n6-inc1", "bicubic", (3, 17, 29)),
         ("rand-m2-n4-mstd0.5", "bilinear", (2, 16, 16)))  # m10: 0 posterize bits; m2: plain Posterize's 0 bits


def official_module(repo: Path):
    """``video_dataset/rand_augment.py`` of the checkout, imported on its own."""
    spec = importlib.util.spec_from_file_location("evl_rand_augment", repo / "video_dataset" / "rand_augment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ImageOps = types.SimpleNamespace(**{**vars(ImageOps), "posterize": _posterize_pillow9})
    return module


def _posterize_pillow9(image: Image.Image, bits: int) -> Image.Image:
    """Pillow 9's ``ImageOps.posterize`` (the official code's era): 0 bits gives black, Pillow 13 raises."""
    mask = ~(2 ** (8 - bits) - 1)
    return image.point([i & mask for i in range(256)] * len(image.getbands()))


def official_clip(module, frames: np.ndarray, spec: str, interpolation: str) -> torch.Tensor:
    """The random_sample branch of ``VideoDataset.__getitem__`` up to the augmented [T, H, W, C] float frames."""
    clip = torch.as_tensor(frames).float() / 255.0
    hparams = {"translate_const": int(min(clip.shape[1:3]) * 0.45)}
    if interpolation != "random":  # create_random_augment's _pil_interp
        hparams["interpolation"] = Image.BICUBIC if interpolation == "bicubic" else Image.BILINEAR
    transform = module.rand_augment_transform(spec, hparams)
    chw = clip.permute(0, 3, 1, 2)
    images = [Image.fromarray(chw[i].mul(255).byte().permute(1, 2, 0).numpy(), mode="RGB")  # to_pil_image
              for i in range(chw.shape[0])]
    images = transform(images)
    return torch.stack([torch.from_numpy(np.array(image)).float().div(255) for image in images])  # ToTensor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evl-repo", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=300)
    args = parser.parse_args()
    module = official_module(args.evl_repo)
    assert parse_rand_augment("rand-inc1").ops == tuple(module._RAND_INCREASING_TRANSFORMS)
    assert parse_rand_augment("rand").ops == tuple(module._RAND_TRANSFORMS)
    for spec, interpolation, shape in CASES:
        ours_spec = parse_rand_augment(spec)
        differing, changed, same_state = 0, 0, True
        for seed in range(args.seeds):
            frames = np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)
            random.seed(seed)
            np.random.seed(seed)
            theirs = official_clip(module, frames, spec, interpolation)
            rng, nprng = random.Random(seed), np.random.RandomState(seed)
            ours = rand_augment_clip(frames, ours_spec, rng, nprng, interpolation)
            differing += not torch.equal(torch.from_numpy(ours).float() / 255, theirs)
            changed += not np.array_equal(ours, frames)
            same_state &= rng.getstate() == random.getstate() and nprng.randint(1 << 30) == np.random.randint(1 << 30)
        print(f"{spec} {interpolation} clip {shape}: {differing}/{args.seeds} clips differ "
              f"({changed} changed by the augmentation); "
              f"generators consumed identically: {'yes' if same_state else 'NO'}")


if __name__ == "__main__":
    main()
