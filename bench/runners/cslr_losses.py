"""The CSLR training losses of VAC/CorrNet/SlowFastSign: CTC on both heads and self-mutual distillation."""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F

_CTC = torch.nn.CTCLoss(reduction="none", zero_infinity=False)


def ctc(logits: torch.Tensor, targets: torch.Tensor, steps: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
    """CTC of ``logits [T, B, C]`` against concatenated ``targets``, per sample, then the batch mean."""
    return _CTC(logits.float().log_softmax(-1), targets.cpu().int(), steps.cpu().int(), target_lengths.cpu().int()).mean()


def distillation(student: torch.Tensor, teacher: torch.Tensor, temperature: float = 8.0) -> torch.Tensor:
    """``SeqKD(T)`` without the blank: KL(teacher || student) at temperature T, x T^2, averaged over all steps."""
    classes = student.shape[-1] - 1
    log_p = F.log_softmax(student[..., 1:].float() / temperature, dim=-1).reshape(-1, classes)
    q = F.softmax(teacher[..., 1:].float() / temperature, dim=-1).reshape(-1, classes)
    return F.kl_div(log_p, q, reduction="batchmean") * temperature * temperature


def cslr_loss(out: Mapping[str, torch.Tensor], targets: torch.Tensor, target_lengths: torch.Tensor,
              weights: Mapping[str, float], temperature: float = 8.0) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of the recipe's terms (``SeqCTC``, ``ConvCTC``, ``Dist``) and each term's value."""
    terms = {}
    if "SeqCTC" in weights:
        terms["SeqCTC"] = ctc(out["sequence_logits"], targets, out["feat_len"], target_lengths)
    if "ConvCTC" in weights:
        terms["ConvCTC"] = ctc(out["conv_logits"], targets, out["feat_len"], target_lengths)
    if "Dist" in weights:  # the conv head learns from the (detached) BiLSTM head
        terms["Dist"] = distillation(out["conv_logits"], out["sequence_logits"].detach(), temperature)
    total = sum(weights[name] * value for name, value in terms.items())
    return total, {name: float(value.detach()) for name, value in terms.items()}
