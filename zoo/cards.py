"""Model cards: everything about a model that runners need, as data next to the model (the timm way).

A runner never asks "which model is this?"; it reads the card: how to build the network, what input it
expects, how the paper evaluated it (views, decoder, scorer, batch composition), how it was trained, and
which official checkpoints exist. Cards are registered by name with :func:`register_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Mapping

from bench.registry import Registry

MODELS: Registry["ModelCard"] = Registry("model")


@dataclass(frozen=True)
class InputSpec:
    """Frames as the network sees them."""

    frame_size: int = 256  # the dataset preprocessing's frame size (square); larger frames are resized to it
    crop: int = 224  # centre crop at test, random crop in training
    normalization: str = "symmetric"  # "symmetric": x / 127.5 - 1; "mean_std": (x / 255 - mean) / std
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    channels: str = "RGB"
    top_rows_removed: Mapping[str, int] = field(default_factory=dict)  # per dataset: rows cut before resizing back
    # isolated SLR (bench.data.spatial): "whole_frame" resizes the whole frame to crop x crop (NLA-SLR);
    # "short_side" resizes the short side to crop (long side floored) and crops along the long side (EVL)
    spatial: str = "whole_frame"
    normalize_first: bool = False  # normalise before resizing (EVL's test transform) instead of after
    dataset_mean_std: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)
    preprocess: str | None = None  # "hht": frames are SignNet's head-and-hands mosaics (bench.hht.frames)

    def mean_std(self, dataset: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The mean and std a dataset's frames are normalised with (some papers change them per dataset)."""
        return self.dataset_mean_std.get(dataset, (self.mean, self.std))


@dataclass(frozen=True)
class EvalProtocol:
    """How the paper's official code evaluates (continuous SLR)."""

    decoder: str = "beam"  # "beam" (ctcdecode settings below) or "greedy"
    beam_width: int = 10
    scorer: str = "sclite"  # the scorer the paper reports: "sclite" or "official-python"
    cleanup: str = "official"
    batch_size: int = 2  # official test batches: consecutive pairs in dataset order, longest first inside
    output: str = "sequence_logits"  # the reported head (the BiLSTM's); "conv_logits" is the auxiliary one


@dataclass(frozen=True)
class IsolatedProtocol:
    """How the paper's official code evaluates isolated SLR (video classification)."""

    views: tuple[str, ...] = ("1view", "temporal3")  # view protocols the runner computes (bench.data.views)
    reported_view: str | None = "temporal3"  # the one behind the paper's table (None: not stated)
    frames: int = 64  # frames per view
    fusion: str = "softmax_mean"  # how views are combined (bench.metrics.fuse_views)
    outputs: tuple[str, ...] = ("ensemble_last", "ensemble_all")  # model outputs recorded
    reported_output: str | None = None  # None: the paper does not say which output its table used; report all
    ks: tuple[int, ...] = (1, 5)
    # temporal sampling (bench.data.views): "window" = NLA-SLR's windows of consecutive frames with edge padding;
    # "strided" = one centred window of ``frames`` at ``stride``, short clips padded with their last frame (EVL)
    sampling: str = "window"
    stride: int = 1
    dataset_stride: Mapping[str, int] = field(default_factory=dict)  # per dataset (SignVLM's scripts differ)

    dataset_head: Mapping[str, int] = field(default_factory=dict)  # per dataset: an official head wider than its classes
    # "segments" sampling (VideoMAE's test sampler, SignNet): the official spatial window of a one-crop protocol,
    # "first" (left-most / top-most: SignNet's patched sampler) or "center"; a run also records the centred twin
    crop_position: str = "center"
    # the paper's per-class rule (bench.metrics.PER_CLASS_RULES): "present_classes" (NLA-SLR) or "all_classes"
    # (SignNet: a class without test samples counts 0); records name it, the other rule is kept beside it
    per_class: str = "present_classes"
    # frames the official loader leaves off a clip's end; None: the dataset's rule (WLASL: 2, NLA-SLR's lintel
    # reader); SignNet's decord reader uses every decoded frame (0)
    frame_drop: int | None = None

    def stride_for(self, dataset: str) -> int:
        """The sampling stride on ``dataset``."""
        return int(self.dataset_stride.get(dataset, self.stride))

    def head_size(self, dataset: str, classes: int) -> int:
        """Logits of the model on ``dataset``: its classes, or the official script's wider head (SignVLM on AUTSL:
        256 for 226 classes; the extra logits stay in the softmax and in the top-k)."""
        return int(self.dataset_head.get(dataset, classes))


class PerDatasetRecipe:
    """What every training recipe (a frozen dataclass with ``dataset_overrides``) does with its per-dataset changes."""

    def for_dataset(self, dataset: str):
        """The recipe with a dataset's documented changes applied (e.g. CorrNet on CSL-Daily, SignVLM on LSA64)."""
        changes = dict(self.dataset_overrides.get(dataset, {}))
        return replace(self, **changes) if changes else self

    def describe(self) -> dict[str, Any]:
        """Plain data (for result records)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class TrainRecipe(PerDatasetRecipe):
    """The paper's training recipe (continuous SLR)."""

    epochs: int = 40
    batch_size: int = 2
    optimizer: str = "adam"
    lr: float = 1e-4
    weight_decay: float = 1e-4
    milestones: tuple[int, ...] = (20, 35)
    gamma: float = 0.2
    loss_weights: Mapping[str, float] = field(default_factory=lambda: {"SeqCTC": 1.0, "ConvCTC": 1.0, "Dist": 25.0})
    distillation_temperature: float = 8.0
    branch_weights: Mapping[str, float] = field(default_factory=dict)  # auxiliary branches' share (SlowFastSign)
    flip: float = 0.5
    temporal_rescale: float = 0.2  # length x U(1 - r, 1 + r), clamped to [32, 230], (len - 4) % 4 == 0
    # the official code trains on one GPU with BatchNorm over the whole batch (CorrNet's main.py refuses several
    # GPUs; convert_model is its SyncBN): under torchrun the batch statistics stay global
    sync_batchnorm: bool = True
    dataset_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckpointSource:
    """One official checkpoint: where it lives and what it was trained on."""

    tag: str
    dataset: str
    num_classes: int
    url: str | None = None
    sha256: str | None = None  # None where the authors publish no hash
    variant: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class ModelCard:
    """A registered model: ``build(num_classes, **variant)`` returns the network (plain ``torch.nn.Module``)."""

    name: str
    paper: str
    url: str
    code: str
    task: str  # "continuous" or "isolated"
    build: Callable[..., Any]
    input: InputSpec = field(default_factory=InputSpec)
    protocol: EvalProtocol | IsolatedProtocol = field(default_factory=EvalProtocol)
    # TrainRecipe (continuous), nla_slr_recipes.IsolatedTrainRecipe or step_recipe.StepTrainRecipe: the type picks
    # the training loop (bench.api.train)
    training: Any = field(default_factory=TrainRecipe)
    temporal_layout: tuple[str, ...] = ("K5", "P2", "K5", "P2")  # temporal conv kernels ("K5") and pools ("P2")
    checkpoints: tuple[CheckpointSource, ...] = ()
    checkpoint_key: str = "model_state_dict"  # where official files keep the weights
    other_checkpoint_keys: tuple[str, ...] = ()  # further keys the official loader accepts (VideoMAEv2: model|module)
    key_prefix: str = ""  # official keys start with it (NLA-SLR: "recognition_network."); ours do not
    classifier_key: str = "classifier.weight"  # whose shape tells a checkpoint's number of classes
    # the papers' backbone initialisation: (model, weights file) -> lines saying what was and was not loaded
    init_backbone: Callable[[Any, str], list[str]] | None = None
    variant_from_keys: Callable[[set[str]], dict] | None = None  # official layouts differ per dataset
    shared_keys: tuple[tuple[str, str], ...] = ()  # keys that must hold the same tensor (shared modules)
    published: bool = True  # False: a reduced model of ours (demos, tests), not one a paper reports
    notes: tuple[str, ...] = ()
    # the backbone is not in checkpoints (SignVLM/EVL's frozen CLIP): evaluation needs init_backbone's file beside it
    separate_backbone: bool = False
    # (key, model shape, file shape) -> a line explaining a shape difference (e.g. another frame count), or None
    mismatch_hint: Callable[[str, tuple, tuple], str | None] | None = None

    def variant_for(self, keys: set[str]) -> dict:
        """The architecture variant a checkpoint's keys call for (``{}`` for the default)."""
        return self.variant_from_keys(keys) if self.variant_from_keys else {}

    def checkpoint(self, tag: str) -> CheckpointSource:
        for source in self.checkpoints:
            if source.tag == tag:
                return source
        raise KeyError(f"model {self.name!r} has no checkpoint {tag!r}; known: {[c.tag for c in self.checkpoints]}")

    def describe(self) -> dict[str, Any]:
        """A plain-data view of the card (for ``bench inspect`` and result records)."""
        return {
            "name": self.name, "paper": self.paper, "url": self.url, "code": self.code, "task": self.task,
            "input": dict(self.input.__dict__), "protocol": dict(self.protocol.__dict__),
            "temporal_layout": list(self.temporal_layout),
            "checkpoints": [{"tag": c.tag, "dataset": c.dataset, "num_classes": c.num_classes, "url": c.url,
                             "sha256": c.sha256, "variant": dict(c.variant), "note": c.note} for c in self.checkpoints],
            "notes": list(self.notes),
        }


def register_model(card: ModelCard) -> ModelCard:
    """Add a card to the model registry (called once, in the model's module)."""
    return MODELS.add(card.name, card)


def get_card(name: str) -> ModelCard:
    """The card of a registered model; importing :mod:`zoo` registers every model."""
    import zoo  # noqa: F401  (registers the zoo's models)

    return MODELS.get(name)


def list_models() -> list[str]:
    import zoo  # noqa: F401

    return MODELS.names()
