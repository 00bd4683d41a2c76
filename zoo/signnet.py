"""SignNet (Batnasan et al., IEEE Access 2025): VideoMAEv2 ViT-B/16 fine-tuned on head-and-hands tunnelling (H&HT)
mosaics, 32 frames.

The network is :class:`zoo.videomae.VideoMAEClassifier` unchanged (SignNet's fork at github ganzobtn/slr_vit
@45e3c48 keeps ``modeling_finetune.py`` as upstream); what is SignNet's is on the card: 32 frames at sampling rate 2,
the native 32-frame position table, ImageNet mean/std, the 3-temporal-segment test and the head's size per dataset.
No weights were ever published: SignNet's checkpoints are made by ``bench train`` (chain VideoMAEv2 K710 ->
ASL-Citizen -> WLASL), in DeepSpeed's ``mp_rank_00_model_states.pt`` layout or ours.
"""

from __future__ import annotations

from dataclasses import replace

from zoo.cards import ModelCard, register_model
from zoo.finetune_recipe import SIGNNET
from zoo.videomae import (FILE_KEYS, FILE_NOTE, STRICT_NOTE, VIDEOMAE_INPUT, VideoMAEClassifier, VideoViTPreset,
                          build_videomae_vitb16, segment_protocol)

PAPER = "Head and Hands Tunneling Pipeline for Enhancing Sign Language Recognition (IEEE Access 2025)"
URL = "https://doi.org/10.1109/ACCESS.2025.3591123"
CODE = "https://github.com/ganzobtn/slr_vit"  # the VideoMAEv2 fork lives in commits 7d00a84 / 45e3c48 only
# the head's rows per dataset (one card: the loader builds the head the data needs, and refuses a file of another)
# (bench.data names: wlasl<N>_signnet = SignNet's label order, wlasl<N> = WLASL's; *_revised = ASLLRP relabelling)
CLASSES = {**{f"wlasl{n}{order}": n for n in (2000, 1000, 300, 100) for order in ("_signnet", "")},
           "asl_citizen": 2731, "wlasl1518_revised": 1518, "wlasl1573_revised": 1573}
SIGNNET_INPUT = replace(VIDEOMAE_INPUT, preprocess="hht")  # the network sees head-and-hands mosaics (bench.hht)
TINY_VIT = VideoViTPreset(dim=64, depth=4, heads=4, patch=16, tubelet=2, input_size=64)  # CPU tests and demos


def build_signnet(num_classes: int, num_frames: int = 32, pos_table: str = "native", drop_path_rate: float = 0.3,
                  head_drop_rate: float = 0.0, grad_checkpointing: bool = False) -> VideoMAEClassifier:
    """``vit_base_patch16_224`` at 32 frames with the native 3136-token table (``run_class_finetuning.py`` of the fork
    comments out upstream's temporal interpolation); drop path 0.3 as every SignNet script (inactive in eval)."""
    return build_videomae_vitb16(num_classes, num_frames, pos_table, drop_path_rate, head_drop_rate,
                                 grad_checkpointing)


def build_signnet_tiny(num_classes: int, num_frames: int = 8, pos_table: str = "native",
                       drop_path_rate: float = 0.1, head_drop_rate: float = 0.0,
                       grad_checkpointing: bool = False) -> VideoMAEClassifier:
    """The same network 64 wide, 4 blocks, on 64x64 clips of 8 frames (64 tokens): trains on CPU in minutes."""
    return VideoMAEClassifier(num_classes, TINY_VIT, num_frames, pos_table, drop_path_rate=drop_path_rate,
                              head_drop_rate=head_drop_rate, grad_checkpointing=grad_checkpointing)


NOTES = (
    FILE_NOTE, STRICT_NOTE,
    "No code or weights are published any more (the fork's model code was deleted in 4c284cb; every weight link is "
    "empty): the harness is where SignNet runs. Start: videomaev2_vitb16_k710's vit_b_k710_dl_from_giant.pth.",
    "Position table: native 32-frame sinusoid by default (pos_table='native'), the official protocol: the fork's "
    "run_class_finetuning.py comments out upstream's interpolation and its copy that keeps it "
    "(run_class_finetuning_new.py) crashes at 32 frames; pos_table='interpolated' (the 16-frame table stretched "
    "along time, upstream's intent) changes predictions.",
    "Head per dataset: WLASL-2000/1000/300/100 (2000/1000/300/100, sorted class-folder names), ASL-Citizen 2731, "
    "revised WLASL 1518 / 1573 (CLASSES in zoo/signnet.py).",
    "Official test: --test_num_segment 3 --test_num_crop 1 (segment3, reported; the WLASL-2000 H&HT 3-crop script "
    "passes --sampling_rate 1, every other script 2), short side 224, the left-most 224 window (the patched "
    "sampler), softmax averaged; DeepSpeed fp16 on GPU.",
)

CARD = register_model(ModelCard(
    name="signnet", paper=PAPER, url=URL, code=CODE, build=build_signnet, input=SIGNNET_INPUT,
    protocol=segment_protocol(32, 2, reported="segment3"),
    training=SIGNNET,
    notes=NOTES, **FILE_KEYS))

# SignNet's recipe at CPU scale, every augmentation kept: a larger rate (the tiny ViT starts from scratch, not
# from K710 weights) and more epochs of the 192 synthetic training clips
TINY_RECIPE = replace(SIGNNET, epochs=60, lr=0.016, warmup_epochs=5, dataset_overrides={},
                      notes=("SignNet's fine-tuning recipe at CPU scale: base lr 0.016 (x 16 / 256 = 1e-3), 60 "
                             "epochs, everything else as SIGNNET (layer decay, drop path 0.3, RandAugment, "
                             "mixup/cutmix, smoothing, erasing, flip).",
                             "Measured on the synthetic WLASL data (192 training clips, plain frames): from scratch "
                             "this recipe stays at chance (test top-1 8.3% after 60 epochs; 16.7% val after 150); "
                             "the ViT learns once the augmentations are light (no RandAugment, mixup, cutmix or "
                             "erasing; crops of 80-100%): a tests-and-plumbing recipe, not a result."))

TINY = register_model(ModelCard(
    name="signnet_tiny", published=False, paper=PAPER, url=URL, code=CODE, build=build_signnet_tiny,
    input=replace(VIDEOMAE_INPUT, frame_size=64, crop=64), protocol=segment_protocol(8, 2, reported="segment3"),
    training=TINY_RECIPE,
    notes=("SignNet's VideoMAEv2 network at CPU scale (64 wide, 4 blocks, 4 heads, patch 16, tubelet 2, 64x64 "
           "frames, 8 frames = 64 tokens), trained from scratch: tests and demos, not a published model.",
           FILE_NOTE),
    **FILE_KEYS))
