"""SignVLM/EVL keys and shapes equal the official manifests: the decoder/head (the checkpoint) and the frozen CLIP
backbone (kept apart), and both CLIP file layouts map onto every backbone key with its shape (meta tensors)."""

from __future__ import annotations

import pytest
import torch

from official_files import read_manifest
from zoo import get_card
from zoo.clip_weights import map_openai, map_transformers
from zoo.layers.vit import VIT_PRESETS

CASES = [("signvlm", "signvlm_vitl14_24f_wlasl100", 100, "ViT-L/14"),
         ("evl_vitb16_8f_k400", "evl_vitb16_8f_k400", 400, "ViT-B/16")]


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def openai_visual_shapes(arch: str) -> dict[str, torch.Tensor]:
    """OpenAI's ``visual.*`` state of ``arch`` (CLIP's ``VisionTransformer``), as meta tensors."""
    p = VIT_PRESETS[arch]
    d = p.dim
    shapes = {"class_embedding": (d,), "positional_embedding": (p.grid ** 2 + 1, d), "proj": (d, 768 if d == 1024 else 512),
              "conv1.weight": (d, 3, p.patch, p.patch), "ln_pre.weight": (d,), "ln_pre.bias": (d,),
              "ln_post.weight": (d,), "ln_post.bias": (d,)}
    for i in range(p.layers):
        b = f"transformer.resblocks.{i}."
        shapes.update({b + "attn.in_proj_weight": (3 * d, d), b + "attn.in_proj_bias": (3 * d,),
                       b + "attn.out_proj.weight": (d, d), b + "attn.out_proj.bias": (d,),
                       b + "mlp.c_fc.weight": (4 * d, d), b + "mlp.c_fc.bias": (4 * d,),
                       b + "mlp.c_proj.weight": (d, 4 * d), b + "mlp.c_proj.bias": (d,)})
        shapes.update({b + f"{n}.{leaf}": (d,) for n in ("ln_1", "ln_2") for leaf in ("weight", "bias")})
    return {k: torch.empty(s, device="meta", dtype=torch.float16) for k, s in shapes.items()}


@pytest.mark.parametrize("card, manifest, classes, arch", CASES, ids=[c[0] for c in CASES])
def test_decoder_and_backbone_keys_match_the_manifests(reference, card, manifest, classes, arch):
    with torch.device("meta"):
        model = get_card(card).build(classes)
        backbone = _shapes(model.backbone)
    folder = reference / "checkpoints"
    assert _shapes(model) == read_manifest(folder / f"{manifest}.tsv")
    assert backbone == read_manifest(folder / f"{manifest}.backbone.tsv")
    assert not any(k.startswith(("backbone", "blocks.")) for k in model.state_dict())  # the backbone is kept apart


@pytest.mark.parametrize("card, manifest, classes, arch", CASES, ids=[c[0] for c in CASES])
def test_clip_layouts_map_onto_every_backbone_key(reference, card, manifest, classes, arch):
    want = read_manifest(reference / "checkpoints" / f"{manifest}.backbone.tsv")
    visual = openai_visual_shapes(arch)
    from_openai = map_openai(visual)
    assert {k: tuple(v.shape) for k, v in from_openai.items()} == want
    assert from_openai["pos_embed"].dtype == torch.float32  # cast as EVL's loader does
    from_hub = map_transformers(_transformers_meta(visual))
    assert {k: tuple(v.shape) for k, v in from_hub.items()} == want


def _transformers_meta(visual: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    import clip_files

    # transformers_state only slices and renames: meta tensors go through it unchanged in shape
    return clip_files.transformers_state(visual)


def test_cards_describe_the_official_files():
    for name in ("signvlm", "evl_vitb16_8f_k400", "signvlm_tiny"):
        card = get_card(name)
        assert card.task == "isolated" and card.checkpoint_key == "model" and card.key_prefix == "module."
        assert card.classifier_key == "proj.2.weight" and card.protocol.outputs == ("logits",)
    assert get_card("signvlm").separate_backbone and not get_card("signvlm_tiny").separate_backbone
    assert get_card("signvlm").protocol.frames == 24 and get_card("evl_vitb16_8f_k400").protocol.frames == 8
    signvlm = get_card("signvlm")
    assert signvlm.protocol.reported_view == "spatial3" and signvlm.protocol.sampling == "strided"
    assert signvlm.protocol.stride_for("wlasl100") == 4 and signvlm.protocol.stride_for("karsl502") == 8
    assert signvlm.input.spatial == "short_side" and signvlm.input.normalize_first
    assert signvlm.input.mean_std("wlasl100") == ((0.45,) * 3, (0.225,) * 3)
    assert signvlm.input.mean_std("karsl502")[0] == (0.48145466, 0.4578275, 0.40821073)
    notes = " ".join(get_card("evl_vitb16_8f_k400").notes)
    assert "82.8" in notes and "github OpenGVLab/efficient-video-recognition" in notes
    assert "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836" in " ".join(get_card("signvlm").notes)
