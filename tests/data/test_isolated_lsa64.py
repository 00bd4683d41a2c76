"""LSA64: a synthetic ``all_cut/`` with a few tiny H.264 clips (the rest of the 3,200 missing, one corrupt) checks
labels, OpenHands' signer split, the ten leave-one-signer-out folds and integrity counts."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.cslr import DatasetError
from bench.data.lsa64 import Lsa64, write_lsa64


def blocks(count: int, seed: int) -> np.ndarray:
    """32x32 frames of flat 8x8 blocks, which H.264 at crf 0 keeps within YUV rounding inside each block."""
    colours = np.random.default_rng(seed).integers(0, 256, (count, 4, 4, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    clips = {"001_001_001": blocks(10, 1), "064_010_005": blocks(6, 2)}
    root = write_lsa64(tmp_path_factory.mktemp("lsa64"), clips)
    (root / "all_cut" / "002_009_003.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video" * 20)
    return root, clips


def test_splits_and_labels(root):
    root, _clips = root
    dataset = get_dataset("lsa64")(root)
    assert isinstance(dataset, Lsa64) and dataset.classes()[:2] == ["001", "002"] and len(dataset.classes()) == 64
    sizes = {split: len(dataset.samples(split)) for split in ("train", "val", "test", "fold1_train", "fold10_test")}
    assert sizes == {"train": 2560, "val": 320, "test": 320, "fold1_train": 2880, "fold10_test": 320}
    test = dataset.samples("test")
    assert [(s.id, s.label, s.signer, s.video) for s in (test[0], test[-1])] == [
        ("001_010_001", 0, "010", "all_cut/001_010_001.mp4"), ("064_010_005", 63, "010", "all_cut/064_010_005.mp4")]
    assert {s.signer for s in dataset.samples("train")} == {f"{k:03d}" for k in range(1, 9)}
    assert dataset.split_signers("fold3_train") == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    assert {s.signer for s in dataset.samples("fold3_test")} == {"003"}
    assert len(dataset.splits) == 23  # train, val, test and 10 x (train, test)


def test_frames_and_integrity(root):
    root, clips = root
    dataset = Lsa64(root)
    fold = dataset.integrity("fold1_test")
    assert (fold.nominal, fold.present, fold.missing, fold.unreadable) == (320, 1, 319, 0)
    assert fold.present_ids == ["001_001_001"] and "001_001_002.mp4" in fold.problems["001_001_002"]
    assert len(fold.classes_without_samples) == 63
    val = dataset.integrity("val")
    assert (val.nominal, val.present, val.missing, val.unreadable) == (320, 0, 319, 1)
    assert val.unreadable_ids == ["002_009_003"]
    sample = next(s for s in dataset.samples("test") if s.id == "064_010_005")
    assert dataset.frame_count(sample) == 6
    error = np.abs(dataset.read_frames(sample, [0, 5]).astype(int) - clips["064_010_005"][[0, 5]].astype(int))
    assert max(error[:, 2::8, 2::8].max(), error[:, 5::8, 5::8].max()) <= 3  # H.264 crf 0: YUV rounding inside blocks


def test_missing_clips_folder_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match=r"the clips folder .*all_cut not found; expected all_cut/CCC_SSS_RRR.mp4"):
        Lsa64(tmp_path).samples("test")
    with pytest.raises(DatasetError, match="no split 'fold11_test'"):
        Lsa64(tmp_path).samples("fold11_test")
