"""PySlowFast's Caffe2 pickles into our SlowFast backbone: names, a round trip through a real pickle file, the
official loader's shape adaptations, blobs and keys reported by name, and strictness on the trunk."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from zoo import get_card
from zoo.slowfast_caffe2 import caffe2_blobs, caffe2_name, convert_name, load_caffe2_slowfast, read_caffe2_blobs

JUNK = {  # blobs of the Kinetics checkpoint that SlowFastSign's backbone has no place for, and why
    "pred_w": "head.projection.weight: not in SlowFastSign's backbone",
    "nonlocal_conv4_1_theta_w": "s4.pathway0_nonlocal1.conv_theta.weight: not in SlowFastSign's backbone",
    "nonlocal_conv4_1_bn_riv": "s4.pathway0_nonlocal1.bn.running_var: not in SlowFastSign's backbone",
    "res2_0_branch2a_w_momentum": "solver state",
    "lr": "solver state",
    "model_iter": "solver state",
    "gibberish_blob": "not a SlowFast weight",
}
FUSION_ONLY = {"conv_s2f.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "weight_s",
               "weight_f"}


@pytest.mark.parametrize("name, key", [
    ("conv1_w", "s1.pathway0_stem.conv.weight"),
    ("t_res_conv1_bn_riv", "s1.pathway1_stem.bn.running_var"),
    ("res4_22_branch2c_bn_s", "s4.pathway0_res22.branch2.c_bn.weight"),
    ("t_res5_0_branch1_bn_rm", "s5.pathway1_res0.branch1_bn.running_mean"),
    ("res3_0_branch1_w", "s3.pathway0_res0.branch1.weight"),
    ("t_pool1_subsample_bn_b", "s1_fuse.bn.bias"),
    ("t_res4_22_branch2c_bn_subsample_w", "s4_fuse.conv_f2s.weight"),
    ("nonlocal_conv4_13_phi_b", "s4.pathway0_nonlocal13.conv_phi.bias"),
    ("pred_b", "head.projection.bias"),
    ("conv1_w_momentum", None),
])
def test_convert_name(name, key):
    assert convert_name(name) == key
    if key is not None and not key.startswith(("head", "s4.pathway0_nonlocal")):
        assert caffe2_name(key) == name


def backbone(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = get_card("slowfastsign_tiny").build(12).conv2d
    with torch.no_grad():  # distinct values everywhere, so that a misplaced tensor cannot go unnoticed
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape) + 0.5)
    return model


def write(tmp_path, blobs: dict) -> str:
    path = tmp_path / "SLOWFAST_64x2_R101_50_50.pkl"
    path.write_bytes(pickle.dumps({"blobs": blobs}, protocol=2))  # Python 2 era files are protocol 2
    return str(path)


def test_round_trip_through_a_pickle_reports_junk_and_fusion_by_name(tmp_path):
    source, target = backbone(0), backbone(1)
    blobs = {**caffe2_blobs(source), **{name: np.zeros(3, np.float32) for name in JUNK}}
    report = load_caffe2_slowfast(target, write(tmp_path, blobs))
    assert report.unconverted == JUNK
    assert report.adapted == {}
    mine, theirs = target.state_dict(), source.state_dict()
    assert all(torch.equal(mine[k], theirs[k]) for k in report.loaded)
    assert len(report.loaded) == len(caffe2_blobs(source))  # every blob with a counterpart is used
    assert {k.split(".", 1)[1] for k in report.unfilled} == FUSION_ONLY  # only what Caffe2 has no name for
    assert {k.split(".", 1)[0] for k in report.unfilled} == {"s1_fuse", "s2_fuse", "s3_fuse", "s4_fuse"}


def test_pretraining_layout_is_adapted_as_the_official_loader_does(tmp_path):
    source, target = backbone(0), backbone(1)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    blobs = caffe2_blobs(source, pretraining_layout=True)
    assert blobs["res2_0_branch1_w"].shape == (64, 20, 1, 1, 1)  # 16 slow + 4 lateral channels
    assert blobs["t_pool1_subsample_w"].shape == (4, 2, 5, 1, 1)  # ratio 2, not beta_inv 8
    report = load_caffe2_slowfast(target, blobs)
    mine, theirs = target.state_dict(), source.state_dict()
    trunk = [k for k in mine if "_fuse" not in k and not k.endswith("num_batches_tracked")]
    assert all(torch.equal(mine[k], theirs[k]) for k in trunk)  # the trunk comes back exactly
    assert sorted(k for k in report.adapted if "_fuse" not in k) == sorted(
        f"s{s}.pathway0_res0.{m}.weight" for s in range(2, 6) for m in ("branch1", "branch2.a"))
    assert "input channels 20 -> 16" in report.adapted["s2.pathway0_res0.branch1.weight"]
    laterals = ["t_pool1_subsample_w"] + [f"t_res{s}_{b}_branch2c_bn_subsample_w" for s, b in ((2, 0), (3, 0), (4, 1))]
    assert sorted(report.unconverted) == sorted(laterals)  # ratio-2 convolutions: no place in FuseBiAdd
    tiled = np.tile(blobs["t_pool1_subsample_bn_rm"], 4)  # PySlowFast's sub-BN rule fills s1_fuse.bn
    assert np.array_equal(mine["s1_fuse.bn.running_mean"].numpy(), tiled)
    assert torch.equal(mine["s1_fuse.conv_f2s.weight"], before["s1_fuse.conv_f2s.weight"])  # not loaded
    untouched = backbone(1)
    report = load_caffe2_slowfast(untouched, blobs, tile_fusion_bn=False)
    assert "s1_fuse.bn.running_mean" in report.unfilled and "t_pool1_subsample_bn_rm" in report.unconverted


def test_trunk_is_strict(tmp_path):
    blobs = caffe2_blobs(backbone(0))
    del blobs["t_res4_1_branch2b_w"]
    blobs["res3_0_branch2c_w"] = blobs["res3_0_branch2c_w"][:-1]
    target = backbone(1)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(ValueError) as err:
        load_caffe2_slowfast(target, blobs)
    message = str(err.value)
    assert "s4.pathway1_res1.branch2.b.weight: no Caffe2 blob for it (expected t_res4_1_branch2b_w)" in message
    assert "res3_0_branch2c_w: shape [127, 32, 1, 1, 1] does not fit s3.pathway0_res0.branch2.c.weight" in message
    assert "(2 problems)" in message
    assert all(torch.equal(v, before[k]) for k, v in target.state_dict().items())  # nothing loaded


def test_pickles_holding_more_than_arrays_are_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"blobs": {"conv1_w": np.zeros(1)}, "callback": print}, protocol=2))
    with pytest.raises(ValueError, match="print is not a numpy array part"):
        read_caffe2_blobs(path)
    assert set(read_caffe2_blobs(path, trust=True)) == {"conv1_w"}
    not_caffe2 = tmp_path / "weights.pkl"
    not_caffe2.write_bytes(pickle.dumps({"model_state": {}}, protocol=2))
    with pytest.raises(ValueError, match="expected a dict with 'blobs'"):
        read_caffe2_blobs(not_caffe2)
