"""AUTSL: a synthetic challenge release (class list with its header, label files without one, tiny colour and
depth clips, one listed clip absent) checks labels, class names, the depth path, integrity and errors."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.autsl import Autsl, write_autsl
from bench.data.cslr import DatasetError
from bench.io.video import video_frame_count

NAMES = [(f"tr{i}", f"en{i}") for i in range(226)]
LABELS = {"train": [("signer0_sample1", 5), ("signer0_sample2", 225)], "val": [("signer1_sample1", 0)],
          "test": [("signer12_sample3", 7), ("signer12_sample4", 7)]}


def blocks(count: int, seed: int) -> np.ndarray:
    colours = np.random.default_rng(seed).integers(0, 256, (count, 4, 4, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    clips = {"train/signer0_sample1": blocks(4, 1), "test/signer12_sample3": blocks(7, 2)}
    return write_autsl(tmp_path_factory.mktemp("autsl"), NAMES, LABELS, clips)


def test_layout_labels_and_class_names(root):
    assert sorted(p.name for p in root.iterdir()) == ["SignList_ClassId_TR_EN.csv", "test", "train",
                                                      "train_labels.csv", "val"]
    dataset = get_dataset("autsl")(root)
    assert isinstance(dataset, Autsl) and dataset.splits == ("train", "val", "test")
    classes = dataset.classes()
    assert len(classes) == 226 and classes[5] == "en5" and classes[225] == "en225"  # the EN column
    assert [(s.id, s.label, s.gloss, s.signer, s.video) for s in dataset.samples("train")] == [
        ("signer0_sample1", 5, "en5", "0", "train/signer0_sample1_color.mp4"),
        ("signer0_sample2", 225, "en225", "0", "train/signer0_sample2_color.mp4")]
    assert [(s.id, s.label) for s in dataset.samples("val")] == [("signer1_sample1", 0)]


def test_rgb_stream_depth_path_and_integrity(root):
    dataset = Autsl(root)
    sample = dataset.samples("test")[0]
    assert dataset.frame_count(sample) == 7 and dataset.read_frames(sample, [0, 6]).shape == (2, 32, 32, 3)
    assert dataset.depth_path(sample) == root / "test" / "signer12_sample3_depth.mp4"
    assert sample.info["depth"] == "test/signer12_sample3_depth.mp4"
    assert video_frame_count(dataset.depth_path(sample)) == 7
    report = dataset.integrity("test")
    assert (report.nominal, report.present, report.missing, report.unreadable) == (2, 1, 1, 0)
    assert report.missing_ids == ["signer12_sample4"]
    assert "signer12_sample4_color.mp4" in report.problems["signer12_sample4"]
    assert report.sources["annotation"] == str(root / "test" / "ground_truth.csv")
    train = dataset.integrity("train")
    assert (train.nominal, train.present, train.missing) == (2, 1, 1)


def test_errors_name_file_and_line(tmp_path):
    with pytest.raises(DatasetError, match=r"the class list SignList_ClassId_TR_EN.csv not found"):
        Autsl(tmp_path).classes()
    write_autsl(tmp_path, NAMES, {"train": [("signer0_sample1", 5), ("signer0_sample9", 226)]})
    with pytest.raises(DatasetError, match=r"train_labels.csv:2: sample 'signer0_sample9' has label 226, outside "
                                           r"0..225 \(the 226 classes of autsl\)"):
        Autsl(tmp_path).samples("train")
    (tmp_path / "train_labels.csv").write_text("signer0_sample1,5\nsigner0_sample2;5\n")
    with pytest.raises(DatasetError, match=r"train_labels.csv:2: expected 2 comma-separated fields"):
        Autsl(tmp_path).samples("train")
    (tmp_path / "train_labels.csv").write_text("sample,label\n")
    with pytest.raises(DatasetError, match=r"train_labels.csv:1: expected 'signerX_sampleY,label', found "
                                           r"'sample,label'"):
        Autsl(tmp_path).samples("train")
    with pytest.raises(DatasetError, match=r"the val labels val/ground_truth.csv not found"):
        Autsl(tmp_path).samples("val")
    write_autsl(tmp_path, NAMES[:10], {})
    with pytest.raises(DatasetError, match=r"SignList_ClassId_TR_EN.csv: 10 classes; AUTSL has 226"):
        Autsl(tmp_path).classes()


# -- the real sample lists --------------------------------------------------------------------------------------
def test_real_autsl_splits_are_signer_independent(reference, tmp_path):
    """SignNet's AUTSL lists (``depth/<split>/<sign>/signerX_sampleY_depth.mp4 <label>``) written back as the
    challenge's label files: the split sizes and the 31 / 6 / 6 signers of the release, no signer shared (SignNet
    numbers the classes its own way, 0..224, so the labels are not compared)."""
    lists = reference / "islr" / "signnet_splits" / "autsl_depth"
    labels = {split: [(path.split("/")[-1].removesuffix("_depth.mp4"), int(label)) for path, label in
                      (line.split() for line in (lists / f"{split}.csv").read_text().splitlines())]
              for split in ("train", "val", "test")}
    dataset = Autsl(write_autsl(tmp_path, NAMES, labels))
    samples = {split: dataset.samples(split) for split in dataset.splits}
    assert {k: len(v) for k, v in samples.items()} == {"train": 28142, "val": 4418, "test": 3742}
    signers = {k: {s.signer for s in v} for k, v in samples.items()}
    assert {k: len(v) for k, v in signers.items()} == {"train": 31, "val": 6, "test": 6}
    assert not (signers["train"] & signers["val"] or signers["train"] & signers["test"]
                or signers["val"] & signers["test"])  # signer-independent
