"""Official-layout SignVLM/EVL checkpoints (``{"model": {"module.<key>": ...}}``, manifest keys and shapes, random
values) load strictly; renamed keys, changed shapes, another frame count or class count are named as the file
spells them; the backbone comes from a separate CLIP file and is required for use."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from clip_files import write_openai_clip
from official_islr_files import official_islr_state, read_manifest
from zoo.checkpoints import CheckpointError
from zoo.loader import load_model
from zoo.signvlm import TINY_VIT

runner = CliRunner()
RENAMED = ("decoder.cross_attention.2.w1", "decoder.cross_attention.2.w_1")
RESHAPED = "decoder.temporal_conv.1.weight"  # official [1024, 1, 3]


def save_official(path, state: dict[str, torch.Tensor]):
    """What the official ``checkpoint.py`` writes: DDP keys under ``model`` beside the optimiser's state."""
    torch.save({"model": {"module." + k: v for k, v in state.items()}, "optimizer": {"state": {}, "param_groups": []},
                "lr_sched": {"last_epoch": 2500}, "loss_scaler": {"scale": 65536.0}, "next_step": 2500}, path)
    return path


@pytest.fixture(scope="module")
def official(reference, tmp_path_factory):
    manifest = read_manifest(reference / "checkpoints" / "signvlm_vitl14_24f_wlasl100.tsv")
    state = official_islr_state(manifest)
    folder = tmp_path_factory.mktemp("signvlm")
    path = save_official(folder / "checkpoint-10000.pth", state)
    broken = dict(state)
    broken[RENAMED[1]] = broken.pop(RENAMED[0])
    broken[RESHAPED] = torch.zeros(1024, 1, 5)
    frames16 = {k: v[:16] if ".temporal_pos_embed." in k else v for k, v in state.items()}
    return (manifest, state, path, save_official(folder / "broken.pth", broken),
            save_official(folder / "frames16.pth", frames16))


def test_official_file_loads_strictly(official):
    manifest, state, path, *_ = official
    loaded = load_model("signvlm", str(path), check_only=True)  # no backbone: inspection only
    assert loaded.report.ok and loaded.num_classes == 100 and loaded.backbone is None
    got = loaded.model.state_dict()
    assert len(got) == len(manifest) == 97 and all(torch.equal(got[k], v) for k, v in state.items())


def test_use_without_the_backbone_file_is_refused(official):
    _, _, path, *_ = official
    with pytest.raises(CheckpointError, match="hold no backbone"):
        load_model("signvlm", str(path))


def test_renamed_key_and_changed_shape_are_named_as_the_file_spells_them(official):
    *_, broken, _ = official
    report = load_model("signvlm", str(broken), check_only=True).report
    assert report.missing == [RENAMED[0]] and report.unexpected == [RENAMED[1]]
    with pytest.raises(CheckpointError) as err:
        load_model("signvlm", str(broken))
    assert "missing from the checkpoint: module.decoder.cross_attention.2.w1" in str(err.value)
    assert "not in the model: module.decoder.cross_attention.2.w_1" in str(err.value)
    assert "shape of module.decoder.temporal_conv.1.weight: model [1024, 1, 3], checkpoint [1024, 1, 5]" in str(err.value)


def test_another_frame_count_is_named(official):
    *_, frames16 = official
    with pytest.raises(CheckpointError) as err:
        load_model("signvlm", str(frames16))
    text = str(err.value)
    assert "shape of module.decoder.temporal_pos_embed.0: model [24, 1024], checkpoint [16, 1024]" in text
    assert "module.decoder.temporal_pos_embed.0 ties the checkpoint to 16 frames; this card runs 24" in text
    assert load_model("signvlm", str(frames16), check_only=True, num_frames=16).report.ok  # the 16-frame variant


def test_class_count_mismatch_names_the_classifier(official):
    _, _, path, *_ = official
    with pytest.raises(CheckpointError, match=r"has 100 classes, the data needs 226 .*module\.proj\.2\.weight"):
        load_model("signvlm", str(path), num_classes=226)


def test_inspect_exits_0_on_the_official_layouts(official, reference, tmp_path):
    _, _, path, broken, _ = official
    out = runner.invoke(app, ["inspect", "--model", "signvlm", "--checkpoint", str(path)])
    assert out.exit_code == 0, out.output
    assert "strict load: OK (97 tensors" in out.output
    evl = official_islr_state(read_manifest(reference / "checkpoints" / "evl_vitb16_8f_k400.tsv"))
    evl_path = save_official(tmp_path / "k400_vitb16_8f.pth", evl)
    out = runner.invoke(app, ["inspect", "--model", "evl_vitb16_8f_k400", "--checkpoint", str(evl_path)])
    assert out.exit_code == 0 and "strict load: OK (97 tensors" in out.output, out.output
    out = runner.invoke(app, ["inspect", "--model", "signvlm", "--checkpoint", str(broken)])
    assert out.exit_code == 1 and "module.decoder.temporal_conv.1.weight" in out.output


def test_checkpoint_plus_backbone_make_the_model(tmp_path):
    """The tiny card end to end: its decoder from an official-layout file, its backbone from a CLIP file."""
    clip_path, _ = write_openai_clip(tmp_path / "tiny_clip.pt", TINY_VIT)
    from zoo.signvlm import build_signvlm_tiny, init_clip_backbone

    trained = build_signvlm_tiny(7).eval()
    init_clip_backbone(trained, str(clip_path))
    with torch.no_grad():
        for tensor in trained.state_dict().values():
            tensor.add_(0.01)
    ckpt = save_official(tmp_path / "checkpoint.pth", trained.state_dict())
    loaded = load_model("signvlm_tiny", str(ckpt), backbone=str(clip_path))
    assert loaded.model.backbone_source == str(clip_path) and "read without running it" in loaded.backbone[0]
    clip = torch.randn(2, 3, 8, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded.model.eval()(clip)["logits"], trained(clip)["logits"])
    with pytest.raises(CheckpointError, match=r"does not fit the ViT-B/16 backbone: the file has 4 blocks of width "
                                              r"64, the backbone 12 of 768 \(198 problems\)"):
        load_model("evl_vitb16_8f_k400", num_classes=400, backbone=str(clip_path))


def test_an_evl_checkpoint_is_named_for_what_it_is(reference, tmp_path):
    """Same 97 keys, other shapes: an EVL ViT-B/16 file given to signvlm (or to NLA-SLR) names its card."""
    evl = official_islr_state(read_manifest(reference / "checkpoints" / "evl_vitb16_8f_k400.tsv"))
    path = save_official(tmp_path / "k400_vitb16_8f.pth", evl)
    for card in ("signvlm", "nla_slr"):
        with pytest.raises(CheckpointError, match="this is a evl_vitb16_8f_k400 checkpoint"):
            load_model(card, str(path), check_only=True)
