"""bench train: a checkpoint per epoch, resume equals an uninterrupted run, ImageNet backbone initialisation."""

import json

import pytest
import torch

from bench.data.synthetic_signs import make_dataset
from bench.runners.training import TrainConfig, train_continuous
from zoo.checkpoints import read_checkpoint
from zoo.corrnet import CorrelationResNet18
from zoo.layers.resnet import FrameResNet18, load_imagenet_resnet18


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "phoenix-2014-multisigner"
    make_dataset(root, {"train": 8, "dev": 4, "test": 2}, seed=1)
    return root


def config(root, out, epochs):
    return TrainConfig("corrnet_tiny", "synthetic_phoenix2014", root, out, epochs=epochs, cache_frames=True)


def test_resumed_training_equals_uninterrupted(release, tmp_path):
    seen = []
    straight = train_continuous(config(release, tmp_path / "a", 2), log=lambda *_: None,
                                progress=lambda *report: seen.append(report))
    # progress inside every epoch: 8 clips in batches of 2 are 4 steps, then the 4 dev clips in pairs
    assert [r for r in seen if r[0] == "epoch 1/2: train"] == [("epoch 1/2: train", i, 4) for i in range(5)]
    assert [r for r in seen if r[0] == "epoch 2/2: dev"] == [("epoch 2/2: dev", 2, 4), ("epoch 2/2: dev", 4, 4)]
    train_continuous(config(release, tmp_path / "b", 1), log=lambda *_: None)
    messages = []
    resumed = train_continuous(config(release, tmp_path / "b", 2), log=messages.append)
    assert any("resuming after epoch 1" in m for m in messages)
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    a = read_checkpoint(straight.last).state_dict
    b = read_checkpoint(resumed.last).state_dict
    assert all(torch.equal(a[k], b[k]) for k in a)
    meta = read_checkpoint(resumed.best).metadata
    assert meta["card"] == "corrnet_tiny" and meta["epoch"] in (1, 2)
    assert meta["vocabulary"][0] == "<blank>" and len(meta["vocabulary"]) == meta["num_classes"]
    history = [json.loads(line) for line in (tmp_path / "b" / "history.jsonl").read_text().splitlines()]
    assert history == resumed.history


def test_imagenet_backbone_initialisation(tmp_path):
    torchvision_layout = FrameResNet18(dims=2).state_dict()
    torchvision_layout["fc.weight"], torchvision_layout["fc.bias"] = torch.zeros(1000, 512), torch.zeros(1000)
    backbone = CorrelationResNet18()
    skipped = load_imagenet_resnet18(backbone, torchvision_layout)
    assert torch.equal(backbone.layer3[1].conv2.weight[:, :, 0], torchvision_layout["layer3.1.conv2.weight"])
    assert "fc.weight" in skipped and "corr1.down_conv.weight" in skipped and "alpha" in skipped
    del torchvision_layout["layer4.1.bn2.running_var"]
    with pytest.raises(ValueError, match="layer4.1.bn2.running_var"):
        load_imagenet_resnet18(CorrelationResNet18(), torchvision_layout)
