"""bench inspect on official-format checkpoints built from the manifests: exit 0, and named failures."""

import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from official_files import official_state, read_manifest, save_official
from zoo.checkpoints import CheckpointError
from zoo.loader import load_model

runner = CliRunner()
MANIFESTS = {"corrnet_phoenix2014": 1296, "corrnet_csl_daily": 2001}


@pytest.fixture(params=sorted(MANIFESTS))
def official(request, reference, tmp_path):
    manifest = read_manifest(reference / "checkpoints" / f"{request.param}.tsv")
    state = official_state(manifest)
    return request.param, manifest, state, save_official(tmp_path / f"{request.param}.pt", state)


def test_official_file_loads_strictly(official):
    name, manifest, state, path = official
    out = runner.invoke(app, ["inspect", "--model", "corrnet", "--checkpoint", str(path)])
    assert out.exit_code == 0, out.output
    assert f"strict load: OK ({len(manifest)} tensors" in out.output
    loaded = load_model("corrnet", str(path), num_classes=MANIFESTS[name])
    got = loaded.model.state_dict()
    assert all(torch.equal(got[k], state[k]) for k in manifest)  # the weights are really the file's
    expected_variant = (2, 3, 4) if "phoenix" in name else (3, 4)
    assert loaded.variant["correlation_after"] == expected_variant


def test_renamed_key_fails_naming_it(official, tmp_path):
    _, _, state, _ = official
    state = dict(state)
    state["temporal_model.rnn.weight_hh_l9"] = state.pop("temporal_model.rnn.weight_hh_l1")
    path = save_official(tmp_path / "renamed.pt", state)
    out = runner.invoke(app, ["inspect", "--model", "corrnet", "--checkpoint", str(path)])
    assert out.exit_code == 1
    assert "missing from the checkpoint: temporal_model.rnn.weight_hh_l1" in out.output
    assert "not in the model: temporal_model.rnn.weight_hh_l9" in out.output


def test_changed_shape_fails_naming_it(official, tmp_path):
    _, _, state, _ = official
    state = dict(state)
    state["conv1d.temporal_conv.4.weight"] = torch.zeros(1024, 1024, 3)
    path = save_official(tmp_path / "shape.pt", state)
    out = runner.invoke(app, ["inspect", "--model", "corrnet", "--checkpoint", str(path)])
    assert out.exit_code == 1
    assert "shape of conv1d.temporal_conv.4.weight: model [1024, 1024, 5], checkpoint [1024, 1024, 3]" in out.output
    with pytest.raises(CheckpointError, match="conv1d.temporal_conv.4.weight"):
        load_model("corrnet", str(path))


def test_class_count_mismatch_is_named(official):
    name, _, _, path = official
    with pytest.raises(CheckpointError, match=f"has {MANIFESTS[name]} classes, the data needs 1117"):
        load_model("corrnet", str(path), num_classes=1117)


def test_unshared_classifier_is_refused(official, tmp_path):
    _, _, state, _ = official
    state = dict(state)
    state["conv1d.fc.weight"] = state["classifier.weight"] + 1
    path = save_official(tmp_path / "unshared.pt", state)
    out = runner.invoke(app, ["inspect", "--model", "corrnet", "--checkpoint", str(path)])
    assert out.exit_code == 1 and "should be one shared tensor" in out.output


def test_another_models_checkpoint_is_named_for_what_it_is(official):
    name, manifest, _, path = official
    # CorrNet's file given to the RGB S3D (another key layout, another weights key): named before any class count
    out = runner.invoke(app, ["inspect", "--model", "s3d_rgb_tiny", "--checkpoint", str(path), "--num-classes", "7"])
    assert out.exit_code == 2 and out.stdout == ""
    assert out.stderr.startswith(f"error: {path}: this is a corrnet checkpoint, not s3d_rgb_tiny: {len(manifest)} of "
                                 f"its {len(manifest)} keys are corrnet's, 0 are s3d_rgb_tiny's; pass --model corrnet")
    # VAC has a subset of CorrNet's keys: the closer family wins, not the class count
    with pytest.raises(CheckpointError, match="this is a corrnet checkpoint, not vac: .* are vac's"):
        load_model("vac", str(path), num_classes=1117)


def test_our_checkpoint_of_another_card_is_named_before_its_class_count(tmp_path):
    from zoo.checkpoints import save_checkpoint

    model = load_model("corrnet_tiny", num_classes=7).model
    path = save_checkpoint(tmp_path / "best.safetensors", model.state_dict(), {"card": "corrnet_tiny", "num_classes": 7})
    out = runner.invoke(app, ["inspect", "--model", "s3d_rgb_tiny", "--checkpoint", str(path), "--num-classes", "20"])
    assert out.exit_code == 2
    assert out.stderr == (f"error: {path}: this is a corrnet_tiny checkpoint (its metadata says so), not s3d_rgb_tiny; "
                          "pass --model corrnet_tiny\n")
