"""Continuous-SLR readers: real annotation files give the official vocabulary, order and references; synthetic
releases on disk check frames, integrity and error messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from bench.data import DATASETS, get_dataset
from bench.data.csl import Csl, CslDaily, write_csl, write_csl_daily
from bench.data.cslr import BLANK, CslrDataset, DatasetError
from bench.data.phoenix import Phoenix2014, Phoenix2014T, write_phoenix2014, write_phoenix2014t
from bench.io.transcripts import read_stm
from reference_releases import (BROKEN_PHOENIX_ROW, build_csl, build_csl_daily, build_phoenix2014, build_phoenix2014t,
                                info_samples, load_gloss_dict, load_info)


@dataclass(frozen=True)
class Case:
    folder: str  # under reference/cslr
    build: Callable[[Path, Path], Path]
    stm: str  # the ground-truth STM the official preprocessing writes, with {split}
    info_splits: tuple[str, ...]  # splits whose info pickle is shared
    official_glob: Callable[[dict], str]  # the frame glob the official loader builds from an info entry


CASES = {
    "phoenix2014": Case("phoenix2014", build_phoenix2014, "raw-annotation-{split}.stm", ("train", "dev", "test"),
                        lambda i: i["folder"]),
    "phoenix2014t": Case("phoenix2014-T", build_phoenix2014t, "phoenix2014-T-groundtruth-{split}.stm",
                         ("train", "dev", "test"), lambda i: i["folder"]),
    "csl_daily": Case("CSL-Daily", build_csl_daily, "CSL-Daily-groundtruth-{split}.stm", ("dev", "test"),
                      lambda i: i["folder"]),
    "csl": Case("CSL", build_csl, "CSL-groundtruth-{split}.stm", ("train", "dev"), lambda i: i["folder"] + "/*.jpg"),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def release(request, reference, tmp_path_factory) -> tuple[CslrDataset, Case, Path]:
    """(reader over a rebuilt release, its case, the shared reference folder)."""
    case = CASES[request.param]
    shared = reference / "cslr" / case.folder
    root = case.build(shared, tmp_path_factory.mktemp(request.param))
    return get_dataset(request.param)(root), case, shared


def test_vocabulary_and_counts_equal_gloss_dict(release):
    dataset, _case, shared = release
    gloss_dict = load_gloss_dict(shared / "gloss_dict.npy")
    assert dataset.vocabulary() == {gloss: entry[0] for gloss, entry in gloss_dict.items()}
    assert dataset.gloss_counts() == {gloss: entry[1] for gloss, entry in gloss_dict.items()}
    id_to_gloss = dataset.id_to_gloss()
    assert id_to_gloss[0] == BLANK and len(id_to_gloss) == len(gloss_dict) + 1
    assert id_to_gloss[1] == min(gloss_dict)


def test_samples_follow_the_official_info(release):
    dataset, case, shared = release
    for split in case.info_splits:
        info = info_samples(shared / f"{split}_info.npy")
        got = [(s.id, s.label, s.frames, s.signer) for s in dataset.samples(split)]
        assert got == [(i["fileid"], i["label"], case.official_glob(i), i["signer"]) for i in info], split
        assert all(s.glosses == tuple(i["label"].split()) for s, i in zip(dataset.samples(split), info))
        if isinstance(dataset, CslDaily):
            assert [s.num_frames for s in dataset.samples(split)] == [int(i["num_frames"]) for i in info]


def test_reference_equals_the_groundtruth_stm(release):
    dataset, case, shared = release
    for split in dataset.splits:
        groundtruth = read_stm(shared / case.stm.format(split=split))
        assert dataset.reference(split) == groundtruth, split
        assert [s.raw for s in dataset.reference(split)] == [s.raw for s in groundtruth], split  # byte for byte


def test_official_loader_skips_the_last_sample_only_without_a_prefix_key(release):
    dataset, case, shared = release
    for split in case.info_splits:
        info = load_info(shared / f"{split}_info.npy")
        official = dataset.samples(split, official_skip_last=True)
        assert len(official) == len(info) - 1  # what the official loader's __len__ returns
        assert official == dataset.samples(split)[:len(official)]


def test_official_counts():
    assert CslDaily.official_skips_last and Csl.official_skips_last
    assert not Phoenix2014.official_skips_last and not Phoenix2014T.official_skips_last


def test_csl_daily_dev_test_counts_and_unlisted_train_sample(reference, tmp_path):
    dataset = CslDaily(build_csl_daily(reference / "cslr" / "CSL-Daily", tmp_path))
    assert [len(dataset.samples(s)) for s in ("dev", "test")] == [1077, 1176]
    assert [len(dataset.samples(s, official_skip_last=True)) for s in ("dev", "test")] == [1076, 1175]
    assert dataset.unlisted() == ["S000007_P0003_T00"]
    assert "S000007_P0003_T00" in {s.id for s in dataset.samples("train")}
    left_out = CslDaily(tmp_path, unlisted_split=None)
    assert len(left_out.samples("train")) == 18400


def test_phoenix2014_keeps_every_dev_sample_and_drops_train_row_2390(reference, tmp_path):
    dataset = Phoenix2014(build_phoenix2014(reference / "cslr" / "phoenix2014", tmp_path))
    assert len(dataset.samples("dev", official_skip_last=True)) == 540
    assert len(dataset.samples("train")) == 5671
    assert dataset.dropped_rows("train") == [BROKEN_PHOENIX_ROW]
    kept = Phoenix2014(tmp_path, drop_official_broken_rows=False)
    assert len(kept.samples("train")) == 5672 and kept.dropped_rows("train") == []
    assert kept.samples("train")[2390].id == "13April_2011_Wednesday_tagesschau_default-14"


def test_phoenix2014_dev_test_words_equal_the_rwth_scoring_reference(reference, tmp_path):
    dataset = Phoenix2014(build_phoenix2014(reference / "cslr" / "phoenix2014", tmp_path))
    for split in ("dev", "test"):
        rwth = {s.file: s.words for s in read_stm(reference / "cslr" / "phoenix2014" /
                                                   f"phoenix2014-groundtruth-{split}.stm")}
        assert {s.file: s.words for s in dataset.reference(split)} == rwth


# -- synthetic releases on disk --------------------------------------------------------------------------------

def _frames(seed: int, count: int = 6, size: int = 32) -> np.ndarray:
    frames = np.random.default_rng(seed).integers(0, 256, size=(count, size, size, 3), dtype=np.uint8)
    frames[0] = (255, 0, 0)  # a pure red first frame: channel order shows
    return frames


def test_synthetic_phoenix_round_trip_integrity_and_pixels(tmp_path):
    ids = ("01April_2010_Thursday_heute_default-1", "02April_2010_Friday_tagesschau_default-2",
           "03April_2010_Saturday_heute_default-3")
    samples = [Phoenix2014.make_sample("dev", i, ["__ON__", "REGEN", "NORD"], signer="Signer04") for i in ids]
    good, missing, corrupt = ids
    write_phoenix2014(tmp_path, {"dev": samples}, {good: _frames(0), corrupt: _frames(1)})
    first = sorted((tmp_path / "features" / "fullFrame-256x256px" / "dev" / corrupt / "1").iterdir())[0]
    first.write_bytes(b"\x89PNG\r\n\x1a\n not a png")

    dataset = Phoenix2014(tmp_path)
    assert dataset.samples("dev") == samples
    report = dataset.integrity("dev")
    assert (report.nominal, report.present, report.missing, report.unreadable) == (3, 1, 1, 1)
    assert (report.present_ids, report.missing_ids, report.unreadable_ids) == ([good], [missing], [corrupt])
    assert report.summary() == "phoenix2014 dev: 1 of 3 present, 1 missing, 1 unreadable"

    exact = dataset.read_frames(samples[0], size=None)
    assert exact.dtype == np.uint8 and np.array_equal(exact, _frames(0))
    assert tuple(exact[0, 0, 0]) == (255, 0, 0)
    resized = dataset.read_frames(samples[0])
    assert resized.shape == (6, 256, 256, 3)
    from bench.data.resize import resize  # OpenCV's Lanczos where installed, else Pillow's

    assert np.array_equal(resized[3], resize(_frames(0)[3], (256, 256), "lanczos4"))
    with pytest.raises(DatasetError, match="no frames match"):
        dataset.read_frames(samples[1])
    with pytest.raises(DatasetError, match="cannot decode"):
        dataset.read_frames(samples[2])


def test_deep_integrity_decodes_every_frame(tmp_path):
    sample = Phoenix2014T.make_sample("test", "25October_2010_Monday_tagesschau-17", ["REGEN"])
    write_phoenix2014t(tmp_path, {"test": [sample]}, {sample.id: _frames(2)})
    last = sorted((tmp_path / "features" / "fullFrame-256x256px" / "test" / sample.id).iterdir())[-1]
    last.write_bytes(last.read_bytes()[:40])  # truncated
    dataset = Phoenix2014T(tmp_path)
    assert dataset.integrity("test").present_ids == [sample.id]
    assert dataset.integrity("test", deep=True).unreadable_ids == [sample.id]


def test_csl_daily_and_csl_writers_round_trip_jpeg_frames(tmp_path):
    daily = {"train": [CslDaily.make_sample("train", "S000000_P0000_T00", ["他", "今天"], num_frames=6)],
             "dev": [CslDaily.make_sample("dev", "S000020_P0000_T00", ["年龄", "4"], num_frames=6)]}
    write_csl_daily(tmp_path / "daily", daily, {"S000020_P0000_T00": _frames(3, size=48)})
    dataset = CslDaily(tmp_path / "daily")
    assert dataset.samples("dev") == daily["dev"] and dataset.samples("test") == []
    frames = dataset.read_frames(dataset.samples("dev")[0], size=None)
    assert frames.shape == (6, 48, 48, 3) and np.abs(frames[0].astype(int) - (255, 0, 0)).max() <= 2  # JPEG

    csl = {"dev": [Csl.make_sample("dev", "/disk1/dataset/CSL_Continuous/video450", ["他", "妈妈"])]}
    write_csl(tmp_path / "csl", csl, {"/disk1/dataset/CSL_Continuous/video450": _frames(4, count=2)})
    dataset = Csl(tmp_path / "csl")
    assert dataset.samples("dev") == csl["dev"] and dataset.samples("dev")[0].frames == "video450/*.jpg"
    assert dataset.read_frames(csl["dev"][0]).shape == (2, 256, 256, 3)
    assert dataset.integrity("dev").present == 1


def test_csl_daily_keeps_video_map_order_not_split_file_order(tmp_path):
    (tmp_path / "video_map.txt").write_text(
        "index|name|length|gloss|char|word|postag\n0|B|5|X Y||| \n1|A|7|Y||| \n2|C|3|Z|||\n", encoding="utf-8")
    (tmp_path / "split_1.txt").write_text("name|split\nA|dev\nB|dev\nC|test\n", encoding="utf-8")
    dataset = CslDaily(tmp_path)
    assert [s.id for s in dataset.samples("dev")] == ["B", "A"]
    assert [s.num_frames for s in dataset.samples("dev")] == [5, 7]


# -- errors a user can act on ----------------------------------------------------------------------------------

def test_wrong_header_names_the_file_and_both_headers(tmp_path):
    path = tmp_path / "annotations" / "manual" / "dev.corpus.csv"
    path.parent.mkdir(parents=True)
    path.write_text("name|video|start|end|speaker|orth|translation\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"dev\.corpus\.csv:1: expected the header 'id\|folder\|signer\|annotation'"):
        Phoenix2014(tmp_path).samples("dev")


def test_wrong_field_count_names_file_and_line(tmp_path):
    (tmp_path / "dev.txt").write_text("/data/video1|A B\n/data/video2\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"dev\.txt:2: expected 2 '\|'-separated fields"):
        Csl(tmp_path).samples("dev")


def test_missing_files_and_folders_say_what_was_looked_for(tmp_path):
    with pytest.raises(DatasetError, match=f"no annotation folder at {tmp_path / 'annotations' / 'manual'}"):
        Phoenix2014T(tmp_path).samples("dev")
    (tmp_path / "annotations" / "manual").mkdir(parents=True)
    with pytest.raises(DatasetError, match="PHOENIX-2014-T.test.corpus.csv"):
        Phoenix2014T(tmp_path).samples("test")
    with pytest.raises(DatasetError, match="video_map.txt not found at"):
        CslDaily(tmp_path).samples("dev")
    with pytest.raises(DatasetError, match="has no split 'test'; choose one of train, dev"):
        Csl(tmp_path).samples("test")


def test_registry_names_every_dataset():
    continuous = [n for n in DATASETS.names() if get_dataset(n).task == "continuous"]
    assert continuous == ["csl", "csl_daily", "phoenix2014", "phoenix2014t", "synthetic_phoenix2014"]
    assert get_dataset("phoenix2014") is Phoenix2014
    with pytest.raises(KeyError, match="did you mean phoenix2014"):
        get_dataset("phoenix-2014")
