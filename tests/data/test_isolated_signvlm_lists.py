"""SignVLM list files: TAB and single-space lines, frame folders at dirname(path)/stem(path) read in plain
lexicographic order (PNG before JPEG), videos when no frames exist, custom split lists, integrity and errors."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.cslr import DatasetError
from bench.data.isolated import write_frame_folder
from bench.data.signvlm_lists import SignvlmList, frames_folder, write_signvlm_frames, write_signvlm_lists
from bench.io.video import write_video


def flat(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 8, 8, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def frames_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("signvlm_frames")
    write_signvlm_lists(root, {"train": [("clips/a/one.mp4", 0), ("clips/b/two.mp4", 2)]})
    write_signvlm_lists(root, {"test": [("clips/c/three.mp4", 1), ("clips/d/gone.mp4", 2)],
                               "fold1_test": [("clips/a/one.mp4", 0)]}, separator=" ")
    clips = {"clips/a/one.mp4": flat(3, 1), "clips/b/two.mp4": flat(2, 2)}
    write_signvlm_frames(root, clips)
    third = flat(3, 3)
    for name, frame in zip(["img_1.png", "img_10.png", "img_2.png"], third):  # unpadded: sorted as 1, 10, 2
        write_frame_folder(root / "clips/c/three", [frame], name)
    write_frame_folder(root / "clips/c/three", flat(5, 4), "{:05d}.jpg")  # ignored: PNG frames exist
    (root / "private").mkdir()
    (root / "private" / "mine.txt").write_text("clips/b/two.mp4\t2\n\nclips/a/one.mp4\t0\nclips/a/one.mp4\t0\n")
    return root, {**clips, "clips/c/three.mp4": third}


def test_frames_folder_rule():
    assert frames_folder("WLASL/videos/00335.mp4") == "WLASL/videos/00335" and frames_folder("x.avi") == "x"


def test_lists_labels_and_frames(frames_root):
    root, clips = frames_root
    dataset = get_dataset("signvlm_list")(root)
    assert isinstance(dataset, SignvlmList) and dataset.classes() == ["0", "1", "2"]  # max label of the lists
    assert dataset.storage == "frames"
    assert [(s.id, s.label, s.video) for s in dataset.samples("test")] == [
        ("clips/c/three.mp4", 1, "clips/c/three"), ("clips/d/gone.mp4", 2, "clips/d/gone")]  # space-separated
    three = dataset.samples("test")[0]
    assert [dataset.frame_file(three, i).name for i in range(3)] == ["img_1.png", "img_10.png", "img_2.png"]
    assert dataset.frame_count(three) == 3
    np.testing.assert_array_equal(dataset.read_frames(three, [0, 1, 2]), clips["clips/c/three.mp4"])
    one = dataset.samples("train")[0]
    np.testing.assert_array_equal(dataset.read_frames(one, [2]), clips["clips/a/one.mp4"][[2]])
    report = dataset.integrity("test")
    assert (report.nominal, report.present, report.missing, report.unreadable) == (2, 1, 1, 0)
    assert report.missing_ids == ["clips/d/gone.mp4"] and "clips/d/gone" in report.problems["clips/d/gone.mp4"]


def test_custom_split_names_and_paths(frames_root):
    root, _clips = frames_root
    dataset = SignvlmList(root)
    assert [s.id for s in dataset.samples("fold1_test")] == ["clips/a/one.mp4"]  # fold1_test.txt
    mine = dataset.samples("private/mine.txt")
    assert [(s.id, s.label) for s in mine] == [("clips/b/two.mp4", 2), ("clips/a/one.mp4", 0), ("clips/a/one.mp4#2", 0)]
    assert [s.id for s in dataset.samples(str(root / "private" / "mine.txt"))] == [s.id for s in mine]  # absolute
    assert dataset.integrity("private/mine.txt").present == 3


def test_videos_when_no_frame_folders(tmp_path):
    write_signvlm_lists(tmp_path, {"test": [("videos/x.mp4", 1), ("videos/y.mp4", 0)]})
    write_video(tmp_path / "videos" / "x.mp4", flat(5, 5).repeat(4, axis=1).repeat(4, axis=2))
    dataset = SignvlmList(tmp_path)
    x, _y = dataset.samples("test")
    assert dataset.storage == "video" and x.video == "videos/x.mp4" and dataset.frame_count(x) == 5
    report = dataset.integrity("test")
    assert (report.nominal, report.present, report.missing) == (2, 1, 1)
    assert SignvlmList(tmp_path, frames=True).samples("test")[0].video == "videos/x"  # forced, as frames_available 1


def test_errors_name_file_and_line(tmp_path):
    with pytest.raises(DatasetError, match=r"neither classes.txt nor train.txt / val.txt / test.txt"):
        SignvlmList(tmp_path).classes()
    (tmp_path / "classes.txt").write_text("hello\nthanks\nbye\n")
    write_signvlm_lists(tmp_path, {"test": [("a.mp4", 1), ("b.mp4", 5)]})
    assert SignvlmList(tmp_path).classes() == ["hello", "thanks", "bye"]
    with pytest.raises(DatasetError, match=r"test.txt:2: sample 'b.mp4' has label 5, outside 0..2 \(the 3 classes"):
        SignvlmList(tmp_path).samples("test")
    (tmp_path / "test.txt").write_text("a.mp4\t1\nlonely\n")
    with pytest.raises(DatasetError, match=r"test.txt:2: expected '<path><TAB><label>' \(or '<path> <label>'\), "
                                           r"found 'lonely'"):
        SignvlmList(tmp_path).samples("test")
    (tmp_path / "test.txt").write_text("a.mp4\tone\n")
    with pytest.raises(DatasetError, match=r"test.txt:1: expected '<path><TAB><label>'"):
        SignvlmList(tmp_path).samples("test")
    with pytest.raises(DatasetError, match=r"the list file nowhere.txt not found at .*nowhere.txt"):
        SignvlmList(tmp_path).samples("nowhere")


def test_real_space_separated_lists(reference, tmp_path):
    """SignNet's WLASL-100 lists (``<video path> <label>``, EVL's space) as train/val/test.txt: sizes and labels."""
    lists = reference / "islr" / "signnet_splits" / "wlasl100"
    for split in ("train", "val", "test"):
        (tmp_path / f"{split}.txt").write_text((lists / f"{split}.csv").read_text())
    dataset = SignvlmList(tmp_path, frames=False)
    sizes = {split: len(dataset.samples(split)) for split in ("train", "val", "test")}
    assert sizes == {"train": 1442, "val": 338, "test": 258}  # WLASL-100's nslt_100.json sizes
    assert dataset.classes() == [str(i) for i in range(100)]  # no classes.txt: 0 .. the largest label listed
    first = (lists / "test.csv").read_text().splitlines()[0].split()
    assert (dataset.samples("test")[0].id, dataset.samples("test")[0].label) == (first[0], int(first[1]))
    assert len(dataset.samples(str(lists / "dev.csv"))) > 0  # any list file, by its path
