"""Training batches made in DataLoader worker processes (``--workers``) train exactly what the main process trains:
the same losses and the same weights, bit for bit, for each of the three training loops. Each step's clips and
generators are fixed before the work is handed out, and the generator the batch mixing draws from next comes
back with the batch (the recipes below are given mixing, so that a lost generator state would show)."""

from dataclasses import replace

import pytest
import torch

from bench.data.synthetic_isolated import make_dataset as make_isolated
from bench.data.synthetic_signs import make_dataset as make_continuous
from bench.runners.train_isolated import IsolatedTrainConfig, train_isolated
from bench.runners.train_steps import train_steps
from bench.runners.training import TrainConfig, train_continuous
from zoo.cards import MODELS, get_card
from zoo.checkpoints import read_checkpoint


def quiet(*_):
    pass


def same_weights(a, b) -> bool:
    a, b = read_checkpoint(a).state_dict, read_checkpoint(b).state_dict
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def wlasl(tmp_path_factory):
    dataset, _ = make_isolated(tmp_path_factory.mktemp("wlasl"), {"train": 1, "val": 1}, seed=5, signers=3)
    return dataset


def with_recipe(monkeypatch, name: str, **changes):
    """The card ``name`` with its recipe changed, for this test (and the worker processes it forks)."""
    card = get_card(name)
    monkeypatch.setitem(MODELS._items, name, replace(card, training=replace(card.training, **changes)))


def test_continuous_training_with_workers_equals_the_main_process(tmp_path):
    root = tmp_path / "phoenix-2014-multisigner"
    make_continuous(root, {"train": 8, "dev": 2, "test": 1}, seed=1)
    runs = {w: train_continuous(TrainConfig("corrnet_tiny", "synthetic_phoenix2014", root, tmp_path / f"w{w}",
                                            epochs=2, workers=w), log=quiet) for w in (0, 2)}
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[2].history]
    assert same_weights(runs[0].last, runs[2].last)


def test_epoch_recipe_with_workers_equals_the_main_process(wlasl, tmp_path, monkeypatch):
    with_recipe(monkeypatch, "s3d_rgb_tiny", mixup_p=0.75, color_jitter_p=0.8)  # mixup draws after the batch
    runs = {w: train_isolated(IsolatedTrainConfig("s3d_rgb_tiny", "synthetic_wlasl", wlasl.root, tmp_path / f"w{w}",
                                                  epochs=2, batch_size=4, workers=w), log=quiet) for w in (0, 2)}
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[2].history]
    assert [h["val_top1"] for h in runs[0].history] == [h["val_top1"] for h in runs[2].history]
    assert same_weights(runs[0].last, runs[2].last)


def test_step_recipe_with_workers_equals_the_main_process(wlasl, tmp_path, monkeypatch):
    landmarks = make_isolated(tmp_path / "hht", {"train": 1, "val": 1}, seed=5, signers=3, landmarks=True)[0]
    with_recipe(monkeypatch, "signnet_tiny", mixup_alpha=0.8, cutmix_alpha=1.0, mixup_prob=1.0, switch_prob=0.5,
                erase_prob=0.25)  # SignNet's mixing and erasing: they draw from the returned generator
    runs = {w: train_steps(IsolatedTrainConfig("signnet_tiny", "synthetic_wlasl", landmarks.root, tmp_path / f"w{w}",
                                               steps=3, epochs=6, save_every=3, batch_size=4, workers=w, lr=0.5),
                           log=quiet) for w in (0, 2)}
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[2].history]
    assert same_weights(runs[0].last, runs[2].last)



def test_heatmaps_deferred_to_the_device_equal_those_drawn_with_the_batch(wlasl):
    """NLA-SLR's keypoint streams: with ``--heatmaps device`` (what a GPU gets) the workers send keypoints, the
    crop box and the short window, and ``finish`` draws the heatmaps where the model is: the same tensors."""
    import random
    import types

    import numpy as np

    from bench.data.keypoints import KeypointTable
    from bench.runners.train_isolated import DEFERRED, BatchMaker, ClipReader
    from zoo.nla_slr_recipes import NLA_SLR, StreamInputSpec

    spec = StreamInputSpec(frame_size=64, crop=32, streams=("rgb", "keypoint"), heatmap_size=16,
                           heatmap_grid={"default": 64})
    card = types.SimpleNamespace(input=spec, protocol=types.SimpleNamespace(frames=16))
    table = KeypointTable.load(wlasl.root / "keypoints_synthetic_wholebody.pkl")
    batch = wlasl.samples("train")[:3]
    made = {}
    for defer in (False, True):
        maker = BatchMaker(wlasl, card, NLA_SLR, ClipReader(wlasl, True), table, "cpu", defer)
        inputs = maker.make(batch, random.Random(0), np.random.default_rng(0))
        assert (DEFERRED in inputs) == defer and ("keypoint" in inputs) != defer
        made[defer] = maker.finish(inputs, "cpu")
    assert list(made[True]) == list(made[False]) == ["rgb", "rgb_low", "keypoint", "keypoint_low"]
    assert all(torch.equal(made[True][k], made[False][k]) for k in made[False])


@pytest.mark.parametrize("workers", [0, 2])
def test_the_loader_leaves_torch_global_generator_alone(workers):
    """A DataLoader draws its workers' base seed when iterated; from the global generator that would move every
    later dropout mask of a training run, so the loader draws from its own."""
    from bench.data.loader import batch_loader

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    assert list(batch_loader([1, 2, 3], workers, "cpu")) == [1, 2, 3]
    assert torch.equal(torch.rand(3), expected)
