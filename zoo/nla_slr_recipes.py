"""NLA-SLR's inputs and training recipes as data (read from ``NLA-SLR/configs/*.yaml`` and the code).

Two dataclasses the generic cards lack: :class:`StreamInputSpec` (RGB + keypoint-heatmap streams) and
:class:`IsolatedTrainRecipe` (the isolated-SLR training settings). The official training is a chain, one config
per stage: single-stream S3D (from Kinetics-400 S3D) -> VKNet-64 and VKNet-32 (from the single streams) ->
NLA-SLR (from both VKNets). Only the last stage uses label smoothing, mixup and the language terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from zoo.cards import InputSpec, PerDatasetRecipe

# COCO-WholeBody indices in channel order: use_keypoints [hand, mouth_half, pose], sorted by part name
KEYPOINTS_63 = tuple(range(91, 133)) + tuple(range(71, 91, 2)) + tuple(range(0, 11))


@dataclass(frozen=True)
class StreamInputSpec(InputSpec):
    """RGB clips and keypoint heatmaps as NLA-SLR's preprocessing makes them (``recognition.py``, eval path).

    RGB: frames /255, the whole frame resized to ``crop`` x ``crop`` (no crop; aspect ratio not kept) with
    ``resize``, channels reversed to BGR, then ``(x - 0.5) / 0.5``. Heatmaps: for each of ``keypoints``, a
    Gaussian ``exp(-d^2 / (2 sigma^2))`` on a ``heatmap_grid`` grid around the point scaled from its
    ``keypoint_frame`` coordinates (scores ignored; undetected points are (0, 0)), resized to
    ``heatmap_size`` with ``resize``, then ``(h - 0.5) / 0.5``.
    """

    streams: tuple[str, ...] = ("rgb", "keypoint")
    resize: str = "bilinear, align_corners=False, no antialiasing (torchvision 0.10 tensor resize)"
    frame_resize: Mapping[str, int] = field(default_factory=dict)  # per dataset: frames resized to this first
    keypoints: tuple[int, ...] = KEYPOINTS_63
    heatmap_size: int = 112
    heatmap_sigma: float = 8.0
    keypoint_frame: Mapping[str, int] = field(default_factory=dict)  # per dataset ("default"): coordinate frame
    heatmap_grid: Mapping[str, int] = field(default_factory=dict)  # per dataset ("default"): Gaussian grid
    short_window: tuple[int, int] | None = None  # the four-stream model's 32-frame streams at test (of 64)


def stream_input(streams: tuple[str, ...], short_window: tuple[int, int] | None = None) -> StreamInputSpec:
    """The input spec of a model reading ``streams`` (same preprocessing for every stage)."""
    return StreamInputSpec(
        frame_size=224, crop=224, normalization="symmetric", channels="BGR", streams=streams,
        frame_resize={"nmfs_csl": 256},  # the NMFs-CSL loader resizes frames to 256x256, then to 224x224
        keypoint_frame={"default": 256, "nmfs_csl": 512}, heatmap_grid={"default": 256, "nmfs_csl": 256},
        short_window=short_window)


@dataclass(frozen=True)
class IsolatedTrainRecipe(PerDatasetRecipe):
    """One stage of the official training chain; defaults are the settings every NLA-SLR config shares.

    Temporal sampling in training (every stage): a window of consecutive frames at a random start; shorter clips
    are padded by repeating edge frames, a random share (0..pad-1) on the left.
    """

    init_from: tuple[str, ...] = ()  # cards (or "s3d_kinetics400") whose weights start this stage
    epochs: int = 100
    batch_size: int = 32  # configs: 4 per process, README: 8 processes (DDP, SyncBatchNorm)
    devices: int = 8
    sync_batchnorm: bool = True  # training.py: torch.nn.SyncBatchNorm.convert_sync_batchnorm before DDP
    ddp_find_unused_parameters: bool = True  # training.py: DDP(..., find_unused_parameters=True)
    optimizer: str = "adam"  # torch.optim.Adam: L2 weight decay, not AdamW
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.998)
    adam_eps: float = 1e-8
    weight_decay: float = 1e-3
    scheduler: str = "cosine"  # CosineAnnealingLR(T_max=100, eta_min=0), stepped at the START of each epoch
    cosine_t_max: int = 100
    label_smoothing: str = "none"  # "none" (CE), "uniform" (eps/(N-1) off the label), "language"
    smoothing_eps: float = 0.0
    smoothing_tau: float = 0.5  # "language": softmax temperature over the gloss cosine similarities
    mixup_p: float = 0.0  # per batch: all streams mixed with one lambda ~ Beta(alpha, alpha) and one permutation
    mixup_alpha: float = 0.8
    inter_modality_weight: float = 0.0  # x 0.5 (1 + cos(pi epoch / 100)) (the 100 is hard-coded)
    inter_modality_topk: int | None = None  # candidate classes per sample; None: all (configs: topk = N)
    ema_beta: float | None = None  # gloss classifier <- EMA of the word-fused one, beta 0.99 -> 1 (cosine)
    color_jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)  # with p 0.3, per batch
    color_jitter_p: float = 0.3
    crop_scale: tuple[float, float] = (0.7, 1.0)  # RandomResizedCrop, one box per batch, heatmaps cropped alike
    crop_ratio: tuple[float, float] = (0.75, 1.3)
    short_window_start: tuple[int, int] | None = None  # four-stream: 32-frame window start, uniform (inclusive)
    seed: int = 321
    dataset_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


SINGLE_STREAM = IsolatedTrainRecipe(
    init_from=("s3d_kinetics400",),
    notes=("Backbone from Kinetics-400 S3D (github.com/kylemin/S3D); the keypoint stream's first convolution "
           "(63 input channels) does not fit and stays random (the official loader skips it silently).",
           "pose_frame64/32 name load_ckpt: results/rgb_frame64(32) best.ckpt, but its keys "
           "(visual_backbone.*) match nothing in the keypoint model: the official loader loads none of them."))


def vknet_recipe(frames: int) -> IsolatedTrainRecipe:
    """VKNet-64/32: initialised from the single streams of the same length (backbones and heads)."""
    return IsolatedTrainRecipe(init_from=(f"s3d_rgb{frames}", f"s3d_pose{frames}"),
                               notes=("Loss: cross-entropy on rgb, keypoint and fuse, summed.",))


NLA_SLR = IsolatedTrainRecipe(
    init_from=("vknet64", "vknet32"),
    label_smoothing="language", smoothing_eps=0.2, smoothing_tau=0.5,
    mixup_p=0.75, mixup_alpha=0.8,
    inter_modality_weight=1.0, ema_beta=0.99, short_window_start=(0, 32),
    dataset_overrides={
        "nmfs_csl": {"label_smoothing": "uniform", "inter_modality_weight": 0.0, "ema_beta": None,
                     "init_from": ("s3d_kinetics400",)},
        "msasl1000": {"init_from": ("nla_slr:wlasl2000",)},  # load_ckpt; the classifiers do not fit and are skipped
        **{name: {"init_from": ("s3d_kinetics400",)}
           for name in ("wlasl100", "wlasl300", "wlasl1000", "msasl100", "msasl200", "msasl500")},
    },
    notes=("Loss: the recognition loss on each of the seven heads, summed, each mixup-weighted "
           "(lam L(y_a) + (1 - lam) L(y_b)); plus, on each head with language layers, the inter-modality "
           "loss times 0.5 (1 + cos(pi epoch / 100)).",
           "The configs of the WLASL/MS-ASL subsets and NMFs-CSL have pretrained_path_two commented out: all four "
           "S3D streams then start from Kinetics-400; the README does not say what was run.",
           "Word vectors: fastText crawl-300d-2M-subword, one per gloss in class order (data.word_emb_file)."))
