"""bench eval with VideoMAE's segment views (SignNet's protocol) on an ASL-Citizen-layout release: the official
one-crop window and its centred twin are both recorded, per-class figures name their rule, the release's extra
metrics (top-10/20, DCG, MRR, per signer) come out, and every number equals a hand-run of the same views."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from bench.data.asl_citizen import write_asl_citizen
from bench.data.spatial import rgb_view_input
from bench.data.views import pad_edges, segment_windows
from bench.runners.isolated import IsolatedEval, evaluate_isolated
from zoo.cards import MODELS, IsolatedProtocol, get_card
from zoo.checkpoints import save_checkpoint
from zoo.loader import load_model

GLOSSES = ("APPLE", "DOG", "SAIL")


def clip(frames: int, seed: int) -> np.ndarray:
    """64x96 frames (landscape: the left-most and the centred 64 windows differ) of flat 8x8 blocks."""
    colours = np.random.default_rng(seed).integers(0, 256, (frames, 8, 12, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


@pytest.fixture()
def segment_card(monkeypatch):
    """s3d_rgb_tiny with SignNet's test protocol (segments at rate 2, left-most crop, all-classes per-class rule)."""
    card = get_card("s3d_rgb_tiny")
    protocol = IsolatedProtocol(views=("segment3", "segment1"), reported_view="segment3", frames=16,
                                outputs=("rgb",), reported_output="rgb", sampling="segments", stride=2,
                                crop_position="first", per_class="all_classes")
    spec = replace(card.input, spatial="short_side_uint8", crop=64, normalization="mean_std",
                   mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    monkeypatch.setitem(MODELS._items, "s3d_rgb_tiny", replace(card, protocol=protocol, input=spec))
    return MODELS.get("s3d_rgb_tiny")


@pytest.fixture()
def release(tmp_path, segment_card):
    rows = {"train": [("P1", f"1{i}-{g}.mp4", g, "") for i, g in enumerate(GLOSSES)],
            "test": [("P7", "71-APPLE.mp4", "APPLE", ""), ("P7", "72-SAIL.mp4", "SAIL", ""),
                     ("P8", "81-APPLE.mp4", "APPLE", ""), ("P8", "82-seedSAIL.mp4", "SAIL", "")]}  # no DOG
    frames = {"71-APPLE.mp4": clip(20, 1), "72-SAIL.mp4": clip(41, 2), "81-APPLE.mp4": clip(9, 3),
              "82-seedSAIL.mp4": clip(80, 4)}
    root = write_asl_citizen(tmp_path / "asl_citizen", rows, frames)
    torch.manual_seed(0)
    model = load_model("s3d_rgb_tiny", num_classes=3).model
    ckpt = save_checkpoint(tmp_path / "tiny.safetensors", model.state_dict(), {"card": "s3d_rgb_tiny",
                                                                              "num_classes": 3})
    return root, ckpt


def by_hand(root, ckpt, card, segments: int, crop: str) -> list[int]:
    """The label's rank per test sample: official windows, uint8 resize + crop, softmax mean over segments."""
    from bench.data.asl_citizen import AslCitizen

    dataset = AslCitizen(root)
    model = load_model("s3d_rgb_tiny", str(ckpt), num_classes=3).model.eval()
    ranks = []
    for sample in dataset.samples("test"):
        windows = segment_windows(dataset.frame_count(sample), 16, 2, segments)
        clips = [rgb_view_input(pad_edges(dataset.read_frames(sample, w.indices), w.pad), card.input, "", crop)
                 for w in windows]
        with torch.no_grad():
            probs = model(rgb=torch.stack(clips))["rgb"].softmax(-1).mean(0).numpy()
        ranks.append(int((probs >= probs[sample.label]).sum() - 1))
    return ranks


def test_official_and_corrected_windows_rules_and_extra_metrics(release, segment_card, tmp_path):
    root, ckpt = release
    result = evaluate_isolated(IsolatedEval("s3d_rgb_tiny", "asl_citizen", "test", root, str(ckpt),
                                            results_dir=tmp_path / "runs", workers=1))
    assert set(result.metrics) == {"segment3/rgb", "segment1/rgb", "segment3_center/rgb", "segment1_center/rgb"}
    labels = np.array([0, 2, 0, 2])
    for protocol, segments, crop in (("segment3", 3, "first"), ("segment1", 1, "first"),
                                     ("segment3_center", 3, "center"), ("segment1_center", 1, "center")):
        ranks = np.array(by_hand(root, ckpt, segment_card, segments, crop))
        got = result.metrics[f"{protocol}/rgb"]
        hits = ranks < 1
        assert got["per_instance_top1"] == pytest.approx(100 * hits.mean())
        recall = [hits[labels == c].mean() for c in (0, 2)]  # class 1 (DOG) has no test sample
        assert got["per_class_top1"] == pytest.approx(100 * sum(recall) / 3)  # the card's rule: all classes
        assert got["per_class_present_top1"] == pytest.approx(100 * sum(recall) / 2)
        assert got["per_instance_top10"] == got["per_instance_top20"] == 100.0  # k beyond the 3 classes
        assert got["dcg"] == pytest.approx(np.mean([1 / math.log2(r + 2) for r in ranks]), abs=1e-9)
        assert got["mrr"] == pytest.approx(np.mean([1 / (r + 1) for r in ranks]), abs=1e-9)
    records = {r["protocol"]["views"]: r for r in (json.loads(p.read_text()) for p in result.records)}
    assert records["segment3"]["protocol"]["paper_reports"] is True
    assert [records[n]["protocol"]["paper_reports"] for n in ("segment1", "segment3_center")] == [False, False]
    assert (records["segment3"]["protocol"]["crop"], records["segment3"]["protocol"]["official"]) == ("first", True)
    twin = records["segment3_center"]["protocol"]
    assert (twin["crop"], twin["official"], twin["corrects"]) == ("center", False, "segment3")
    record = records["segment3"]
    assert record["protocol"]["per_class"] == "all_classes" and record["protocol"]["frame_drop"] == 0
    assert record["extra"]["per_class_rules"] == {
        "per_class_top1": "all_classes", "per_class_top5": "all_classes", "per_class_top10": "all_classes",
        "per_class_top20": "all_classes", "per_class_present_top1": "present_classes",
        "per_class_present_top5": "present_classes", "per_class_present_top10": "present_classes",
        "per_class_present_top20": "present_classes", "per_class_all_top1": "all_classes",
        "per_class_all_top5": "all_classes", "per_class_all_top10": "all_classes",
        "per_class_all_top20": "all_classes"}
    assert record["decimals"]["dcg"] == 4 and "mrr" in record["metrics"]
    signers = record["extra"]["per_signer"]
    assert sorted(signers) == ["P7", "P8"] and signers["P7"]["samples"] == 2
    assert set(signers["P8"]) >= {"per_instance_top1", "per_instance_top20", "dcg", "mrr"}
    # the centred twin reads other pixels than the official window (landscape frames)
    from bench.data.asl_citizen import AslCitizen
    from bench.runners.isolated import window_inputs

    dataset = AslCitizen(root)
    inputs = window_inputs(dataset.samples("test")[3], dataset, ("segment3", "segment3_center"), ("rgb",), None,
                           segment_card, "cpu")
    official, corrected = (inputs[k]["rgb"] for k in (inputs.protocols["segment3"][0],
                                                        inputs.protocols["segment3_center"][0]))
    assert official.shape == corrected.shape == (3, 16, 64, 64) and not torch.equal(official, corrected)
    rows = [json.loads(line) for line in (result.run_dir / "scores.jsonl").read_text().splitlines()]
    # clips of 32 frames or fewer (16 frames at rate 2) give one window for all segments, read once; 41 and 80
    # frames give 3 windows, segment1's being segment3's first; x 2 crops
    assert {r["id"]: r["windows"] for r in rows} == {"71-APPLE": 2, "72-SAIL": 6, "81-APPLE": 2, "82-seedSAIL": 6}


def test_the_cards_frame_drop_overrides_the_datasets(tmp_path, segment_card):
    """WLASL's reader drops 2 frames (NLA-SLR's lintel rule); SignNet's decord loader drops none (frame_drop 0)."""
    from bench.data.wlasl import Wlasl100, write_wlasl
    from bench.runners.isolated import window_inputs

    write_wlasl(tmp_path, ["book"], [{"video_id": "00001", "gloss": "book", "split": "test"},
                                     {"video_id": "00002", "gloss": "book", "split": "train"}],
                {"00001": clip(20, 5)})
    dataset = Wlasl100(tmp_path)
    sample = dataset.samples("test")[0]
    pads = {}
    for drop in (None, 0):
        card = replace(segment_card, protocol=replace(segment_card.protocol, frame_drop=drop))
        inputs = window_inputs(sample, dataset, ("segment1",), ("rgb",), None, card, "cpu")
        pads[drop] = inputs.protocols["segment1"][0][1]  # (name, pad, crop): the padding of the 16-frame window
    assert pads == {None: (0, 7), 0: (0, 6)}  # 18 frames -> 9 taken at rate 2; 20 frames -> 10 taken
