"""VideoMAE / SignNet test views: ours (``bench.data.views`` + ``bench.data.spatial``) against the official sampler.

``python benchmarks/official_parity_videomae_views.py --videomae-repo <VideoMAEv2 checkout> --signnet-repo <slr_vit
checkout at 45e3c48> [--cv2-path DIR]`` feeds synthetic clips (landscape, portrait, square; shorter and longer than
32 x the sampling rate) through the official ``dataset.datasets.VideoClsDataset`` in test mode and through ours
(``protocol_views`` -> the same frames -> ``rgb_view_input`` with the ``short_side_uint8`` policy), and prints per
case and view the official window's frame indices (read back from the frames, whose blue channel is the frame
index) and the largest difference between the two input tensors (expected: 0, bit for bit, when both resize with
OpenCV: pass ``--cv2-path`` where ``cv2`` is installed outside the environment).

Protocols: SignNet's fork (``videomaev2/`` of slr_vit) with ``test_num_crop=1``, 3 and 1 segments, against our
``segment3`` / ``segment1`` (official crop ``first``); upstream VideoMAEv2 with 3 segments x 3 crops against our
windows with the crops ``first``/``center``/``last``; upstream with one crop divides by zero (shown).

decord and torchvision, which the official module imports, are stood in for: a ``VideoReader`` that serves the
synthetic frames (``len``, ``seek``, ``get_batch(...).asnumpy()``), and empty torchvision modules (used only by the
training augmentations).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SIZE, FRAMES = 224, 32
# (frames, height, width, sampling rate)
CASES = [(20, 240, 320, 2), (101, 240, 320, 2), (250, 320, 240, 2), (77, 256, 342, 1), (250, 224, 224, 2),
         (64, 480, 640, 2), (65, 256, 256, 2)]
VIDEOS: dict[str, np.ndarray] = {}


class _Batch:
    def __init__(self, array):
        self.array = array

    def asnumpy(self):
        return self.array


class _Reader:
    """decord's ``VideoReader`` as the official loader uses it, over the synthetic frames."""

    def __init__(self, path, *args, **kwargs):
        self.frames = VIDEOS[str(path)]

    def __len__(self):
        return len(self.frames)

    def seek(self, position):
        pass

    def get_batch(self, indices):
        return _Batch(self.frames[np.asarray(indices, dtype=np.int64)])


def official_dataset_class(repo: Path):
    """``dataset.datasets.VideoClsDataset`` of a checkout (its ``dataset`` package imported afresh)."""
    for name in [n for n in sys.modules if n == "dataset" or n.startswith("dataset.")]:
        del sys.modules[name]
    stand_ins = {name: types.ModuleType(name) for name in
                 ("torchvision", "torchvision.transforms", "torchvision.transforms.functional", "decord")}
    stand_ins["torchvision"].transforms = stand_ins["torchvision.transforms"]
    stand_ins["torchvision.transforms"].functional = stand_ins["torchvision.transforms.functional"]
    stand_ins["decord"].VideoReader, stand_ins["decord"].cpu = _Reader, lambda *a, **k: None
    for name, module in stand_ins.items():
        sys.modules.setdefault(name, module)
    sys.path.insert(0, str(repo))
    try:
        from dataset.datasets import VideoClsDataset
    finally:
        sys.path.remove(str(repo))
    return VideoClsDataset


def synthetic_clip(frames: int, height: int, width: int) -> np.ndarray:
    """uint8 frames: red and green vary along columns and rows (so crops differ), blue is the frame index."""
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    frame = np.stack([(7 * cols + rows) % 256, (5 * rows + 3 * cols) % 256, np.zeros_like(rows)], axis=-1)
    return np.stack([frame + [0, 0, t] for t in range(frames)]).astype(np.uint8)


def frame_indices(buffer: torch.Tensor) -> list[int]:
    """The frame index of each frame of an official input ``[C, T, H, W]``: its blue value, de-normalised."""
    blue = buffer[2, :, 0, 0].double() * STD[2] + MEAN[2]
    return [int(round(float(v) * 255)) for v in blue]


def run(dataset_class, path: Path, segments: int, crops: int, rate: int) -> list[tuple[int, int, torch.Tensor]]:
    """The official test inputs of the one listed clip: ``(chunk, crop, tensor)`` per view."""
    dataset = dataset_class(str(path), data_root="", mode="test", clip_len=FRAMES, frame_sample_rate=rate,
                            crop_size=SIZE, short_side_size=SIZE, test_num_segment=segments, test_num_crop=crops)
    out = []
    for i in range(len(dataset)):
        buffer, _label, _name, chunk, crop = dataset[i]
        out.append((int(chunk), int(crop), buffer))
    return sorted(out, key=lambda item: item[:2])


def ours(clip: np.ndarray, protocol_name: str, rate: int, crop_position: str = "first") -> list[torch.Tensor]:
    from bench.data.spatial import rgb_view_input
    from bench.data.views import pad_edges, protocol_views

    protocol = SimpleNamespace(sampling="segments", frames=FRAMES, crop_position=crop_position,
                               stride_for=lambda dataset: rate)
    spec = SimpleNamespace(spatial="short_side_uint8", crop=SIZE, channels="RGB", normalization="mean_std",
                           normalize_first=False, mean_std=lambda dataset: (MEAN, STD))
    return [rgb_view_input(pad_edges(clip[list(v.window.indices)], v.window.pad), spec, "", v.crop)
            for v in protocol_views(len(clip), protocol_name, protocol)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videomae-repo", type=Path, required=True, help="github OpenGVLab/VideoMAEv2 checkout")
    parser.add_argument("--signnet-repo", type=Path, required=True, help="github ganzobtn/slr_vit at 45e3c48")
    parser.add_argument("--cv2-path", type=Path, help="a folder holding cv2, if it is not installed")
    args = parser.parse_args()
    if args.cv2_path:
        sys.path.append(str(args.cv2_path))
    import cv2

    from bench.data.resize import exact_resizer

    print(f"cv2 {cv2.__version__}; our resize is OpenCV's: {exact_resizer()}")
    signnet = official_dataset_class(args.signnet_repo / "videomaev2")
    upstream = official_dataset_class(args.videomae_repo)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for frames, height, width, rate in CASES:
            clip = synthetic_clip(frames, height, width)
            path = Path(tmp) / f"clip_{frames}_{height}x{width}.mp4"
            VIDEOS[str(path)] = clip
            lists = Path(tmp) / "test.csv"
            lists.write_text(f"{path} 0\n")
            print(f"\n{frames} frames {height}x{width}, rate {rate}")
            runs = [("signnet segment3", signnet, 3, 1, ours(clip, "segment3", rate)),
                    ("signnet segment1", signnet, 1, 1, ours(clip, "segment1", rate))]
            runs.append(("upstream 3x3", upstream, 3, 3, None))
            for label, cls, segments, crops, mine in runs:
                official = run(cls, lists, segments, crops, rate)
                if mine is None:  # upstream's 3 crops: ours with each crop position, per window
                    per_crop = {c: ours(clip, "segment3", rate, c) for c in ("first", "center", "last")}
                    mine = [per_crop[("first", "center", "last")[crop]][chunk] for chunk, crop, _ in official]
                for (chunk, crop, tensor), our in zip(official, mine):
                    diff = float((tensor - our).abs().max())
                    worst = max(worst, diff)
                    print(f"  {label} chunk {chunk} crop {crop}: frames {frame_indices(tensor)}  max |diff| {diff:.3g}")
            try:
                run(upstream, lists, 3, 1, rate)
                print("  upstream 3x1: ran")
            except ZeroDivisionError as error:
                print(f"  upstream 3x1: ZeroDivisionError ({error}): only SignNet's patch allows one crop")
    print(f"\nlargest difference over all views: {worst:.3g}")


if __name__ == "__main__":
    main()
