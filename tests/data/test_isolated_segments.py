"""VideoMAE / SignNet test views ("segment3", "segment1"): the segment windows and the one-crop spatial window.

Windows are checked three ways: hand-computed cases, the official sampler's output on the same cases (run by
``python benchmarks/official_parity_videomae_views.py --videomae-repo <VideoMAEv2> --signnet-repo <slr_vit@45e3c48>``,
copied here as literal lists), and an oracle written here from the arithmetic stated in exact fractions.
"""

import math
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest

from bench.data.resize import resize
from bench.data.spatial import rgb_view_input
from bench.data.views import corrected_twins, protocol_names, protocol_views, segment_windows

SIGNNET = SimpleNamespace(sampling="segments", frames=32, crop_position="first",
                          stride_for=lambda dataset: {"hht_rate1": 1}.get(dataset, 2))
CENTRED = SimpleNamespace(sampling="segments", frames=32, crop_position="center", stride_for=lambda dataset: 2)


def oracle(vlen: int, frames: int, rate: int, segments: int) -> list[list[int]]:
    """Segment c of S starts at floor(c * max(n - F, 0) / (S - 1)) of the n = max(ceil(vlen / rate), F) sampled
    frames; a sampled position past the clip's last one reads the last one."""
    taken = math.ceil(vlen / rate)
    n = max(taken, frames)
    last = rate * (taken - 1)
    starts = [0] if segments == 1 else [math.floor(Fraction(c * (n - frames), segments - 1)) for c in range(segments)]
    return [[min(rate * (s + j), last) for j in range(frames)] for s in starts]


def windows(vlen, frames=32, rate=2, segments=3):
    return [w.frame_indices().tolist() for w in segment_windows(vlen, frames, rate, segments)]


def test_hand_computed_windows():
    short = list(range(0, 20, 2)) + [18] * 22  # 10 frames taken, padded with the last to 32
    assert windows(20) == [short] * 3  # a short clip: three identical views
    assert windows(64) == [list(range(0, 64, 2))] * 3  # 32 taken: still identical (rate 2: up to 64 frames)
    assert windows(65) == [list(range(0, 64, 2))] * 2 + [list(range(2, 66, 2))]  # n 33, step 0.5: starts 0, 0, 1
    assert windows(100) == [list(range(0, 64, 2)), list(range(18, 82, 2)), list(range(36, 100, 2))]  # step 9
    assert windows(101) == [list(range(0, 64, 2)), list(range(18, 82, 2)), list(range(38, 102, 2))]  # 9.5: 0, 9, 19
    assert windows(40, rate=1) == [list(range(0, 32)), list(range(4, 36)), list(range(8, 40))]  # H&HT's rate 1
    assert windows(101, segments=1) == [list(range(0, 64, 2))]  # one segment starts at 0, not in the middle
    assert windows(1, segments=3) == [[0] * 32] * 3


# the official sampler's windows on these cases (benchmarks/official_parity_videomae_views.py, printed output)
OFFICIAL = {
    (20, 2, 3): [[0, 2, 4, 6, 8, 10, 12, 14, 16, 18] + [18] * 22] * 3,
    (101, 2, 3): [list(range(0, 64, 2)), list(range(18, 82, 2)), list(range(38, 102, 2))],
    (250, 2, 3): [list(range(0, 64, 2)), list(range(92, 156, 2)), list(range(186, 250, 2))],
    (77, 1, 3): [list(range(0, 32)), list(range(22, 54)), list(range(45, 77))],
    (250, 2, 1): [list(range(0, 64, 2))],
}


@pytest.mark.parametrize("case", sorted(OFFICIAL))
def test_windows_equal_the_official_sampler(case):
    vlen, rate, segments = case
    assert windows(vlen, rate=rate, segments=segments) == OFFICIAL[case]


@pytest.mark.parametrize("vlen", [1, 2, 31, 32, 33, 63, 64, 65, 66, 67, 95, 96, 97, 98, 99, 127, 128, 129, 301, 1000])
@pytest.mark.parametrize("rate, segments", [(2, 3), (1, 3), (2, 1), (1, 1), (3, 5), (2, 7)])
def test_windows_equal_the_oracle(vlen, rate, segments):
    assert windows(vlen, rate=rate, segments=segments) == oracle(vlen, 32, rate, segments)


def test_protocols_of_a_card_and_the_corrected_twins():
    assert protocol_names(SIGNNET) == ("segment3", "segment1", "segment3_center", "segment1_center")
    assert protocol_names(CENTRED) == ("segment3", "segment1")
    assert corrected_twins(("segment3", "segment1"), SIGNNET) == ("segment3_center", "segment1_center")
    assert corrected_twins(("segment3", "segment3_center"), SIGNNET) == ()
    assert corrected_twins(("segment3",), CENTRED) == ()
    official = protocol_views(250, "segment3", SIGNNET, "wlasl2000")
    corrected = protocol_views(250, "segment3_center", SIGNNET, "wlasl2000")
    assert [v.crop for v in official] == ["first"] * 3 and [v.crop for v in corrected] == ["center"] * 3
    assert [v.window for v in official] == [v.window for v in corrected]
    assert official[0].key == protocol_views(250, "segment1", SIGNNET)[0].key  # segment1's window is computed once
    rate1 = protocol_views(77, "segment3", SIGNNET, "hht_rate1")
    assert [v.window.frame_indices().tolist() for v in rate1] == OFFICIAL[(77, 1, 3)]
    with pytest.raises(ValueError, match="unknown view protocol 'temporal3' for segments sampling"):
        protocol_views(40, "temporal3", SIGNNET)


SPEC = SimpleNamespace(spatial="short_side_uint8", crop=32, channels="RGB", normalization="mean_std",
                       normalize_first=False,
                       mean_std=lambda dataset: ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))


def _frames(height: int, width: int, count: int = 2) -> np.ndarray:
    """uint8 frames whose red is 3 x the column, green 3 x the row, blue 40 x the frame index."""
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    frame = np.stack([3 * cols, 3 * rows, np.zeros_like(rows)], axis=-1)
    return np.stack([frame + [0, 0, 40 * t] for t in range(count)]).astype(np.uint8)


@pytest.mark.parametrize("height, width, size, first, center", [
    (48, 64, (42, 32), (0, 0), (0, 5)),  # landscape: short side 48 -> 32, long int(32 * 64 / 48) = 42
    (64, 48, (32, 42), (0, 0), (5, 0)),  # portrait: the window moves down the rows
    (32, 50, (50, 32), (0, 0), (0, 9)),  # short side already 32: not resized, centre (50 - 32) // 2
    (40, 40, (32, 32), (0, 0), (0, 0)),  # square: both windows coincide
])
def test_one_crop_window_first_and_center(height, width, size, first, center):
    frames = _frames(height, width)
    mean, std = (np.array(v, dtype=np.float32) for v in SPEC.mean_std(""))
    resized = np.stack([resize(f, size, "linear") for f in frames])  # (width, height) as cv2 takes it
    for crop, (top, left) in (("first", first), ("center", center)):
        got = rgb_view_input(frames, SPEC, "wlasl2000", crop).numpy()
        window = resized[:, top:top + 32, left:left + 32].astype(np.float32) / np.float32(255)
        expected = ((window - mean) / std).transpose(3, 0, 1, 2)
        assert got.shape == (3, 2, 32, 32) and got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)
    if size[0] != size[1]:  # the two windows differ on non-square frames
        assert not np.array_equal(rgb_view_input(frames, SPEC, "", "first"), rgb_view_input(frames, SPEC, "", "center"))


def test_uint8_policy_refuses_float_frames():
    with pytest.raises(ValueError, match="resizes uint8 frames"):
        rgb_view_input(np.zeros((1, 32, 32, 3), np.float32), SPEC, "", "first")
