"""One place that turns (model name, checkpoint) into a loaded network, strictly (timm's ``_builder``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from zoo.cards import ModelCard, get_card
from zoo.checkpoints import Checkpoint, CheckpointError, LoadReport, check_state_dict, read_checkpoint, vocabulary_sha256


@dataclass
class LoadedModel:
    model: Any
    card: ModelCard
    num_classes: int
    variant: dict[str, Any] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    report: LoadReport | None = None


def classes_in(state_dict: dict, key: str = "classifier.weight") -> int | None:
    """Number of classes of a sequence-model checkpoint: ``nn.Linear`` (out, in) with a bias, NormLinear (in, out)."""
    weight = state_dict.get(key)
    if weight is None:
        return None
    has_bias = key.replace(".weight", ".bias") in state_dict
    return int(weight.shape[0] if has_bias else weight.shape[1])


def load_model(name: str, checkpoint: str | None = None, num_classes: int | None = None,
               vocabulary: Sequence[str] | None = None, trust: bool = False, check_only: bool = False,
               **variant: Any) -> LoadedModel:
    """Build ``name`` and load ``checkpoint`` strictly.

    ``num_classes`` (or ``vocabulary``, blank first) is what the data needs; a checkpoint with another class count
    or, for our own checkpoints, another vocabulary is an error. ``check_only`` reports instead of raising.
    """
    card = get_card(name)
    expected = len(vocabulary) if vocabulary is not None else num_classes
    if checkpoint is None:
        if expected is None:
            raise ValueError(f"{name}: give a checkpoint, num_classes or a vocabulary to build the model")
        return LoadedModel(card.build(expected, **variant), card, expected, dict(variant))
    ckpt = read_checkpoint(checkpoint, card.checkpoint_key, trust)
    if card.key_prefix and ckpt.format == "official":
        ckpt.state_dict = strip_prefix(ckpt.state_dict, card.key_prefix, checkpoint)
    found = ckpt.metadata.get("num_classes") or classes_in(ckpt.state_dict, card.classifier_key)
    if expected is not None and found is not None and found != expected:
        what = f"{expected - 1} glosses + blank" if card.task == "continuous" else f"{expected} classes"
        raise CheckpointError(f"{checkpoint}: has {found} classes, the data needs {expected} ({what}); a checkpoint "
                              "from another vocabulary or subset?")
    if vocabulary is not None and ckpt.metadata.get("vocabulary_sha256") not in (None, vocabulary_sha256(vocabulary)):
        raise CheckpointError(f"{checkpoint}: trained on another vocabulary than the data's (hash differs)")
    if ckpt.metadata.get("card", card.name) != card.name:
        raise CheckpointError(f"{checkpoint}: a {ckpt.metadata['card']!r} checkpoint, not {card.name!r}")
    chosen = {**card.variant_for(set(ckpt.state_dict)), **ckpt.metadata.get("variant", {}), **variant}
    classes = expected or found
    if classes is None:
        raise CheckpointError(f"{checkpoint}: cannot tell its number of classes; pass num_classes")
    model = card.build(classes, **_tuples(chosen))
    report = check_state_dict(model, ckpt.state_dict, card.shared_keys)
    if not report.ok and not check_only:
        lines = report.lines()
        raise CheckpointError(f"{checkpoint}: does not fit {card.name} ({len(lines)} problems):\n  " + "\n  ".join(lines))
    if report.ok:
        model.load_state_dict(ckpt.state_dict, strict=True)
    return LoadedModel(model, card, classes, chosen, ckpt, report)


def strip_prefix(state_dict: dict, prefix: str, source: str) -> dict:
    """Official keys without the card's prefix (e.g. NLA-SLR's ``recognition_network.``); others are an error."""
    outside = [k for k in state_dict if not k.startswith(prefix)]
    if outside:
        raise CheckpointError(f"{source}: expected every key under {prefix!r}; found {len(outside)} others, e.g. {outside[:3]}")
    return {k[len(prefix):]: v for k, v in state_dict.items()}


def _tuples(variant: dict[str, Any]) -> dict[str, Any]:
    """JSON metadata turns tuples into lists; builders take tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in variant.items()}
