"""NLA-SLR's keypoint stream: the HRNet COCO-WholeBody pickle, the 63 points it uses, and its Gaussian heatmaps.

The pickle is ``{video_name: float32 [T, 133, 3]}``: ``(x, y, score)`` of the 133 COCO-WholeBody points per frame,
in the coordinates of 256x256 frames (NMFs-CSL: 512x512); a frame without a detected person is all zeros.
NLA-SLR (``dataset/Dataset.py``) keeps the parts ``pose, mouth_half, hand`` and concatenates them in
``sorted()`` order: hand 91..132 (42 points), mouth 71, 73, .., 89 (10), pose 0..10 (11) = 63 points.

Heatmaps (``utils/gen_gaussian.py`` called from ``modelling/recognition.py``): for each point a Gaussian
``exp(-((i - y * fh)^2 + (j - x * fw)^2) / (2 * sigma^2))`` over the integer grid ``i < map_h, j < map_w``, with
``f = map_size / raw_size`` (1 without a map size), sigma 8, threshold 0 (scores ignored). Nothing is masked: a
zero point (no detection) puts a Gaussian in the top-left corner, and a point off the grid leaves only the tail
that reaches it. At test time the maps are resized to 112x112 (bilinear, no antialiasing) and mapped by
``(h - 0.5) / 0.5``. Pickles are Python objects: open only files from a trusted source.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from bench.data.cslr import DatasetError
from bench.data.views import pad_edges

WHOLEBODY_POINTS = 133
_BASE_PARTS = {"pose": range(0, 11), "hand": range(91, 133), "mouth": range(71, 91), "face_others": range(23, 71)}
# the official Hrnet_Part2index, with its "_half" (every second point) and "_1_3" (every third) variants
PARTS: dict[str, tuple[int, ...]] = {
    **{name: tuple(points) for name, points in _BASE_PARTS.items()},
    **{f"{name}_half": tuple(points)[::2] for name, points in _BASE_PARTS.items() if name != "pose"},
    **{f"{name}_1_3": tuple(points)[::3] for name, points in _BASE_PARTS.items() if name != "pose"},
}
NLA_SLR_PARTS = ("pose", "mouth_half", "hand")  # the configs' use_keypoints
SIGMA = 8.0
HEATMAP_SIZE = 112  # heatmap_cfg.input_size
_CHUNK_ELEMENTS = 1 << 25  # full-resolution heatmap values computed at once (128 MiB of float32)


def keypoint_indices(parts: Sequence[str] = NLA_SLR_PARTS) -> tuple[int, ...]:
    """The COCO-WholeBody indices of ``parts``, concatenated in ``sorted(parts)`` order as the official loader does."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown keypoint parts {unknown}; choose from {', '.join(sorted(PARTS))}")
    return tuple(i for part in sorted(parts) for i in PARTS[part])


NLA_SLR_POINTS = keypoint_indices()  # 63 points: hand, mouth_half, pose


class KeypointTable:
    """Keypoints by video name, validated on access; errors name the pickle and the video."""

    def __init__(self, table: Mapping[str, np.ndarray], source: str = "<in-memory keypoints>"):
        self.table = table
        self.source = source

    @classmethod
    def load(cls, path: str | os.PathLike) -> "KeypointTable":
        """Read an official keypoint pickle (a trusted file: unpickling runs code)."""
        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"keypoint pickle not found at {path}; expected NLA-SLR's "
                               f"keypoints_hrnet_dark_coco_wholebody.pkl ({{video_name: float32 [T, 133, 3]}})")
        try:
            with path.open("rb") as handle:
                table = pickle.load(handle)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as error:
            raise DatasetError(f"cannot read the keypoint pickle {path}: {error!r}; re-download it") from None
        if not isinstance(table, Mapping):
            raise DatasetError(f"{path}: expected a dict {{video_name: [T, 133, 3] array}}, "
                               f"found {type(table).__name__}")
        return cls(table, str(path))

    def __contains__(self, name: object) -> bool:
        return name in self.table

    def __len__(self) -> int:
        return len(self.table)

    def names(self) -> list[str]:
        return list(self.table)

    def raw(self, name: str) -> np.ndarray:
        """All 133 points of every frame of ``name``: float32 ``[T, 133, 3]``."""
        if name not in self.table:
            raise DatasetError(f"video {name!r} is not in the keypoint pickle {self.source} ({len(self.table)} "
                               f"videos); the pickle must come from the same release as the videos")
        points = np.asarray(self.table[name])
        if points.ndim != 3 or points.shape[1:] != (WHOLEBODY_POINTS, 3) or len(points) == 0:
            raise DatasetError(f"keypoints of video {name!r} in {self.source} have shape {list(points.shape)}; "
                               f"expected [T > 0, {WHOLEBODY_POINTS}, 3] (HRNet COCO-WholeBody x, y, score)")
        return points.astype(np.float32, copy=False)

    def select(self, name: str, indices: Sequence[int] | np.ndarray | None = None, pad: tuple[int, int] = (0, 0),
               points: Sequence[int] = NLA_SLR_POINTS) -> np.ndarray:
        """Frames ``indices`` (all by default) of ``points``, edge-padded like the frames: ``[N, P, 3]``."""
        raw = self.raw(name)
        if indices is not None:
            indices = np.asarray(indices, dtype=np.int64)
            if len(indices) and (indices.min() < 0 or indices.max() >= len(raw)):
                raise DatasetError(f"video {name!r} has keypoints for {len(raw)} frames in {self.source}, but frame "
                                   f"{int(indices.max())} was asked for; the pickle and the videos disagree on length")
            raw = raw[indices]
        return pad_edges(raw[:, list(points)], pad)

    def views(self, name: str, views: Sequence, points: Sequence[int] = NLA_SLR_POINTS) -> list[np.ndarray]:
        """The keypoints of temporal views (``bench.data.views.TemporalView``): ``[num_frames, P, 3]`` each."""
        return [self.select(name, view.indices, view.pad, points) for view in views]


def gaussian_heatmaps(keypoints: np.ndarray | torch.Tensor, raw_size: tuple[int, int] = (256, 256),
                      map_size: tuple[int, int] | None = None, sigma: float = SIGMA) -> torch.Tensor:
    """Official Gaussian heatmaps: keypoints ``[..., P, 2 or 3]`` (x, y[, score]) -> float32 ``[..., P, H, W]``.

    ``raw_size`` (h, w) is the frame size the coordinates refer to; the grid is ``map_size`` (default
    ``raw_size``), coordinates scaled by ``map / raw``. Computed in float32 in the official operation order.
    """
    coords = torch.as_tensor(np.asarray(keypoints) if not isinstance(keypoints, torch.Tensor) else keypoints)
    if coords.ndim < 2 or coords.shape[-1] not in (2, 3):
        raise ValueError(f"expected keypoints [..., P, 2 or 3] (x, y[, score]), got {list(coords.shape)}")
    coords = coords.float()
    raw_h, raw_w = raw_size
    map_h, map_w = (raw_h, raw_w) if map_size is None else map_size
    factor_h, factor_w = (1, 1) if map_size is None else (map_h / raw_h, map_w / raw_w)
    cy, cx = coords[..., 1] * factor_h, coords[..., 0] * factor_w
    dy2 = (torch.arange(map_h, dtype=torch.float32, device=coords.device) - cy[..., None]) ** 2  # [..., P, H]
    dx2 = (torch.arange(map_w, dtype=torch.float32, device=coords.device) - cx[..., None]) ** 2  # [..., P, W]
    return torch.exp(-(dy2[..., :, None] + dx2[..., None, :]) / (2 * sigma ** 2))


def heatmap_input(keypoints: np.ndarray | torch.Tensor, raw_size: tuple[int, int] = (256, 256),
                  map_size: tuple[int, int] | None = None, sigma: float = SIGMA,
                  size: int = HEATMAP_SIZE, device: str | torch.device | None = None,
                  crop: tuple[int, int, int, int] | None = None, separable: bool = False) -> torch.Tensor:
    """NLA-SLR's keypoint input: keypoints ``[T, P, 2 or 3]`` -> float32 ``[P, T, size, size]``.

    Heatmaps on the full grid, bilinear resize to ``size`` without antialiasing (torchvision 0.10's tensor
    ``Resize``), ``(h - 0.5) / 0.5``. In training, ``crop`` (top, left, h, w on the grid) is cut before the resize,
    as the official random resized crop. Frames are processed in chunks, so memory stays bounded for long clips.
    The official code does this on the GPU; on a CPU core a 64-frame view takes seconds, so pass ``device``.
    ``separable``: :func:`separable_heatmap_input` (a speed mode: equal within float32 rounding, not bit for bit).
    """
    coords = torch.as_tensor(np.asarray(keypoints) if not isinstance(keypoints, torch.Tensor) else keypoints)
    if coords.ndim != 3 or coords.shape[-1] not in (2, 3) or len(coords) == 0:
        raise ValueError(f"expected keypoints [T > 0, P, 2 or 3], got {list(coords.shape)}")
    if device is not None:
        coords = coords.to(device)
    if separable:
        return separable_heatmap_input(coords, raw_size, map_size, sigma, size, crop)
    grid = map_size if map_size is not None else raw_size
    chunk = max(1, _CHUNK_ELEMENTS // (coords.shape[1] * grid[0] * grid[1]))
    maps = []
    for part in torch.split(coords, chunk):
        full = gaussian_heatmaps(part, raw_size, map_size, sigma)  # [t, P, H, W]
        if crop is not None:
            top, left, h, w = crop
            full = F.interpolate(full[..., top:top + h, left:left + w], size=(size, size), mode="bilinear",
                                 align_corners=False)
        elif tuple(full.shape[-2:]) != (size, size):
            full = F.interpolate(full, size=(size, size), mode="bilinear", align_corners=False)
        maps.append(full)
    return ((torch.cat(maps) - 0.5) / 0.5).permute(1, 0, 2, 3).contiguous()


def separable_heatmap_input(coords: torch.Tensor, raw_size: tuple[int, int] = (256, 256),
                            map_size: tuple[int, int] | None = None, sigma: float = SIGMA, size: int = HEATMAP_SIZE,
                            crop: tuple[int, int, int, int] | None = None) -> torch.Tensor:
    """:func:`heatmap_input` as outer products: ``exp(-(dy^2 + dx^2) / 2s^2) = exp(-dy^2 / 2s^2) exp(-dx^2 / 2s^2)``,
    and a bilinear resize (after a crop) of an outer product is the outer product of the two 1-D linear resizes
    (the same source indices and weights per axis). Equal to the official computation in exact arithmetic; in
    float32 within a few units of rounding (3.6e-7 measured on [-1, 1] maps), and about 11x faster on a CPU core
    (``benchmarks/bench_isolated_data.py``). ``coords``: ``[T, P, 2 or 3]``; returns ``[P, T, size, size]``."""
    coords = coords.float()
    raw_h, raw_w = raw_size
    map_h, map_w = (raw_h, raw_w) if map_size is None else map_size
    factor_h, factor_w = (1, 1) if map_size is None else (map_h / raw_h, map_w / raw_w)
    top, left, crop_h, crop_w = crop if crop is not None else (0, 0, map_h, map_w)
    axes = []
    for centre, length, (start, span) in ((coords[..., 1] * factor_h, map_h, (top, crop_h)),
                                          (coords[..., 0] * factor_w, map_w, (left, crop_w))):
        grid = torch.arange(length, dtype=torch.float32, device=coords.device)
        gauss = torch.exp(-((grid - centre[..., None]) ** 2) / (2 * sigma ** 2))[..., start:start + span]  # [T, P, n]
        if span != size:  # the per-axis half of bilinear, align_corners=False, no antialiasing
            frames, points = gauss.shape[:2]
            gauss = F.interpolate(gauss.reshape(frames * points, 1, span), size=size, mode="linear",
                                  align_corners=False).reshape(frames, points, size)
        axes.append(gauss)
    rows, cols = axes
    maps = (rows[..., :, None] * cols[..., None, :] - 0.5) / 0.5  # [T, P, S, S]
    return maps.permute(1, 0, 2, 3).contiguous()
