"""SignNet's datasets: WLASL with SignNet's labels (synthetic release with a spaced gloss; the real split files
against SignNet's own label map and lists) and the revised WLASL read from SignNet-style lists and label maps."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.cslr import DatasetError
from bench.data.signnet_lists import Wlasl1518Revised
from bench.data.wlasl import write_wlasl

RELEASE_ORDER = ["book", "a lot", "a", "zero"]  # frequency order; "a lot" has a space


def blocks(frames: int, seed: int) -> np.ndarray:
    colours = np.random.default_rng(seed).integers(0, 256, (frames, 4, 4, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("wlasl_signnet")
    instances = [{"video_id": f"0000{i}", "gloss": g, "split": "train"} for i, g in enumerate(RELEASE_ORDER)]
    instances += [{"video_id": "10001", "gloss": "a lot", "split": "test"},
                  {"video_id": "10002", "gloss": "zero", "split": "test"}]
    return write_wlasl(root, RELEASE_ORDER, instances, {"10001": blocks(9, 1)})


def test_signnet_labels_spelling_and_frame_count(release):
    signnet, plain = get_dataset("wlasl100_signnet")(release), get_dataset("wlasl100")(release)
    assert signnet.classes() == ["a", "a_lot", "book", "zero"]  # sorted folder names, spaces as _
    assert plain.classes() == ["a", "a lot", "book", "zero"]
    assert [(s.id, s.gloss, s.label) for s in signnet.samples("test")] == [("10001", "a_lot", 1), ("10002", "zero", 3)]
    sample = signnet.samples("test")[0]
    assert signnet.frame_count(sample) == 9 and plain.frame_count(plain.samples("test")[0]) == 7  # no len - 2
    assert plain.frame_count(plain.samples("test")[0], drop=0) == 9  # a card's frame_drop overrides the dataset's
    report = signnet.integrity("test")
    assert (report.nominal, report.present, report.missing_ids) == (2, 1, ["10002"])


def test_real_wlasl_labels_equal_signnets_label_map_and_lists(reference, tmp_path):
    """SignNet's label map and split lists (``islr/signnet_splits``) from the WLASL split files alone."""
    for name in ("nslt_2000.json", "nslt_100.json", "wlasl_class_list.txt"):
        shutil.copyfile(reference / "islr" / "wlasl" / name, tmp_path / name)
    splits = reference / "islr" / "signnet_splits"
    wlasl2000 = get_dataset("wlasl2000_signnet")(tmp_path, videos="WLASL2000")
    assert wlasl2000.classes() == (splits / "label_map_wlasl2000.txt").read_text(encoding="utf-8").split("\n")
    assert wlasl2000.classes()[302] == "caterpillar"  # the class without an available test clip
    for size, split_names in ((2000, ("train", "val", "test")), (100, ("train", "val", "test"))):
        dataset = get_dataset(f"wlasl{size}_signnet")(tmp_path, videos="WLASL2000")
        for split in split_names:
            ours = {s.video: s.label for s in dataset.samples(split)}
            listed = [line.split() for line in (splits / f"wlasl{size}" / f"{split}.csv").read_text().splitlines()]
            assert all(ours[path] == int(label) for path, label in listed)  # SignNet lists the clips it had
            assert len(listed) <= len(ours)
    # on WLASL, SignNet's order is NLA-SLR's: only the spelling differs
    plain = get_dataset("wlasl2000")(tmp_path)
    assert [c.replace(" ", "_") for c in plain.classes()] == wlasl2000.classes()


def write_lists(root, label_map: list[str], rows: dict[str, list[tuple[str, int]]], map_name: str) -> None:
    (root / map_name).write_text("\n".join(label_map), encoding="utf-8")  # SignNet: no newline at the end
    for split, lines in rows.items():
        (root / f"{split}.csv").write_text("".join(f"{p} {label}\n" for p, label in lines), encoding="utf-8")


def test_revised_wlasl_from_signnet_lists(tmp_path):
    names = [f"gloss{i:04d}" for i in range(1518)]
    rows = {"train": [("WLASL2000/69241.mp4", 158)], "val": [("WLASL2000/07072.mp4", 1517)],
            "test": [("WLASL2000/07072.mp4", 1517), ("WLASL2000/17730.mp4", 402)]}
    write_lists(tmp_path, names, rows, "label_map_wlasl1518.txt")
    from bench.io.video import write_video

    write_video(tmp_path / "WLASL2000" / "07072.mp4", blocks(5, 3))
    dataset = get_dataset("wlasl1518_revised")(tmp_path)
    assert isinstance(dataset, Wlasl1518Revised) and len(dataset.classes()) == 1518
    test = dataset.samples("test")
    assert [(s.id, s.label, s.gloss) for s in test] == [("WLASL2000/07072.mp4", 1517, "gloss1517"),
                                                        ("WLASL2000/17730.mp4", 402, "gloss0402")]
    assert dataset.frame_count(test[0]) == 5  # every decoded frame
    report = dataset.integrity("test")
    assert (report.present, report.missing_ids) == (1, ["WLASL2000/17730.mp4"])
    with pytest.raises(DatasetError, match=r"label_map_wlasl1573.txt not found"):
        get_dataset("wlasl1573_revised")(tmp_path).classes()
    (tmp_path / "train.csv").write_text("WLASL2000/69241.mp4 1518\n")
    with pytest.raises(DatasetError, match=r"train.csv:1: sample 'WLASL2000/69241.mp4' has label 1518, outside "
                                           r"0..1517"):
        Wlasl1518Revised(tmp_path).samples("train")
    (tmp_path / "label_map_wlasl1518.txt").write_text("\n".join(names[:1500]))
    with pytest.raises(DatasetError, match=r"label_map_wlasl1518.txt: expected 1518 class names, one per line, "
                                           r"found 1500"):
        Wlasl1518Revised(tmp_path).classes()


@pytest.mark.parametrize("size", [1518, 1573])
def test_real_revised_label_maps_read(reference, tmp_path, size):
    name = f"label_map_wlasl{size}.txt"
    shutil.copyfile(reference / "islr" / "signnet_splits" / name, tmp_path / name)
    classes = get_dataset(f"wlasl{size}_revised")(tmp_path).classes()
    assert len(classes) == size and classes[:2] == ["(1)cheat", "(5)weather"] and len(set(classes)) == size


@pytest.mark.parametrize("folder", ["asl_citizen", "wlasl2000", "wlasl100", "autsl_depth"])
def test_signnets_basename_grouping_cannot_change_a_number(reference, folder):
    """SignNet's merge groups views by ``path.split("/")[-1].split(".")[0]`` and skips a second clip of the same
    name; in every SignNet list no two clips of a split share that name, so the harness groups by sample id."""
    for lines in (reference / "islr" / "signnet_splits" / folder).glob("*.csv"):
        paths = [line.split()[0] for line in lines.read_text(encoding="utf-8").splitlines() if line.strip()]
        names = [p.split("/")[-1].split(".")[0] for p in paths]
        assert len(paths) > 0 and len(set(names)) == len(names), lines
