"""``bench datasets`` and ``bench datasets check``: the registry listed, and integrity counts of the demo's
releases (synthetic PHOENIX-2014 frames, synthetic WLASL mp4 clips) intact, with deleted and with corrupt samples."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.data import DATASETS
from bench.data.synthetic_isolated import make_dataset as make_wlasl
from bench.data.synthetic_signs import make_dataset as make_phoenix

runner = CliRunner()
JUNK = b"not an image or a video" * 8


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    root = tmp_path_factory.mktemp("phoenix") / "phoenix-2014-multisigner"
    dataset = make_phoenix(root, {"train": 3, "dev": 4, "test": 2}, frame_size=16)
    return root, {split: [s.id for s in dataset.samples(split)] for split in dataset.splits}


@pytest.fixture(scope="module")
def wlasl(tmp_path_factory):
    root = tmp_path_factory.mktemp("wlasl") / "wlasl-synthetic"
    dataset, _ = make_wlasl(root, {"train": 1, "val": 0, "test": 1}, frame_size=32)
    return root, {split: [s.id for s in dataset.samples(split)] for split in dataset.splits}


def check(*args):
    return runner.invoke(app, ["datasets", "check", *map(str, args)])


def check_json(*args):
    result = check(*args, "--json")
    return result, {row["split"]: row for row in map(json.loads, result.stdout.splitlines())}


def test_datasets_lists_every_registered_dataset_with_classes_and_layout():
    result = runner.invoke(app, ["datasets"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in DATASETS.names():  # each name whole on one row, never cut or wrapped
        assert any(line.startswith(f"│ {name} ") for line in lines), name
    assert "1295 glosses + blank" in result.output and "from the data" in result.output
    assert "nslt_{N}.json" in result.output
    assert max(map(len, lines)) <= 150  # a pipe gets the console's fixed width, long layouts wrap


def test_check_intact_releases_counts_every_sample(phoenix, wlasl):
    result = check("synthetic_phoenix2014", "--data-root", phoenix[0])
    assert result.exit_code == 0, result.output
    assert "synthetic_phoenix2014 dev: 4 nominal, 4 present, 0 missing, 0 unreadable" in result.output
    assert "synthetic_phoenix2014 train: 3 nominal, 3 present, 0 missing, 0 unreadable" in result.output
    result, rows = check_json("synthetic_wlasl", "--data-root", wlasl[0])
    assert result.exit_code == 0, result.output
    assert {s: (r["nominal"], r["present"], r["missing"], r["unreadable"]) for s, r in rows.items()} == {
        "train": (12, 12, 0, 0), "val": (0, 0, 0, 0), "test": (12, 12, 0, 0)}
    assert rows["test"]["layout"] == "release" and rows["test"]["classes_without_samples"] == []


def test_check_phoenix_with_deleted_and_corrupt_samples(phoenix, tmp_path):
    root, ids = phoenix
    copy = shutil.copytree(root, tmp_path / "phoenix")
    frames = copy / "features" / "fullFrame-256x256px" / "dev"
    shutil.rmtree(frames / ids["dev"][1])  # a deleted frames folder
    (frames / ids["dev"][3] / "1" / "000000.png").write_bytes(JUNK)  # a first frame overwritten with junk
    result, rows = check_json("synthetic_phoenix2014", "--data-root", copy, "--split", "dev", "--split", "test")
    assert result.exit_code == 1, result.output
    assert sorted(rows) == ["dev", "test"]
    dev = rows["dev"]
    assert (dev["nominal"], dev["present"], dev["missing"], dev["unreadable"]) == (4, 2, 1, 1)
    assert dev["missing_ids"] == [ids["dev"][1]] and dev["unreadable_ids"] == [ids["dev"][3]]
    assert rows["test"]["ok"] and not dev["ok"]
    text = check("synthetic_phoenix2014", "--data-root", copy, "--split", "dev")
    assert text.exit_code == 1
    assert "4 nominal, 2 present, 1 missing, 1 unreadable" in text.output
    assert ids["dev"][1] in text.output and ids["dev"][3] in text.output


def test_check_deep_decodes_every_frame(phoenix, tmp_path):
    root, ids = phoenix
    copy = shutil.copytree(root, tmp_path / "phoenix")
    last = sorted((copy / "features" / "fullFrame-256x256px" / "test" / ids["test"][0] / "1").iterdir())[-1]
    last.write_bytes(JUNK)  # only a later frame is broken: the quick check reads the first one
    assert check("synthetic_phoenix2014", "--data-root", copy, "--split", "test").exit_code == 0
    result, rows = check_json("synthetic_phoenix2014", "--data-root", copy, "--split", "test", "--deep")
    assert result.exit_code == 1 and rows["test"]["unreadable_ids"] == [ids["test"][0]]


def test_check_wlasl_with_deleted_and_corrupt_clips(wlasl, tmp_path):
    root, ids = wlasl
    copy = shutil.copytree(root, tmp_path / "wlasl")
    gone, broken = ids["test"][2], ids["test"][5]
    (copy / "videos" / f"{gone}.mp4").unlink()
    (copy / "videos" / f"{broken}.mp4").write_bytes(JUNK)
    result, rows = check_json("synthetic_wlasl", "--data-root", copy, "--split", "test")
    assert result.exit_code == 1, result.output
    test = rows["test"]
    assert (test["nominal"], test["present"], test["missing"], test["unreadable"]) == (12, 10, 1, 1)
    assert test["missing_ids"] == [gone] and test["unreadable_ids"] == [broken]
    assert test["problems"][gone].startswith("not found:") and len(test["classes_without_samples"]) == 2
    text = check("synthetic_wlasl", "--data-root", copy, "--split", "test")
    assert text.exit_code == 1 and "layout read: release" in text.output
    assert "12 nominal, 10 present, 1 missing, 1 unreadable" in text.output and f"{gone}.mp4" in text.output


def test_check_errors_exit_2_with_the_path_and_layout(phoenix, tmp_path):
    unknown = check("phoenix2015", "--data-root", tmp_path)
    assert unknown.exit_code == 2 and "unknown dataset 'phoenix2015'" in unknown.output
    assert "phoenix2014" in unknown.output  # the close names are suggested
    empty = tmp_path / "empty"
    empty.mkdir()
    wrong = check("synthetic_phoenix2014", "--data-root", empty)
    assert wrong.exit_code == 2 and str(empty) in wrong.output and "annotations/manual" in wrong.output
    absent = check("synthetic_wlasl", "--data-root", tmp_path / "absent")
    assert absent.exit_code == 2 and "absent is not a folder" in absent.output and "nslt_" in absent.output
    split = check("synthetic_phoenix2014", "--data-root", phoenix[0], "--split", "val")
    assert split.exit_code == 2 and "no split 'val'" in split.output


def test_check_reads_clips_from_videos_elsewhere(wlasl, tmp_path):
    """--videos: the clips in another folder (NLA-SLR's package keeps them apart), relative or absolute."""
    root, ids = wlasl
    copy = shutil.copytree(root, tmp_path / "wlasl")
    shutil.move(copy / "videos", tmp_path / "clips")
    (tmp_path / "clips" / f"{ids['test'][4]}.mp4").unlink()
    result, rows = check_json("synthetic_wlasl", "--data-root", copy, "--split", "test")
    assert result.exit_code == 1 and (rows["test"]["present"], rows["test"]["missing"]) == (0, 12)
    for videos in (tmp_path / "clips", "../clips"):
        result, rows = check_json("synthetic_wlasl", "--data-root", copy, "--split", "test", "--videos", videos)
        assert result.exit_code == 1, result.output
        assert (rows["test"]["nominal"], rows["test"]["present"], rows["test"]["missing"]) == (12, 11, 1)
        assert rows["test"]["missing_ids"] == [ids["test"][4]]
    frames = check("synthetic_phoenix2014", "--data-root", copy, "--videos", tmp_path / "clips")
    assert frames.exit_code == 2 and "--videos is for isolated-SLR datasets" in frames.output
