"""Checkpoint formats: untrusted pickles refused, our safetensors round trip, hf:// through an offline hub cache."""

import pytest
import torch

from zoo.checkpoints import CheckpointError, export_official, read_checkpoint, save_checkpoint, vocabulary_sha256
from zoo.loader import load_model


class NotATensor:  # any class: unpickling it would import and run code from the file's point of view
    pass


def tiny(num_classes=5):
    return load_model("corrnet", num_classes=num_classes, widths=(8, 16, 32, 64), hidden_size=16).model


def test_pickled_objects_need_trust(tmp_path):
    path = tmp_path / "odd.pt"
    torch.save({"model_state_dict": tiny().state_dict(), "extra": NotATensor()}, path)
    with pytest.raises(CheckpointError, match="--trust-checkpoint"):
        read_checkpoint(path)
    with pytest.warns(UserWarning, match="weights_only=False"):
        assert read_checkpoint(path, trust=True).format == "official"


def test_bench_format_round_trip_and_vocabulary_check(tmp_path):
    model = tiny()
    vocab = ["<blank>", "A", "B", "C", "D"]
    meta = {"card": "corrnet", "num_classes": 5, "vocabulary_sha256": vocabulary_sha256(vocab),
            "variant": {"correlation_after": [2, 3, 4], "widths": [8, 16, 32, 64], "hidden_size": 16}}
    path = save_checkpoint(tmp_path / "m.safetensors", model.state_dict(), meta)
    loaded = load_model("corrnet", str(path), vocabulary=vocab)
    assert all(torch.equal(a, b) for a, b in zip(loaded.model.state_dict().values(), model.state_dict().values()))
    with pytest.raises(CheckpointError, match="another vocabulary"):
        load_model("corrnet", str(path), vocabulary=["<blank>", "A", "B", "C", "E"])
    with pytest.raises(CheckpointError, match="not 'vac'"):
        load_model("vac", str(path), vocabulary=vocab)


def test_exported_official_file_has_the_official_keys(tmp_path):
    model = tiny()
    path = export_official(tmp_path / "official.pt", model.state_dict())
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert set(raw["model_state_dict"]) == set(model.state_dict())
    again = load_model("corrnet", str(path), widths=(8, 16, 32, 64), hidden_size=16)
    assert again.report.ok


def test_hf_uri_from_offline_cache(tmp_path, monkeypatch):
    model = tiny()
    cache = tmp_path / "hub"
    snapshot = cache / "models--slr-bench--corrnet-tiny" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    save_checkpoint(snapshot / "weights.safetensors", model.state_dict(),
                    {"card": "corrnet", "num_classes": 5, "variant": {"widths": [8, 16, 32, 64], "hidden_size": 16}})
    (cache / "models--slr-bench--corrnet-tiny" / "refs").mkdir()
    (cache / "models--slr-bench--corrnet-tiny" / "refs" / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    loaded = load_model("corrnet", "hf://slr-bench/corrnet-tiny/weights.safetensors")
    assert loaded.num_classes == 5 and loaded.report.ok
    with pytest.raises(CheckpointError, match="not available"):
        read_checkpoint("hf://slr-bench/corrnet-tiny/missing.safetensors")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="nowhere.pt: checkpoint file not found"):
        read_checkpoint(tmp_path / "nowhere.pt")


def test_bench_export_writes_the_official_layout(tmp_path):
    from typer.testing import CliRunner

    from bench.cli import app

    model = tiny()
    ours = save_checkpoint(tmp_path / "m.safetensors", model.state_dict(),
                           {"card": "corrnet", "num_classes": 5, "epoch": 7,
                            "variant": {"widths": [8, 16, 32, 64], "hidden_size": 16}})
    out = CliRunner().invoke(app, ["export", "--checkpoint", str(ours), "--out", str(tmp_path / "o.pt")])
    assert out.exit_code == 0, out.output
    raw = torch.load(tmp_path / "o.pt", map_location="cpu", weights_only=True)
    assert raw["epoch"] == 7 and set(raw["model_state_dict"]) == set(model.state_dict())
