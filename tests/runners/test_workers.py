"""The input pipeline: the same rows with 0, 1 and 2 DataLoader workers (the official batches kept), the packed
frame cache (built, hit, rebuilt when a source frame changes, never half-written), and the speed modes recorded."""

import json
import os

import numpy as np
import pytest
import torch

from bench.data.frame_cache import FrameCache, continuous_cache, source_signature
from bench.data.synthetic_isolated import make_dataset as make_isolated
from bench.data.synthetic_signs import SyntheticPhoenix2014, make_dataset
from bench.records import read_records
from bench.runners.continuous import ContinuousEval, evaluate_continuous
from bench.runners.isolated import IsolatedEval, evaluate_isolated
from zoo.checkpoints import save_checkpoint, vocabulary_sha256
from zoo.loader import load_model


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    """9 dev clips (not a multiple of the batch of 2) and a corrnet_tiny checkpoint."""
    root = tmp_path_factory.mktemp("phoenix") / "phoenix-2014-multisigner"
    dataset = make_dataset(root, {"train": 2, "dev": 9, "test": 1}, seed=4)
    vocab = [dataset.id_to_gloss()[i] for i in range(len(dataset.id_to_gloss()))]
    torch.manual_seed(0)
    model = load_model("corrnet_tiny", vocabulary=vocab).model
    ckpt = save_checkpoint(root.parent / "tiny.safetensors", model.state_dict(),
                           {"card": "corrnet_tiny", "num_classes": len(vocab), "vocabulary_sha256": vocabulary_sha256(vocab)})
    return root, str(ckpt)


def run_continuous(phoenix, results, **extra):
    root, ckpt = phoenix
    result = evaluate_continuous(ContinuousEval("corrnet_tiny", "synthetic_phoenix2014", "dev", root, ckpt,
                                                results, restart=True, **extra))
    rows = [json.loads(line) for line in (result.run_dir / "hypotheses.jsonl").read_text().splitlines()]
    return result, rows


def test_continuous_rows_equal_with_0_1_2_workers(phoenix, tmp_path):
    outputs = {w: run_continuous(phoenix, tmp_path / str(w), workers=w) for w in (0, 1, 2)}
    base_result, base_rows = outputs[0]
    assert len(base_rows) == 9 and base_rows[-1]["batch"] == [base_rows[-1]["id"]]  # the last batch holds one clip
    for workers in (1, 2):
        result, rows = outputs[workers]
        assert rows == base_rows  # same glosses, frames and batch composition, in the same order
        assert result.scores["python"].wer == base_result.scores["python"].wer


def test_isolated_rows_equal_with_0_and_2_workers(tmp_path):
    dataset, _ = make_isolated(tmp_path / "wlasl", {"train": 1, "test": 1}, seed=2, signers=2)
    torch.manual_seed(0)
    model = load_model("s3d_rgb_tiny", num_classes=len(dataset.classes())).model
    ckpt = save_checkpoint(tmp_path / "tiny.safetensors", model.state_dict(),
                           {"card": "s3d_rgb_tiny", "num_classes": len(dataset.classes())})
    rows = {}
    for workers in (0, 2):
        result = evaluate_isolated(IsolatedEval("s3d_rgb_tiny", "synthetic_wlasl", "test", dataset.root, str(ckpt),
                                                results_dir=tmp_path / str(workers), workers=workers, restart=True,
                                                views=("1view",)))
        rows[workers] = (result.run_dir / "scores.jsonl").read_text().splitlines()
    assert len(rows[0]) == len(dataset.classes()) and rows[0] == rows[2]


def test_frame_cache_hit_miss_and_invalidation(phoenix, tmp_path):
    root, _ = phoenix
    dataset = SyntheticPhoenix2014(root)
    samples = dataset.samples("dev")
    size = (36, 36)
    reads = []

    def counting(sample):
        reads.append(sample.id)
        return dataset.read_frames(sample, size)

    signatures = {s.id: source_signature(dataset.frame_paths(s)) for s in samples}
    cache = FrameCache(tmp_path, dataset.name, root, "dev", size)
    by_id = {s.id: s for s in samples}
    assert cache.ensure(signatures, lambda i: counting(by_id[i])) == "built" and len(reads) == 9
    assert cache.ensure(signatures, lambda i: counting(by_id[i])) == "hit" and len(reads) == 9  # nothing decoded
    for sample in samples:
        assert np.array_equal(cache.read(sample.id), dataset.read_frames(sample, size))
    # a changed source frame (new content, new size and mtime) invalidates the cache
    frame = dataset.frame_paths(samples[3])[0]
    from PIL import Image

    Image.fromarray(np.full((36, 36, 3), 200, np.uint8)).save(frame)
    os.utime(frame, ns=(1, 1))
    signatures = {s.id: source_signature(dataset.frame_paths(s)) for s in samples}
    assert cache.stale(signatures) == [samples[3].id]
    reader = continuous_cache(dataset, "dev", samples, size, tmp_path)  # rebuilds
    assert reader(samples[3])[0].min() == 200 and len(list(tmp_path.glob("*.u8"))) == 1
    assert cache.ensure(signatures, lambda i: counting(by_id[i])) == "hit"


def test_interrupted_cache_build_leaves_no_cache(phoenix, tmp_path):
    root, _ = phoenix
    dataset = SyntheticPhoenix2014(root)
    samples = dataset.samples("dev")
    cache = FrameCache(tmp_path, dataset.name, root, "dev", (36, 36))

    def dies(sample_id):
        if sample_id == samples[5].id:
            raise KeyboardInterrupt
        return dataset.read_frames(next(s for s in samples if s.id == sample_id), (36, 36))

    signatures = {s.id: source_signature(dataset.frame_paths(s)) for s in samples}
    with pytest.raises(KeyboardInterrupt):
        cache.build(signatures, dies)
    assert list(tmp_path.iterdir()) == []  # neither a data file nor an index
    with pytest.raises(KeyError):
        cache.read(samples[0].id)


def test_cached_eval_equals_uncached(phoenix, tmp_path):
    _, plain = run_continuous(phoenix, tmp_path / "plain", workers=0)
    result, cached = run_continuous(phoenix, tmp_path / "cached", workers=2, cache_frames=True,
                                    cache_dir=tmp_path / "cache")
    assert cached == plain and len(list((tmp_path / "cache").glob("*.u8"))) == 1


def test_speed_modes_recorded_and_fp16_refused_on_cpu(phoenix, tmp_path, monkeypatch):
    run_continuous(phoenix, tmp_path / "modes", workers=0)  # the fp32 run the bf16 one is measured against
    result, _ = run_continuous(phoenix, tmp_path / "modes", workers=0, amp="bf16", channels_last=True)
    record = next(r for r in read_records(tmp_path / "modes") if r.protocol["precision"] == "bf16")
    assert record.protocol["channels_last"] is True and record.protocol["tag"] == "official-bf16-channels_last"
    fp32 = next(r for r in read_records(tmp_path / "modes") if r.protocol["precision"] == "fp32")
    assert f"wer {record.metrics['wer']:.2f} vs {fp32.metrics['wer']:.2f}" in " ".join(record.notes)
    assert "of 9 shared samples' outputs differ" in " ".join(record.notes)
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda model, **kw: compiled.append(kw) or model)
    run_continuous(phoenix, tmp_path / "compiled", workers=0, compile=True)
    record = read_records(tmp_path / "compiled")[0]
    assert compiled == [{"dynamic": True}] and record.protocol["tag"] == "official-compile"
    assert "no fp32 run of this protocol" in " ".join(record.notes)
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        run_continuous(phoenix, tmp_path / "fp16", amp="fp16")


def test_isolated_validation_equal_with_workers(tmp_path, monkeypatch):
    import bench.runners.isolated as isolated
    from bench.runners.train_isolated import ClipReader, validate
    from zoo.cards import get_card

    dataset, _ = make_isolated(tmp_path / "wlasl", {"train": 1, "val": 1}, seed=5, signers=2)
    torch.manual_seed(1)
    model = load_model("s3d_rgb_tiny", num_classes=len(dataset.classes())).model
    rows, original = [], isolated.score_sample
    monkeypatch.setattr(isolated, "score_sample", lambda *a, **k: rows.append(original(*a, **k)) or rows[-1])
    card = get_card("s3d_rgb_tiny")
    top1 = {w: validate(model, dataset, dataset.samples("val"), card, ClipReader(dataset, False), None,
                        card.protocol.outputs[0], "cpu", 8, workers=w) for w in (0, 2)}
    assert len(rows) == 24 and rows[:12] == rows[12:] and top1[0] == top1[2]


def test_heatmaps_made_on_the_device_equal_the_workers(tmp_path):
    """``heatmaps="device"``: the workers send keypoints and the main process draws the heatmaps on the model's
    device (on a GPU, what ``auto`` does); on the CPU the rows are those of heatmaps drawn in the workers."""
    from bench.runners.isolated import heatmaps_on_device

    dataset, pickle = make_isolated(tmp_path / "wlasl", {"train": 1, "test": 1}, seed=3, signers=2)
    rows, records = {}, {}
    for where in ("workers", "device"):
        torch.manual_seed(0)  # the same random weights
        result = evaluate_isolated(IsolatedEval("s3d_pose32", "synthetic_wlasl", "test", dataset.root, None, pickle,
                                                tmp_path / where, views=("1view",), random_weights=True, limit=3,
                                                workers=2, heatmaps=where, profile=True))
        rows[where] = (result.run_dir / "scores.jsonl").read_text()
        records[where] = read_records(result.records[0])[0]
    assert rows["device"] == rows["workers"] and len(rows["device"].splitlines()) == 3
    assert records["device"].extra["heatmaps"] == {"made_by": "main process", "device": "cpu"}
    assert records["workers"].extra["heatmaps"] == {"made_by": "worker processes", "device": "cpu"}
    assert records["device"].extra["profile"]["main_s"]["heatmaps"] > 0
    assert "heatmaps" not in records["workers"].extra["profile"]["main_s"]
    assert heatmaps_on_device("auto", "cuda:0", 8) and not heatmaps_on_device("auto", "cpu", 8)
    with pytest.raises(ValueError, match="expected auto, device or workers"):
        heatmaps_on_device("gpu", "cpu", 2)


def test_separable_heatmaps_are_a_tagged_speed_mode_compared_with_the_official_run(tmp_path):
    dataset, pickle = make_isolated(tmp_path / "wlasl", {"train": 1, "test": 1}, seed=3, signers=2)
    records = {}
    for separable in (False, True):
        torch.manual_seed(0)  # the same random weights
        result = evaluate_isolated(IsolatedEval("s3d_pose32", "synthetic_wlasl", "test", dataset.root, None, pickle,
                                                tmp_path / "results", views=("1view",), random_weights=True, limit=3,
                                                workers=0, separable_heatmaps=separable))
        records[separable] = read_records(result.records[0])[0]
    fast, exact = records[True], records[False]
    assert fast.protocol["tag"] == exact.protocol["tag"] + "-separable_heatmaps"
    assert fast.protocol["separable_heatmaps"] is True and "separable_heatmaps" not in exact.protocol
    assert fast.metrics["per_instance_top1"] == exact.metrics["per_instance_top1"]
    assert any("0 of 3" in note and "separable_heatmaps" in note for note in fast.notes), fast.notes
    with pytest.raises(ValueError, match="for models with a keypoint stream"):
        evaluate_isolated(IsolatedEval("s3d_rgb_tiny", "synthetic_wlasl", "test", dataset.root, None,
                                       results_dir=tmp_path / "r", random_weights=True, separable_heatmaps=True))
