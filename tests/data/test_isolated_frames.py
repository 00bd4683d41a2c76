"""MS-ASL and NMFs-CSL: synthetic releases in the layouts the readers document (PNG / JPEG frame folders), for
vocabulary order, subsets, frame numbering, frame counts, integrity and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.cslr import DatasetError
from bench.data.msasl import MsAsl100, MsAsl200, write_msasl
from bench.data.nmfs_csl import NmfsCsl, write_nmfs_csl
from bench.data.views import eval_views, rgb_test_transform

CLASSES = [f"gloss{i:04d}" for i in range(1000)]


def clip(frames: int, seed: int, size: int = 16, block: int = 8) -> np.ndarray:
    """Flat colour blocks; 16x16 ones match JPEG's 4:2:0 units, so quality 95 keeps them within a few levels."""
    colours = np.random.default_rng(seed).integers(0, 256, (frames, size // block, size // block, 3), dtype=np.uint8)
    return colours.repeat(block, axis=1).repeat(block, axis=2)


@pytest.fixture(scope="module")
def msasl(tmp_path_factory):
    root = tmp_path_factory.mktemp("msasl")
    entries = {"train": [{"label": 0}, {"label": 150}, {"label": 3}],
               "test": [{"label": 3, "signer_id": 12}, {"label": 150}, {"label": 0}, {"label": 99}, {"label": 999}]}
    frames = {"test/00000": clip(12, 0), "test/00001": clip(5, 1), "test/00002": clip(4, 2)}
    write_msasl(root, CLASSES, entries, frames)
    (root / "frames" / "test" / "00002" / "0000.png").write_bytes(b"not a png")  # unreadable first frame
    (root / "frames" / "test" / "00000" / "0007.png").unlink()  # a gap: the clip ends at 0006
    return root, frames


def test_msasl_vocabulary_is_the_first_n_classes_and_subsets_filter_by_label(msasl):
    root, _frames = msasl
    small, larger = MsAsl100(root), get_dataset("msasl200")(root)
    assert small.classes() == CLASSES[:100] and larger.classes() == CLASSES[:200]
    assert [(s.id, s.label, s.gloss) for s in small.samples("test")] == [
        ("test/00000", 3, "gloss0003"), ("test/00002", 0, "gloss0000"), ("test/00003", 99, "gloss0099")]
    assert [s.id for s in larger.samples("test")] == ["test/00000", "test/00001", "test/00002", "test/00003"]
    first = small.samples("test")[0]
    assert first.video == "frames/test/00000" and first.signer == "12" and first.info["label"] == 3
    assert first.frame_start == 0 and first.frame_end == 11


def test_msasl_frames_are_zero_based_pngs(msasl):
    root, frames = msasl
    dataset = MsAsl200(root)
    first, second = dataset.samples("test")[:2]
    assert dataset.frame_file(first, 0).name == "0000.png"
    assert dataset.frame_count(first) == 7  # 0000..0006; 0007 is missing, so the run stops there
    np.testing.assert_array_equal(dataset.read_frames(first, [0, 3, 6]), frames["test/00000"][[0, 3, 6]])  # PNG
    (view,) = dataset.read_views(second, eval_views(dataset.frame_count(second), "1view"))
    np.testing.assert_array_equal(view[:30], np.repeat(frames["test/00001"][:1], 30, axis=0))  # (64 - 5) // 2 = 29
    with pytest.raises(DatasetError, match=r"frame .*00000/0007.png of sample 'test/00000' not found"):
        dataset.read_frames(first, [7])


def test_msasl_integrity(msasl):
    root, _frames = msasl
    report = MsAsl200(root).integrity("test")
    assert report.present_ids == ["test/00000", "test/00001"]
    assert report.unreadable_ids == ["test/00002"] and report.missing_ids == ["test/00003"]
    assert "cannot decode the frame" in report.problems["test/00002"]
    assert report.summary().startswith("msasl200 test: 2 of 4 evaluated (1 missing, 1 unreadable); 198 classes")


def test_msasl_errors(tmp_path):
    with pytest.raises(DatasetError, match=r"the class list MSASL_classes.json not found at .*MSASL_classes.json"):
        MsAsl100(tmp_path).classes()
    write_msasl(tmp_path, CLASSES[:50], {"test": [{"label": 1}]})
    with pytest.raises(DatasetError, match="50 glosses, fewer than the 100 of msasl100"):
        MsAsl100(tmp_path).samples("test")
    write_msasl(tmp_path, CLASSES, {})
    (tmp_path / "MSASL_test.json").write_text('[{"label": "one"}]')
    with pytest.raises(DatasetError, match=r"MSASL_test.json: record 0 has label 'one'"):
        MsAsl100(tmp_path).samples("test")


@pytest.fixture(scope="module")
def nmfs(tmp_path_factory):
    root = tmp_path_factory.mktemp("nmfs")
    rows = {"train": [("P01/000", 0), ("P01/001", 1), ("P02/010", 10), ("P02/002", 2)],
            "test": [("P03/010", 10), ("P03/000", 0), ("P04/001", 1)]}
    frames = {"P03/010": clip(9, 3, 32, 16), "P03/000": clip(3, 4, 32, 16)}
    write_nmfs_csl(root, rows, frames)
    return root, frames


def test_nmfs_vocabulary_labels_and_frames(nmfs):
    root, frames = nmfs
    dataset = get_dataset("nmfs_csl")(root)
    assert isinstance(dataset, NmfsCsl) and dataset.splits == ("train", "test")
    assert dataset.classes() == ["0", "1", "2", "10"]  # integer class labels sort as numbers
    assert [(s.id, s.label, s.video) for s in dataset.samples("test")] == [
        ("P03/010", 3, "jpg_video/P03/010"), ("P03/000", 0, "jpg_video/P03/000"), ("P04/001", 1, "jpg_video/P04/001")]
    first = dataset.samples("test")[0]
    assert dataset.frame_file(first, 0).name == "image_00001.jpg"  # numbered from 1
    assert dataset.frame_count(first) == 9
    got = dataset.read_frames(first, [0, 8])
    error = np.abs(got.astype(int) - frames["P03/010"][[0, 8]].astype(int))
    inside = np.zeros((32, 32), dtype=bool)
    inside[3:13, 3:13] = inside[19:29, 3:13] = inside[3:13, 19:29] = inside[19:29, 19:29] = True
    assert error[:, inside].max() <= 4  # JPEG quality 95; chroma upsampling blurs only near block edges
    report = dataset.integrity("test")
    assert (report.present, report.missing, report.unreadable) == (2, 1, 0) and report.missing_ids == ["P04/001"]
    assert report.classes_without_samples == ["1", "2"]  # "1" is missing on disk, "2" has no test clip
    # the official loader resizes NMFs-CSL frames to 256x256 before the transform; keypoints are at 512x512
    assert dataset.rgb_pre_resize == (256, 256) and dataset.keypoint_frame_size == (512, 512)
    assert rgb_test_transform(got, pre_resize=dataset.rgb_pre_resize).shape == (3, 2, 224, 224)


def test_nmfs_text_labels_and_errors(tmp_path):
    rows = {"train": [("a/1", "你好"), ("a/2", "谢谢"), ("a/3", "再见")], "test": [("b/1", "不")]}
    write_nmfs_csl(tmp_path, rows)
    assert NmfsCsl(tmp_path).classes() == sorted(["你好", "谢谢", "再见"])
    with pytest.raises(DatasetError, match=r"test.txt: sample 'b/1' of test has the gloss '不', which is not in"):
        NmfsCsl(tmp_path).samples("test")
    (tmp_path / "train.txt").write_text("lonely\n")
    with pytest.raises(DatasetError, match=r"train.txt:1: expected '<frames folder> <label>', found 'lonely'"):
        NmfsCsl(tmp_path).classes()
