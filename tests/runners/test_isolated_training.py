"""bench train on isolated SLR: the augmentations on hand-computed cases, one crop box for every stream, resume
equals an uninterrupted run, the official-layout checkpoint loads strictly."""

import random
import types

import numpy as np
import pytest
import torch

from bench.data.augment import _shift_hue, color_jitter, resized_crop, resized_crop_box, scale_box
from bench.data.synthetic_isolated import make_dataset
from bench.runners.train_isolated import BatchMaker, ClipReader, IsolatedTrainConfig, train_isolated
from zoo.checkpoints import read_checkpoint
from zoo.loader import load_model
from zoo.nla_slr_recipes import NLA_SLR, StreamInputSpec


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("wlasl")
    dataset, pickle = make_dataset(root, {"train": 2, "val": 1}, seed=5, signers=3)
    return dataset, pickle


def test_crop_box_stays_inside_and_falls_back_to_the_centre():
    rng = random.Random(0)
    for _ in range(200):
        top, left, h, w = resized_crop_box(64, 48, (0.7, 1.0), (0.75, 1.3), rng)
        assert 0 <= top and top + h <= 64 and 0 <= left and left + w <= 48
        assert 0.7 * 64 * 48 * 0.9 <= h * w <= 64 * 48
    # no box of area >= 2x the frame exists: the central box with the closest admissible aspect
    assert resized_crop_box(10, 40, (2.0, 2.0), (0.75, 1.3), rng) == (0, 13, 10, 13)  # w = round(10 * 1.3), left = (40 - 13) // 2
    assert scale_box((10, 20, 30, 40), 0.5, 0.25) == (5, 5, 15, 10)


def test_resized_crop_of_the_whole_frame_is_a_resize():
    video = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    assert torch.equal(resized_crop(video, (0, 0, 4, 4), 4), video)
    assert torch.equal(resized_crop(video, (1, 2, 2, 2), 2), video[..., 1:3, 2:4])


def test_hue_shift_by_hand():
    red = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)
    assert torch.allclose(_shift_hue(red, 1 / 3), torch.tensor([0.0, 1.0, 0.0]).view(3, 1, 1), atol=1e-6)
    assert torch.allclose(_shift_hue(red, -1 / 3), torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1), atol=1e-6)
    colours = torch.rand(3, 5, 5)
    assert torch.allclose(_shift_hue(colours, 0.0), colours, atol=1e-6)
    gray = torch.full((3, 2, 2), 0.4)
    assert torch.allclose(color_jitter(gray, random.Random(1), 0.0, 0.0, 0.5, 0.1), gray, atol=1e-6)


def test_one_crop_box_for_every_stream(release):
    dataset, pickle = release
    from bench.data.keypoints import KeypointTable

    spec = StreamInputSpec(frame_size=64, crop=32, streams=("rgb", "keypoint"), heatmap_size=16,
                           heatmap_grid={"default": 64})
    card = types.SimpleNamespace(input=spec, protocol=types.SimpleNamespace(frames=16))
    maker = BatchMaker(dataset, card, NLA_SLR, ClipReader(dataset, True), KeypointTable.load(pickle), "cpu")
    batch = dataset.samples("train")[:3]
    out = maker.make(batch, random.Random(0), np.random.default_rng(0))
    assert out["rgb"].shape == (3, 3, 16, 32, 32) and out["rgb_low"].shape == (3, 3, 8, 32, 32)
    assert out["keypoint"].shape == (3, 63, 16, 16, 16) and out["keypoint_low"].shape == (3, 63, 8, 16, 16)
    start = [s for s in range(9) if torch.equal(out["keypoint_low"], out["keypoint"][:, :, s:s + 8])]
    assert start, "the 32-frame keypoint stream is a window of the 64-frame one"
    assert out["rgb"].min() >= -1 and out["rgb"].max() <= 1


def config(release, out, epochs):
    dataset, _ = release
    return IsolatedTrainConfig("s3d_rgb_tiny", "synthetic_wlasl", dataset.root, out, epochs=epochs, batch_size=4,
                               cache_frames=True)


def test_resumed_training_equals_uninterrupted(release, tmp_path):
    straight = train_isolated(config(release, tmp_path / "a", 2), log=lambda *_: None)
    train_isolated(config(release, tmp_path / "b", 1), log=lambda *_: None)
    messages = []
    resumed = train_isolated(config(release, tmp_path / "b", 2), log=messages.append)
    assert any("resuming after epoch 1" in m for m in messages)
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    a, b = read_checkpoint(straight.last).state_dict, read_checkpoint(resumed.last).state_dict
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["val_top1"] for h in straight.history] == [h["val_top1"] for h in resumed.history]


def test_official_layout_checkpoint_loads_strictly(release, tmp_path):
    seen = []
    result = train_isolated(config(release, tmp_path, 1), log=lambda *_: None, progress=lambda *r: seen.append(r))
    stages = list(dict.fromkeys(r[0] for r in seen))
    assert stages == ["epoch 1/1: train", "epoch 1/1: val"]  # progress inside the epoch, then validation
    train = [r for r in seen if r[0] == stages[0]]
    assert train[0][1] == 0 and train[-1][1] == train[-1][2] == len(train) - 1
    assert [r[1] for r in seen if r[0] == stages[1]] == list(range(1, len(seen) - len(train) + 1))
    raw = torch.load(result.official, map_location="cpu", weights_only=True)
    assert set(raw) == {"epoch", "model_state"}
    assert all(k.startswith("recognition_network.") for k in raw["model_state"])
    loaded = load_model("s3d_rgb_tiny", str(result.official), num_classes=12)
    ours = read_checkpoint(result.best).state_dict
    assert all(torch.equal(loaded.model.state_dict()[k], ours[k]) for k in ours)


def test_language_recipe_asks_for_word_vectors(release, tmp_path):
    dataset, pickle = release
    with pytest.raises(ValueError, match="--word-vectors"):
        train_isolated(IsolatedTrainConfig("nla_slr", "synthetic_wlasl", dataset.root, tmp_path, keypoints=pickle,
                                           epochs=1), log=lambda *_: None)
