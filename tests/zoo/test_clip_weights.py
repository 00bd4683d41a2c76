"""CLIP backbone files: OpenAI's TorchScript layout is read without running it, transformers' safetensors give the
same weights, the mapped ViT computes what CLIP's own module computes, sha256 and freeze_fp16 behave as documented."""

from __future__ import annotations

import pickle
import zipfile

import pytest
import torch

from clip_files import CLIP, write_openai_clip, write_transformers_clip
from zoo.checkpoints import CheckpointError
from zoo.clip_weights import OPENAI_FILES, read_clip_backbone, read_torchscript_tensors
from zoo.signvlm import TINY_VIT, build_signvlm_tiny, init_clip_backbone


@pytest.fixture(scope="module")
def openai_file(tmp_path_factory):
    return write_openai_clip(tmp_path_factory.mktemp("clip") / "tiny_clip.pt", TINY_VIT)


def test_torchscript_archive_is_read_as_tensors(openai_file):
    path, visual = openai_file
    tensors = read_torchscript_tensors(path)
    assert {k[len("visual."):] for k in tensors if k.startswith("visual.")} == set(visual)
    assert all(torch.equal(tensors["visual." + k], v) for k, v in visual.items())
    assert tensors["visual.conv1.weight"].dtype == torch.float16  # as saved; the mapping casts to float32


def test_a_pickle_naming_other_code_is_refused(openai_file, tmp_path):
    path, _ = openai_file
    bad = tmp_path / "evil.pt"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("/data.pkl"):
                data = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00echo\x85R."  # os.system("echo")
            dst.writestr(name, data)
    with pytest.raises(pickle.UnpicklingError, match="refusing os.system"):
        read_torchscript_tensors(bad)


def test_both_layouts_give_the_same_backbone(openai_file, tmp_path):
    path, visual = openai_file
    hub = write_transformers_clip(tmp_path / "model.safetensors", visual)
    a, b = read_clip_backbone(path)[0], read_clip_backbone(hub)[0]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(a["blocks.1.attn.k_proj.weight"], visual["transformer.resblocks.1.attn.in_proj_weight"][64:128].float())
    assert torch.equal(a["patch_embed.proj.bias"], torch.zeros(64))


def test_mapped_vit_computes_what_clip_computes(openai_file):
    """Our last block's output equals CLIP's own transformer output (before ln_post) on the same weights."""
    path, visual = openai_file
    model = build_signvlm_tiny(3)
    init_clip_backbone(model, str(path))
    clip = CLIP(TINY_VIT).visual
    clip.load_state_dict({k: v.float() for k, v in visual.items()})
    frames = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        x = clip.conv1(frames).flatten(2).permute(0, 2, 1)
        x = torch.cat([clip.class_embedding.expand(2, 1, -1), x], dim=1) + clip.positional_embedding
        want = clip.transformer(clip.ln_pre(x).permute(1, 0, 2)).permute(1, 0, 2)
        got = model.backbone(frames, taps=1)[0]["out"]
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)


def test_a_file_named_as_openais_must_have_its_sha256(openai_file, tmp_path):
    path, _ = openai_file
    fake = tmp_path / OPENAI_FILES["ViT-B/16"][0]
    fake.write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError, match=OPENAI_FILES["ViT-B/16"][1]):
        read_clip_backbone(fake, "ViT-B/16")
    _, lines = read_clip_backbone(path, "ViT-B/16")  # another name: read, and said not to be OpenAI's
    assert "NOT OpenAI's ViT-B-16.pt" in lines[0]


def test_wrong_backbone_shape_is_named(openai_file):
    path, _ = openai_file
    model = build_signvlm_tiny(3)
    model.preset = TINY_VIT.__class__(dim=64, layers=4, heads=4, patch=8, input_size=64)  # another patch size
    with pytest.raises(CheckpointError, match=r"shape of pos_embed: model \[65, 64\], checkpoint \[17, 64\]"):
        init_clip_backbone(model, str(path))


def test_freeze_fp16_keeps_layernorms_in_float32(openai_file):
    path, _ = openai_file
    fp32, fp16 = build_signvlm_tiny(3), build_signvlm_tiny(3, freeze_fp16=True)
    for model in (fp32, fp16):
        init_clip_backbone(model, str(path))
    vit = fp16.backbone
    assert vit.blocks[0].attn.q_proj.weight.dtype == vit.patch_embed.proj.weight.dtype == torch.float16
    assert vit.pos_embed.dtype == vit.cls_token.dtype == torch.float16
    assert vit.blocks[0].norm1.weight.dtype == vit.ln_pre.weight.dtype == torch.float32
    fp16.load_state_dict(fp32.state_dict())
    clip = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        a, b = fp32.eval()(clip)["logits"], fp16.eval()(clip)["logits"]
    assert b.dtype == torch.float32 and float((a - b).abs().max() / a.abs().max()) < 1e-2
