"""VideoMAEv2 / SignNet: keys and shapes equal the official manifest (vit_b_k710_dl_from_giant.pth["module"]), the
fixed position tables are the official sinusoid (native) or its temporal stretch (interpolated), and the cards say
what the official code does."""

from __future__ import annotations

import math

import pytest
import torch

from official_files import read_manifest
from zoo import get_card
from zoo.videomae import interpolated_table, layer_id, position_table


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("card, classes", [("videomaev2_vitb16_k710", 710), ("signnet", 710)])
def test_keys_match_the_manifest(reference, card, classes):
    with torch.device("meta"):
        model = get_card(card).build(classes)
    want = read_manifest(reference / "checkpoints" / "videomaev2_vitb16_k710.tsv")
    assert _shapes(model) == want and len(want) == 162
    assert sum(math.prod(s) for s in want.values()) == 86_773_190  # the manifest's parameter count
    assert "pos_embed" not in model.state_dict()  # fixed: not in the files


def test_signnet_heads_per_dataset():
    from zoo.signnet import CLASSES

    assert CLASSES == {"wlasl2000_signnet": 2000, "wlasl1000_signnet": 1000, "wlasl300_signnet": 300,
                       "wlasl100_signnet": 100, "wlasl2000": 2000, "wlasl1000": 1000, "wlasl300": 300, "wlasl100": 100,
                       "asl_citizen": 2731, "wlasl1518_revised": 1518, "wlasl1573_revised": 1573}
    with torch.device("meta"):
        assert get_card("signnet").build(CLASSES["asl_citizen"]).head.weight.shape == (2731, 768)


def test_native_table_is_the_official_sinusoid():
    table = position_table(3136, 768)[0]
    assert table.shape == (3136, 768) and table.dtype == torch.float32
    # hand-computed entries: pos 1, dims 0/1 -> sin(1), cos(1); pos 5, dims 2/3 -> angle 5 / 10000^(2/768)
    assert table[1, 0].item() == pytest.approx(math.sin(1.0), abs=1e-7)
    assert table[1, 1].item() == pytest.approx(math.cos(1.0), abs=1e-7)
    angle = 5 / 10000 ** (2 / 768)
    assert table[5, 2].item() == pytest.approx(math.sin(angle), abs=1e-7)
    assert table[5, 3].item() == pytest.approx(math.cos(angle), abs=1e-7)
    assert torch.equal(table[:1568], position_table(1568, 768)[0])  # the 32-frame table starts with the 16-frame one


def test_interpolated_table_stretches_the_16_frame_table_along_time():
    base = position_table(8 * 196, 768)[0].view(8, 196, 768)
    stretched = interpolated_table(16, 8, 14, 768)[0].view(16, 196, 768)
    # linear, align_corners=False, 8 -> 16: output t reads source (t + 0.5) / 2 - 0.5, clamped at 0 and 7
    assert torch.equal(stretched[0], base[0]) and torch.equal(stretched[15], base[7])
    assert torch.allclose(stretched[1], 0.75 * base[0] + 0.25 * base[1], atol=1e-6)
    assert torch.allclose(stretched[2], 0.25 * base[0] + 0.75 * base[1], atol=1e-6)
    assert torch.equal(interpolated_table(8, 8, 14, 768), position_table(1568, 768))  # 16 frames: unchanged
    assert not torch.allclose(interpolated_table(16, 8, 14, 768), position_table(3136, 768))
    tiny = get_card("signnet_tiny")  # 16 frames: 16 tubelets x 4 patches of 128 dims; at 8, interpolated from 16
    assert torch.equal(tiny.build(3).pos_embed, position_table(64, 128))
    assert torch.equal(tiny.build(3, pos_table="interpolated").pos_embed, position_table(64, 128))  # 16: unchanged
    eight = tiny.build(3, num_frames=8, pos_table="interpolated").pos_embed
    assert torch.equal(eight, interpolated_table(8, 16, 2, 128))


def test_head_starts_near_zero_and_drop_path_is_linear():
    model = get_card("signnet_tiny").build(100)  # the same initialisation code as ViT-B, 128 wide
    # trunc_normal_(std=0.02) cut at +/-2 (absolute: timm's default, effectively untruncated), then x 0.001
    assert model.head.weight.std().item() == pytest.approx(2e-5, rel=0.05) and not model.head.bias.any()
    assert model.blocks[0].mlp.fc1.weight.std().item() == pytest.approx(0.02, rel=0.05)
    with torch.device("meta"):
        rates = [block.drop_path.rate for block in get_card("signnet").build(100).blocks]
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.3) and rates[1] == pytest.approx(0.3 / 11)
    assert [layer_id(k, 12) for k in ("patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.11.norm1.bias",
                                      "fc_norm.weight", "head.bias")] == [0, 1, 12, 13, 13]


def test_wrong_clip_size_is_named():
    model = get_card("signnet_tiny").build(5)
    with pytest.raises(ValueError, match="clips of 8 frames of 64x64; this model takes 16 frames of 128x128"):
        model(torch.zeros(1, 3, 8, 64, 64))


def test_cards():
    signnet, k710, tiny = get_card("signnet"), get_card("videomaev2_vitb16_k710"), get_card("signnet_tiny")
    for card in (signnet, k710, tiny):
        assert (card.task, card.checkpoint_key, card.other_checkpoint_keys, card.key_prefix, card.classifier_key) == (
            "isolated", "module", ("model",), "", "head.weight")
        assert card.input.mean == (0.485, 0.456, 0.406) and card.input.std == (0.229, 0.224, 0.225)
        assert card.input.channels == "RGB" and card.protocol.outputs == ("logits",)
    assert (signnet.protocol.frames, signnet.protocol.stride, signnet.input.crop) == (32, 2, 224)
    assert signnet.protocol.reported_view == "segment3" and "segment1" in signnet.protocol.views
    assert (signnet.protocol.sampling, signnet.protocol.crop_position, signnet.protocol.per_class,
            signnet.protocol.frame_drop, signnet.input.spatial) == ("segments", "first", "all_classes", 0,
                                                                    "short_side_uint8")
    assert (k710.protocol.crop_position, k710.protocol.per_class) == ("center", "present_classes")
    assert signnet.input.preprocess == "hht" and k710.input.preprocess is None
    assert k710.protocol.frames == 16 and k710.protocol.reported_view is None
    assert k710.checkpoints[0].num_classes == 710 and "81.5" in k710.checkpoints[0].note
    with torch.device("meta"):
        assert signnet.published and not tiny.published and signnet.build(7).pos_table_kind == "native"


def test_published_claims_are_the_protocols_table():
    from bench.records import read_records

    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    claims = {(r.dataset, r.tag): r.metrics for r in read_records(root / "results" / "published" / "signnet.json")}
    # PROTOCOLS.md "SignNet": P-I top-1 / top-5, P-C top-1 / top-5 (3 temporal segments); WLASL-2000 1-crop 61.81
    table = {"wlasl2000": (62.82, 92.88, 60.01, 92.2), "wlasl1000": (75.16, 95.79, 75.27, 95.85),
             "wlasl300": (87.28, 97.75, 87.74, 97.81), "wlasl100": (90.31, 97.67, 90.25, 97.58)}
    names = ("per_instance_top1", "per_instance_top5", "per_class_top1", "per_class_top5")
    assert {d: claims[d, "paper"] for d in table} == {d: dict(zip(names, v)) for d, v in table.items()}
    assert claims["wlasl2000", "paper_1crop"] == {"per_instance_top1": 61.81} and len(claims) == 5
