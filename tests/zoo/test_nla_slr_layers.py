"""The S3D, VKNet and head building blocks: layer layout, freezing, pooling, lateral connections."""

from __future__ import annotations

import pytest
import torch

from zoo.layers.nla_heads import GlossHead
from zoo.layers.s3d import BLOCK_END, S3D, clip_feature, pool_time_steps
from zoo.layers.vknet import LateralConnection


def test_s3d_blocks_and_batchnorm_settings():
    full = S3D(3)
    assert len(full.base) == BLOCK_END[5] + 1 == 16 and full.out_channels == 1024
    norms = [m for m in full.modules() if isinstance(m, torch.nn.BatchNorm3d)]
    assert {(m.eps, m.momentum) for m in norms} == {(1e-3, 0.001)}
    assert all(m.bias is None for m in full.modules() if isinstance(m, torch.nn.Conv3d))
    three = S3D(63, use_block=3)
    assert len(three.base) == 7 and three.out_channels == 480
    assert three(torch.zeros(1, 63, 4, 32, 32)).shape == (1, 480, 2, 4, 4)


def test_frozen_blocks_keep_eval_mode_and_no_gradients():
    model = S3D(3, use_block=3, freeze_block=2).train()
    frozen, free = model.base[:BLOCK_END[2] + 1], model.base[BLOCK_END[2] + 1:]
    assert all(not p.requires_grad for p in frozen.parameters()) and all(p.requires_grad for p in free.parameters())
    assert not any(m.training for layer in frozen for m in layer.modules())
    assert all(m.training for layer in free for m in layer.modules())


def test_pooling_weighs_the_end_steps_half():
    x = torch.arange(3.0).reshape(1, 1, 3, 1, 1).expand(1, 1, 3, 2, 2)  # steps 0, 1, 2
    assert pool_time_steps(x).shape == (1, 2, 1)
    assert clip_feature(x).item() == pytest.approx((0 / 2 + 1 + 2 / 2) / 2)  # mean of pairs: (0.5 + 1.5) / 2
    assert clip_feature(torch.full((1, 1, 1, 2, 2), 5.0)).item() == 5.0  # one step: the kernel-1 fallback
    assert clip_feature(torch.ones(2, 4)).shape == (2, 4)


def test_lateral_connections_resize_and_add():
    torch.manual_seed(0)
    up, down = LateralConnection(4, (1, 3, 3), (1, 2, 2), True), LateralConnection(4, (1, 3, 3), (1, 2, 2), False)
    large, small = torch.randn(1, 4, 3, 8, 8), torch.randn(1, 4, 3, 4, 4)
    assert torch.allclose(up(large, small), large + up.conv(small)) and up.conv(small).shape == large.shape
    assert torch.allclose(down(large, small), down.conv(large) + small) and down.conv(large).shape == small.shape
    time_up = LateralConnection(4, (3, 1, 1), (2, 1, 1), True)
    assert time_up.conv(torch.randn(1, 4, 4, 2, 2)).shape == (1, 4, 8, 2, 2)  # 32 -> 64 frames' maps


def test_gloss_head_without_language_layers_refuses_word_fusion():
    head = GlossHead(8, 5)
    logits, feature = head(torch.randn(2, 8, 3, 2, 2))
    assert logits.shape == (2, 5) and feature.shape == (2, 8)
    assert set(head.state_dict()) == {"gloss_output_layer.weight", "gloss_output_layer.bias"}
    with pytest.raises(ValueError, match="no language layers"):
        head.word_fused_logits(feature, torch.randn(5, 300), torch.zeros(2, 3, dtype=torch.long))


def test_kinetics_s3d_initialisation_fills_every_trunk_and_names_what_does_not_fit(tmp_path):
    # kylemin/S3D's S3D_kinetics400.pt layout: a bare state dict under "module.", with the 400-class classifier
    from zoo.layers.s3d import S3D, load_kinetics_s3d
    from zoo.nla_slr import build_s3d_pose, build_vknet

    torch.manual_seed(1)
    kinetics = {f"module.{k}": torch.randn_like(v) if v.is_floating_point() else v
                for k, v in S3D(3).state_dict().items()}
    kinetics["module.fc.0.weight"], kinetics["module.fc.0.bias"] = torch.randn(400, 1024, 1, 1, 1), torch.randn(400)
    path = tmp_path / "S3D_kinetics400.pt"
    torch.save(kinetics, path)

    pose = build_s3d_pose(10)
    first = "base.0.conv_s.weight"  # 63 input channels here, 3 in the file: kept as initialised
    before = pose.visual_backbone_keypoint.backbone.state_dict()[first].clone()
    lines = load_kinetics_s3d(pose, str(path))
    got = pose.visual_backbone_keypoint.backbone.state_dict()
    assert torch.equal(got[first], before)
    assert all(torch.equal(got[k], kinetics[f"module.{k}"]) for k in got if k != first)
    assert len(lines) == 1 and f"other shape, kept initialised: {first};" in lines[0]
    assert "unused: fc.0.bias, fc.0.weight" in lines[0] and f"{len(got) - 1} of {len(got)} tensors" in lines[0]

    vknet = build_vknet(10)
    assert len(load_kinetics_s3d(vknet, str(path))) == 2  # the RGB and the keypoint trunk
    rgb = vknet.visual_backbone_twostream.rgb_stream.backbone.state_dict()
    assert torch.equal(rgb[first], kinetics[f"module.{first}"])
