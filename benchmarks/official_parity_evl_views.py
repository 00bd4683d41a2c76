"""EVL / SignVLM test views: ours (``bench.data.views`` + ``bench.data.spatial``) against the official dataset code.

``python benchmarks/official_parity_evl_views.py --evl-repo <efficient-video-recognition checkout>`` writes small
mp4 clips (landscape, portrait, square; shorter and longer than the sampled span), reads each through the
official ``VideoDataset.__getitem__`` (3 spatial x 1 temporal views and 1 x 1 centre crop, EVL's normalisation
first, then the short-side bilinear resize of the whole clip) and through ours (the same decoded frames ->
``protocol_views`` -> ``rgb_view_input`` with the view's frames selected after the resize), and prints the largest difference per case (expected: 0, bit for bit). torchvision, which the
official module imports for its training augmentations only, is stood in for by empty modules.
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

from bench.data.spatial import rgb_view_input
from bench.data.views import protocol_views
from bench.io.video import read_video_frames, video_frame_count, write_video

MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)
CASES = {"landscape 40x64, 30 frames": (30, 40, 64), "portrait 64x40, 9 frames": (9, 64, 40),
         "square 48x48, 30 frames": (30, 48, 48)}


def official_dataset_class(repo: Path):
    """``video_dataset.dataset.VideoDataset`` imported from the checkout, torchvision stood in for."""
    stand_ins = {name: types.ModuleType(name) for name in
                 ("torchvision", "torchvision.transforms", "torchvision.transforms.functional")}
    stand_ins["torchvision"].transforms = stand_ins["torchvision.transforms"]
    stand_ins["torchvision.transforms"].functional = stand_ins["torchvision.transforms.functional"]
    saved = {k: sys.modules.get(k) for k in stand_ins}
    sys.modules.update({k: v for k, v in stand_ins.items() if k not in sys.modules or saved[k] is None})
    sys.path.insert(0, str(repo))
    try:
        from video_dataset.dataset import VideoDataset
    finally:
        sys.path.remove(str(repo))
    return VideoDataset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--evl-repo", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--stride", type=int, default=4)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    VideoDataset = official_dataset_class(args.evl_repo)
    spec = SimpleNamespace(spatial="short_side", crop=args.size, channels="RGB", normalization="mean_std",
                           normalize_first=True, mean_std=lambda dataset: (MEAN, STD))
    protocol = SimpleNamespace(sampling="strided", frames=args.frames, stride_for=lambda dataset: args.stride)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (count, height, width) in CASES.items():
            path = Path(tmp) / "clip.mp4"
            write_video(path, rng.integers(0, 256, (count, height, width, 3), dtype=np.uint8))
            (Path(tmp) / "list.txt").write_text("clip.mp4 3\n")
            for label, spatial_views, views_name in (("spatial3", 3, "spatial3"), ("1view", 1, "1view")):
                official = VideoDataset(str(Path(tmp) / "list.txt"), tmp, num_spatial_views=spatial_views,
                                        num_temporal_views=1, random_sample=False, num_frames=args.frames,
                                        sampling_rate=args.stride, spatial_size=args.size,
                                        mean=torch.tensor(MEAN), std=torch.tensor(STD))
                theirs, _ = official[0]
                theirs = theirs if isinstance(theirs, torch.Tensor) and theirs.ndim == 5 else torch.stack(
                    theirs if isinstance(theirs, list) else [theirs])
                vlen = video_frame_count(path, exact=True)
                frames = read_video_frames(path, np.arange(vlen))
                ours = []
                for view in protocol_views(vlen, views_name, protocol):
                    ours.append(rgb_view_input(frames, spec, crop=view.crop, select=view.window.frame_indices()))
                ours = torch.stack(ours)
                diff = (ours - theirs).abs().max().item() if ours.shape == theirs.shape else float("nan")
                distinct = len({v.numpy().tobytes() for v in ours})
                print(f"{name}, {label}: shape {tuple(ours.shape)}, max |ours - official| {diff:.3g}, "
                      f"{distinct} distinct crop(s)")


if __name__ == "__main__":
    main()
