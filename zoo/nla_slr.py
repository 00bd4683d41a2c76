"""NLA-SLR (Zuo, Wei, Mak, CVPR 2023) and its stages: single-stream S3D, VKNet-64/32, the four-stream model.

Official code: github.com/FangyunWei/SLRT, ``NLA-SLR/modelling`` (``recognition.py`` builds all of them). Module
names follow the official ``RecognitionNetwork`` so that its state dicts load strictly once the checkpoint's
``recognition_network.`` prefix is removed (the card's ``key_prefix``).

Inputs are ready-made stream tensors, as the official network has them after its own preprocessing:
- ``rgb [B, 3, T, 224, 224]``: frames /255, resized, BGR, ``(x - 0.5) / 0.5``;
- ``keypoint [B, 63, T, 112, 112]``: one Gaussian heatmap per keypoint, resized, ``(h - 0.5) / 0.5``;
- for the four-stream model also ``rgb_low``/``keypoint_low``, the 32-frame streams; by default derived here
  as frames ``T//4 : T//4 + T//2`` of the 64 (the official test window, 16:48); training draws the window start
  uniformly from 0..32 (``from64``), so a training runner passes them.

Outputs are a dict of logits ``[B, N]`` per head and, for the fused models, the official ensembles
``log(sum of the heads' softmax)``: their softmax is the mean of the heads' probabilities, their argmax the
official prediction. ``return_features=True`` adds ``"features"``: the clip feature each head classified (for
inter-modality mixup in training).
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn as nn

from zoo.cards import CheckpointSource, IsolatedProtocol, ModelCard, register_model
from zoo.layers.nla_heads import WORD_DIM, GlossHead
from zoo.layers.s3d import S3DBackbone, load_kinetics_s3d
from zoo.layers.vknet import FourStreamS3D, TwoStreamS3D
from zoo.nla_slr_recipes import NLA_SLR, SINGLE_STREAM, stream_input, vknet_recipe

KEYPOINT_CHANNELS = 63  # use_keypoints [hand, mouth_half, pose] of COCO-WholeBody (sorted, as the dataset does)
FEATURES = 1024  # S3D block 5


def short_window(clip: torch.Tensor) -> torch.Tensor:
    """The 32-frame stream of a 64-frame clip at test: frames ``T//4 : T//4 + T//2`` (dim 2 is time)."""
    frames = clip.shape[2]
    return clip[:, :, frames // 4: frames // 4 + frames // 2]


def ensemble(logits: list[torch.Tensor]) -> torch.Tensor:
    """``log(sum_k softmax(logits_k))``, summed in the official order."""
    total = logits[0].softmax(dim=-1)
    for item in logits[1:]:
        total = total + item.softmax(dim=-1)
    return total.log()


class _Heads(nn.Module):
    """Output names -> official head modules; ``head(name)`` gives the module (for the training losses)."""

    HEADS: dict[str, str] = {}
    inputs: tuple[str, ...] = ()

    def head(self, name: str) -> GlossHead:
        return getattr(self, self.HEADS[name])

    def head_names(self) -> tuple[str, ...]:
        return tuple(self.HEADS)


class SingleStreamS3D(_Heads):
    """S3D on RGB (configs ``rgb_frame64/32``) or keypoint heatmaps (``pose_frame64/32``); output ``rgb`` or
    ``keypoint``. Official modules: ``visual_backbone`` + ``visual_head``, or ``visual_backbone_keypoint`` +
    ``visual_head_keypoint``."""

    def __init__(self, num_classes: int, stream: str = "rgb", keypoint_channels: int = KEYPOINT_CHANNELS,
                 width: int = 1):
        super().__init__()
        if stream not in ("rgb", "keypoint"):
            raise ValueError(f"stream must be 'rgb' or 'keypoint', not {stream!r}")
        suffix = "" if stream == "rgb" else "_keypoint"
        self.stream, self.inputs = stream, (stream,)
        self.HEADS = {stream: f"visual_head{suffix}"}
        backbone = S3DBackbone(3 if stream == "rgb" else keypoint_channels, width=width)
        setattr(self, f"visual_backbone{suffix}", backbone)
        setattr(self, f"visual_head{suffix}", GlossHead(backbone.out_channels, num_classes))

    def forward(self, rgb: torch.Tensor | None = None, keypoint: torch.Tensor | None = None,
                return_features: bool = False) -> dict:
        clip = rgb if self.stream == "rgb" else keypoint
        if clip is None:
            raise ValueError(f"this model reads the {self.stream} stream: pass {self.stream}=...")
        backbone = self.visual_backbone if self.stream == "rgb" else self.visual_backbone_keypoint
        logits, feature = self.head(self.stream)(backbone(clip))
        out = {self.stream: logits}
        if return_features:
            out["features"] = {self.stream: feature}
        return out


class VKNet(_Heads):
    """VKNet-64/32 (configs ``two_frame64/32``, ``fuse_method: triplehead_cat_bilateral``): RGB and keypoint S3D
    with lateral connections; heads ``rgb``, ``keypoint`` and ``fuse`` (on both features concatenated), and
    ``ensemble_last = log(softmax(fuse) + softmax(rgb) + softmax(keypoint))``. No language layers."""

    HEADS = {"rgb": "visual_head", "keypoint": "visual_head_keypoint", "fuse": "visual_head_fuse"}
    inputs = ("rgb", "keypoint")

    def __init__(self, num_classes: int, keypoint_channels: int = KEYPOINT_CHANNELS):
        super().__init__()
        self.visual_backbone_twostream = TwoStreamS3D(keypoint_channels)
        self.visual_head = GlossHead(FEATURES, num_classes)
        self.visual_head_keypoint = GlossHead(FEATURES, num_classes)
        self.visual_head_fuse = GlossHead(2 * FEATURES, num_classes)

    def forward(self, rgb: torch.Tensor, keypoint: torch.Tensor, return_features: bool = False) -> dict:
        rgb_steps, pose_steps = self.visual_backbone_twostream(rgb, keypoint)  # [B, T', C] each
        logits, features = {}, {}
        logits["rgb"], features["rgb"] = self.visual_head(rgb_steps)
        logits["keypoint"], features["keypoint"] = self.visual_head_keypoint(pose_steps)
        logits["fuse"], features["fuse"] = self.visual_head_fuse(torch.cat([rgb_steps, pose_steps], dim=-1))
        out = {**logits, "ensemble_last": ensemble([logits["fuse"], logits["rgb"], logits["keypoint"]])}
        if return_features:
            out["features"] = features
        return out


class NLASLR(_Heads):
    """The four-stream NLA-SLR model (configs ``nla_slr_*``, ``fuse_method: four_type3``).

    Seven heads: ``rgb-64``, ``rgb-32``, ``keypoint-64``, ``keypoint-32``, ``fuse`` (all four features),
    ``fuse-64`` and ``fuse-32`` (RGB + keypoint of one clip length); ``ensemble_all`` over the seven, and
    ``ensemble_last`` over the three fused heads. ``language=False`` leaves out the word-embedding layers (the
    NMFs-CSL model, ``contras_setting: null``).
    """

    HEADS = {"rgb-64": "visual_head_rgb_h", "rgb-32": "visual_head_rgb_l", "keypoint-64": "visual_head_kp_h",
             "keypoint-32": "visual_head_kp_l", "fuse": "visual_head_fuse", "fuse-64": "visual_head_fuse_h",
             "fuse-32": "visual_head_fuse_l"}
    inputs = ("rgb", "keypoint")  # rgb_low/keypoint_low: optional (default: derived from these)
    FUSED = {"fuse": ("rgb-h", "rgb-l", "kp-h", "kp-l"), "fuse-64": ("rgb-h", "kp-h"), "fuse-32": ("rgb-l", "kp-l")}
    STREAM_OF = {"rgb-64": "rgb-h", "rgb-32": "rgb-l", "keypoint-64": "kp-h", "keypoint-32": "kp-l"}

    def __init__(self, num_classes: int, keypoint_channels: int = KEYPOINT_CHANNELS, language: bool = True):
        super().__init__()
        word_dim = WORD_DIM if language else None
        self.language = language
        self.visual_backbone_fourstream = FourStreamS3D(keypoint_channels)
        for name, attribute in self.HEADS.items():
            width = FEATURES * (len(self.FUSED[name]) if name in self.FUSED else 1)
            setattr(self, attribute, GlossHead(width, num_classes, word_dim))

    def forward(self, rgb: torch.Tensor, keypoint: torch.Tensor, rgb_low: torch.Tensor | None = None,
                keypoint_low: torch.Tensor | None = None, return_features: bool = False) -> dict:
        rgb_low = short_window(rgb) if rgb_low is None else rgb_low
        keypoint_low = short_window(keypoint) if keypoint_low is None else keypoint_low
        streams = self.visual_backbone_fourstream(rgb, rgb_low, keypoint, keypoint_low)
        logits, features = {}, {}
        for name in self.HEADS:
            if name in self.FUSED:
                x = torch.cat([streams[s] for s in self.FUSED[name]], dim=-1)
            else:
                x = streams[self.STREAM_OF[name]]
            logits[name], features[name] = self.head(name)(x)
        out = {**logits, "ensemble_last": ensemble([logits[n] for n in ("fuse", "fuse-64", "fuse-32")]),
               "ensemble_all": ensemble(list(logits.values()))}
        if return_features:
            out["features"] = features
        return out


def build_s3d_rgb(num_classes: int, width: int = 1) -> SingleStreamS3D:
    """Single-stream S3D on RGB clips (``width`` > 1 divides the channels: reduced models for CPU demos)."""
    return SingleStreamS3D(num_classes, "rgb", width=width)


def build_s3d_pose(num_classes: int, keypoint_channels: int = KEYPOINT_CHANNELS, width: int = 1) -> SingleStreamS3D:
    """Single-stream S3D on keypoint heatmaps (``width`` > 1 divides the channels: reduced models for tests)."""
    return SingleStreamS3D(num_classes, "keypoint", keypoint_channels, width=width)


def build_vknet(num_classes: int, keypoint_channels: int = KEYPOINT_CHANNELS) -> VKNet:
    """VKNet (64 or 32 frames: the same network)."""
    return VKNet(num_classes, keypoint_channels)


def build_nla_slr(num_classes: int, keypoint_channels: int = KEYPOINT_CHANNELS, language: bool = True) -> NLASLR:
    """The four-stream NLA-SLR model; ``language=False`` for NMFs-CSL."""
    return NLASLR(num_classes, keypoint_channels, language)


def classes_in_state(state_dict: dict) -> int | None:
    """Number of classes of an NLA-SLR-family state dict (prefix removed): rows of any gloss classifier."""
    for key, value in state_dict.items():
        if key.endswith("gloss_output_layer.weight") and "word_fused" not in key:
            return int(value.shape[0])
    return None


def language_variant(keys: set[str]) -> dict:
    """``{"language": ...}``: whether the checkpoint has the word-embedding layers (all but NMFs-CSL)."""
    return {"language": any(k.endswith("word_emb_mapper.weight") for k in keys)}



# --- cards -------------------------------------------------------------------------------------------------------

PAPER = "Natural Language-Assisted Sign Language Recognition (CVPR 2023)"
URL = "https://arxiv.org/abs/2303.12080"
CODE = "https://github.com/FangyunWei/SLRT/tree/main/NLA-SLR"
_ONEDRIVE = "https://hkustconnect-my.sharepoint.com/:f:/g/personal/rzuo_connect_ust_hk/"
MORE_CHECKPOINTS = _ONEDRIVE + "ErKHcJhsiAdKgkm2djnFAcoBJt4NC0UG3TtvhJ9EAjfc5Q?e=3wvFh1"  # single streams, VKNets
COMMON_NOTES = (
    "Official files: best.ckpt {'epoch', 'global_step', 'model_state', 'optimizer_state', 'scheduler_state', "
    "'best_score', 'current_score'}, keys under 'recognition_network.'; OneDrive/Baidu folders without hashes.",
    "The official loader (neq_load_customized) skips missing or mis-shaped keys silently; bench loads strictly.",
)

# README table: (folder, P-I top-1, P-I top-5, P-C top-1, P-C top-5); NMFs-CSL has no per-class numbers
_NLA_SLR_RESULTS = {
    ("wlasl2000", 2000): ("EhR1iEfa7MpGuQ4hnKiPN4wB-NwWEfDH0dzZUdu4eUYOwg?e=ghtdJU", "61.26 / 91.77 / 58.31 / 90.91"),
    ("wlasl1000", 1000): ("EkxYtFaTXzdPveWTsmW_2GoB0pJVLkHbSbfLP4LIWb6Olg?e=hk0neS", "75.64 / 94.62 / 75.72 / 94.65"),
    ("wlasl300", 300): ("EiACoQ3dgP5IuXFmY74wnPABKHA2cuojpiqQdTG-ToB5xg?e=liV5l9", "86.98 / 97.60 / 87.33 / 97.81"),
    ("wlasl100", 100): ("ErxKSls_d_BAlbCPsN3AOWcBNnHQ1YydTrdJzwaDKZBYkg?e=DRVtZr", "92.64 / 96.90 / 93.08 / 97.17"),
    ("msasl1000", 1000): ("Egss6sJoojlOul47Q2Mf5Y8B-gnbhIu-Lo9PoUoclER6Tg?e=ukn9Bu", "73.80 / 89.65 / 70.95 / 89.07"),
    ("msasl500", 500): ("Elllx63j_ptOozN6uHt2IIkBVKmPvw5oUeARWXyndYCA3Q?e=aoVP22", "82.90 / 93.46 / 83.06 / 93.54"),
    ("msasl200", 200): ("Eqega94so2JBrwtU8H7Cyi4BfarxXh0U6GEkWo9E5ci6oA?e=T3pxyI", "89.48 / 96.69 / 89.86 / 96.93"),
    ("msasl100", 100): ("EuR4Cadp8XJEmBKJy_6S1gEBiG2YV7JE9LfRDxWYXFIakg?e=bg9ptD", "91.02 / 97.89 / 91.24 / 98.19"),
    ("nmfs_csl", 1067): ("Eg_SSR-UYnlFm1RzN_AWtIwBS4s3rd5Awb3e4fMQwXsGSw?e=XymJNe", "83.7 / 98.5 / - / -"),
}
NLA_SLR_CHECKPOINTS = tuple(
    CheckpointSource(dataset, dataset, classes, url=_ONEDRIVE + folder,
                     variant={"language": False} if dataset == "nmfs_csl" else {},
                     note=f"README (P-I top-1 / top-5 / P-C top-1 / top-5): {numbers}")
    for (dataset, classes), (folder, numbers) in _NLA_SLR_RESULTS.items())


def _more(tag: str, what: str) -> tuple[CheckpointSource, ...]:
    return (CheckpointSource(tag, "wlasl2000", 2000, url=MORE_CHECKPOINTS,
                             note=f"{what}: in the README's folder of further checkpoints (single streams, "
                                  "VKNet-64/32), whose files and datasets the README does not list"),)


def _protocol(frames: int, outputs: tuple[str, ...], reported: str | None) -> IsolatedProtocol:
    # reported_view: the README does not say; its numbers appear to be the paper's 3-crop rows (see the notes)
    return IsolatedProtocol(views=("1view", "temporal3"), reported_view="temporal3", frames=frames,
                            fusion="softmax_mean", outputs=outputs, reported_output=reported)


def _card(name: str, build, streams: tuple[str, ...], protocol: IsolatedProtocol, training, classifier: str,
          checkpoints=(), notes: tuple[str, ...] = (), short_window: tuple[int, int] | None = None,
          size: int | None = None, **extra) -> ModelCard:
    spec = stream_input(streams, short_window)
    extra.setdefault("init_backbone", load_kinetics_s3d)  # --backbone-weights S3D_kinetics400.pt
    return register_model(ModelCard(
        name=name, paper=PAPER, url=URL, code=CODE, task="isolated", build=build,
        input=replace(spec, frame_size=size, crop=size) if size else spec, protocol=protocol, training=training,
        temporal_layout=(),
        checkpoints=checkpoints, checkpoint_key="model_state", key_prefix="recognition_network.",
        classifier_key=f"{classifier}.gloss_output_layer.weight", notes=COMMON_NOTES + notes, **extra))


for _frames in (64, 32):
    _card(f"s3d_rgb{_frames}", build_s3d_rgb, ("rgb",), _protocol(_frames, ("rgb",), "rgb"), SINGLE_STREAM,
          "visual_head", _more("wlasl2000", "config rgb_frame64") if _frames == 64 else (),
          notes=(f"Config rgb_frame{_frames}: the first stage of NLA-SLR's training chain.",))
    _card(f"s3d_pose{_frames}", build_s3d_pose, ("keypoint",), _protocol(_frames, ("keypoint",), "keypoint"),
          SINGLE_STREAM, "visual_head_keypoint", _more("wlasl2000", "config pose_frame64") if _frames == 64 else (),
          notes=(f"Config pose_frame{_frames}: 63 keypoint heatmaps (hands, half the mouth, body).",))
    _card(f"vknet{_frames}", build_vknet, ("rgb", "keypoint"), _protocol(_frames, ("ensemble_last", "fuse"), None),
          vknet_recipe(_frames), "visual_head", _more("wlasl2000", f"config two_frame{_frames}"),
          notes=(f"VKNet-{_frames} (config two_frame{_frames}); the official 3-crop evaluation reports "
                 "ensemble_last and fuse.",))

CARD = _card(
    "nla_slr", build_nla_slr, ("rgb", "keypoint"), _protocol(64, ("ensemble_last", "ensemble_all"), None), NLA_SLR,
    "visual_head_rgb_h", NLA_SLR_CHECKPOINTS, short_window=(16, 48), variant_from_keys=language_variant,
    notes=("Outputs: seven heads and ensemble_last (fused heads) / ensemble_all (all seven); which one the README "
           "table used is not stated: both are recorded.",
           "Views: the README's test command is the 1-view 'origin' setting and adds that 3-crop (3x_pad) 'can "
           "usually yield better results'; the table's numbers appear to be the paper's 3-crop rows (reported_view "
           "temporal3; to be confirmed against the paper).",
           "NMFs-CSL (1067 classes) has no word-embedding layers (contras_setting: null) and heatmaps from "
           "512x512 keypoint coordinates on a 256 grid."))


def build_s3d_rgb_tiny(num_classes: int, width: int = 8, bn_momentum: float = 0.1) -> SingleStreamS3D:
    """The RGB S3D at 1/8 width, for CPU demos and tests (64x64 clips of 16 frames)."""
    model = build_s3d_rgb(num_classes, width)
    for module in model.modules():  # from scratch, the released momentum (0.001) leaves the running stats unfit
        if isinstance(module, nn.BatchNorm3d):
            module.momentum = bn_momentum
    return model


TINY = _card(
    "s3d_rgb_tiny", build_s3d_rgb_tiny, ("rgb",), _protocol(16, ("rgb",), "rgb"),
    replace(SINGLE_STREAM, init_from=(), epochs=40, batch_size=8, lr=3e-3, cosine_t_max=40, color_jitter_p=0.0,
            crop_scale=(0.9, 1.0)),
    "visual_head", size=64, init_backbone=None, published=False,
    notes=("NLA-SLR's first-stage S3D at 1/8 width on 64x64 clips of 16 frames, trained from scratch: the embedded "
           "default of bench demo (not a published model).",
           "BatchNorm momentum 0.1 instead of the released 0.001, whose running statistics suit Kinetics-400 "
           "initialisation but stay unfit after a short training from scratch."))
