"""ASL-Citizen: a synthetic release in the real layout (split CSVs with the release's header, file names whose
gloss part is not the label, one listed clip absent) checks the class order, labels, signers and errors."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.asl_citizen import AslCitizen, write_asl_citizen
from bench.data.cslr import DatasetError

ROWS = {
    "train": [("P1", "111-SAIL.mp4", "SAIL", "A_01"), ("P1", "112-seedAPPLE.mp4", "APPLE", "B_02"),
              ("P2", "113-DOG_2.mp4", "DOG", "C_03"), ("P2", "114-APPLE.mp4", "APPLE", "B_02")],
    "val": [("P3", "211-DOG.mp4", "DOG", "C_03")],
    "test": [("P4", "311-SAIL.mp4", "SAIL", "A_01"), ("P5", "312-APPLE.mp4", "APPLE", "B_02")],
}


def blocks(frames: int, seed: int) -> np.ndarray:
    colours = np.random.default_rng(seed).integers(0, 256, (frames, 4, 4, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_asl_citizen(tmp_path_factory.mktemp("asl_citizen"), ROWS, {"311-SAIL.mp4": blocks(6, 1)})


def test_classes_labels_and_signers(root):
    assert sorted(p.name for p in root.iterdir()) == ["splits", "videos"]
    assert (root / "splits" / "test.csv").read_text().splitlines()[0] == \
        "Participant ID,Video file,Gloss,ASL-LEX Code"
    dataset = get_dataset("asl_citizen")(root)
    assert isinstance(dataset, AslCitizen) and dataset.num_classes == 2731
    assert dataset.classes() == ["APPLE", "DOG", "SAIL"]  # sorted unique train glosses, not the file names' parts
    assert [(s.id, s.label, s.gloss, s.signer, s.video) for s in dataset.samples("train")] == [
        ("111-SAIL", 2, "SAIL", "P1", "videos/111-SAIL.mp4"), ("112-seedAPPLE", 0, "APPLE", "P1",
                                                              "videos/112-seedAPPLE.mp4"),
        ("113-DOG_2", 1, "DOG", "P2", "videos/113-DOG_2.mp4"), ("114-APPLE", 0, "APPLE", "P2", "videos/114-APPLE.mp4")]
    assert dataset.samples("val")[0].info == {"asl_lex_code": "C_03"}
    assert (dataset.metric_ks, dataset.rank_metrics) == ((10, 20), ("dcg", "mrr"))


def test_frames_and_integrity(root):
    dataset = AslCitizen(root)
    sample = dataset.samples("test")[0]
    assert dataset.frame_count(sample) == 6 and dataset.read_frames(sample, [0, 5]).shape == (2, 32, 32, 3)
    report = dataset.integrity("test")
    assert (report.nominal, report.present, report.missing_ids) == (2, 1, ["312-APPLE"])
    assert report.classes_without_samples == ["APPLE", "DOG"]


def test_errors_name_file_and_line(tmp_path):
    with pytest.raises(DatasetError, match=r"the train split splits/train.csv not found"):
        AslCitizen(tmp_path).classes()
    write_asl_citizen(tmp_path, {"train": ROWS["train"], "test": [("P4", "399-CAT.mp4", "CAT", "")]})
    with pytest.raises(DatasetError, match=r"test.csv:2: sample '399-CAT' has the gloss 'CAT', which no train row "
                                           r"has"):
        AslCitizen(tmp_path).samples("test")
    (tmp_path / "splits" / "val.csv").write_text("Participant,File,Gloss\nP1,a.mp4,A\n")
    with pytest.raises(DatasetError, match=r"val.csv:1: expected the header Participant ID,Video file,Gloss,"
                                           r"ASL-LEX Code, found .*missing Participant ID, Video file"):
        AslCitizen(tmp_path).samples("val")
    (tmp_path / "splits" / "val.csv").write_text("Participant ID,Video file,Gloss,ASL-LEX Code\nP1,,A,x\n")
    with pytest.raises(DatasetError, match=r"val.csv:2: expected 4 fields .* with a video file and a gloss"):
        AslCitizen(tmp_path).samples("val")
