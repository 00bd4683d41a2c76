"""bench eval on NLA-SLR's own data package (WLASL2000.zip + train/dev/test.pkl + <N>.json): the same synthetic
clips give the same per-sample outputs as the extracted release; a seq_len that differs from the clip is used and
reported; --videos points at clips elsewhere."""

import json
import shutil

import pytest
import torch
from typer.testing import CliRunner

from bench import api
from bench.cli import app
from bench.data.synthetic_isolated import as_nla_slr_package, make_dataset
from bench.runners.isolated import IsolatedEval
from zoo.checkpoints import save_checkpoint
from zoo.loader import load_model


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """(release reader, package reader, checkpoint): one synthetic data set written in both layouts."""
    root = tmp_path_factory.mktemp("nla_slr")
    release, keypoints = make_dataset(root / "release", {"train": 1, "test": 1}, seed=3, signers=3)
    package, _ = as_nla_slr_package(release, keypoints, root / "package")
    torch.manual_seed(0)
    model = load_model("s3d_rgb_tiny", num_classes=len(release.classes())).model
    ckpt = save_checkpoint(root / "tiny.safetensors", model.state_dict(),
                           {"card": "s3d_rgb_tiny", "num_classes": len(release.classes())})
    return release, package, ckpt


def evaluate(data_root, ckpt, results, **extra):
    return api.evaluate(IsolatedEval("s3d_rgb_tiny", "synthetic_wlasl", "test", data_root, str(ckpt),
                                     results_dir=results, workers=1, **extra))


def rows(result) -> dict[str, dict]:
    lines = (result.run_dir / "scores.jsonl").read_text().splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def test_package_is_read_as_it_is_and_gives_the_release_outputs(data, tmp_path):
    release, package, ckpt = data
    assert sorted(p.name for p in package.root.iterdir()) == [
        "12.json", "WLASL2000.zip", "dev.pkl", "keypoints_hrnet_dark_coco_wholebody.pkl", "test.pkl", "train.pkl"]
    assert package.layout_read == "nla_slr_package" and release.layout_read == "release"
    extracted = evaluate(release.root, ckpt, tmp_path / "release")
    zipped = evaluate(package.root, ckpt, tmp_path / "package")
    assert zipped.evaluated == extracted.evaluated == 12
    # ranks, ties, top-10 probabilities and frame counts of every sample; the package's pickles carry no signer
    assert rows(zipped) == {i: {k: v for k, v in row.items() if k != "signer"} for i, row in rows(extracted).items()}
    assert all("signer" in row for row in rows(extracted).values())
    assert zipped.metrics == extracted.metrics
    record = json.loads(zipped.records[0].read_text())
    assert record["extra"]["data"] == {"layout": "nla_slr_package", "annotation": str(package.root / "test.pkl"),
                                       "videos": str(package.root / "WLASL2000.zip"), "frame_count_mismatches": {}}
    assert json.loads(extracted.records[0].read_text())["extra"]["data"]["layout"] == "release"
    assert set(record["extra"]["ties"]) == {"ties", "tie_dependent_top1", "tie_dependent_top5"}


def test_a_seq_len_unlike_the_clip_wins_and_is_reported(data, tmp_path):
    release, _, ckpt = data
    clip = release.samples("test")[3]
    stored = release.stored_frame_count(clip)
    package, _ = as_nla_slr_package(release, release.root / "keypoints_synthetic_wholebody.pkl", tmp_path / "pkg",
                                    seq_lens={clip.id: stored - 3})
    sample = next(s for s in package.samples("test") if s.id == clip.id)
    assert package.frame_count(sample) == stored - 3 - 2  # the official vlen = seq_len - 2, not the container's
    with pytest.warns(UserWarning, match=rf"1 clips whose seq_len differs.*{clip.id}: {stored - 3} vs {stored}"):
        result = evaluate(package.root, ckpt, tmp_path / "results")
    assert result.evaluated == 12 and result.integrity.frame_count_mismatches == {
        clip.id: {"seq_len": stored - 3, "stored": stored}}
    record = json.loads(result.records[0].read_text())
    assert record["extra"]["data"]["frame_count_mismatches"] == {clip.id: {"seq_len": stored - 3, "stored": stored}}
    assert any("seq_len used" in note for note in record["notes"])


def test_cli_reads_the_package_and_takes_videos_elsewhere(data, tmp_path):
    _, package, ckpt = data
    moved = tmp_path / "clips" / "all_clips.zip"
    moved.parent.mkdir()
    root = tmp_path / "package"
    shutil.copytree(package.root, root, ignore=shutil.ignore_patterns("WLASL2000.zip"))
    shutil.copy(package.root / "WLASL2000.zip", moved)
    runner = CliRunner()
    base = ["eval", "--model", "s3d_rgb_tiny", "--dataset", "synthetic_wlasl", "--data-root", str(root),
            "--checkpoint", str(ckpt), "--limit", "2", "--views", "1view", "--results", str(tmp_path / "results")]
    out = runner.invoke(app, base)
    assert out.exit_code == 0, out.output
    assert "0 of 2 samples evaluated" in out.output and "missing: 2" in out.output  # no WLASL2000.zip in the root
    out = runner.invoke(app, base + ["--videos", str(moved), "--restart"])
    assert out.exit_code == 0, out.output
    assert "2 of 2 samples evaluated" in out.output
