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
    with pytest.raises(CheckpointError, match="this is a corrnet checkpoint \\(its metadata says so\\), not vac"):
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


def _truncated(path, keep):
    """A copy of ``path`` with only its first ``keep`` bytes: a download or copy that stopped early."""
    cut = path.with_name("cut-" + path.name)
    cut.write_bytes(path.read_bytes()[:keep])
    return cut


@pytest.mark.parametrize("zip_format", [True, False])
def test_truncated_torch_file_is_named_truncated_never_trust(tmp_path, zip_format):
    path = tmp_path / "whole.pt"
    torch.save({"model_state_dict": tiny().state_dict()}, path, _use_new_zipfile_serialization=zip_format)
    size = path.stat().st_size
    cuts = (size // 2, 40, 3)  # inside the tensors, inside the header (pickles or zip entries), the first bytes
    for keep in cuts:
        for trust in (False, True):
            with pytest.raises(CheckpointError, match=f"cut-whole.pt: truncated or corrupt .*{keep:,} bytes") as err:
                read_checkpoint(_truncated(path, keep), trust=trust)
            assert "--trust-checkpoint" not in str(err.value)
    if not zip_format:  # the legacy format's storages state their length: the size the file should at least have
        with pytest.raises(CheckpointError, match=f"of {size // 2:,} bytes, expected at least"):
            read_checkpoint(_truncated(path, size // 2))


def test_truncated_safetensors_states_the_expected_size(tmp_path):
    path = save_checkpoint(tmp_path / "whole.safetensors", tiny().state_dict(), {"card": "corrnet", "num_classes": 5})
    size = path.stat().st_size
    header = 8 + int.from_bytes(path.read_bytes()[:8], "little")
    expectations = {size - 100: f"{size - 100:,} bytes, expected {size:,} from its header",
                    header - 1: f"{header - 1:,} bytes, but its header alone takes {header:,}",
                    5: "5 bytes, shorter than the 8-byte header length"}
    for keep, message in expectations.items():
        with pytest.raises(CheckpointError, match=f"cut-whole.safetensors: truncated or corrupt safetensors file "
                                                  f"\\({message}\\)"):
            read_checkpoint(_truncated(path, keep))


def test_not_a_checkpoint_at_all(tmp_path):
    page = tmp_path / "page.pt"
    page.write_text("<!DOCTYPE html><html>sign in to download</html>")  # what a failed download often saves
    with pytest.raises(CheckpointError, match="neither a zip-based nor a legacy PyTorch file: it starts with b'<!DO'"):
        read_checkpoint(page)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty.pt: truncated or corrupt \\(an empty file, 0 bytes\\)"):
        read_checkpoint(empty)


def test_cli_checkpoint_errors_go_to_stderr_with_exit_2(tmp_path):
    from typer.testing import CliRunner

    from bench.cli import app

    path = tmp_path / "whole.pt"
    torch.save({"model_state_dict": tiny().state_dict()}, path)
    cut = _truncated(path, 1000)
    out = CliRunner().invoke(app, ["inspect", "--model", "corrnet", "--checkpoint", str(cut)])
    assert out.exit_code == 2 and out.stdout == ""
    assert out.stderr.startswith(f"error: {cut}: truncated or corrupt (a zip-based PyTorch file of 1,000 bytes "
                                 "whose zip directory cannot be read"), out.stderr
    out = CliRunner().invoke(app, ["export", "--checkpoint", str(cut), "--out", str(tmp_path / "o.pt")])
    assert out.exit_code == 2 and "truncated or corrupt" in out.stderr and not (tmp_path / "o.pt").exists()
