"""KArSL: a synthetic release in the real layout (three signers' frame folders, PNG and JPEG frames, an empty and a
broken sample) checks the subsets' labels, the signer-dependent and signer-independent splits and integrity."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.cslr import DatasetError
from bench.data.karsl import Karsl100, Karsl502, write_karsl


def frames(count: int, seed: int) -> np.ndarray:
    """32x32 frames of flat 16x16 blocks (JPEG's 4:2:0 units, so quality 95 keeps them within a few levels)."""
    colours = np.random.default_rng(seed).integers(0, 256, (count, 2, 2, 3), dtype=np.uint8)
    return colours.repeat(16, axis=1).repeat(16, axis=2)


CLIPS = {"01/train/0001/s1": frames(2, 1), "01/train/0071/s1": frames(3, 2), "01/train/0170/s1": frames(2, 3),
         "01/test/0071/s2": frames(2, 4), "02/train/0071/a": frames(2, 5), "02/test/0190/b": frames(2, 6),
         "02/test/0502/c": frames(2, 7), "03/train/0170/x": frames(2, 8), "03/test/0071/y": frames(0, 0),
         "03/test/0171/z": frames(2, 9)}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = write_karsl(tmp_path_factory.mktemp("karsl"), CLIPS)
    write_karsl(root, {"01/train/0071/s1": CLIPS["01/train/0071/s1"]}, pattern="{:04d}.png")  # PNG wins over JPEG
    (root / "03/test/0171/z/0000.jpg").write_bytes(b"not a jpeg")
    return root


def ids_labels(dataset, split):
    return [(s.id, s.label) for s in dataset.samples(split)]


def test_subsets_label_by_position_in_their_sorted_sign_ids(root):
    small, middle, full = Karsl100(root), get_dataset("karsl190")(root), Karsl502(root)
    assert small.classes()[0] == "0071" and small.classes()[-1] == "0170" and len(small.classes()) == 100
    assert len(middle.classes()) == 190 and len(full.classes()) == 502 and full.classes()[-1] == "0502"
    assert ids_labels(small, "train") == [("01/train/0071/s1", 0), ("01/train/0170/s1", 99),
                                          ("02/train/0071/a", 0), ("03/train/0170/x", 99)]
    assert ids_labels(middle, "signer2_test") == [("02/test/0190/b", 189)]  # 0502 is outside KArSL-190
    sample = small.samples("train")[0]
    assert (sample.gloss, sample.signer, sample.video, sample.info["part"]) == ("0071", "01", "01/train/0071/s1",
                                                                                "train")


def test_signer_independent_folds(root):
    full = Karsl502(root)
    assert ids_labels(full, "fold3_train") == [
        ("01/train/0001/s1", 0), ("01/train/0071/s1", 70), ("01/train/0170/s1", 169), ("01/test/0071/s2", 70),
        ("02/train/0071/a", 70), ("02/test/0190/b", 189), ("02/test/0502/c", 501)]
    assert [s.id for s in full.samples("fold3_test")] == ["03/train/0170/x", "03/test/0071/y", "03/test/0171/z"]
    assert ids_labels(get_dataset("karsl190")(root), "fold1_test") == [
        ("01/train/0001/s1", 0), ("01/train/0071/s1", 70), ("01/train/0170/s1", 169), ("01/test/0071/s2", 70)]
    assert {s.signer for s in full.samples("fold1_train")} == {"02", "03"}


def test_frames_sorted_png_before_jpeg(root):
    dataset = Karsl100(root)
    sample = dataset.samples("signer1_train")[0]
    assert dataset.frame_file(sample, 2).name == "0002.png" and dataset.frame_count(sample) == 3
    np.testing.assert_array_equal(dataset.read_frames(sample, [0, 2]), CLIPS["01/train/0071/s1"][[0, 2]])
    jpeg = dataset.samples("signer1_train")[1]
    assert dataset.frame_file(jpeg, 1).name == "0001.jpg"
    error = np.abs(dataset.read_frames(jpeg, [1]).astype(int) - CLIPS["01/train/0170/s1"][[1]].astype(int))
    assert error[:, 3:13, 3:13].max() <= 4  # JPEG quality 95; chroma upsampling blurs only block edges


def test_integrity_counts_empty_and_broken_samples(root):
    report = Karsl502(root).integrity("fold3_test")
    assert (report.nominal, report.present, report.missing, report.unreadable) == (3, 1, 1, 1)
    assert report.missing_ids == ["03/test/0071/y"] and report.unreadable_ids == ["03/test/0171/z"]
    assert "no frames in" in report.problems["03/test/0071/y"]
    assert "cannot decode the frame" in report.problems["03/test/0171/z"]
    assert report.summary().startswith("karsl502 fold3_test: 1 of 3 evaluated (1 missing, 1 unreadable); 501 classes")
    assert report.sources["annotation"] == str(root)
    small = Karsl100(root).integrity("fold3_test")  # 0171 is outside KArSL-100
    assert (small.nominal, small.present, small.missing, small.unreadable) == (2, 1, 1, 0)


def test_errors_name_the_layout(root, tmp_path):
    with pytest.raises(DatasetError, match="no split 'fold4_test'"):
        Karsl100(root).samples("fold4_test")
    write_karsl(tmp_path, {k: v for k, v in CLIPS.items() if not k.startswith("03/")})
    with pytest.raises(DatasetError, match=r"found 2 signer folders under .* \(01, 02\); expected 3: <signer>/"):
        Karsl100(tmp_path).samples("train")
    write_karsl(tmp_path, {"03/train/71/q": frames(1, 1)})
    with pytest.raises(DatasetError, match=r"03/train/71 is not a 4-digit sign id folder"):
        Karsl100(tmp_path).samples("fold1_train")
