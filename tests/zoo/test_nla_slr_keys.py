"""Our NLA-SLR family's state-dict keys and shapes are the official ones (../shared/reference/checkpoints manifests),
and the cards describe the official checkpoints and protocols."""

from __future__ import annotations

import pytest

from official_islr_files import PREFIX, read_manifest
from zoo import get_card
from zoo.nla_slr import classes_in_state

CASES = [  # card, manifest (WLASL-2000, 2000 classes)
    ("nla_slr", "nla_slr_wlasl2000"),
    ("vknet64", "vknet64_wlasl2000"),
    ("s3d_rgb64", "s3d_rgb64_wlasl2000"),
    ("s3d_pose64", "s3d_pose64_wlasl2000"),
]
CARDS = ("s3d_rgb64", "s3d_rgb32", "s3d_pose64", "s3d_pose32", "vknet64", "vknet32", "nla_slr")


def _manifest(reference, name: str) -> dict[str, tuple[int, ...]]:
    manifest = read_manifest(reference / "checkpoints" / f"{name}.tsv")
    assert all(key.startswith(PREFIX) for key in manifest)
    return {key[len(PREFIX):]: shape for key, shape in manifest.items()}


@pytest.mark.parametrize("card_name, manifest_name", CASES, ids=[c[0] for c in CASES])
def test_keys_and_shapes_match_the_official_manifest(reference, card_name, manifest_name):
    manifest = _manifest(reference, manifest_name)
    card = get_card(card_name)
    model = card.build(2000, **card.variant_for(set(manifest)))
    ours = {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}
    assert sorted(set(manifest) - set(ours)) == [], "keys of the official checkpoint that we lack"
    assert sorted(set(ours) - set(manifest)) == [], "keys we have that the official checkpoint lacks"
    wrong = {key: (ours[key], shape) for key, shape in manifest.items() if ours[key] != shape}
    assert wrong == {}, "shapes (ours, official) that differ"
    assert classes_in_state(model.state_dict()) == 2000


def test_nla_slr_variant_follows_the_word_embedding_layers(reference):
    keys = set(_manifest(reference, "nla_slr_wlasl2000"))
    card = get_card("nla_slr")
    assert card.variant_for(keys) == {"language": True}
    without = {k for k in keys if "word_emb_mapper" not in k and "word_fused" not in k}
    assert card.variant_for(without) == {"language": False}
    nmfs = card.build(1067, language=False).state_dict()
    assert set(nmfs) == without  # NMFs-CSL: the same network without the 28 language tensors
    assert len(keys) - len(without) == 7 * 4
    assert nmfs["visual_head_fuse.gloss_output_layer.weight"].shape == (1067, 4096)
    assert card.checkpoint("nmfs_csl").variant == {"language": False}
    assert card.checkpoint("nmfs_csl").num_classes == 1067


@pytest.mark.parametrize("name", CARDS)
def test_cards_describe_the_official_files_and_protocol(name):
    card = get_card(name)
    assert card.task == "isolated"
    assert (card.checkpoint_key, card.key_prefix) == ("model_state", "recognition_network.")
    assert card.protocol.views == ("1view", "temporal3")
    assert card.protocol.frames == (32 if name.endswith("32") else 64)
    assert (card.input.crop, card.input.channels, card.input.normalization) == (224, "BGR", "symmetric")
    assert card.input.heatmap_size == 112 and card.input.heatmap_sigma == 8.0
    assert len(card.input.keypoints) == 63 and card.input.keypoints[:2] == (91, 92) and card.input.keypoints[-1] == 10
    assert set(card.protocol.outputs) <= set(card.build(10).head_names()) | {"ensemble_last", "ensemble_all"}
    describe = card.describe()  # plain data for records
    assert describe["input"]["streams"] == card.input.streams and describe["task"] == "isolated"


def test_nla_slr_card_numbers_and_recipe():
    card = get_card("nla_slr")
    assert card.protocol.outputs == ("ensemble_last", "ensemble_all") and card.protocol.reported_output is None
    assert card.input.short_window == (16, 48)
    wlasl = card.checkpoint("wlasl2000")
    assert wlasl.num_classes == 2000 and "61.26 / 91.77 / 58.31 / 90.91" in wlasl.note
    assert {c.num_classes for c in card.checkpoints} == {100, 200, 300, 500, 1000, 1067, 2000}
    recipe = card.training
    assert (recipe.lr, recipe.betas, recipe.weight_decay, recipe.epochs, recipe.batch_size) == (
        1e-3, (0.9, 0.998), 1e-3, 100, 32)
    assert (recipe.smoothing_eps, recipe.smoothing_tau, recipe.mixup_p, recipe.mixup_alpha) == (0.2, 0.5, 0.75, 0.8)
    assert (recipe.inter_modality_weight, recipe.ema_beta, recipe.init_from) == (1.0, 0.99, ("vknet64", "vknet32"))
    nmfs = recipe.for_dataset("nmfs_csl")
    assert (nmfs.label_smoothing, nmfs.inter_modality_weight, nmfs.ema_beta) == ("uniform", 0.0, None)
    assert get_card("vknet64").training.label_smoothing == "none" and get_card("vknet64").training.mixup_p == 0.0
