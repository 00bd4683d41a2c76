"""Temporal views of isolated SLR: NLA-SLR's windows (``dataset/VideoLoader.py``, ``prediction.py``,
``modelling/recognition.py``), EVL's strided window (``video_dataset/dataset.py``), and the views a card's protocol
names (:func:`protocol_views`). The RGB input of a view is :mod:`bench.data.spatial`'s.

Test windows of ``num_frames`` (64) over a clip of ``vlen`` frames (WLASL: decoded length - 2):

- ``vlen >= num_frames``: frames ``start .. start + num_frames - 1`` with start ``(vlen - num_frames) // 2``
  (central), ``0`` (start) or ``vlen - num_frames`` (end); no padding whatever the padding mode.
- ``vlen < num_frames``: every frame, padded to ``num_frames`` by repeating the first frame on the left and the
  last frame on the right: ``pad`` puts ``remain // 2`` on the left, ``start_pad`` all on the right (the clip
  starts the window), ``end_pad`` all on the left (the clip ends it).

Protocols: ``1view`` ("origin") = central + pad; ``temporal3`` (NLA-SLR's ``3x_pad``) = (start, start_pad),
(end, end_pad), (central, pad), softmax averaged. The 32-frame stream takes frames ``16:48`` of the 64-frame
window (``num_frames // 4`` onwards) at test, a random offset in ``0 .. num_frames // 2`` in training.

EVL's test window (``sampling="strided"`` on the card): a clip shorter than ``(num_frames - 1) * stride + 1`` is
padded by repeating its last frame; the window starts at ``slide // 2`` (``slide`` = padded length minus that
span) and takes every ``stride``-th frame. Its protocols are spatial: ``1view`` (the centre crop) and ``spatial3``
(three crops along the long side), softmax averaged.

VideoMAE's test sampler (``sampling="segments"``; SignNet, ``VideoClsDataset`` in test mode with dense sampling):
the clip's frames ``0, r, 2r, ...`` (``r`` = the card's stride, SignNet's sampling rate), padded with the last one
up to ``num_frames``; segment ``c`` of ``S`` starts at ``int(c * max((n - num_frames) / (S - 1), 0))`` of those
``n`` frames (``0`` for one segment) and takes ``num_frames``. A clip of ``num_frames * r`` frames or fewer gives
``S`` identical windows. Protocols: ``segment3`` (SignNet's "3-crop": 3 segments x 1 spatial crop) and
``segment1`` (its "1-crop"). The spatial crop of a one-crop protocol is the card's ``crop_position``: SignNet's
patched sampler starts the window at 0 (``first``: the left-most, or top-most, 224 window), the official protocol;
the twins ``segment3_center`` / ``segment1_center`` take the centre window (the corrected protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch

NUM_FRAMES = 64
POSITIONS = ("central", "start", "end")
PADDINGS = ("pad", "start_pad", "end_pad")
# the named test protocols: (position, padding) per view, in the official order
VIEW_PROTOCOLS: dict[str, tuple[tuple[str, str], ...]] = {
    "1view": (("central", "pad"),),
    "temporal3": (("start", "start_pad"), ("end", "end_pad"), ("central", "pad")),
}
# the named spatial protocols of strided sampling: crops per view, in the official order (bench.data.spatial)
CROP_PROTOCOLS: dict[str, tuple[str, ...]] = {"1view": ("center",), "spatial3": ("first", "center", "last")}
# VideoMAE's segment sampling: temporal segments per protocol (one spatial crop, at the card's crop_position)
SEGMENT_PROTOCOLS: dict[str, int] = {"segment3": 3, "segment1": 1}
CENTERED = "_center"  # suffix of the corrected twin of a segment protocol whose official crop is not the centre
RGB_SIZE = 224


@dataclass(frozen=True)
class TemporalView:
    """One window: read frames ``indices`` (increasing), then repeat the first ``pad[0]`` and the last ``pad[1]``
    times; ``name`` is the position ("central", "start", "end", or "train")."""

    name: str
    indices: tuple[int, ...]
    pad: tuple[int, int] = (0, 0)

    def frame_indices(self) -> np.ndarray:
        """The frame index behind each of the window's frames, padding included."""
        return pad_edges(np.asarray(self.indices, dtype=np.int64), self.pad)

    def __len__(self) -> int:
        return len(self.indices) + self.pad[0] + self.pad[1]


def eval_window(vlen: int, num_frames: int = NUM_FRAMES, position: str = "central",
                padding: str = "pad") -> TemporalView:
    """The official test-time selection (``get_selected_indexs(is_train=False)``) for one position and padding."""
    _check(vlen, num_frames)
    if position not in POSITIONS or padding not in PADDINGS:
        raise ValueError(f"position must be one of {POSITIONS} and padding one of {PADDINGS}, "
                         f"got {position!r}, {padding!r}")
    if vlen >= num_frames:
        start = {"central": (vlen - num_frames) // 2, "start": 0, "end": vlen - num_frames}[position]
        return TemporalView(position, tuple(range(start, start + num_frames)))
    remain = num_frames - vlen
    left = {"pad": remain // 2, "start_pad": 0, "end_pad": remain}[padding]
    return TemporalView(position, tuple(range(vlen)), (left, remain - left))


def eval_views(vlen: int, protocol: str = "1view", num_frames: int = NUM_FRAMES) -> list[TemporalView]:
    """The windows of a named protocol (``1view``, ``temporal3``), in the official order."""
    if protocol not in VIEW_PROTOCOLS:
        raise ValueError(f"unknown view protocol {protocol!r}; choose one of {', '.join(VIEW_PROTOCOLS)}")
    return [eval_window(vlen, num_frames, position, padding) for position, padding in VIEW_PROTOCOLS[protocol]]


def train_window(vlen: int, rng: np.random.Generator, num_frames: int = NUM_FRAMES,
                 mode: str = "consecutive") -> TemporalView:
    """The official training selection: longer clips give a random consecutive window (``mode="consecutive"``,
    start in ``[0, vlen - num_frames)`` as ``np.random.randint``) or a sorted random subset (``"random"``);
    shorter clips are padded with a random left share in ``[0, remain)``."""
    _check(vlen, num_frames)
    if vlen > num_frames:
        if mode == "consecutive":
            start = int(rng.integers(0, vlen - num_frames))
            return TemporalView("train", tuple(range(start, start + num_frames)))
        if mode == "random":
            return TemporalView("train", tuple(sorted(int(i) for i in rng.permutation(vlen)[:num_frames])))
        raise ValueError(f"unknown training selection {mode!r}; choose 'consecutive' or 'random'")
    if vlen < num_frames:
        remain = num_frames - vlen
        left = int(rng.integers(0, remain))
        return TemporalView("train", tuple(range(vlen)), (left, remain - left))
    return TemporalView("train", tuple(range(vlen)))


def strided_window(vlen: int, num_frames: int, stride: int) -> TemporalView:
    """EVL's single test window (``_generate_temporal_crops`` with one view): every ``stride``-th frame from
    ``slide // 2``, the clip padded with its last frame up to ``(num_frames - 1) * stride + 1`` frames."""
    if vlen < 1 or num_frames < 1 or stride < 1:
        raise ValueError(f"need vlen, num_frames and stride >= 1, got {vlen}, {num_frames}, {stride}")
    span = (num_frames - 1) * stride + 1
    start = max(0, vlen - span) // 2
    chosen = [min(start + i * stride, vlen - 1) for i in range(num_frames)]  # past the end: the last frame
    distinct = tuple(dict.fromkeys(chosen))
    return TemporalView("central", distinct, (0, num_frames - len(distinct)))


def strided_train_window(vlen: int, num_frames: int, stride: int, rng: np.random.Generator) -> TemporalView:
    """EVL's training selection (``_random_sample_frame_idx``): a random start in ``[0, vlen - span]`` when the clip
    is longer than the span ``(num_frames - 1) * stride + 1``; else from 0, past the end the last chosen frame."""
    span = (num_frames - 1) * stride + 1
    if span >= vlen:
        chosen: list[int] = []
        for i in range(num_frames):
            chosen.append(i * stride if i * stride < vlen else chosen[-1])
    else:
        start = int(rng.integers(0, vlen - span + 1))
        chosen = list(range(start, start + stride * num_frames, stride))
    distinct = tuple(dict.fromkeys(chosen))
    return TemporalView("train", distinct, (0, num_frames - len(distinct)))


def segment_windows(vlen: int, num_frames: int, rate: int, segments: int) -> list[TemporalView]:
    """VideoMAE's test windows (``VideoClsDataset``, test mode, dense): every ``rate``-th frame of the clip, padded
    with the last one to ``num_frames``; ``segments`` windows of ``num_frames`` spread evenly over them."""
    if vlen < 1 or num_frames < 1 or rate < 1 or segments < 1:
        raise ValueError(f"need vlen, num_frames, rate and segments >= 1, got {vlen}, {num_frames}, {rate}, "
                         f"{segments}")
    taken = list(range(0, vlen, rate))
    taken += [taken[-1]] * (num_frames - len(taken))  # a no-op when the clip is long enough
    step = max((len(taken) - num_frames) / (segments - 1), 0.0) if segments > 1 else 0.0
    windows = []
    for chunk in range(segments):
        start = int(chunk * step)  # the official float arithmetic, truncated
        chosen = taken[start:start + num_frames]
        distinct = tuple(dict.fromkeys(chosen))  # repeats only at the end: the padding
        windows.append(TemporalView(f"segment@{start}", distinct, (0, num_frames - len(distinct))))
    return windows


@dataclass(frozen=True)
class ClipView:
    """One view of a sample: a temporal window and a spatial crop (``whole`` for whole-frame inputs)."""

    window: TemporalView
    crop: str = "whole"
    select: tuple[int, ...] | None = None  # frames of ``window`` taken after the resize (whole-clip transforms)

    @property
    def key(self) -> tuple:
        return self.window.name, self.window.pad, self.crop


def protocol_names(protocol) -> tuple[str, ...]:
    """The view protocols a card's sampling knows (segment sampling: the corrected twins too, where the card's
    crop is not the centre)."""
    if protocol.sampling == "segments":
        twins = () if protocol.crop_position == "center" else tuple(n + CENTERED for n in SEGMENT_PROTOCOLS)
        return (*SEGMENT_PROTOCOLS, *twins)
    return tuple(CROP_PROTOCOLS if protocol.sampling == "strided" else VIEW_PROTOCOLS)


def corrected_twins(names, protocol) -> tuple[str, ...]:
    """The corrected twin of each official segment protocol in ``names`` that is not already there, so a run
    records both (``segment3`` -> ``segment3_center`` when the card's official crop is not the centre)."""
    names = tuple(names)
    if protocol.sampling != "segments" or protocol.crop_position == "center":
        return ()
    return tuple(n + CENTERED for n in names if n in SEGMENT_PROTOCOLS and n + CENTERED not in names)


def official_protocol(name: str) -> str:
    """The official protocol a corrected twin corrects (``segment3_center`` -> ``segment3``), else ``name``."""
    return name.removesuffix(CENTERED) if name.removesuffix(CENTERED) in SEGMENT_PROTOCOLS else name


def protocol_views(vlen: int, name: str, protocol, dataset: str = "") -> list[ClipView]:
    """The views of the named protocol under a card's ``IsolatedProtocol``, in the official order."""
    if name not in protocol_names(protocol):
        raise ValueError(f"unknown view protocol {name!r} for {protocol.sampling} sampling; choose one of "
                         f"{', '.join(protocol_names(protocol))}")
    if protocol.sampling == "strided":
        window = strided_window(vlen, protocol.frames, protocol.stride_for(dataset))
        return [ClipView(window, crop) for crop in CROP_PROTOCOLS[name]]
    if protocol.sampling == "segments":
        crop = "center" if name.endswith(CENTERED) else protocol.crop_position
        windows = segment_windows(vlen, protocol.frames, protocol.stride_for(dataset),
                                  SEGMENT_PROTOCOLS[official_protocol(name)])
        return [ClipView(window, crop) for window in windows]
    if protocol.sampling != "window":
        raise ValueError(f"unknown temporal sampling {protocol.sampling!r}; expected 'window', 'strided' or "
                         f"'segments'")
    return [ClipView(window) for window in eval_views(vlen, name, protocol.frames)]


def short_window(num_frames: int = NUM_FRAMES, rng: np.random.Generator | None = None) -> slice:
    """The 32-frame counterpart of a ``num_frames`` window: ``16:48`` of 64 at test; with ``rng`` (training) a
    random start in ``0 .. num_frames // 2`` inclusive."""
    start = num_frames // 4 if rng is None else int(rng.integers(0, num_frames // 2 + 1))
    return slice(start, start + num_frames // 2)


def pad_edges(array: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    """Repeat the first element ``pad[0]`` times in front and the last ``pad[1]`` times behind (axis 0)."""
    left, right = pad
    if left < 0 or right < 0:
        raise ValueError(f"padding must be non-negative, got {pad}")
    if not (left or right):
        return array
    if len(array) == 0:
        raise ValueError("cannot pad an empty clip")
    return np.concatenate([np.repeat(array[:1], left, axis=0), array, np.repeat(array[-1:], right, axis=0)])


def rgb_test_transform(frames: np.ndarray | torch.Tensor, size: int = RGB_SIZE,
                       pre_resize: tuple[int, int] | None = None) -> torch.Tensor:
    """NLA-SLR's test-time RGB input: uint8 RGB ``[T, H, W, 3]`` -> float32 ``[3, T, size, size]``, BGR, in [-1, 1].

    Steps, in the official order: float; ``pre_resize`` (NMFs-CSL: 256x256, on the 0..255 values); ``/ 255``;
    bilinear resize of the whole frame to ``size`` x ``size`` without antialiasing (torchvision 0.10's tensor
    ``Resize`` = ``interpolate(mode="bilinear", align_corners=False)``; no crop); RGB -> BGR; ``(x - 0.5) / 0.5``.
    """
    from bench.data.spatial import rgb_view_input

    spec = SimpleNamespace(spatial="whole_frame", crop=size, channels="BGR", normalization="symmetric",
                           normalize_first=False)
    return rgb_view_input(frames, spec, pre_resize=pre_resize)


def _check(vlen: int, num_frames: int) -> None:
    if vlen < 1:
        raise ValueError(f"a clip needs at least one frame, got vlen={vlen}")
    if num_frames <= 0 or num_frames % 4:
        raise ValueError(f"num_frames must be a positive multiple of 4 (official assert), got {num_frames}")
