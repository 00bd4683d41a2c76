"""--profile: stage totals that add up to the wall time, worker stages apart, the names the runners use."""

import time

import pytest

from bench.profile import INPUT_WAIT, MODEL, OFF, OTHER, READ, TRANSFORM, Profile, make_profile


def test_main_stages_and_other_add_up_to_wall():
    profile = Profile()
    with profile.stage(READ):
        time.sleep(0.03)
    with profile.stage(MODEL):
        time.sleep(0.05)
    time.sleep(0.02)  # outside every stage: "other"
    profile.clips = 4
    data = profile.stop().to_dict()
    assert sum(data["main_s"].values()) == pytest.approx(data["wall_s"], abs=2e-3)
    assert data["main_s"][MODEL] >= 0.05 and data["main_s"][READ] >= 0.03 and data["main_s"][OTHER] >= 0.02
    assert data["clips_per_s"] == pytest.approx(4 / data["wall_s"], rel=1e-2)
    assert list(data["main_s"]) == [READ, MODEL, OTHER]  # pipeline order, other last


def test_worker_stages_are_reported_apart():
    profile = Profile(workers=2)
    profile.add_worker({READ: 1.5, TRANSFORM: 0.5})
    profile.add_worker({READ: 0.5})
    profile.add(INPUT_WAIT, 0.01)
    data = profile.stop().to_dict()
    assert data["worker_s"] == {READ: 2.0, TRANSFORM: 0.5} and READ not in data["main_s"]
    lines = profile.lines()
    assert "2 worker processes" in lines[0] and any("in the 2 workers" in line for line in lines)
    without = Profile(workers=0)
    without.add_worker({READ: 0.25})  # no workers: the main process did that work
    assert without.to_dict()["main_s"][READ] == 0.25


def test_off_is_a_no_op():
    assert make_profile(False, 2, "cpu") is OFF
    with OFF.stage(MODEL):
        pass
    assert isinstance(make_profile(True, 0, "cpu"), Profile)


def test_eval_profile_stages(tmp_path):
    """A real evaluation: every stage of the walk is timed and the main process's stages sum to the wall."""
    import torch

    from bench.data.synthetic_signs import make_dataset
    from bench.runners.continuous import ContinuousEval, evaluate_continuous
    from zoo.checkpoints import save_checkpoint
    from zoo.loader import load_model

    root = tmp_path / "phoenix-2014-multisigner"
    dataset = make_dataset(root, {"train": 1, "dev": 4, "test": 1}, seed=5)
    vocab = [dataset.id_to_gloss()[i] for i in range(len(dataset.id_to_gloss()))]
    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "t.safetensors", load_model("corrnet_tiny", vocabulary=vocab).model.state_dict(),
                           {"card": "corrnet_tiny", "num_classes": len(vocab)})
    for workers in (0, 2):
        result = evaluate_continuous(ContinuousEval("corrnet_tiny", "synthetic_phoenix2014", "dev", root, str(ckpt),
                                                    tmp_path / f"r{workers}", workers=workers, profile=True))
        data = result.profile.to_dict()
        assert data["clips"] == 4 and sum(data["main_s"].values()) == pytest.approx(data["wall_s"], abs=5e-3)
        assert {"host-to-device", "model", "decoding", "scoring"} <= set(data["main_s"])
        inside = data["worker_s"] if workers else data["main_s"]
        assert {READ, TRANSFORM} <= set(inside) and (INPUT_WAIT in data["main_s"]) == bool(workers)


def test_training_prints_a_profile_per_epoch(tmp_path):
    from bench.data.synthetic_signs import make_dataset
    from bench.runners.training import TrainConfig, train_continuous

    root = tmp_path / "phoenix-2014-multisigner"
    make_dataset(root, {"train": 4, "dev": 2, "test": 1}, seed=6)
    lines = []
    train_continuous(TrainConfig("corrnet_tiny", "synthetic_phoenix2014", root, tmp_path / "run", epochs=1,
                                 workers=0, profile=True, cache_frames=True, cache_dir=tmp_path / "cache"),
                     log=lines.append)
    first = next(i for i, line in enumerate(lines) if line.startswith("epoch 1 profile"))
    table = lines[first:]
    assert table[0].startswith("epoch 1 profile (train + dev): 6 clips")  # 4 trained on, 2 decoded
    stages = {line.split()[0] for line in table[1:]}
    assert {"read/decode", "transform", "model", "backward+step", "decoding", "scoring", "other"} <= stages
    assert any("building" in line for line in lines)  # the packed cache of train and dev was built first


def test_isolated_training_prints_a_profile_per_epoch(tmp_path):
    from bench.data.synthetic_isolated import make_dataset
    from bench.runners.train_isolated import IsolatedTrainConfig, train_isolated

    dataset, _ = make_dataset(tmp_path / "w", {"train": 1, "val": 1}, seed=2, signers=2)
    lines = []
    train_isolated(IsolatedTrainConfig("s3d_rgb_tiny", "synthetic_wlasl", dataset.root, tmp_path / "run", epochs=1,
                                       batch_size=4, profile=True), log=lines.append)
    first = next(i for i, line in enumerate(lines) if line.startswith("epoch 1 profile"))
    assert lines[first].startswith("epoch 1 profile (train, then val): 12 clips")  # 3 batches of 4
    stages = {line.split()[0] for line in lines[first + 1:]}
    assert {"read+augment", "model", "backward+step", "validation", "other"} <= stages
