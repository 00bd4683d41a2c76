"""WLASL: a synthetic release written in the real layout (tiny H.264 clips, a missing and a corrupt file) checks
frames, counts and integrity; the real split files check the official vocabulary, labels and split sizes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bench.data import DATASETS, get_dataset
from bench.data.cslr import DatasetError
from bench.data.isolated import IslrDataset, classes_without_samples
from bench.data.views import eval_views
from bench.data.wlasl import Wlasl100, Wlasl2000, write_wlasl

RELEASE_ORDER = ["book", "drink", "computer", "before", "chair"]  # frequency order, as in the release


def blocks(frames: int, seed: int) -> np.ndarray:
    """32x32 frames of flat 8x8 blocks, so that 4:2:0 video keeps block interiors within YUV rounding."""
    colours = np.random.default_rng(seed).integers(0, 256, (frames, 4, 4, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


INTERIOR = np.zeros((32, 32), dtype=bool)
for _top in range(0, 32, 8):
    for _left in range(0, 32, 8):
        INTERIOR[_top + 2:_top + 6, _left + 2:_left + 6] = True


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """(root, frames by video id): 5 train clips (no files needed), 5 test clips: two good, one missing, one
    corrupt, one of 2 frames (nothing left after the official - 2)."""
    root = tmp_path_factory.mktemp("wlasl")
    instances = [{"video_id": f"0000{i}", "gloss": g, "split": "train"} for i, g in enumerate(RELEASE_ORDER)]
    instances += [{"video_id": vid, "gloss": g, "split": "test", "signer_id": 7}
                  for vid, g in [("10001", "book"), ("10002", "drink"), ("10003", "computer"), ("10004", "chair"),
                                 ("10005", "before")]]
    instances.append({"video_id": "20001", "gloss": "drink", "split": "val"})
    frames = {"10001": blocks(40, 1), "10002": blocks(10, 2), "10005": blocks(2, 5)}
    write_wlasl(root, RELEASE_ORDER, instances, frames)
    (root / "videos" / "10004.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 20)
    return root, frames


def test_layout_vocabulary_and_labels(release):
    root, _frames = release
    assert sorted(p.name for p in root.iterdir()) == ["WLASL_v0.3.json", "nslt_100.json", "nslt_1000.json",
                                                      "nslt_2000.json", "nslt_300.json", "videos",
                                                      "wlasl_class_list.txt"]
    dataset = get_dataset("wlasl100")(root)
    assert isinstance(dataset, IslrDataset) and dataset.task == "isolated"
    assert dataset.splits == ("train", "val", "test")
    assert dataset.classes() == ["before", "book", "chair", "computer", "drink"]  # sorted(set(train glosses))
    assert dataset.release_glosses() == RELEASE_ORDER
    test = dataset.samples("test")
    assert [(s.id, s.gloss, s.label, s.video, s.signer) for s in test[:2]] == [
        ("10001", "book", 1, "videos/10001.mp4", "7"), ("10002", "drink", 4, "videos/10002.mp4", "7")]
    assert test[0].frame_start == 1 and test[0].frame_end == 40 and test[0].info["release_class"] == 0
    assert [s.id for s in dataset.samples("val")] == ["20001"]
    assert Wlasl2000(root).classes() == dataset.classes()  # every size is written for a 5-gloss release


def test_frame_counts_and_frames(release):
    root, frames = release
    dataset = Wlasl100(root)
    clip = dataset.samples("test")[0]
    assert dataset.stored_frame_count(clip) == 40 and dataset.frame_count(clip) == 38  # official len - 2
    got = dataset.read_frames(clip, [0, 5, 37])
    error = np.abs(got.astype(int) - frames["10001"][[0, 5, 37]].astype(int))
    assert error[:, INTERIOR].max() <= 3  # H.264 4:2:0 at crf 0: only the YUV rounding (see tests/io/test_video.py)
    start, end, central = dataset.read_views(clip, eval_views(38, "temporal3"))
    assert start.shape == end.shape == central.shape == (64, 32, 32, 3)
    np.testing.assert_array_equal(start[38:], np.repeat(got[2:3], 26, axis=0))  # padded with frame 37
    np.testing.assert_array_equal(end[:26], np.repeat(got[:1], 26, axis=0))  # padded with frame 0
    np.testing.assert_array_equal(central[13], got[0])  # (64 - 38) // 2 = 13 copies of frame 0 come first


def test_integrity_counts_missing_and_unreadable(release):
    root, _frames = release
    report = Wlasl100(root).integrity("test")
    assert (report.nominal, report.present, report.missing, report.unreadable) == (5, 2, 1, 2)
    assert report.present_ids == ["10001", "10002"]
    assert report.missing_ids == ["10003"] and report.unreadable_ids == ["10004", "10005"]
    assert "10003.mp4" in report.problems["10003"] and "cannot open" in report.problems["10004"]
    assert "has 2 frames, too few" in report.problems["10005"]
    assert report.classes_without_samples == ["before", "chair", "computer"]
    assert report.summary() == ("wlasl100 test: 2 of 5 evaluated (1 missing, 2 unreadable); 3 classes without a "
                                "sample (before, chair, computer)")


def test_errors_name_files(release, tmp_path):
    root, _frames = release
    dataset = Wlasl100(root)
    missing = next(s for s in dataset.samples("test") if s.id == "10003")
    with pytest.raises(DatasetError, match=r"sample '10003': video not found: .*videos/10003.mp4"):
        dataset.read_frames(missing, [0])
    with pytest.raises(DatasetError, match="no split 'dev'; choose one of train, val, test"):
        dataset.samples("dev")
    with pytest.raises(DatasetError, match=r"the split file nslt_100.json not found at .*nslt_100.json"):
        Wlasl100(tmp_path).samples("test")
    (tmp_path / "nslt_100.json").write_text('{"1": {"subset": "test", "action": [0, 1]}}')
    with pytest.raises(DatasetError, match=r"nslt_100.json: entry '1' is .*expected"):
        Wlasl100(tmp_path).samples("test")
    (tmp_path / "nslt_100.json").write_text('{"1": {"subset": "test", "action": [0, 1, 9]}}')
    with pytest.raises(DatasetError, match="WLASL_v0.3.json or wlasl_class_list.txt not found"):
        Wlasl100(tmp_path).classes()


# -- the real split files ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(reference, tmp_path_factory):
    """A WLASL root with the shared nslt files and class list (no videos, no WLASL_v0.3.json)."""
    root = tmp_path_factory.mktemp("wlasl_real")
    for name in ["wlasl_class_list.txt"] + [f"nslt_{n}.json" for n in (100, 300, 1000, 2000)]:
        shutil.copy(reference / "islr" / "wlasl" / name, root / name)
    return root, reference / "islr"


@pytest.mark.parametrize("size, counts", [(100, (1442, 338, 258)), (300, (3549, 901, 668)),
                                          (1000, (8978, 2320, 1876)), (2000, (14296, 3920, 2879))])
def test_real_vocabulary_is_alphabetical_over_train(real, size, counts):
    root, _shared = real
    dataset = get_dataset(f"wlasl{size}")(root)
    classes = dataset.classes()
    assert len(classes) == size and classes == sorted(classes)
    assert classes == sorted(set(dataset.release_glosses()[:size]))  # train covers all of the first N glosses
    assert tuple(len(dataset.samples(split)) for split in dataset.splits) == counts
    raw = get_dataset(f"wlasl{size}")(root, fix_typos=False).classes()
    if size > 163:  # release class 163 is spelt "losear" in the class list
        assert "lose" in classes and "losear" not in classes
        assert raw.index("losear") == classes.index("lose")  # the spelling fix does not move any class
    assert [g for g in raw if g != "losear"] == [g for g in classes if g != "lose"]


def test_real_wlasl2000_test_split_and_the_caterpillar_class(real):
    root, shared = real
    dataset = Wlasl2000(root)
    test = dataset.samples("test")
    assert classes_without_samples(dataset.classes(), test) == []  # the nominal 2879 cover every class
    available = [line.split()[0].split("/")[-1][:-4] for line in (shared / "signnet_splits" / "wlasl2000" /
                                                                   "test.csv").read_text().splitlines()]
    assert len(available) == 2878 and sorted({s.id for s in test} - set(available)) == ["09500"]
    assert classes_without_samples(dataset.classes(), test, available) == ["caterpillar"]


@pytest.mark.parametrize("size, folder", [(2000, "wlasl2000"), (100, "wlasl100")])
def test_real_labels_equal_the_signnet_alphabetical_lists(real, size, folder):
    root, shared = real
    dataset = get_dataset(f"wlasl{size}")(root)
    for split, listed in [("train", "train.csv"), ("val", "val.csv"), ("test", "test.csv")]:
        labels = {s.id: s.label for s in dataset.samples(split)}
        rows = [line.split() for line in (shared / "signnet_splits" / folder / listed).read_text().splitlines()]
        assert rows and all(labels[path.split("/")[-1][:-4]] == int(label) for path, label in rows), split
    if size == 2000:
        label_map = (shared / "signnet_splits" / "label_map_wlasl2000.txt").read_text().splitlines()
        assert [g.replace(" ", "_") for g in dataset.classes()] == label_map


def test_registry_has_every_isolated_dataset():
    names = {"wlasl100", "wlasl300", "wlasl1000", "wlasl2000", "msasl100", "msasl200", "msasl500", "msasl1000",
             "nmfs_csl"}
    assert names <= set(DATASETS.names())
    assert all(get_dataset(n).task == "isolated" and get_dataset(n).name == n for n in names)
    assert [get_dataset(f"wlasl{n}").num_classes for n in (100, 300, 1000, 2000)] == [100, 300, 1000, 2000]
