"""bench train for step recipes (EVL / SignVLM): the training window, batches by step, few-shot, exact resume."""

import numpy as np
import pytest
import torch

from bench.data.synthetic_isolated import make_dataset
from bench.data.views import strided_train_window
from bench.runners.train_isolated import IsolatedTrainConfig
from bench.runners.train_steps import batch_at, few_shot, train_steps
from zoo.checkpoints import read_checkpoint


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    dataset, _ = make_dataset(tmp_path_factory.mktemp("wlasl"), {"train": 2, "val": 1}, seed=5, signers=3)
    return dataset


@pytest.mark.parametrize("vlen, frames, stride, expected", [
    (10, 4, 4, [0, 4, 8, 8]),  # span 13 >= 10: from 0, past the end the last chosen frame
    (13, 4, 4, [0, 4, 8, 12]),  # span 13 >= 13: the same rule (the official test is >=)
])
def test_training_window_of_short_clips(vlen, frames, stride, expected):
    assert strided_train_window(vlen, frames, stride, np.random.default_rng(0)).frame_indices().tolist() == expected


def test_training_window_of_long_clips_starts_anywhere_admissible():
    starts = {strided_train_window(20, 4, 4, np.random.default_rng(i)).indices[0] for i in range(200)}
    assert starts == set(range(0, 8))  # span 13: starts 0 .. 20 - 13


def test_batches_cover_every_clip_once_per_pass_and_do_not_depend_on_history():
    train = list(range(10))
    first_pass = [x for step in range(5) for x in batch_at(train, step, 2, seed=3)]
    assert sorted(first_pass) == train
    assert batch_at(train, 7, 4, seed=3) == batch_at(train, 7, 4, seed=3)  # a function of the step alone
    assert batch_at(train, 7, 4, seed=3) != batch_at(train, 7, 4, seed=4)


def test_few_shot_keeps_n_seeded_clips_per_class():
    samples = [type("S", (), {"label": i % 3, "id": str(i)})() for i in range(30)]
    kept = few_shot(samples, 2, seed=0)
    assert [s.label for s in kept] == [0, 0, 1, 1, 2, 2]
    assert [s.id for s in kept] == [s.id for s in few_shot(samples, 2, seed=0)]
    assert [s.id for s in kept] != [s.id for s in few_shot(samples, 2, seed=1)]


def config(release, out, steps, save_every):
    return IsolatedTrainConfig("signvlm_tiny", "synthetic_wlasl", release.root, out, steps=steps, batch_size=4,
                               save_every=save_every, cache_frames=True)


def test_resumed_training_equals_uninterrupted(release, tmp_path):
    seen = []
    straight = train_steps(config(release, tmp_path / "a", 4, 2), log=lambda *_: None,
                           progress=lambda *r: seen.append(r))
    assert ("train", 0, 4) in seen and ("train", 4, 4) in seen
    def killed_after_two(stage, done, total):
        if (stage, done) == ("train", 2):
            raise KeyboardInterrupt  # after the checkpoint of step 2

    with pytest.raises(KeyboardInterrupt):
        train_steps(config(release, tmp_path / "b", 4, 2), log=lambda *_: None, progress=killed_after_two)
    messages = []
    resumed = train_steps(config(release, tmp_path / "b", 4, 2), log=messages.append)
    assert any("resuming after step 2" in m for m in messages)
    a, b = read_checkpoint(straight.last).state_dict, read_checkpoint(resumed.last).state_dict
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert [h["step"] for h in resumed.history] == [2, 4]
    assert not any(k.startswith("backbone") for k in a)  # the frozen backbone is not in checkpoints


def test_training_on_several_splits(release):
    from bench.runners.train_isolated import training_samples

    both = training_samples(release, "train+val", log=lambda *_: None)
    assert len(both) == len(release.samples("train")) + len(release.samples("val"))


def test_start_from_another_tasks_checkpoint(tmp_path):
    """EVL's Kinetics-400 file for a sign model: the decoder fits, the 400-class head and another frame count do not."""
    from zoo import get_card
    from zoo.loader import load_matching

    card = get_card("signvlm_tiny")
    k400 = card.build(400, num_frames=16)
    path = tmp_path / "k400.pth"
    torch.save({"model": {"module." + k: v for k, v in k400.state_dict().items()}}, path)
    model = card.build(12)
    lines = load_matching(model, str(path), card)
    skipped = [line for line in lines if "not loaded" in line]
    assert any("module.proj.2.weight [400, 64]" in line for line in skipped)
    assert any("module.decoder.temporal_pos_embed.0 [16, 64]" in line for line in skipped)
    key = "decoder.decoder_layers.0.attn.q_proj.weight"
    assert torch.equal(model.state_dict()[key], k400.state_dict()[key])
    assert lines[0].startswith(f"{path}: ") and "tensors loaded" in lines[0]


def test_an_official_head_wider_than_the_classes(release, tmp_path, monkeypatch):
    """SignVLM on AUTSL: 256 logits for 226 classes; the extra logits stay in the softmax and the top-k, noted."""
    import dataclasses

    import zoo.cards
    import zoo.loader
    from bench.runners.isolated import IsolatedEval, evaluate_isolated

    tiny = zoo.cards.get_card("signvlm_tiny")
    wide = dataclasses.replace(tiny, protocol=dataclasses.replace(tiny.protocol,
                                                                  dataset_head={"synthetic_wlasl": 16}))
    monkeypatch.setattr(zoo.cards, "get_card", lambda name: wide if name == "signvlm_tiny" else tiny)
    monkeypatch.setattr(zoo.loader, "get_card", zoo.cards.get_card)
    assert wide.protocol.head_size("synthetic_wlasl", 12) == 16 and wide.protocol.head_size("autsl", 226) == 226
    result = evaluate_isolated(IsolatedEval("signvlm_tiny", "synthetic_wlasl", "val", release.root, results_dir=tmp_path,
                                            random_weights=True, views=("1view",)))
    assert any("16-way head for 12 classes" in note for note in result.notes)
    rows = [__import__("json").loads(line) for line in open(result.run_dir / "scores.jsonl")]
    ranked = [c for r in rows for c, _ in r["top"]["1view/logits"]]
    assert max(ranked) < 16 and any(c >= 12 for c in ranked)  # the extra logits compete for the top-k


def test_rand_augment_is_applied_per_clip_and_reproducible(release):
    """The recipe's RandAugment changes the training clip; the same step gives the same clip."""
    import dataclasses
    import random

    from bench.runners.train_isolated import ClipReader
    from bench.runners.train_steps import _train_clip
    from zoo import get_card

    tiny = get_card("signvlm_tiny")
    augmented = dataclasses.replace(tiny, training=dataclasses.replace(tiny.training,
                                                                       auto_augment="rand-m9-n4-mstd0.5-inc1"))
    clips, sample = ClipReader(release, True), release.samples("train")[0]

    def clip(card, seed):
        return _train_clip(release, card, clips, sample, random.Random(seed), np.random.default_rng(seed))

    assert torch.equal(clip(augmented, 3), clip(augmented, 3))
    assert any(not torch.equal(clip(augmented, s), clip(tiny, s)) for s in range(5))
