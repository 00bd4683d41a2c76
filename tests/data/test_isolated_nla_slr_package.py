"""NLA-SLR's data package read in place: annotation pickles (gzip'd or plain), the subset filter, clips and frame
folders inside zips for WLASL, MS-ASL and NMFs-CSL, and errors that name the file and what was expected."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

from bench.data.cslr import DatasetError
from bench.data.msasl import MsAsl100
from bench.data.nmfs_csl import NmfsCsl
from bench.data.wlasl import Wlasl100, write_nla_slr_package, write_wlasl
from bench.io.nla_slr_annotations import write_annotation_pickle
from bench.io.zip_members import ZipMember

GLOSSES = ["book", "drink", "computer"]


def blocks(frames: int, seed: int, size: int = 16) -> np.ndarray:
    colours = np.random.default_rng(seed).integers(0, 256, (frames, size // 8, size // 8, 3), dtype=np.uint8)
    return colours.repeat(8, axis=1).repeat(8, axis=2)


@pytest.fixture(scope="module")
def wlasl(tmp_path_factory):
    """(release reader, package reader): 3 train and 2 test clips, one train clip outside WLASL-100's json."""
    root = tmp_path_factory.mktemp("wlasl")
    instances = [{"video_id": f"0{i}", "gloss": g, "split": "train"} for i, g in enumerate(GLOSSES)]
    instances += [{"video_id": "10", "gloss": "drink", "split": "test"}, {"video_id": "11", "gloss": "book",
                                                                          "split": "test"}]
    frames = {i["video_id"]: blocks(8 + n, n) for n, i in enumerate(instances)}
    write_wlasl(root / "release", GLOSSES, instances, frames, subsets=(100,))
    release = Wlasl100(root / "release")
    package = write_nla_slr_package(release, root / "package")
    return release, Wlasl100(package)


def test_wlasl_package_reads_like_the_release(wlasl):
    release, package = wlasl
    assert package.layout_read == "nla_slr_package" and package.videos == "WLASL2000.zip"
    assert package.classes() == release.classes() == ["book", "computer", "drink"]
    ours, theirs = release.samples("test"), package.samples("test")
    assert [(s.id, s.label) for s in theirs] == [(s.id, s.label) for s in ours]
    assert theirs[0].video == "WLASL2000.zip@10.mp4" and theirs[0].annotated_frames == 11
    path = package.video_path(theirs[0])
    assert isinstance(path, ZipMember) and path.located() == "WLASL2000/10.mp4"  # under the zip's top folder
    assert package.frame_count(theirs[0]) == release.frame_count(ours[0]) == 9
    np.testing.assert_array_equal(package.read_frames(theirs[0], [0, 4, 8]), release.read_frames(ours[0], [0, 4, 8]))
    report = package.integrity("test")
    assert report.present == 2 and report.layout == "nla_slr_package" and report.frame_count_mismatches == {}


def test_wlasl_package_follows_the_official_filter(wlasl, tmp_path):
    _, package = wlasl
    records = [{"name": "00", "label": "book", "seq_len": 8, "video_file": "WLASL2000/00.mp4"},
               {"name": "99", "label": "zebra", "seq_len": 8, "video_file": "WLASL2000/99.mp4"},  # not in 100.json
               {"name": "01", "label": "apple", "seq_len": 8, "video_file": "augmentation/01.mp4"}]
    for name in ("100.json", "WLASL2000.zip", "test.pkl"):
        (tmp_path / name).write_bytes((package.root / name).read_bytes())
    (tmp_path / "train.pkl").write_bytes(pickle.dumps(records))  # plain pickle, not gzip'd: both are read
    assert Wlasl100(tmp_path).classes() == ["book"]


@pytest.mark.parametrize("content, message", [
    (pickle.dumps({"name": "x"}), r"holds a dict; expected a pickled list of dicts with keys name, label, "
                                  r"seq_len"),
    (pickle.dumps([{"name": "x", "label": "a"}]), r"record 0 lacks seq_len, video_file"),
    (pickle.dumps([{"name": "x", "label": "a", "seq_len": 0, "video_file": "v"}]), r"record 0 has seq_len 0, not a positive"),
    (b"not a pickle at all", r"cannot be unpickled"),
], ids=["dict", "missing-keys", "seq-len-0", "not-a-pickle"])
def test_bad_annotation_pickles_name_the_file(wlasl, tmp_path, content, message):
    _, package = wlasl
    (tmp_path / "100.json").write_bytes((package.root / "100.json").read_bytes())
    (tmp_path / "train.pkl").write_bytes(content)
    with pytest.raises(DatasetError, match=rf"wlasl100: .*train.pkl: {message}"):
        Wlasl100(tmp_path).classes()


def test_missing_files_name_both_layouts(wlasl, tmp_path):
    _, package = wlasl
    (tmp_path / "train.pkl").write_bytes((package.root / "train.pkl").read_bytes())
    with pytest.raises(DatasetError, match=r"the split file 100.json not found .*NLA-SLR's data package "
                                           r"\(train.pkl, dev.pkl, test.pkl, <N>.json and WLASL2000.zip\)"):
        Wlasl100(tmp_path).classes()
    with pytest.raises(DatasetError, match=r"nslt_100.json not found.*or NLA-SLR's data package"):
        Wlasl100(tmp_path / "empty").samples("test")
    (tmp_path / "100.json").write_bytes((package.root / "100.json").read_bytes())
    (tmp_path / "test.pkl").write_bytes((package.root / "test.pkl").read_bytes())
    report = Wlasl100(tmp_path).integrity("test")  # no WLASL2000.zip: every clip is missing, the zip named
    assert report.missing == 2 and "zip archive not found: " in report.problems["10"]


def frame_zip(path, folders: dict[str, np.ndarray], pattern: str, offset: int) -> None:
    """A zip of PNG frame folders, as NLA-SLR's msasl_frames1.zip / NMFs-CSL_video.zip."""
    from io import BytesIO

    from PIL import Image

    with zipfile.ZipFile(path, "w") as archive:
        for folder, clip in folders.items():
            for i, frame in enumerate(clip):
                buffer = BytesIO()
                Image.fromarray(frame).save(buffer, format="PNG")
                archive.writestr(f"{folder}/{pattern.format(i + offset)}", buffer.getvalue())


def test_msasl_package_reads_frames_inside_the_zip(tmp_path):
    clips = {"frames/test/a": blocks(6, 1), "frames/test/b": blocks(5, 2)}
    frame_zip(tmp_path / "msasl_frames1.zip", clips, "{:04d}.png", 0)
    (tmp_path / "MSASL_classes.json").write_text('["hello", "world"] ')
    write_annotation_pickle(tmp_path / "train.pkl", [
        {"name": "t", "label": "world", "seq_len": 4, "video_file": "frames/train/t/"}])
    write_annotation_pickle(tmp_path / "test.pkl", [
        {"name": "a", "label": "world", "seq_len": 6, "video_file": "frames/test/a/"},
        {"name": "b", "label": "hello", "seq_len": 4, "video_file": "frames/test/b/"}])  # 5 frames stored
    dataset = MsAsl100(tmp_path)
    with pytest.raises(DatasetError, match="2 glosses, fewer than the 100"):
        dataset.classes()
    dataset.num_classes = 2  # a two-gloss release: the first N of MSASL_classes.json
    a, b = dataset.samples("test")
    assert (a.label, b.label, dataset.frame_count(b)) == (1, 0, 4)  # seq_len, not the 5 frames in the zip
    np.testing.assert_array_equal(dataset.read_frames(a, [0, 5]), clips["frames/test/a"][[0, 5]])
    with pytest.warns(UserWarning, match=r"b: 4 vs 5"):
        report = dataset.integrity("test")
    assert report.present == 2 and report.frame_count_mismatches == {"b": {"seq_len": 4, "stored": 5}}


def test_nmfs_csl_package_reads_frames_inside_the_zip(tmp_path):
    clips = {"jpg_video/c1": blocks(3, 3)}
    frame_zip(tmp_path / "NMFs-CSL_video.zip", clips, "image_{:05d}.jpg", 1)
    record = {"name": "c1", "label": "7", "seq_len": 3, "video_file": "jpg_video/c1/"}
    write_annotation_pickle(tmp_path / "train.pkl", [record])
    write_annotation_pickle(tmp_path / "test.pkl", [record])
    dataset = NmfsCsl(tmp_path)
    (sample,) = dataset.samples("test")
    assert dataset.classes() == ["7"] and dataset.frame_file(sample, 0).name == "image_00001.jpg"
    np.testing.assert_array_equal(dataset.read_frames(sample, [0, 2]), clips["jpg_video/c1"][[0, 2]])
