"""SignVLM (Luqman, PeerJ Comput. Sci. 2025) and EVL (Lin et al., ECCV 2022): a frozen CLIP ViT + the EVL decoder.

Official code: github Hamzah-Luqman/signVLM, a copy of github OpenGVLab/efficient-video-recognition (``model.py``'s
``EVLTransformer``). Module names follow it, so that ``ckpt["model"]`` loads strictly once DDP's ``module.`` is
removed (the card's ``key_prefix``). As officially, the CLIP backbone is held outside the module tree: it is not in
``state_dict()`` nor in checkpoints, and comes from a CLIP file (:mod:`zoo.clip_weights`,
``load_model(..., backbone=...)``). Input ``rgb [B, 3, T, H, W]`` normalised by the card's mean/std; output
``{"logits": [B, classes]}`` (class token -> LayerNorm -> Dropout -> Linear).
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn as nn

from zoo.cards import CheckpointSource, InputSpec, IsolatedProtocol, ModelCard, register_model
from zoo.clip_weights import HUB_REPOS, OPENAI_FILES, openai_url, read_clip_backbone
from zoo.layers.evl_decoder import EVLDecoder
from zoo.layers.vit import VIT_PRESETS, CLIPViT, ViTPreset, freeze_fp16_
from zoo.step_recipe import SIGNVLM as SIGNVLM_RECIPE

TINY_VIT = ViTPreset(dim=64, layers=4, heads=4, patch=16, input_size=64, residual_init=0.1)  # CPU tests, demos


class EVLClassifier(nn.Module):
    """EVL's ``EVLTransformer`` with a frozen backbone: ``decoder`` and ``proj`` are the checkpoint's modules."""

    inputs = ("rgb",)

    def __init__(self, num_classes: int, backbone: str | ViTPreset = "ViT-L/14", num_frames: int = 24,
                 decoder_layers: int = 4, decoder_qkv_dim: int | None = None, decoder_heads: int | None = None,
                 mlp_factor: float = 4.0, mlp_dropout: float = 0.5, cls_dropout: float = 0.5,
                 freeze_fp16: bool = False):
        super().__init__()
        self.preset = VIT_PRESETS[backbone] if isinstance(backbone, str) else backbone
        self.arch = backbone if isinstance(backbone, str) else None
        self.num_frames, self.taps, self.freeze_fp16 = num_frames, decoder_layers, freeze_fp16
        dim, grid = self.preset.dim, (self.preset.grid, self.preset.grid)
        self.decoder = EVLDecoder(num_frames, grid, decoder_layers, dim, decoder_qkv_dim or dim,
                                  decoder_heads or self.preset.heads, mlp_factor, mlp_dropout)
        self.proj = nn.Sequential(nn.LayerNorm(dim), nn.Dropout(cls_dropout), nn.Linear(dim, num_classes))
        self._frozen: list[CLIPViT] = []  # a list keeps the backbone out of the module tree (as officially)
        self.backbone_source: str | None = None  # None: randomly initialised (built on first use)

    @property
    def backbone(self) -> CLIPViT:
        """The frozen CLIP ViT, built on first use (inspecting a checkpoint never pays for 300 M parameters)."""
        if not self._frozen:
            with torch.random.fork_rng(devices=[]):  # a fixed random ViT: every build of a tiny model agrees
                torch.manual_seed(0)
                vit = CLIPViT(self.preset).eval().requires_grad_(False)
            self._frozen.append(freeze_fp16_(vit) if self.freeze_fp16 else vit)
        return self._frozen[0]

    def load_backbone(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Load EVL-keyed backbone weights strictly (every key, every shape)."""
        from zoo.checkpoints import CheckpointError, check_state_dict

        report = check_state_dict(self.backbone, state)
        if not report.ok:
            lines = report.lines()
            blocks = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
            width = state["cls_token"].shape[0] if "cls_token" in state else "?"
            raise CheckpointError(f"{source}: does not fit the {self.arch or 'tiny'} backbone: the file has {blocks} "
                                  f"blocks of width {width}, the backbone "
                                  f"{self.preset.layers} of {self.preset.dim} ({len(lines)} problems):\n  "
                                  + "\n  ".join(lines[:40]))
        self.backbone.load_state_dict(state, strict=True)  # casts to fp16 where freeze_fp16 made it so
        self.backbone_source = source

    def forward(self, rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        b, _, t, _, _ = rgb.shape
        if t != self.num_frames:
            raise ValueError(f"clips of {t} frames; this model (decoder.temporal_pos_embed) takes {self.num_frames}")
        vit = self._frozen[0] = self.backbone.to(rgb.device)
        with torch.no_grad():  # frozen: no gradients through the backbone
            tapped = vit(rgb.permute(0, 2, 1, 3, 4).flatten(0, 1), taps=self.taps)
        features = [{k: v.float().view(b, t, *v.shape[1:]) for k, v in block.items()} for block in tapped]
        return {"logits": self.proj(self.decoder(features)[:, 0, :])}


def init_clip_backbone(model: EVLClassifier, path: str) -> list[str]:
    """Fill ``model``'s frozen backbone from a CLIP file (OpenAI TorchScript or transformers safetensors)."""
    state, lines = read_clip_backbone(path, model.arch)
    model.load_backbone(state, str(path))
    return lines + [f"backbone: {len(state)} tensors loaded strictly ({model.arch or 'custom'} CLIP image encoder; "
                    f"{'fp16' if model.freeze_fp16 else 'fp32'})"]


def frame_count_hint(key: str, model_shape: tuple[int, ...], file_shape: tuple[int, ...]) -> str | None:
    """A temporal position embedding of another length means a checkpoint trained on another frame count."""
    if ".temporal_pos_embed." in f".{key}" and model_shape[1:] == file_shape[1:]:
        return (f"{key} ties the checkpoint to {file_shape[0]} frames; this card runs {model_shape[0]}: pass "
                f"num_frames={file_shape[0]} (a {file_shape[0]}-frame variant) or a {model_shape[0]}-frame checkpoint")
    return None


def build_signvlm(num_classes: int, num_frames: int = 24, freeze_fp16: bool = False) -> EVLClassifier:
    """SignVLM: CLIP ViT-L/14 (``ln_pre``), 24 frames, decoder 4 x 1024 with 16 heads."""
    return EVLClassifier(num_classes, "ViT-L/14", num_frames, 4, 1024, 16, freeze_fp16=freeze_fp16)


def build_evl_vitb16(num_classes: int, num_frames: int = 8, freeze_fp16: bool = False) -> EVLClassifier:
    """EVL ViT-B/16: decoder 4 x 768 with 12 heads."""
    return EVLClassifier(num_classes, "ViT-B/16", num_frames, 4, 768, 12, freeze_fp16=freeze_fp16)


def build_signvlm_tiny(num_classes: int, num_frames: int = 8, freeze_fp16: bool = False) -> EVLClassifier:
    """A 64-wide, 4-block ViT (patch 16, 64x64 frames) under the same decoder: tests and CPU demos only. No dropout:
    the decoder learns from scratch on a few hundred clips (the released 0.5 suits CLIP features and 10k steps)."""
    return EVLClassifier(num_classes, TINY_VIT, num_frames, 4, 64, 4, mlp_dropout=0.0, cls_dropout=0.0,
                         freeze_fp16=freeze_fp16)


def _backbone_note(arch: str) -> str:
    file, digest = OPENAI_FILES[arch]
    return (f"Backbone (not in checkpoints): OpenAI CLIP {arch}, {file} from {openai_url(arch)} (sha256 {digest}), "
            f"or hf://{HUB_REPOS[arch]}/model.safetensors; pass it as backbone=.")


SIGNVLM_PAPER = "SignVLM: a pre-trained large video model for sign language recognition (PeerJ Comput. Sci. 2025)"
EVL_PAPER = "Frozen CLIP Models are Efficient Video Learners (ECCV 2022)"
EVL_CODE = "https://github.com/OpenGVLab/efficient-video-recognition"
CLIP_MEAN_STD = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
# EVL's test transform: /255, normalise, short side to the crop size (bilinear), crops along the long side
SIGNVLM_INPUT = InputSpec(frame_size=224, crop=224, normalization="mean_std", mean=(0.45, 0.45, 0.45),
                          std=(0.225, 0.225, 0.225), channels="RGB", spatial="short_side", normalize_first=True,
                          dataset_mean_std={"karsl502": CLIP_MEAN_STD})  # only the KArSL-502 script passes CLIP's
CLIP_INPUT = InputSpec(frame_size=224, crop=224, normalization="mean_std", mean=CLIP_MEAN_STD[0],
                       std=CLIP_MEAN_STD[1], channels="RGB", spatial="short_side", normalize_first=True)
COMMON = dict(task="isolated", temporal_layout=(), checkpoint_key="model", key_prefix="module.",
              classifier_key="proj.2.weight", init_backbone=init_clip_backbone, separate_backbone=True,
              mismatch_hint=frame_count_hint)
FILE_NOTE = ("Official files: torch.save({model, optimizer, lr_sched, loss_scaler, next_step}), weights under "
             "'model' with DDP's 'module.' prefix; the frozen CLIP backbone is not in them.")


def _protocol(frames: int, stride: int, reported: str | None = "spatial3", **extra) -> IsolatedProtocol:
    # official test: one centred strided window x 3 spatial crops along the long side, softmax averaged
    return IsolatedProtocol(views=("1view", "spatial3"), reported_view=reported, frames=frames, fusion="softmax_mean",
                            outputs=("logits",), reported_output="logits", sampling="strided", stride=stride, **extra)


CARD = register_model(ModelCard(
    name="signvlm", paper=SIGNVLM_PAPER, url="https://doi.org/10.7717/peerj-cs.3112",
    code="https://github.com/Hamzah-Luqman/signVLM", build=build_signvlm, input=SIGNVLM_INPUT,
    protocol=_protocol(24, 4, dataset_stride={"karsl502": 8}, dataset_head={"autsl": 256}), training=SIGNVLM_RECIPE,
    notes=(
        FILE_NOTE, _backbone_note("ViT-L/14"),
        "No SignVLM checkpoint is published; its tables' numbers are not in a readable source here.",
        "Official test: one centred window of 24 frames at stride 4 (KArSL-502: 8), short side 224, 3 spatial crops, "
        "softmax averaged; mean/std 0.45/0.225 (the KArSL-502 script passes CLIP's). LSA64's script runs 32 frames: "
        "num_frames=32, a checkpoint of its own.",
        "Official numbers come from a pure-fp16 backbone (freeze_fp16=True); fp32 is the default here."),
    **COMMON))

EVL_CARD = register_model(ModelCard(
    name="evl_vitb16_8f_k400", paper=EVL_PAPER, url="https://arxiv.org/abs/2208.03550", code=EVL_CODE,
    build=build_evl_vitb16, input=CLIP_INPUT, protocol=_protocol(8, 16, reported=None),
    checkpoints=(CheckpointSource("k400", "kinetics400", 400, url=EVL_CODE + "#model-zoo",
                                  note="EVL README model zoo: ViT-B/16 8x16, 82.8 top-1 / 95.8 top-5 "
                                       "(1 spatial x 3 temporal views); class order data/k400_class_mappings.json"),),
    notes=(FILE_NOTE, _backbone_note("ViT-B/16"),
           "Published K400 (EVL README, github OpenGVLab/efficient-video-recognition): ViT-B/16 8x16 82.8 / 95.8, "
           "16x16 83.7, 32x8 84.3; ViT-L/14 8x16 86.3 / 97.2, 16x16 86.9, 32x8 87.7 (top-1 / top-5).",
           "EVL's K400 numbers use 1 spatial x 3 temporal views (8 frames x stride 16), not a view protocol of the "
           "harness yet: reported_view is None."),
    **COMMON))

TINY_RECIPE = replace(SIGNVLM_RECIPE, steps=3000, batch_size=8, lr=2e-3, save_every=500, auto_augment=None,
                      crop_scale=(0.8, 1.0), dataset_overrides={})

TINY = register_model(ModelCard(
    name="signvlm_tiny", published=False, paper=SIGNVLM_PAPER, url="https://doi.org/10.7717/peerj-cs.3112",
    code="https://github.com/Hamzah-Luqman/signVLM", build=build_signvlm_tiny,
    input=replace(SIGNVLM_INPUT, frame_size=64, crop=64, dataset_mean_std={}),
    protocol=_protocol(8, 2), training=TINY_RECIPE, notes=(
        "A tiny random CLIP-like ViT (64 wide, 4 blocks, patch 16, 64x64 frames, 8 frames) under SignVLM's "
        "decoder: CPU tests and demos, not a published model.",
        "Trained with SignVLM's step recipe at CPU scale: 3000 steps of 8 clips, lr 2e-3, crops of 80-100% of the "
        "frame, no dropout (the decoder learns from scratch on a random backbone; the paper's 4e-5 and 8-100% crops "
        "fine-tune from CLIP features).",
        "The random backbone's residual branches start at 0.1 x their init: near-identity blocks whose tokens keep "
        "their patches' content (a plain random ViT scrambles them and the decoder reaches ~85%)."),
    **{**COMMON, "separate_backbone": False}))

