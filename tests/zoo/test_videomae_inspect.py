"""Official-layout VideoMAEv2 / SignNet checkpoints (the released ``{"module": fp16}``, ``{"model": ...}`` and
DeepSpeed's ``mp_rank_00_model_states.pt``) load strictly; a renamed key, a changed shape and a head of another
size (which the official loader drops silently) are refused, named as the file spells them."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from official_files import read_manifest
from videomae_files import fp16_state, save_deepspeed, save_released
from zoo.checkpoints import CheckpointError
from zoo.loader import load_model

runner = CliRunner()
RENAMED = ("blocks.3.attn.q_bias", "blocks.3.attn.q_bias_")
RESHAPED = "patch_embed.proj.weight"  # official [768, 3, 2, 16, 16]


@pytest.fixture(scope="module")
def files(reference, tmp_path_factory):
    state = fp16_state(read_manifest(reference / "checkpoints" / "videomaev2_vitb16_k710.tsv"))
    folder = tmp_path_factory.mktemp("videomae")
    broken = dict(state)
    broken[RENAMED[1]] = broken.pop(RENAMED[0])
    broken[RESHAPED] = torch.zeros(768, 3, 1, 16, 16, dtype=torch.float16)
    (folder / "checkpoint-best").mkdir()
    return {"state": state, "released": save_released(folder / "vit_b_k710_dl_from_giant.pth", state),
            "model": save_released(folder / "model_key.pth", state, key="model"),
            "deepspeed": save_deepspeed(folder / "checkpoint-best" / "mp_rank_00_model_states.pt", state),
            "broken": save_released(folder / "broken.pth", broken)}


@pytest.mark.parametrize("layout", ["released", "model", "deepspeed"])
def test_official_layouts_load_strictly(files, layout):
    loaded = load_model("videomaev2_vitb16_k710", str(files[layout]))
    assert loaded.report.ok and loaded.num_classes == 710
    got = loaded.model.state_dict()
    assert len(got) == 162 and all(torch.equal(got[k], v.float()) for k, v in files["state"].items())


def test_inspect_exits_0_on_the_released_and_deepspeed_files(files):
    for layout, model in (("released", "videomaev2_vitb16_k710"), ("deepspeed", "signnet")):
        out = runner.invoke(app, ["inspect", "--model", model, "--checkpoint", str(files[layout])])
        assert out.exit_code == 0, out.output
        assert "strict load: OK (162 tensors" in out.output


def test_renamed_key_and_changed_shape_are_named(files):
    out = runner.invoke(app, ["inspect", "--model", "videomaev2_vitb16_k710", "--checkpoint", str(files["broken"])])
    assert out.exit_code == 1
    text = " ".join(out.output.split())
    assert "blocks.3.attn.q_bias_" in text and "patch_embed.proj.weight" in text
    with pytest.raises(CheckpointError) as err:
        load_model("videomaev2_vitb16_k710", str(files["broken"]))
    assert f"missing from the checkpoint: {RENAMED[0]}\n" in str(err.value)
    assert f"not in the model: {RENAMED[1]}\n" in str(err.value)
    assert f"shape of {RESHAPED}: model [768, 3, 2, 16, 16], checkpoint [768, 3, 1, 16, 16]" in str(err.value)


def test_a_head_of_another_size_is_refused(files):
    """run_class_finetuning.py deletes a mis-sized head.weight / head.bias and evaluates a random head."""
    with pytest.raises(CheckpointError, match=r"has 710 classes, the data needs 2000 .*head\.weight"):
        load_model("signnet", str(files["deepspeed"]), num_classes=2000)


def test_a_signnet_deepspeed_file_gives_the_trained_models_logits(tmp_path):
    trained = load_model("signnet_tiny", num_classes=7).model.eval()
    with torch.no_grad():
        for tensor in trained.state_dict().values():
            tensor.add_(torch.randn_like(tensor) * 0.01)
    path = save_deepspeed(tmp_path / "mp_rank_00_model_states.pt", trained.state_dict())
    loaded = load_model("signnet_tiny", str(path), num_classes=7)
    clip = torch.randn(2, 3, 16, 128, 128)
    with torch.no_grad():
        assert torch.equal(loaded.model.eval()(clip)["logits"], trained(clip)["logits"])
