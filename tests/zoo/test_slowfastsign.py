"""SlowFastSign: the official state-dict layout, strict loading through bench inspect, the heads per mode,
the training loss with its branches, and activation checkpointing (same numbers, BatchNorm updated once)."""

from __future__ import annotations

import copy

import pytest
import torch
from typer.testing import CliRunner

from bench.cli import app
from bench.runners.cslr_losses import cslr_loss
from official_files import read_manifest, save_official
from zoo import get_card
from zoo.loader import load_model

runner = CliRunner()
MANIFEST = "slowfastsign_phoenix2014"
CLASSES = 1296


def manifest_state(manifest: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    """One random value per tensor, broadcast to the manifest shape (stored once: a small file for a 134M model);
    each ``conv1d.fc.{i}`` is the same tensor as ``classifier.{i}``, as the official files save them."""
    gen = torch.Generator().manual_seed(seed)
    state = {key: torch.tensor(1000) if key.endswith("num_batches_tracked")
             else (torch.rand((), generator=gen) + 0.5).expand(shape) for key, shape in manifest.items()}
    for i in range(3):
        state[f"conv1d.fc.{i}.weight"] = state[f"classifier.{i}.weight"]
    return state


@pytest.fixture(scope="module")
def manifest(reference) -> dict[str, tuple[int, ...]]:
    return read_manifest(reference / "checkpoints" / f"{MANIFEST}.tsv")


def test_keys_and_shapes_match_the_official_manifest(manifest):
    model = get_card("slowfastsign").build(CLASSES)
    state = model.state_dict()
    ours = {key: tuple(tensor.shape) for key, tensor in state.items()}
    assert sorted(set(manifest) - set(ours)) == [], "keys of the official checkpoint that we lack"
    assert sorted(set(ours) - set(manifest)) == [], "keys we have that the official checkpoint lacks"
    assert {k: (ours[k], s) for k, s in manifest.items() if ours[k] != s} == {}, "shapes (ours, official) differ"
    assert list(ours) == list(manifest), "same keys in another order than the official state dict"
    for i in range(3):
        assert state[f"classifier.{i}.weight"].data_ptr() == state[f"conv1d.fc.{i}.weight"].data_ptr()


@pytest.fixture
def official_file(manifest, tmp_path):
    state = manifest_state(manifest)
    return state, save_official(tmp_path / "slowfastsign.pt", state)


def test_official_file_loads_strictly(manifest, official_file):
    state, path = official_file
    out = runner.invoke(app, ["inspect", "--model", "slowfastsign", "--checkpoint", str(path),
                              "--num-classes", str(CLASSES)])
    assert out.exit_code == 0, out.output
    assert f"strict load: OK ({len(manifest)} tensors" in out.output
    got = load_model("slowfastsign", str(path), num_classes=CLASSES).model.state_dict()
    assert all(torch.equal(got[k], state[k]) for k in manifest)  # the weights are really the file's


def test_renamed_key_fails_naming_it(official_file, tmp_path):
    state = dict(official_file[0])
    state["conv2d.s4.pathway0_res22.branch2.b.weight_renamed"] = state.pop("conv2d.s4.pathway0_res22.branch2.b.weight")
    path = save_official(tmp_path / "renamed.pt", state)
    out = runner.invoke(app, ["inspect", "--model", "slowfastsign", "--checkpoint", str(path),
                              "--num-classes", str(CLASSES)])
    assert out.exit_code == 1
    # keys as the file spells them: DataParallel's .module inside conv2d, as the official code saved it
    assert "missing from the checkpoint: conv2d.module.s4.pathway0_res22.branch2.b.weight\n" in out.output
    assert "not in the model: conv2d.module.s4.pathway0_res22.branch2.b.weight_renamed" in out.output


def test_unshared_classifier_is_refused(official_file, tmp_path):
    state = dict(official_file[0])
    state["conv1d.fc.2.weight"] = state["classifier.2.weight"] + 1
    path = save_official(tmp_path / "unshared.pt", state)
    out = runner.invoke(app, ["inspect", "--model", "slowfastsign", "--checkpoint", str(path),
                              "--num-classes", str(CLASSES)])
    assert out.exit_code == 1 and "classifier.2.weight and conv1d.fc.2.weight should be one shared" in out.output


def test_inspect_reads_the_class_count_from_the_file(official_file):
    out = runner.invoke(app, ["inspect", "--model", "slowfastsign", "--checkpoint", str(official_file[1])])
    assert out.exit_code == 0, out.output


def test_card_describes_the_official_protocol():
    card = get_card("slowfastsign")
    assert (card.input.normalization, card.input.mean, card.input.std) == ("mean_std", (0.45,) * 3, (0.225,) * 3)
    assert dict(card.input.top_rows_removed) == {"csl_daily": 40}
    assert (card.protocol.scorer, card.protocol.batch_size) == ("official-python", 2)
    recipe = card.training
    assert (recipe.epochs, recipe.milestones, recipe.gamma, recipe.lr, recipe.weight_decay, recipe.batch_size) == \
        (80, (40, 60), 0.2, 1e-4, 1e-4, 2)
    assert dict(recipe.loss_weights) == {"SeqCTC": 1.0, "ConvCTC": 1.0, "Dist": 25.0}
    assert dict(recipe.branch_weights) == {"slow": 0.25, "fast": 0.25}
    assert {c.tag: c.num_classes for c in card.checkpoints} == {"phoenix2014": 1296, "phoenix2014t": 1116,
                                                                "csl_daily": 2001}


def tiny(checkpoint_activations: bool = False, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = get_card("slowfastsign_tiny").build(12, checkpoint_activations=checkpoint_activations)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("weight_s", "weight_f")):  # non-zero fusion, so that its gradients are checked too
                param.fill_(0.7)
    return model


def clips() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(2, 28, 3, 32, 32, generator=generator), torch.tensor([28, 20])


def test_heads_per_mode():
    model, (video, lengths) = tiny(), clips()
    with torch.no_grad():
        out = model.eval()(video, lengths)
    assert set(out) == {"feat_len", "conv_logits", "sequence_logits"}  # inference runs the main head only
    assert out["feat_len"].tolist() == [4, 2] and out["sequence_logits"].shape == (4, 2, 12)
    out = model.train()(video, lengths)
    assert set(out["branches"]) == {"slow", "fast"}
    for branch in out["branches"].values():
        assert branch["conv_logits"].shape == branch["sequence_logits"].shape == (4, 2, 12)


def test_training_loss_weighs_the_branches():
    model, (video, lengths) = tiny(), clips()
    out = model.train()(video, lengths)
    targets, target_lengths = torch.tensor([1, 2, 3, 4]), torch.tensor([2, 2])
    weights = {"SeqCTC": 1.0, "ConvCTC": 1.0, "Dist": 25.0}
    total, values = cslr_loss(out, targets, target_lengths, weights, branch_weights={"slow": 0.25, "fast": 0.25})
    main, _ = cslr_loss({k: v for k, v in out.items() if k != "branches"}, targets, target_lengths, weights)
    branch = {name: cslr_loss({"feat_len": out["feat_len"], **out["branches"][name]}, targets, target_lengths,
                              weights)[0] for name in ("slow", "fast")}
    assert torch.allclose(total, main + 0.25 * branch["slow"] + 0.25 * branch["fast"], rtol=1e-6)
    assert {"slow.SeqCTC", "fast.Dist"} <= set(values)
    total.backward()
    assert model.conv1d.slow_temporal_conv[0].weight.grad.abs().sum() > 0  # the branches train their own convs


def test_activation_checkpointing_gives_the_same_numbers():
    plain, checkpointed = tiny(False), tiny(True)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), checkpointed.state_dict().values()))
    video, lengths = clips()
    results = []
    for model in (plain, checkpointed):
        model.train()
        torch.manual_seed(5)  # the same dropout masks
        out = model(video, lengths)
        logits = [out["conv_logits"], out["sequence_logits"]]
        logits += [v for branch in out["branches"].values() for v in branch.values()]
        sum((x * torch.linspace(-1, 1, x.numel()).view_as(x)).sum() for x in logits).backward()
        results.append((logits, {n: p.grad for n, p in model.named_parameters()}, copy.deepcopy(model.state_dict())))
    (logits_a, grads_a, state_a), (logits_b, grads_b, state_b) = results
    assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(logits_a, logits_b))
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert torch.allclose(grads_a[name], grads_b[name], rtol=1e-4, atol=1e-6), f"gradient of {name} differs"
    for key in state_a:  # BatchNorm statistics updated once, not again by the recomputation
        assert torch.allclose(state_a[key].float(), state_b[key].float(), rtol=1e-6, atol=1e-7), key
    assert int(state_b["conv2d.s4.pathway0_res1.branch2.a_bn.num_batches_tracked"]) == 1
