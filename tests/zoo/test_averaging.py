"""bench average: the uniform mean of checkpoints, as SignVLM's avg_checkpoints.py, in sorted order."""

import torch
from typer.testing import CliRunner

from bench.cli import app
from zoo.averaging import average_checkpoints, checkpoint_files
from zoo.checkpoints import CheckpointError, read_checkpoint, save_checkpoint

runner = CliRunner()


def _official(path, value: float, shape=(2, 3)):
    torch.save({"model": {"module.proj.2.weight": torch.full(shape, value), "module.proj.2.bias": torch.full((2,), -value)},
                "next_step": 2500}, path)
    return path


def test_mean_of_official_files_in_a_folder(tmp_path):
    for step, value in ((2500, 1.0), (5000, 2.0), (7500, 6.0)):
        _official(tmp_path / f"checkpoint-{step}.pth", value)
    files = checkpoint_files([tmp_path])
    assert [f.rsplit("/", 1)[1] for f in files] == ["checkpoint-2500.pth", "checkpoint-5000.pth", "checkpoint-7500.pth"]
    state, first = average_checkpoints(files)
    assert first.format == "official"
    assert torch.equal(state["module.proj.2.weight"], torch.full((2, 3), 3.0))  # (1 + 2 + 6) / 3
    assert torch.equal(state["module.proj.2.bias"], torch.full((2,), -3.0))
    out = runner.invoke(app, ["average", str(tmp_path), "--out", str(tmp_path / "avg" / "averaged.pth")])
    assert out.exit_code == 0, out.output
    written = torch.load(tmp_path / "avg" / "averaged.pth", weights_only=True)["model"]
    assert torch.equal(written["module.proj.2.weight"], torch.full((2, 3), 3.0))


def test_a_different_shape_is_named(tmp_path):
    a, b = _official(tmp_path / "a.pth", 1.0), _official(tmp_path / "b.pth", 1.0, shape=(2, 4))
    try:
        average_checkpoints([str(a), str(b)])
    except CheckpointError as err:
        assert "b.pth" in str(err) and "module.proj.2.weight" in str(err) and "[2, 4]" in str(err)
    else:
        raise AssertionError("no error")


def test_our_checkpoints_average_into_ours(tmp_path):
    for i, value in enumerate((0.5, 1.5)):
        save_checkpoint(tmp_path / f"checkpoint-{i}.safetensors", {"w": torch.full((3,), value)}, {"card": "x"})
    out = runner.invoke(app, ["average", str(tmp_path / "checkpoint-0.safetensors"),
                              str(tmp_path / "checkpoint-1.safetensors"), "--out", str(tmp_path / "avg.pth")])
    assert out.exit_code == 2 and "name it .safetensors" in out.output
    out = runner.invoke(app, ["average", str(tmp_path / "checkpoint-0.safetensors"),
                              str(tmp_path / "checkpoint-1.safetensors"), "--out", str(tmp_path / "avg.safetensors")])
    assert out.exit_code == 0, out.output
    averaged = read_checkpoint(str(tmp_path / "avg.safetensors"))
    assert torch.equal(averaged.state_dict["w"], torch.ones(3))
    assert averaged.metadata["averaged_from"] == ["checkpoint-0.safetensors", "checkpoint-1.safetensors"]
