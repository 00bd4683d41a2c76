"""Official-layout NLA-SLR checkpoints (best.ckpt, manifest keys and shapes, random values) load strictly; a renamed
key and a changed shape are named, by the API and by ``bench inspect``."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from official_islr_files import PREFIX, official_islr_state, read_manifest, save_official_best
from zoo.checkpoints import CheckpointError
from zoo.loader import load_model

runner = CliRunner()
RENAMED = ("visual_head_fuse.word_emb_mapper.weight", "visual_head_fuse.word_mapper.weight")
RESHAPED = "visual_backbone_fourstream.rgb_low2high.2.conv.weight"  # official [480, 480, 3, 1, 1]


@pytest.fixture(scope="module")
def official(reference, tmp_path_factory):
    manifest = read_manifest(reference / "checkpoints" / "nla_slr_wlasl2000.tsv")
    state = official_islr_state(manifest)
    path = save_official_best(tmp_path_factory.mktemp("nla_slr") / "best.ckpt", state)
    broken = dict(state)
    broken[PREFIX + RENAMED[1]] = broken.pop(PREFIX + RENAMED[0])
    broken[PREFIX + RESHAPED] = torch.zeros(480, 480, 5, 1, 1)
    broken_path = save_official_best(path.with_name("broken.ckpt"), broken)
    return manifest, state, path, broken_path


def test_official_file_loads_strictly(official):
    manifest, state, path, _ = official
    loaded = load_model("nla_slr", str(path))  # the class count from the card's classifier_key
    assert loaded.report.ok and loaded.variant == {"language": True} and loaded.num_classes == 2000
    got = loaded.model.state_dict()
    assert len(got) == len(manifest) == 1922
    assert all(torch.equal(got[key[len(PREFIX):]], value) for key, value in state.items())  # the file's weights


def test_renamed_key_and_changed_shape_are_named(official):
    *_, broken_path = official
    report = load_model("nla_slr", str(broken_path), num_classes=2000, check_only=True).report
    assert report.missing == [RENAMED[0]] and report.unexpected == [RENAMED[1]]
    assert report.mismatched == [(RESHAPED, (480, 480, 3, 1, 1), (480, 480, 5, 1, 1))]
    with pytest.raises(CheckpointError, match="rgb_low2high.2.conv.weight: model \\[480, 480, 3, 1, 1\\]"):
        load_model("nla_slr", str(broken_path), num_classes=2000)


def test_class_count_mismatch_is_named(official):
    _, _, path, _ = official
    with pytest.raises(CheckpointError, match="has 2000 classes, the data needs 1000"):
        load_model("nla_slr", str(path), num_classes=1000)


def test_a_key_outside_the_prefix_is_refused(official, tmp_path):
    _, state, _, _ = official
    path = save_official_best(tmp_path / "module.ckpt", {"module." + k: v for k, v in list(state.items())[:3]})
    with pytest.raises(CheckpointError, match="expected every key under 'recognition_network.'"):
        load_model("nla_slr", str(path), num_classes=2000)


def test_inspect_exits_0_on_the_official_layout(official):
    _, _, path, _ = official
    out = runner.invoke(app, ["inspect", "--model", "nla_slr", "--checkpoint", str(path)])
    assert out.exit_code == 0, out.output
    assert "strict load: OK (1922 tensors" in out.output


@pytest.mark.parametrize("card, manifest", [("vknet64", "vknet64_wlasl2000"), ("s3d_rgb64", "s3d_rgb64_wlasl2000"),
                                            ("s3d_pose64", "s3d_pose64_wlasl2000")])
def test_inspect_every_stage_manifest(reference, tmp_path, card, manifest):
    state = official_islr_state(read_manifest(reference / "checkpoints" / f"{manifest}.tsv"))
    path = save_official_best(tmp_path / "best.ckpt", state)
    out = runner.invoke(app, ["inspect", "--model", card, "--checkpoint", str(path)])
    assert out.exit_code == 0, out.output
    assert f"strict load: OK ({len(state)} tensors" in out.output
    renamed = dict(state)
    key = next(k for k in renamed if "backbone" in k and k.endswith(".weight"))
    renamed[key[:-len("weight")] + "kernel"] = renamed.pop(key)
    out = runner.invoke(app, ["inspect", "--model", card, "--checkpoint",
                              str(save_official_best(tmp_path / "renamed.ckpt", renamed))])
    assert out.exit_code == 1 and f"missing from the checkpoint: {key}" in out.output  # spelled as in the file


def test_inspect_exits_1_naming_the_renamed_key_and_the_changed_shape(official):
    *_, broken_path = official
    out = runner.invoke(app, ["inspect", "--model", "nla_slr", "--checkpoint", str(broken_path)])
    assert out.exit_code == 1, out.output
    assert f"missing from the checkpoint: {PREFIX + RENAMED[0]}" in out.output  # keys as the file spells them
    assert f"not in the model: {PREFIX + RENAMED[1]}" in out.output
    assert f"shape of {PREFIX + RESHAPED}: model [480, 480, 3, 1, 1], checkpoint [480, 480, 5, 1, 1]" in out.output
