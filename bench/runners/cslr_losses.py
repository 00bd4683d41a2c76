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


def cslr_loss(out: Mapping, targets: torch.Tensor, target_lengths: torch.Tensor, weights: Mapping[str, float],
              temperature: float = 8.0, branch_weights: Mapping[str, float] | None = None
              ) -> tuple[torch.Tensor, dict[str, float]]:
    """The recipe's weighted terms (``SeqCTC``, ``ConvCTC``, ``Dist``) on the reported head, plus, for models with
    auxiliary branches (``out["branches"][name]`` holding their own ``conv_logits``/``sequence_logits``, as
    SlowFastSign's slow and fast pathways), the same terms on each branch times ``branch_weights[name]``."""
    total, values = _terms(out, out["feat_len"], targets, target_lengths, weights, temperature, "")
    for name, branch in (out.get("branches") or {}).items():
        scale = (branch_weights or {}).get(name, 0.0)
        if scale:
            part, named = _terms(branch, out["feat_len"], targets, target_lengths, weights, temperature, f"{name}.")
            total = total + scale * part
            values.update(named)
    return total, values


def _terms(out: Mapping, steps: torch.Tensor, targets: torch.Tensor, target_lengths: torch.Tensor,
           weights: Mapping[str, float], temperature: float, prefix: str) -> tuple[torch.Tensor, dict[str, float]]:
    terms = {}
    if "SeqCTC" in weights:
        terms["SeqCTC"] = ctc(out["sequence_logits"], targets, steps, target_lengths)
    if "ConvCTC" in weights:
        terms["ConvCTC"] = ctc(out["conv_logits"], targets, steps, target_lengths)
    if "Dist" in weights:  # the conv head learns from the (detached) BiLSTM head
        terms["Dist"] = distillation(out["conv_logits"], out["sequence_logits"].detach(), temperature)
    total = sum(weights[name] * value for name, value in terms.items())
    return total, {prefix + name: float(value.detach()) for name, value in terms.items()}
