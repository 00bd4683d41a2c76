"""The CSLR losses against hand-written forms of the official criterion_calculation."""

import torch
import torch.nn.functional as F

from bench.runners.cslr_losses import cslr_loss, distillation


def test_terms_and_branches_against_the_official_formulas():
    torch.manual_seed(0)
    steps, batch, classes = 9, 2, 6
    out = {"feat_len": torch.tensor([9, 7]), "conv_logits": torch.randn(steps, batch, classes),
           "sequence_logits": torch.randn(steps, batch, classes),
           "branches": {"slow": {"conv_logits": torch.randn(steps, batch, classes),
                                 "sequence_logits": torch.randn(steps, batch, classes)}}}
    targets, lengths = torch.tensor([1, 2, 3, 4, 5]), torch.tensor([3, 2])
    ctc = torch.nn.CTCLoss(reduction="none")

    def official(o):  # SeqCTC + ConvCTC + 25 x SeqKD(T=8, no blank), as criterion_calculation writes them
        seq = ctc(o["sequence_logits"].log_softmax(-1), targets, out["feat_len"], lengths).mean()
        conv = ctc(o["conv_logits"].log_softmax(-1), targets, out["feat_len"], lengths).mean()
        p = F.log_softmax(o["conv_logits"][:, :, 1:] / 8, -1).view(-1, classes - 1)
        q = F.softmax(o["sequence_logits"][:, :, 1:] / 8, -1).view(-1, classes - 1)
        return seq + conv + 25 * torch.nn.KLDivLoss(reduction="batchmean")(p, q) * 64

    weights = {"SeqCTC": 1.0, "ConvCTC": 1.0, "Dist": 25.0}
    total, values = cslr_loss(out, targets, lengths, weights, 8.0, {"slow": 0.25})
    assert torch.allclose(total, official(out) + 0.25 * official(out["branches"]["slow"]), rtol=1e-6)
    assert set(values) == {"SeqCTC", "ConvCTC", "Dist", "slow.SeqCTC", "slow.ConvCTC", "slow.Dist"}
    without, _ = cslr_loss(out, targets, lengths, weights)  # no branch weights: branches do not count
    assert torch.allclose(without, official(out), rtol=1e-6)
    assert distillation(out["conv_logits"], out["conv_logits"]).abs() < 1e-6
