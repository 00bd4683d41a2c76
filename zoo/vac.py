"""VAC (Min et al., ICCV 2021): a 2D ResNet-18 over frames, temporal conv + BiLSTM, visual alignment losses.

Official code: github.com/ycmin95/VAC_CSLR. The baseline uses plain linear classifiers; the released SMKD model
(``resnet18_slr_pretrained_distill25.pt``) a shared weight-normalised one: the variant follows the checkpoint keys.
"""

from __future__ import annotations

from zoo.cards import CheckpointSource, EvalProtocol, ModelCard, TrainRecipe, register_model
from zoo.layers.resnet import FrameResNet18, init_resnet18_backbone
from zoo.layers.temporal import SequenceModel


def build_vac(num_classes: int, weight_norm: bool = True, share_classifier: bool = True,
              widths: tuple[int, int, int, int] = (64, 128, 256, 512), hidden_size: int = 1024) -> SequenceModel:
    return SequenceModel(FrameResNet18(dims=2, widths=widths), num_classes, feature_size=widths[3],
                         hidden_size=hidden_size, weight_norm=weight_norm, share_classifier=share_classifier)


def _variant(keys: set[str]) -> dict:
    linear = "classifier.bias" in keys  # nn.Linear has a bias, NormLinear has none
    return {"weight_norm": not linear, "share_classifier": not linear}


CARD = register_model(ModelCard(
    name="vac",
    paper="Visual Alignment Constraint for Continuous Sign Language Recognition (ICCV 2021)",
    url="https://arxiv.org/abs/2104.02330",
    code="https://github.com/ycmin95/VAC_CSLR",
    task="continuous",
    build=build_vac,
    protocol=EvalProtocol(scorer="sclite", batch_size=8),  # configs/baseline.yaml: test_batch_size 8
    # the released model is VAC+SMKD (distill25): both CTC terms and distillation at 25
    training=TrainRecipe(loss_weights={"SeqCTC": 1.0, "ConvCTC": 1.0, "Dist": 25.0}),
    checkpoints=(
        CheckpointSource("phoenix2014", "phoenix2014", 1296,
                         url="https://www.dropbox.com/s/zbas78emfz5m4bp/resnet18_slr_pretrained_distill25.pt",
                         note="README: dev 21.2 / test 22.3 (SMKD: shared weight-normalised classifier)"),
    ),
    variant_from_keys=_variant,
    shared_keys=(("classifier.weight", "conv1d.fc.weight"),),
    init_backbone=init_resnet18_backbone,
    notes=("The baseline config (share_classifier: False, weight_norm: False) loads as the linear variant.",),
))
