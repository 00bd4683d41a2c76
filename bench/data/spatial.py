"""The RGB input of an isolated-SLR view, as the card's input spec says: resize policy, crop, colour order, normalisation.

Two official test transforms, each reproduced in its own order of operations (float rounding depends on it):

- ``spatial="whole_frame"`` (NLA-SLR, ``recognition.py``): float; a dataset's pre-resize; ``/ 255``; bilinear
  resize of the whole frame to ``crop`` x ``crop`` (``interpolate``, no antialias; the aspect ratio is not kept);
  channel order; normalisation. No crop.
- ``spatial="short_side"`` (EVL / SignVLM, ``video_dataset/dataset.py``): ``/ 255``; normalisation first
  (``normalize_first``); bilinear resize of the whole clip as ``[C, T, H, W]`` so that the short side is ``crop``
  and the long side is ``long * crop // short`` (square frames: both ``crop``); the view's frames; then a crop: ``center`` (also the middle one of three),
  ``first`` / ``last`` (the ends of the long side). On square frames the three crops coincide.
- ``spatial="short_side_uint8"`` (VideoMAE / SignNet, ``VideoClsDataset`` test mode): each uint8 frame resized on
  its own (``cv2.resize``, ``INTER_LINEAR``; Pillow's bilinear without OpenCV, see :mod:`bench.data.resize`) so
  that the short side is ``crop`` and the long side ``int(crop * long / short)`` (frames whose short side is already
  ``crop`` are kept as they are); the crop (``first``: SignNet's one-crop window at 0; ``center``); then ``/ 255``,
  channel order and normalisation, in float32.

Normalisation: ``symmetric`` = ``(x - 0.5) / 0.5`` on ``x / 255``; ``mean_std`` = ``(x - mean) / std`` with the
card's per-dataset mean/std.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CROPS = ("whole", "center", "first", "last")


def rgb_view_input(frames: np.ndarray | torch.Tensor, spec, dataset: str = "", crop: str = "whole",
                   pre_resize: tuple[int, int] | None = None, select: np.ndarray | None = None) -> torch.Tensor:
    """uint8 RGB ``[T, H, W, 3]`` -> float32 ``[3, T', S, S]`` (``S`` = ``spec.crop``) by the card's input spec.

    ``select`` (short-side inputs): the frame indices of the view, taken after the resize of the whole clip, as
    EVL does: ``interpolate`` rounds a frame differently depending on how many frames it resizes together."""
    video = torch.as_tensor(np.asarray(frames) if not isinstance(frames, torch.Tensor) else frames)
    if video.ndim != 4 or video.shape[-1] != 3:
        raise ValueError(f"expected frames [T, H, W, 3], got {list(video.shape)}")
    if crop not in CROPS:
        raise ValueError(f"unknown crop {crop!r}; expected one of {CROPS}")
    if spec.spatial == "whole_frame":
        if crop != "whole":
            raise ValueError(f"a whole-frame input has no {crop!r} crop")
        return _whole_frame(video, spec, dataset, pre_resize)
    if spec.spatial == "short_side":
        return _short_side(video, spec, dataset, "center" if crop == "whole" else crop, select)
    if spec.spatial == "short_side_uint8":
        return _short_side_uint8(video, spec, dataset, "center" if crop == "whole" else crop)
    raise ValueError(f"unknown spatial policy {spec.spatial!r}; expected 'whole_frame', 'short_side' or "
                     f"'short_side_uint8'")


def _whole_frame(video, spec, dataset, pre_resize) -> torch.Tensor:
    video = video.float().permute(0, 3, 1, 2)  # T, 3, H, W
    if pre_resize is not None:
        video = _resize(video, pre_resize)
    video = video / 255
    if spec.normalize_first:
        video = _normalize(video, spec, dataset, channel_dim=1)
    video = _resize(video, (spec.crop, spec.crop))
    video = _channels(video, spec, channel_dim=1)
    if not spec.normalize_first:
        video = _normalize(video, spec, dataset, channel_dim=1)
    return video.permute(1, 0, 2, 3).contiguous()


def _short_side(video, spec, dataset, crop, select) -> torch.Tensor:
    video = video.float() / 255  # T, H, W, 3
    if spec.normalize_first:
        video = _normalize(video, spec, dataset, channel_dim=-1)
    video = video.permute(3, 0, 1, 2)  # C, T, H, W: interpolated as the official code does (T as channels)
    height, width, size = video.shape[-2], video.shape[-1], spec.crop
    shape = (size, width * size // height) if height < width else (height * size // width, size)
    video = F.interpolate(video, size=shape, mode="bilinear", align_corners=False)
    if select is not None:
        video = video[:, torch.as_tensor(np.asarray(select), dtype=torch.long)]
    video = _crop(video, size, crop)
    video = _channels(video, spec, channel_dim=0)
    if not spec.normalize_first:
        video = _normalize(video, spec, dataset, channel_dim=0)
    return video.contiguous()


def _short_side_uint8(video, spec, dataset, crop) -> torch.Tensor:
    from bench.data.resize import resize

    if video.dtype != torch.uint8:
        raise ValueError(f"the short_side_uint8 policy resizes uint8 frames, got {video.dtype}")
    height, width, size = video.shape[1], video.shape[2], spec.crop
    # VideoMAE's get_resize_sizes: the short side to size, the long one int(size * long / short)
    shape = (int(size * height / width), size) if width < height else (size, int(size * width / height))
    frames = video.numpy()
    if min(height, width) != size:  # the official resize_clip keeps frames whose short side is already size
        frames = np.stack([resize(frame, (shape[1], shape[0]), "linear") for frame in frames])
    clip = _crop(torch.from_numpy(frames).permute(3, 0, 1, 2), size, crop)  # C, T, H, W, still uint8
    clip = clip.float() / 255
    clip = _channels(clip, spec, channel_dim=0)
    return _normalize(clip, spec, dataset, channel_dim=0).contiguous()


def _crop(video: torch.Tensor, size: int, crop: str) -> torch.Tensor:
    """``center``: ``(H - S) // 2, (W - S) // 2``; ``first``/``last``: the ends of the long side (EVL's 3 crops)."""
    height, width = video.shape[-2:]
    if min(height, width) < size:
        raise ValueError(f"frames of {height}x{width} are smaller than the {size} crop")
    if crop == "center":
        top, left = (height - size) // 2, (width - size) // 2
    else:
        margin = max(height, width) - size
        start = 0 if crop == "first" else margin
        top, left = (start, (width - size) // 2) if height > width else ((height - size) // 2, start)
    return video[..., top:top + size, left:left + size]


def _channels(video: torch.Tensor, spec, channel_dim: int) -> torch.Tensor:
    if spec.channels == "BGR":
        return video.flip(channel_dim) if channel_dim != 1 else video[:, [2, 1, 0]]
    if spec.channels != "RGB":
        raise ValueError(f"unknown channel order {spec.channels!r}; expected 'RGB' or 'BGR'")
    return video


def _normalize(video: torch.Tensor, spec, dataset: str, channel_dim: int) -> torch.Tensor:
    if spec.normalization == "symmetric":
        return (video - 0.5) / 0.5
    if spec.normalization != "mean_std":
        raise ValueError(f"unknown normalisation {spec.normalization!r}; expected 'symmetric' or 'mean_std'")
    mean, std = (torch.tensor(v, dtype=video.dtype) for v in spec.mean_std(dataset))
    shape = [1] * video.ndim
    shape[channel_dim] = 3
    return (video - mean.view(shape)) / std.view(shape)


def _resize(video: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(video.shape[-2:]) == tuple(size):
        return video  # interpolate to the same size is the identity
    return F.interpolate(video, size=tuple(size), mode="bilinear", align_corners=False)
