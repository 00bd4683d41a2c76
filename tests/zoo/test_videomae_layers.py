"""VideoMAEv2 blocks in training mode: stochastic depth drops whole samples and rescales the rest; gradient
checkpointing changes memory, not numbers; the attention's k bias stays zero."""

from __future__ import annotations

import torch

from zoo import get_card
from zoo.videomae import Attention, drop_path


def test_drop_path_drops_whole_samples_and_rescales_the_kept():
    torch.manual_seed(0)
    out = drop_path(torch.ones(4000, 3, 5), 0.25, training=True)
    per_sample = out.flatten(1)
    assert torch.equal(per_sample.min(1).values, per_sample.max(1).values)  # one decision per sample
    assert per_sample[:, 0].unique().tolist() == [0.0, torch.tensor(4 / 3).item()]  # kept: x / (1 - 0.25)
    assert abs((per_sample[:, 0] == 0).float().mean().item() - 0.25) < 0.03
    assert torch.equal(drop_path(torch.ones(3, 2), 0.25, training=False), torch.ones(3, 2))


def test_gradient_checkpointing_gives_the_same_gradients():
    clip = torch.randn(2, 3, 16, 128, 128, generator=torch.Generator().manual_seed(0))
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(1)
        model = get_card("signnet_tiny").build(5, drop_path_rate=0.0, grad_checkpointing=checkpointing).train()
        model(clip)["logits"].square().sum().backward()
        grads.append({k: p.grad.clone() for k, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    assert all(torch.allclose(grads[0][k], grads[1][k], rtol=1e-5, atol=1e-7) for k in grads[0])


def test_the_k_bias_is_zero_and_not_learned():
    attention = Attention(8, 2)
    with torch.no_grad():
        attention.q_bias.fill_(1.0)
        attention.v_bias.fill_(2.0)
    x = torch.randn(1, 3, 8)
    q, k, v = torch.nn.functional.linear(x, attention.qkv.weight).chunk(3, dim=-1)
    # the same attention by hand: q and v biased, k not
    qh, kh, vh = ((t.view(1, 3, 2, 4).transpose(1, 2)) for t in (q + 1.0, k, v + 2.0))
    scores = (qh @ kh.transpose(-2, -1) / 2.0).softmax(-1)
    want = attention.proj((scores @ vh).transpose(1, 2).reshape(1, 3, 8))
    assert torch.allclose(attention(x), want, atol=1e-6)
    assert sorted(n for n, _ in attention.named_parameters()) == ["proj.bias", "proj.weight", "q_bias", "qkv.weight",
                                                                  "v_bias"]
