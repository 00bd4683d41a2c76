"""bench eval on isolated SLR: the runner's numbers equal a hand-run of the same views, missing videos are counted,
an interrupted run resumes to the same result, keypoint models ask for their pickle."""

import json

import numpy as np
import pytest
import torch

from bench.data.synthetic_isolated import make_dataset
from bench.data.views import eval_views, rgb_test_transform
from bench.metrics import TopKCounts
from bench.runners.isolated import IsolatedEval, evaluate_isolated
from zoo.checkpoints import save_checkpoint
from zoo.loader import load_model


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("wlasl")
    dataset, pickle = make_dataset(root, {"train": 1, "test": 2}, seed=3, signers=3)
    torch.manual_seed(0)
    model = load_model("s3d_rgb_tiny", num_classes=len(dataset.classes())).model
    ckpt = save_checkpoint(root / "tiny.safetensors", model.state_dict(),
                           {"card": "s3d_rgb_tiny", "num_classes": len(dataset.classes())})
    return dataset, pickle, ckpt


def run(release, results, **extra):
    dataset, _, ckpt = release
    return evaluate_isolated(IsolatedEval("s3d_rgb_tiny", "synthetic_wlasl", "test", dataset.root, str(ckpt),
                                          results_dir=results, workers=1, **extra))


def by_hand(release, protocol: str) -> dict[str, float]:
    """The protocol's windows, the test transform, softmax averaged over views, top-k: written out here."""
    dataset, _, ckpt = release
    model = load_model("s3d_rgb_tiny", str(ckpt), num_classes=len(dataset.classes())).model.eval()
    scores, labels = [], []
    for sample in dataset.samples("test"):
        views = eval_views(dataset.frame_count(sample), protocol, 16)
        clips = [rgb_test_transform(f, size=64) for f in dataset.read_views(sample, views)]
        with torch.no_grad():
            probs = model(rgb=torch.stack(clips))["rgb"].softmax(-1)
        scores.append(probs.mean(0).numpy())
        labels.append(sample.label)
    return TopKCounts.from_scores(np.stack(scores), np.array(labels), num_classes=len(dataset.classes())).compute()


def test_metrics_equal_a_hand_run_of_both_protocols(release, tmp_path):
    result = run(release, tmp_path)
    assert result.evaluated == result.nominal == 24
    for protocol in ("1view", "temporal3"):
        expected = by_hand(release, protocol)
        got = result.metrics[f"{protocol}/rgb"]
        for key in ("per_instance_top1", "per_instance_top5", "per_class_top1", "per_class_top5"):
            assert got[key] == pytest.approx(expected[key], abs=1e-9), (protocol, key)
    records = [json.loads(p.read_text()) for p in result.records]
    assert {r["protocol"]["views"] for r in records} == {"1view", "temporal3"}
    assert all(r["samples"] == {"nominal": 24, "evaluated": 24, "missing": 0, "missing_ids": []} for r in records)
    rows = [json.loads(line) for line in (result.run_dir / "scores.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and all(len(r["top"]["temporal3/rgb"]) == 10 for r in rows)


def test_missing_video_is_counted_not_skipped(release, tmp_path):
    dataset, _, _ = release
    sample = dataset.samples("test")[5]
    video = dataset.video_path(sample)
    hidden = video.with_name(video.name + ".hidden")
    video.rename(hidden)
    try:
        result = run(release, tmp_path)
    finally:
        hidden.rename(video)
    assert (result.evaluated, result.nominal) == (23, 24)
    assert result.not_evaluated["missing"] == [sample.id]
    record = json.loads(result.records[0].read_text())
    assert record["samples"]["missing_ids"] == [sample.id] and record["samples"]["evaluated"] == 23


def test_interrupted_run_resumes_to_the_same_numbers(release, tmp_path):
    whole = run(release, tmp_path / "a")
    partial = run(release, tmp_path / "b")
    log = partial.run_dir / "scores.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:7]) + "\n" + lines[7][:20])  # killed while writing the eighth row
    resumed = run(release, tmp_path / "b")
    assert resumed.metrics == whole.metrics
    assert len(log.read_text().splitlines()) == 24


def test_keypoint_model_asks_for_the_pickle(release, tmp_path):
    dataset, _, _ = release
    with pytest.raises(ValueError, match="--keypoints"):
        evaluate_isolated(IsolatedEval("s3d_pose32", "synthetic_wlasl", "test", dataset.root, random_weights=True,
                                       results_dir=tmp_path))


def test_unloaded_weights_are_refused(release, tmp_path):
    dataset, _, _ = release
    with pytest.raises(ValueError, match="unloaded weights"):
        evaluate_isolated(IsolatedEval("s3d_rgb_tiny", "synthetic_wlasl", "test", dataset.root, results_dir=tmp_path))
