"""VideoMAE's layer-decay groups and per-update schedule, against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from bench.runners.finetune_optim import (TableSchedule, cosine_table, count_blocks, finetune_optimizer,
                                          layer_decay_groups, vit_layer_id)
from zoo.finetune_recipe import SIGNNET, FinetuneRecipe


class TwoBlockViT(nn.Module):
    """The parameter names of a 2-block VideoMAE ViT (patch_embed, blocks.i, fc_norm, head) at width 4."""

    def __init__(self):
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv3d(3, 4, (2, 2, 2))
        self.blocks = nn.ModuleList(nn.ModuleDict({"norm1": nn.LayerNorm(4), "fc": nn.Linear(4, 4)})
                                    for _ in range(2))
        self.q_bias = nn.Parameter(torch.zeros(4))  # a 1-D tensor outside the blocks
        self.fc_norm = nn.LayerNorm(4)
        self.head = nn.Linear(4, 3)


def test_layer_ids_follow_get_num_layer_for_vit():
    names = ("pos_embed", "cls_token", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.11.mlp.fc2.bias",
             "fc_norm.weight", "head.weight")
    assert [vit_layer_id(n, 12) for n in names] == [0, 0, 0, 1, 12, 13, 13]
    assert count_blocks(["blocks.0.a", "blocks.1.b", "blocks.1.c", "head.weight"]) == 2


def test_two_block_groups_scales_and_decay():
    groups = layer_decay_groups(TwoBlockViT().named_parameters(), weight_decay=0.1, layer_decay=0.9)
    by_names = {tuple(g["names"]): (round(g["lr_scale"], 12), g["weight_decay"]) for g in groups}
    # depth 2: layer 0 -> 0.9^3, block 0 -> 0.9^2, block 1 -> 0.9, the rest -> 1
    assert list(by_names)[0] == ("q_bias", "fc_norm.weight", "fc_norm.bias", "head.bias")  # the module's own first
    assert by_names == {
        ("patch_embed.proj.weight",): (0.729, 0.1),
        ("patch_embed.proj.bias",): (0.729, 0.0),
        ("blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.fc.bias"): (0.81, 0.0),
        ("blocks.0.fc.weight",): (0.81, 0.1),
        ("blocks.1.norm1.weight", "blocks.1.norm1.bias", "blocks.1.fc.bias"): (0.9, 0.0),
        ("blocks.1.fc.weight",): (0.9, 0.1),
        ("q_bias", "fc_norm.weight", "fc_norm.bias", "head.bias"): (1.0, 0.0),
        ("head.weight",): (1.0, 0.1),
    }
    # no layer decay: two groups, scale 1
    plain = layer_decay_groups(TwoBlockViT().named_parameters(), 0.1, 1.0)
    assert [(len(g["names"]), g["lr_scale"], g["weight_decay"]) for g in plain] == [(11, 1.0, 0.0), (4, 1.0, 0.1)]


def test_cosine_table_matches_the_formula():
    base, final, epochs, per_epoch, warm = 1e-3, 1e-6, 10, 4, 2
    table = cosine_table(base, final, epochs, per_epoch, warm)
    assert len(table) == 40
    assert table[0] == 0.0 and table[7] == pytest.approx(base)  # linspace(0, base, 8): both ends included
    assert table[3] == pytest.approx(base * 3 / 7)
    n = 40 - 8
    for i in (0, 1, 16, 31):
        assert table[8 + i] == pytest.approx(final + 0.5 * (base - final) * (1 + math.cos(math.pi * i / n)), rel=1e-12)
    assert table[8] == pytest.approx(base) and table[8 + 16] == pytest.approx((base + final) / 2)
    with pytest.raises(ValueError, match="warm-up"):
        cosine_table(base, final, 2, 4, 3)


def test_signnet_optimizer_rates_per_group_and_resume():
    model = TwoBlockViT()
    recipe = FinetuneRecipe(epochs=10, warmup_epochs=2, batch_size=16)
    optimizer, schedule, groups = finetune_optimizer(model, recipe, batch_size=16, per_epoch=4, epochs=10)
    peak, low = 1e-3 * 16 / 256, 1e-6 * 16 / 256
    assert optimizer.defaults["betas"] == (0.9, 0.999) and optimizer.defaults["eps"] == 1e-8
    assert [g["lr"] for g in optimizer.param_groups] == [0.0] * len(groups)  # the ramp starts at 0
    for _ in range(7):
        schedule.step()
    rates = {tuple(g["names"]): p["lr"] for g, p in zip(groups, optimizer.param_groups)}
    assert rates[("patch_embed.proj.weight",)] == pytest.approx(peak * 0.729)  # layer 0 at the end of warm-up
    assert rates[("head.weight",)] == pytest.approx(peak)
    for _ in range(16 + 1):
        schedule.step()
    half = low + 0.5 * (peak - low)  # half-way down the cosine
    assert optimizer.param_groups[-1]["lr"] == pytest.approx(half)  # head.weight, scale 1
    for group in optimizer.param_groups:
        group["lr"] = 0.0
    again = TableSchedule(optimizer, schedule.table)
    again.load_state_dict(schedule.state_dict())  # a resumed run sets the same rates
    rates = {tuple(g["names"]): p["lr"] for g, p in zip(groups, optimizer.param_groups)}
    assert rates[("blocks.0.fc.weight",)] == pytest.approx(half * 0.81)


def test_signnet_recipe_per_dataset():
    assert SIGNNET.for_dataset("wlasl100").epochs == 200 and SIGNNET.for_dataset("wlasl2000").epochs == 50
    assert SIGNNET.scaled(SIGNNET.lr, SIGNNET.batch_size) == pytest.approx(6.25e-5)
