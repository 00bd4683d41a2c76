"""EVL / SignVLM test views: the strided window and the short-side crops, on hand-computed cases.

The same transforms equal the official ``VideoDataset`` bit for bit on decoded mp4 clips (landscape, portrait,
square; shorter and longer than the span): ``python benchmarks/official_parity_evl_views.py --evl-repo <EVL>``.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from bench.data.spatial import rgb_view_input
from bench.data.views import protocol_names, protocol_views, strided_window

STRIDED = SimpleNamespace(sampling="strided", frames=4, stride_for=lambda dataset: {"karsl502": 8}.get(dataset, 4))
PLAIN = SimpleNamespace(spatial="short_side", crop=2, channels="RGB", normalization="mean_std", normalize_first=True,
                        mean_std=lambda dataset: ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)))


@pytest.mark.parametrize("vlen, frames, stride, indices", [
    (30, 8, 4, list(range(0, 29, 4))),  # span 29: starts at (30 - 29) // 2 = 0
    (100, 8, 4, list(range(35, 64, 4))),  # (100 - 29) // 2 = 35
    (10, 4, 4, [0, 4, 8, 9]),  # span 13 > 10: padded with the last frame, start 0
    (5, 4, 4, [0, 4, 4, 4]),
    (1, 3, 2, [0, 0, 0]),
])
def test_strided_window(vlen, frames, stride, indices):
    assert strided_window(vlen, frames, stride).frame_indices().tolist() == indices


def test_protocol_views_follow_the_card():
    assert protocol_names(STRIDED) == ("1view", "spatial3")
    views = protocol_views(40, "spatial3", STRIDED, "wlasl100")
    assert [v.crop for v in views] == ["first", "center", "last"]
    assert views[0].window.frame_indices().tolist() == [13, 17, 21, 25]  # stride 4, span 13, start 27 // 2
    assert protocol_views(40, "1view", STRIDED, "karsl502")[0].window.frame_indices().tolist() == [7, 15, 23, 31]
    with pytest.raises(ValueError, match="temporal3.*1view, spatial3"):
        protocol_views(40, "temporal3", STRIDED)


def _columns(height: int, width: int) -> np.ndarray:
    """One RGB frame ``[1, H, W, 3]`` whose pixel value is 10 x its column index."""
    return np.broadcast_to((10 * np.arange(width, dtype=np.uint8))[None, None, :, None], (1, height, width, 3)).copy()


def test_three_crops_along_the_long_side():
    frames = _columns(2, 8)  # 2x8: the short side is already 2, no resampling
    crops = [rgb_view_input(frames, PLAIN, crop=c) for c in ("first", "center", "last")]
    assert [c.shape for c in crops] == [(3, 1, 2, 2)] * 3
    # margin 6: columns 0-1, 3-4, 6-7
    assert [c[0, 0, 0].mul(255).round().tolist() for c in crops] == [[0, 10], [30, 40], [60, 70]]
    portrait = np.ascontiguousarray(frames.transpose(0, 2, 1, 3))  # 8x2: crops along the rows
    rows = [rgb_view_input(portrait, PLAIN, crop=c)[0, 0, :, 0].mul(255).round().tolist()
            for c in ("first", "center", "last")]
    assert rows == [[0, 10], [30, 40], [60, 70]]


def test_square_frames_give_one_crop_three_times():
    frames = np.random.default_rng(0).integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    spec = SimpleNamespace(**{**PLAIN.__dict__, "crop": 4})
    crops = [rgb_view_input(frames, spec, crop=c) for c in ("first", "center", "last")]
    assert torch.equal(crops[0], crops[1]) and torch.equal(crops[1], crops[2])


def test_normalisation_comes_first_and_uses_the_datasets_statistics():
    frames = np.full((1, 2, 2, 3), 51, dtype=np.uint8)  # 0.2 after / 255
    spec = SimpleNamespace(**{**PLAIN.__dict__, "mean_std": lambda d: ((0.1, 0.2, 0.3), (0.5, 0.5, 0.5))})
    out = rgb_view_input(frames, spec)
    assert torch.allclose(out[:, 0, 0, 0], torch.tensor([0.2, 0.0, -0.2]), atol=1e-6)


def test_frames_are_taken_after_the_whole_clip_is_resized():
    frames = np.random.default_rng(1).integers(0, 256, (9, 8, 12, 3), dtype=np.uint8)
    spec = SimpleNamespace(**{**PLAIN.__dict__, "crop": 4})
    picked = rgb_view_input(frames, spec, select=[0, 4, 8, 8])
    assert picked.shape == (3, 4, 4, 4) and torch.equal(picked[:, 2], picked[:, 3])
    assert torch.allclose(picked[:, 1], rgb_view_input(frames[4:5], spec)[:, 0], atol=1e-6)
