"""One place that turns (model name, checkpoint) into a loaded network, strictly (timm's ``_builder``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from zoo.cards import ModelCard, get_card, list_models
from zoo.checkpoints import (Checkpoint, CheckpointError, LoadReport, check_state_dict, file_spelling, read_checkpoint,
                              vocabulary_sha256)


@dataclass
class LoadedModel:
    model: Any
    card: ModelCard
    num_classes: int
    variant: dict[str, Any] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    report: LoadReport | None = None
    backbone: list[str] | None = None  # what was read from a separate backbone file (SignVLM's CLIP), if any


def classes_in(state_dict: dict, key: str = "classifier.weight") -> int | None:
    """Number of classes of a sequence-model checkpoint: ``nn.Linear`` (out, in) with a bias, NormLinear (in, out)."""
    weight = state_dict.get(key)
    if weight is None:
        return None
    has_bias = key.replace(".weight", ".bias") in state_dict
    return int(weight.shape[0] if has_bias else weight.shape[1])


def load_model(name: str, checkpoint: str | None = None, num_classes: int | None = None,
               vocabulary: Sequence[str] | None = None, trust: bool = False, check_only: bool = False,
               backbone: str | None = None, **variant: Any) -> LoadedModel:
    """Build ``name`` and load ``checkpoint`` strictly.

    ``num_classes`` (or ``vocabulary``, blank first) is what the data needs; a checkpoint with another class count
    or, for our own checkpoints, another vocabulary is an error. ``check_only`` reports instead of raising.
    ``backbone``: the file the card's ``init_backbone`` reads (required beside the checkpoint of a card whose
    backbone is not in checkpoints, e.g. SignVLM's CLIP file; ``check_only`` inspects the checkpoint without it).
    """
    card = get_card(name)
    expected = len(vocabulary) if vocabulary is not None else num_classes
    if checkpoint is None:
        if expected is None:
            raise ValueError(f"{name}: give a checkpoint, num_classes or a vocabulary to build the model")
        model = card.build(expected, **variant)
        return LoadedModel(model, card, expected, dict(variant), backbone=_load_backbone(card, model, backbone))
    ckpt = read_checkpoint(checkpoint, _weights_keys(card), trust)
    theirs = ckpt.metadata.get("card", card.name)
    if theirs != card.name:  # before anything else: the class count or keys of another model mean nothing here
        raise CheckpointError(f"{checkpoint}: this is a {theirs} checkpoint (its metadata says so), not {card.name}; "
                              f"pass --model {theirs}")
    if card.key_prefix and ckpt.format == "official":
        if any(not key.startswith(card.key_prefix) for key in ckpt.state_dict):
            refuse_other_family(card, ckpt, checkpoint, variant)
        stripped = strip_prefix(ckpt.state_dict, card.key_prefix, checkpoint)
        ckpt.file_keys = {k[len(card.key_prefix):]: ckpt.file_keys.get(k, k) for k in ckpt.state_dict}
        ckpt.state_dict = stripped
    chosen = {**card.variant_for(set(ckpt.state_dict)), **ckpt.metadata.get("variant", {}), **variant}
    found = ckpt.metadata.get("num_classes") or classes_in(ckpt.state_dict, card.classifier_key)
    if expected is not None and found is not None and found != expected:
        refuse_other_family(card, ckpt, checkpoint, chosen)
        what = f"{expected - 1} glosses + blank" if card.task == "continuous" else f"{expected} classes"
        raise CheckpointError(f"{checkpoint}: has {found} classes, the data needs {expected} ({what}); a checkpoint "
                              f"from another vocabulary or subset? (classes read from "
                              f"{ckpt.file_keys.get(card.classifier_key, card.classifier_key)})")
    if vocabulary is not None and ckpt.metadata.get("vocabulary_sha256") not in (None, vocabulary_sha256(vocabulary)):
        raise CheckpointError(f"{checkpoint}: trained on another vocabulary than the data's (hash differs)")
    classes = expected or found
    if classes is None:
        refuse_other_family(card, ckpt, checkpoint, chosen)
        raise CheckpointError(f"{checkpoint}: cannot tell its number of classes; pass num_classes")
    model = card.build(classes, **_tuples(chosen))
    report = check_state_dict(model, ckpt.state_dict, card.shared_keys, ckpt.file_keys)
    if card.mismatch_hint is not None:
        spell = file_spelling(report.file_keys)
        report.hints = [h for k, m, f in report.mismatched if (h := card.mismatch_hint(spell(k), m, f))]
    if not report.ok:
        refuse_other_family(card, ckpt, checkpoint, chosen)
    if not report.ok and not check_only:
        lines = report.lines()
        raise CheckpointError(f"{checkpoint}: does not fit {card.name} ({len(lines)} problems):\n  " + "\n  ".join(lines))
    if report.ok:
        model.load_state_dict(ckpt.state_dict, strict=True)
    if card.separate_backbone and backbone is None and not check_only:
        raise CheckpointError(f"{checkpoint}: {card.name} checkpoints hold no backbone (it is frozen and kept "
                              "apart); pass the backbone file too (backbone=, see the card's notes)")
    return LoadedModel(model, card, classes, chosen, ckpt, report, _load_backbone(card, model, backbone))


def load_stage_init(name: str, checkpoint: str, num_classes: int, trust: bool = False,
                    **variant: Any) -> tuple[Any, list[str]]:
    """Start a fine-tuning stage (``bench train --init``) from a previous stage's checkpoint (VideoMAEv2 K710 ->
    ASL-Citizen -> WLASL): every tensor loads strictly, except that a head (the card's ``classifier_key`` and its
    bias) of another class count is left out and the new head keeps its fresh initialisation, as the official
    ``--finetune`` does; the returned lines say so, naming the keys as the file spells them."""
    card = get_card(name)
    ckpt = read_checkpoint(checkpoint, _weights_keys(card), trust)
    theirs = ckpt.metadata.get("card")  # another card of the same architecture loads; keys decide
    state = ckpt.state_dict
    if card.key_prefix and ckpt.format == "official":
        state = strip_prefix(state, card.key_prefix, checkpoint)
        ckpt.file_keys = {k[len(card.key_prefix):]: ckpt.file_keys.get(k, k) for k in state}
    head = card.classifier_key.rsplit(".", 1)[0]
    head_keys = [k for k in state if k.rsplit(".", 1)[0] == head]
    found = classes_in(state, card.classifier_key)
    lines = []
    if found is not None and found != num_classes:
        spell = file_spelling(ckpt.file_keys)
        lines.append(f"{checkpoint}: its head has {found} classes, the data has {num_classes}: "
                     f"{', '.join(spell(k) for k in head_keys)} not loaded, a new {num_classes}-class head is "
                     "initialised (as the official fine-tuning does)")
        state = {k: v for k, v in state.items() if k not in head_keys}
    model = card.build(num_classes, **_tuples(variant))
    report = check_state_dict(model, state, card.shared_keys, ckpt.file_keys)
    if lines:
        report.missing = [k for k in report.missing if k not in head_keys]
    if not report.ok:
        problems = report.lines()
        raise CheckpointError(f"{checkpoint}: does not fit {card.name} ({len(problems)} problems):\n  "
                              + "\n  ".join(problems))
    model.load_state_dict(state, strict=not lines)
    origin = f" of a {theirs} checkpoint" if "card" in ckpt.metadata else ""
    lines.insert(0, f"{checkpoint}: {len(state)} tensors{origin} loaded into {card.name}")
    return model, lines


def _load_backbone(card: ModelCard, model: Any, backbone: str | None) -> list[str] | None:
    """The card's ``init_backbone`` on ``backbone`` (None: nothing given, nothing read)."""
    if backbone is None:
        return None
    if card.init_backbone is None:
        raise CheckpointError(f"{backbone}: {card.name} takes no separate backbone file")
    return card.init_backbone(model, backbone)


def load_matching(model, uri: str, card: ModelCard, trust: bool = False) -> list[str]:
    """Start ``model`` from another task's checkpoint (e.g. EVL's Kinetics-400 decoder for SignVLM): every tensor
    whose name and shape fit is copied; the rest (another head, another frame count) are named, as the file spells
    them, and stay as built."""
    import torch

    ckpt = read_checkpoint(uri, card.checkpoint_key, trust)
    state = {k[len(card.key_prefix):] if card.key_prefix and k.startswith(card.key_prefix) else k: v
             for k, v in ckpt.state_dict.items()}
    own = model.state_dict()
    fits = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if not fits:
        raise CheckpointError(f"{uri}: no tensor fits {card.name} (names or shapes all differ)")
    with torch.no_grad():
        for key, value in fits.items():
            own[key].copy_(value)
    spell = lambda k: ckpt.file_keys.get(card.key_prefix + k, ckpt.file_keys.get(k, card.key_prefix + k))  # noqa: E731
    skipped = [f"{spell(k)} {list(v.shape)}" for k, v in state.items() if k not in fits]
    kept = [k for k in own if k not in fits]
    return [f"{uri}: {len(fits)} of {len(own)} tensors loaded",
            *(f"  not loaded (name or shape differs): {line}" for line in skipped),
            *(f"  left as built: {k}" for k in kept)]


def strip_prefix(state_dict: dict, prefix: str, source: str) -> dict:
    """Official keys without the card's prefix (e.g. NLA-SLR's ``recognition_network.``); others are an error."""
    outside = [k for k in state_dict if not k.startswith(prefix)]
    if outside:
        raise CheckpointError(f"{source}: expected every key under {prefix!r}; found {len(outside)} others, e.g. {outside[:3]}")
    return {k[len(prefix):]: v for k, v in state_dict.items()}


def _weights_keys(card: ModelCard) -> list[str]:
    """Where official files keep their weights: this card's key first, then other cards' (so that another
    model's file is read, and then named for what it is)."""
    keys = [card.checkpoint_key, *card.other_checkpoint_keys]
    for name in list_models():
        key = get_card(name).checkpoint_key
        if key not in keys:
            keys.append(key)
    return keys


def refuse_other_family(card: ModelCard, ckpt: Checkpoint, source: str, variant: dict[str, Any] | None = None) -> None:
    """Raise if the checkpoint's keys fit another registered card better than ``card`` (a CorrNet file given to
    an S3D model): that, not a class count or a thousand missing keys, is what the user needs to hear."""
    fits = family_fits(ckpt, {card.name: variant or {}})
    if not fits or fits.get(card.name, (0.0, 0, 0)) >= max(fits.values()):
        return
    best = max(fits.values())
    names = [name for name, fit in fits.items() if fit == best]
    same = f" (or {', '.join(names[1:])}: same keys and shapes)" if len(names) > 1 else ""
    ours = fits.get(card.name, (0.0, 0, 0))[2]
    raise CheckpointError(f"{source}: this is a {names[0]} checkpoint{same}, not {card.name}: {best[2]} of its "
                          f"{len(ckpt.state_dict)} keys are {names[0]}'s, {ours} are {card.name}'s; "
                          f"pass --model {names[0]}")


def family_fits(ckpt: Checkpoint, variants: dict[str, dict[str, Any]] | None = None) -> dict[str, tuple[float, int, int]]:
    """How well the checkpoint's keys fit each registered card: (Jaccard overlap of the key sets, keys whose shapes
    agree, keys in common), keys compared as official files spell them (the card's ``key_prefix``, no
    ``.module``). Models are built on the meta device: keys and shapes, no memory. ``variants``: per card name,
    the variant to build (default: what the card reads from the keys)."""
    import torch

    plain = {_plain(ckpt.file_keys.get(k, k)): v for k, v in ckpt.state_dict.items()}
    fits = {}
    for name in list_models():
        other = get_card(name)
        prefix = _plain(other.key_prefix + "x")[:-1] if ckpt.format == "official" else ""  # as spelt in ``plain``
        inner = {k[len(prefix):]: v for k, v in plain.items() if k.startswith(prefix)}
        try:
            chosen = {**other.variant_for(set(inner)), **(variants or {}).get(name, {})}
            with torch.device("meta"):
                model = other.build(classes_in(inner, other.classifier_key) or 10, **_tuples(chosen))
        except Exception:  # a builder that cannot take what these keys suggest: not this family
            continue
        expected = {prefix + k: tuple(v.shape) for k, v in model.state_dict().items()}
        common = expected.keys() & plain.keys()
        shapes = sum(expected[k] == tuple(plain[k].shape) for k in common)
        fits[name] = (len(common) / len(expected.keys() | plain.keys()), shapes, len(common))
    return fits


def _plain(key: str) -> str:
    """A key without DataParallel's ``module.`` (leading or inside), as official loaders strip it."""
    key = key.replace(".module", "")
    return key[len("module."):] if key.startswith("module.") else key


def _tuples(variant: dict[str, Any]) -> dict[str, Any]:
    """JSON metadata turns tuples into lists; builders take tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in variant.items()}
