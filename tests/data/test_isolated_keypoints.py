"""NLA-SLR keypoints: the 63-point selection, the pickle reader's checks, and Gaussian heatmaps against a
point-by-point evaluation of the official formula (utils/gen_gaussian.py, modelling/recognition.py)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from bench.data.cslr import DatasetError
from bench.data.keypoints import (NLA_SLR_POINTS, KeypointTable, gaussian_heatmaps, heatmap_input,
                                  keypoint_indices)
from bench.data.views import eval_views


def test_the_63_points_are_hand_mouth_half_pose_in_sorted_part_order():
    expected = list(range(91, 133)) + [71, 73, 75, 77, 79, 81, 83, 85, 87, 89] + list(range(0, 11))
    assert list(NLA_SLR_POINTS) == expected and len(expected) == 63
    assert keypoint_indices(["hand", "pose", "mouth_half"]) == NLA_SLR_POINTS  # the config's order does not matter
    with pytest.raises(ValueError, match="unknown keypoint parts"):
        keypoint_indices(["feet"])


def reference_heatmap(x: float, y: float, raw: tuple[int, int], grid: tuple[int, int] | None, sigma: float):
    """exp(-((i - y*fh)^2 + (j - x*fw)^2) / (2 sigma^2)) on the integer grid, one pixel at a time, in float64."""
    map_h, map_w = grid or raw
    fh, fw = (map_h / raw[0], map_w / raw[1]) if grid else (1.0, 1.0)
    out = np.zeros((map_h, map_w))
    for i in range(map_h):
        for j in range(map_w):
            out[i, j] = math.exp(-((i - y * fh) ** 2 + (j - x * fw) ** 2) / (2 * sigma ** 2))
    return out


EDGE_POINTS = [
    (0.0, 0.0),  # no detection: the official code still draws a Gaussian in the top-left corner
    (-6.0, 10.0),  # left of the grid: only the tail reaches in
    (23.9, 31.9),  # the far corner, sub-pixel
    (30.0, 45.0),  # below and right of a 32x24 grid
    (500.0, -400.0),  # far away: all ~0
    (7.0, 5.0),  # on a grid point exactly
]


@pytest.mark.parametrize("raw, grid, sigma", [((32, 24), None, 3.0), ((64, 48), (32, 24), 8.0)])
def test_gaussian_heatmaps_equal_the_formula_point_by_point(raw, grid, sigma):
    rng = np.random.default_rng(5)
    scale = np.array([raw[1], raw[0]])
    points = np.concatenate([np.array(EDGE_POINTS) * (scale / np.array([24, 32])),
                             rng.uniform(-0.2, 1.2, (10, 2)) * scale])
    coords = np.concatenate([points, rng.uniform(0, 1, (len(points), 1))], axis=1).astype(np.float32)
    got = gaussian_heatmaps(coords[None], raw, grid, sigma)[0]  # [P, H, W]
    assert got.shape == (len(points), *(grid or raw)) and got.dtype == torch.float32
    for p, (x, y) in enumerate(coords[:, :2]):
        np.testing.assert_allclose(got[p].numpy(), reference_heatmap(float(x), float(y), raw, grid, sigma),
                                   atol=2e-6, err_msg=f"point {p} at ({x}, {y})")
    assert got[0, 0, 0] == 1.0  # the zero point's peak
    # scores do not matter (threshold 0)
    assert torch.equal(gaussian_heatmaps(coords[None, :, :2], raw, grid, sigma)[0], got)


def bilinear_pixel(image: np.ndarray, i: int, j: int, out: int) -> float:
    """align_corners=False bilinear (no antialiasing) at output pixel (i, j) of a square resize to ``out``."""
    in_h, in_w = image.shape
    y, x = max((i + 0.5) * in_h / out - 0.5, 0.0), max((j + 0.5) * in_w / out - 0.5, 0.0)
    y0, x0 = int(y), int(x)
    y1, x1 = min(y0 + 1, in_h - 1), min(x0 + 1, in_w - 1)
    wy, wx = y - y0, x - x0
    return ((1 - wy) * ((1 - wx) * image[y0, x0] + wx * image[y0, x1])
            + wy * ((1 - wx) * image[y1, x0] + wx * image[y1, x1]))


def test_heatmap_input_resizes_to_112_and_maps_to_minus_one_one():
    rng = np.random.default_rng(6)
    keypoints = np.zeros((2, 3, 3), dtype=np.float32)  # frame 0: a zero point and two real ones
    keypoints[:, 1, :2] = [[100.5, 60.25], [255.0, 128.0]]
    keypoints[:, 2, :2] = rng.uniform(0, 256, (2, 2))
    got = heatmap_input(keypoints)  # WLASL settings: 256 grid, sigma 8, 112 output
    assert got.shape == (3, 2, 112, 112)  # [P, T, H, W]: points are the channels
    for t in range(2):
        for p in range(3):
            full = reference_heatmap(*map(float, keypoints[t, p, :2]), (256, 256), None, 8.0)
            for i, j in rng.integers(0, 112, (25, 2)):
                expected = (bilinear_pixel(full, i, j, 112) - 0.5) / 0.5
                assert abs(float(got[p, t, i, j]) - expected) < 1e-5, (t, p, i, j)
    assert got[:, :, 60:, 60:].min() >= -1 and got.max() <= 1
    # NMFs-CSL: 512x512 coordinates on a 256 grid; the same point at twice the coordinates gives the same input
    assert torch.allclose(heatmap_input(keypoints * [2, 2, 1], (512, 512), (256, 256)), got, atol=1e-6)


def test_chunking_does_not_change_heatmaps(monkeypatch):
    from bench.data import keypoints as module

    points = np.random.default_rng(7).uniform(0, 32, (5, 4, 2)).astype(np.float32)
    whole = heatmap_input(points, (32, 32), size=16)
    monkeypatch.setattr(module, "_CHUNK_ELEMENTS", 1)  # one frame at a time
    assert torch.equal(heatmap_input(points, (32, 32), size=16), whole)


@pytest.fixture()
def pickle_path(tmp_path):
    table = {"00335": np.arange(10 * 133 * 3, dtype=np.float64).reshape(10, 133, 3), "bad": np.zeros((4, 17, 3))}
    path = tmp_path / "keypoints_hrnet_dark_coco_wholebody.pkl"
    path.write_bytes(pickle.dumps(table))
    return path


def test_keypoint_table_selects_pads_and_checks(pickle_path):
    table = KeypointTable.load(pickle_path)
    assert len(table) == 2 and "00335" in table
    raw = table.raw("00335")
    assert raw.dtype == np.float32 and raw.shape == (10, 133, 3)
    picked = table.select("00335", [2, 3], pad=(1, 2))
    assert picked.shape == (5, 63, 3)
    np.testing.assert_array_equal(picked[:, 0], raw[[2, 2, 3, 3, 3], 91])  # first channel: hand point 91
    np.testing.assert_array_equal(picked[:, -1], raw[[2, 2, 3, 3, 3], 10])  # last channel: pose point 10
    views = table.views("00335", eval_views(10, "temporal3"))
    assert [v.shape for v in views] == [(64, 63, 3)] * 3
    np.testing.assert_array_equal(views[0][-1], raw[9, list(NLA_SLR_POINTS)])  # start_pad repeats the last frame
    with pytest.raises(DatasetError, match=r"video '99999' is not in the keypoint pickle .*keypoints_hrnet"):
        table.raw("99999")
    with pytest.raises(DatasetError, match=r"keypoints of video 'bad' in .* have shape \[4, 17, 3\]"):
        table.raw("bad")
    with pytest.raises(DatasetError, match="has keypoints for 10 frames .* frame 10 was asked for"):
        table.select("00335", [9, 10])


def test_keypoint_pickle_errors(tmp_path):
    with pytest.raises(DatasetError, match="keypoint pickle not found at"):
        KeypointTable.load(tmp_path / "none.pkl")
    listed = tmp_path / "list.pkl"
    listed.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(DatasetError, match=r"list.pkl: expected a dict"):
        KeypointTable.load(listed)
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(b"\x80\x04garbage")
    with pytest.raises(DatasetError, match="cannot read the keypoint pickle .*broken.pkl"):
        KeypointTable.load(broken)
    with pytest.raises(ValueError, match=r"expected keypoints \[T > 0, P, 2 or 3\]"):
        heatmap_input(np.zeros((4, 63)))


def test_training_crop_cuts_the_grid_before_the_resize():
    import torch.nn.functional as F

    rng = np.random.default_rng(4)
    points = np.concatenate([rng.uniform(0, 64, (3, 5, 2)), np.ones((3, 5, 1))], axis=-1).astype(np.float32)
    whole = heatmap_input(points, (64, 64), size=16)
    assert torch.equal(heatmap_input(points, (64, 64), size=16, crop=(0, 0, 64, 64)), whole)
    full = gaussian_heatmaps(points, (64, 64))  # [T, P, 64, 64]
    by_hand = F.interpolate(full[..., 10:42, 5:53], size=(16, 16), mode="bilinear", align_corners=False)
    expected = ((by_hand - 0.5) / 0.5).permute(1, 0, 2, 3)
    assert torch.equal(heatmap_input(points, (64, 64), size=16, crop=(10, 5, 32, 48)), expected)


@pytest.mark.parametrize("raw, grid, crop", [((256, 256), (256, 256), None), ((512, 512), (256, 256), None),
                                             ((256, 256), (256, 256), (10, 20, 200, 180)),
                                             ((256, 256), (256, 256), (50, 3, 120, 250))])
def test_separable_heatmaps_equal_the_official_computation_within_float32_rounding(raw, grid, crop):
    """The speed mode: outer products of 1-D Gaussians, resized per axis; the official maps to a few units of
    float32 rounding (values in [-1, 1]), not bit for bit; points off the frame and a crop included."""
    points = np.random.default_rng(0).uniform(-20, raw[0] + 20, (6, 63, 3)).astype(np.float32)
    exact = heatmap_input(points, raw, grid, 8.0, 112, crop=crop)
    fast = heatmap_input(points, raw, grid, 8.0, 112, crop=crop, separable=True)
    assert fast.shape == exact.shape == (63, 6, 112, 112)
    assert 0 < float((fast - exact).abs().max()) < 1e-6
