"""Our CorrNet's state-dict keys and shapes are the official ones (../shared/reference/checkpoints manifests)."""

from __future__ import annotations

import pytest

from official_files import read_manifest
from zoo import get_card

CASES = [  # manifest, classes, build variant
    ("corrnet_phoenix2014", 1296, {}),
    ("corrnet_csl_daily", 2001, {"correlation_after": (3, 4)}),
]


@pytest.mark.parametrize("manifest_name, num_classes, variant", CASES, ids=[c[0] for c in CASES])
def test_corrnet_keys_and_shapes_match_the_official_manifest(reference, manifest_name, num_classes, variant):
    manifest = read_manifest(reference / "checkpoints" / f"{manifest_name}.tsv")
    model = get_card("corrnet").build(num_classes, **variant)
    state = model.state_dict()
    ours = {key: tuple(tensor.shape) for key, tensor in state.items()}
    assert sorted(set(manifest) - set(ours)) == [], "keys of the official checkpoint that we lack"
    assert sorted(set(ours) - set(manifest)) == [], "keys we have that the official checkpoint lacks"
    wrong = {key: (ours[key], shape) for key, shape in manifest.items() if ours[key] != shape}
    assert wrong == {}, "shapes (ours, official) that differ"
    assert state["classifier.weight"].data_ptr() == state["conv1d.fc.weight"].data_ptr(), "classifier not shared"


def test_card_reads_the_variant_from_the_manifest_keys(reference):
    card = get_card("corrnet")
    for manifest_name, _, variant in CASES:
        keys = set(read_manifest(reference / "checkpoints" / f"{manifest_name}.tsv"))
        assert card.variant_for(keys) == {"correlation_after": variant.get("correlation_after", (2, 3, 4))}
