"""NLA-SLR's temporal views and RGB test transform, against expectations written out by hand from the official
rules (VideoLoader.get_selected_indexs, pad_array, load_batch_video's 32-frame slice, prediction.py's 3x_pad)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.data.views import (VIEW_PROTOCOLS, TemporalView, eval_views, eval_window, pad_edges, rgb_test_transform,
                              short_window, train_window)


def frames_of(protocol: str, vlen: int) -> list[list[int]]:
    return [view.frame_indices().tolist() for view in eval_views(vlen, protocol)]


def test_temporal3_is_start_end_central_with_their_paddings():
    assert VIEW_PROTOCOLS["temporal3"] == (("start", "start_pad"), ("end", "end_pad"), ("central", "pad"))
    # 20 frames: every frame once, 44 repeats of an edge frame
    start, end, central = frames_of("temporal3", 20)
    assert start == list(range(20)) + [19] * 44  # start_pad: the clip starts the window
    assert end == [0] * 44 + list(range(20))  # end_pad: the clip ends the window
    assert central == [0] * 22 + list(range(20)) + [19] * 22  # pad: remain // 2 on the left
    assert [v.pad for v in eval_views(20, "temporal3")] == [(0, 44), (44, 0), (22, 22)]
    # odd remainder: 21 frames leave 43, the left gets 21
    assert frames_of("temporal3", 21)[2] == [0] * 21 + list(range(21)) + [20] * 22
    # 150 frames: windows without padding
    start, end, central = frames_of("temporal3", 150)
    assert start == list(range(0, 64)) and end == list(range(86, 150)) and central == list(range(43, 107))
    assert all(v.pad == (0, 0) for v in eval_views(150, "temporal3"))


def test_1view_is_the_central_padded_window():
    assert frames_of("1view", 20) == [[0] * 22 + list(range(20)) + [19] * 22]
    assert frames_of("1view", 150) == [list(range(43, 107))]
    assert frames_of("1view", 151) == [list(range(43, 107))]  # (151 - 64) // 2 = 43
    assert frames_of("1view", 64) == [list(range(64))]
    assert eval_views(65, "temporal3")[1].indices == tuple(range(1, 65))
    assert all(len(v) == 64 for n in (1, 20, 63, 64, 65, 300) for v in eval_views(n, "temporal3"))
    # long clips ignore the padding mode, as the official code does
    assert eval_window(100, position="start", padding="end_pad") == TemporalView("start", tuple(range(64)))


def test_the_32_frame_stream_is_frames_16_to_48_of_the_64():
    assert short_window() == slice(16, 48) and short_window(32) == slice(8, 24)
    central = eval_views(150, "1view")[0].frame_indices()
    assert central[short_window()].tolist() == list(range(59, 91))
    short = eval_views(20, "1view")[0].frame_indices()[short_window()].tolist()
    assert short == [0] * 7 + list(range(1, 20)) + [19] * 6  # window positions 16..21 are padding, 22 is frame 0
    starts = {short_window(rng=np.random.default_rng(seed)).start for seed in range(200)}
    assert starts == set(range(0, 33))  # training: 0 .. 32 inclusive (randint(0, 64 // 2 + 1))


def test_training_windows():
    rng = np.random.default_rng(0)
    starts = {train_window(100, rng).indices[0] for _ in range(2000)}
    assert starts == set(range(0, 36))  # np.random.randint(0, vlen - 64): the last possible start is never drawn
    lefts = {train_window(20, rng).pad[0] for _ in range(2000)}
    assert lefts == set(range(0, 44))  # randint(0, remain)
    view = train_window(20, rng)
    assert view.indices == tuple(range(20)) and sum(view.pad) == 44
    random_view = train_window(100, rng, mode="random")
    assert len(random_view.indices) == 64 and list(random_view.indices) == sorted(set(random_view.indices))
    assert train_window(64, rng) == TemporalView("train", tuple(range(64)))
    a, b = train_window(300, np.random.default_rng(7)), train_window(300, np.random.default_rng(7))
    assert a == b  # the generator alone decides


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one frame"):
        eval_views(0)
    with pytest.raises(ValueError, match="multiple of 4"):
        eval_window(10, 30)
    with pytest.raises(ValueError, match="unknown view protocol 'temporal5'"):
        eval_views(10, "temporal5")
    with pytest.raises(ValueError, match="position must be one of"):
        eval_window(10, position="middle")


def test_pad_edges_repeats_edge_elements():
    clip = np.arange(3 * 2).reshape(3, 2)
    assert pad_edges(clip, (2, 1)).tolist() == [[0, 1], [0, 1], [0, 1], [2, 3], [4, 5], [4, 5]]
    assert pad_edges(clip, (0, 0)) is clip


def bilinear_reference(image: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """align_corners=False bilinear without antialiasing, pixel by pixel, for [H, W, C] float arrays."""
    in_h, in_w = image.shape[:2]
    out = np.zeros((out_h, out_w, image.shape[2]))
    for i in range(out_h):
        for j in range(out_w):
            y, x = max((i + 0.5) * in_h / out_h - 0.5, 0.0), max((j + 0.5) * in_w / out_w - 0.5, 0.0)
            y0, x0 = int(y), int(x)
            y1, x1 = min(y0 + 1, in_h - 1), min(x0 + 1, in_w - 1)
            wy, wx = y - y0, x - x0
            out[i, j] = ((1 - wy) * ((1 - wx) * image[y0, x0] + wx * image[y0, x1])
                         + wy * ((1 - wx) * image[y1, x0] + wx * image[y1, x1]))
    return out


def test_rgb_transform_resizes_whole_frames_then_bgr_then_symmetric_range():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (2, 10, 14, 3), dtype=np.uint8)
    got = rgb_test_transform(frames, size=6)
    assert got.shape == (3, 2, 6, 6) and got.dtype == torch.float32
    for t in range(2):
        expected = bilinear_reference(frames[t] / 255.0, 6, 6)[..., ::-1]  # whole frame, no crop; then BGR
        np.testing.assert_allclose(got[:, t].permute(1, 2, 0).numpy(), (expected - 0.5) / 0.5, atol=1e-5)
    red = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    red[..., 0] = 255
    out = rgb_test_transform(red, size=4)
    assert out[2].eq(1).all() and out[0].eq(-1).all() and out[1].eq(-1).all()  # R is the last channel


def test_rgb_resize_does_not_antialias():
    # a 3x downscale without antialiasing samples every third pixel exactly (source pixel 3i + 1)
    frames = np.random.default_rng(4).integers(0, 256, (1, 9, 9, 3), dtype=np.uint8)
    out = rgb_test_transform(frames, size=3)
    expected = (frames[0, 1::3, 1::3, ::-1] / 255.0 - 0.5) / 0.5
    np.testing.assert_allclose(out[:, 0].permute(1, 2, 0).numpy(), expected, atol=1e-6)
    # NMFs-CSL's extra resize to 256 comes first; at the frames' own size it changes nothing
    assert torch.equal(rgb_test_transform(frames, 3, pre_resize=(9, 9)), out)
