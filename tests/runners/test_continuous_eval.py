"""bench eval end to end on a synthetic PHOENIX-2014 release with real dev ids and missing samples."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.data.phoenix import Phoenix2014, write_phoenix2014
from bench.data.synthetic_signs import make_signer, render_sentence
from bench.records import read_records
from bench.scoring import score
from zoo.checkpoints import save_checkpoint, vocabulary_sha256
from zoo.loader import load_model

runner = CliRunner()
MISSING, BROKEN = 4, 1


@pytest.fixture(scope="module")
def release(reference, tmp_path_factory):
    """The first 40 dev samples of PHOENIX-2014 (real ids, signers, labels) with small synthetic frames."""
    info = np.load(reference / "cslr" / "phoenix2014" / "dev_info.npy", allow_pickle=True).item()
    rows = [info[i] for i in range(40)]
    root = tmp_path_factory.mktemp("phoenix") / "phoenix-2014-multisigner"
    rng = np.random.default_rng(0)
    signer = make_signer(rng)
    samples = [Phoenix2014.make_sample("dev", r["fileid"], r["label"].split(), signer=r["signer"]) for r in rows]
    frames = {s.id: render_sentence(("SONNE", "REGEN"), signer, 36, rng)[: 10 + i % 7] for i, s in enumerate(samples)}
    for s in samples[5:5 + MISSING]:
        del frames[s.id]  # no frame folder at all
    train = [Phoenix2014.make_sample("train", f"train{i}", ["REGEN"]) for i in range(2)]
    write_phoenix2014(root, {"dev": samples, "train": train, "test": []}, frames)
    broken = Phoenix2014(root).frame_paths(samples[12])[0]
    broken.write_bytes(b"not a png")  # a frame that does not decode
    dataset = Phoenix2014(root)
    vocab = [dataset.id_to_gloss()[i] for i in range(len(dataset.id_to_gloss()))]
    model = load_model("corrnet_tiny", vocabulary=vocab).model
    ckpt = save_checkpoint(root.parent / "tiny.safetensors", model.state_dict(),
                           {"card": "corrnet_tiny", "num_classes": len(vocab), "vocabulary_sha256": vocabulary_sha256(vocab)})
    return root, ckpt, samples


def test_eval_counts_missing_and_matches_bench_score(release, tmp_path):
    root, ckpt, samples = release
    args = ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev", "--data-root", str(root),
            "--checkpoint", str(ckpt), "--results", str(tmp_path)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert f"{40 - MISSING - BROKEN} of 40 samples evaluated" in out.output
    record = read_records(tmp_path)[0]
    assert record.samples["nominal"] == 40 and record.samples["evaluated"] == 40 - MISSING - BROKEN
    assert sorted(record.extra["not_evaluated"]["missing"]) == sorted(s.id for s in samples[5:5 + MISSING])
    assert record.extra["not_evaluated"]["unreadable"] == [samples[12].id]
    # the record's WER is exactly what bench score gives on the CTM the run wrote
    ctm = record.extra["ctm"]
    stm = tmp_path / "ref.stm"
    from bench.io.transcripts import write_stm

    write_stm(Phoenix2014(root).reference("dev"), stm)
    by_hand = runner.invoke(app, ["score", str(stm), ctm, "--json"])
    assert json.loads(by_hand.stdout)["wer"] == record.metrics["wer_python"]  # warnings go to stderr
    assert score(stm, ctm).errors == score(Phoenix2014(root).reference("dev"), ctm).errors
    # pairs in dataset order: every batch holds two consecutive evaluated samples
    rows = [json.loads(line) for line in open(f"{record.extra['hypotheses']}", encoding="utf-8")]
    assert all(len(r["batch"]) <= 2 for r in rows) and len(rows) == 40 - MISSING - BROKEN


def test_interrupted_eval_resumes(release, tmp_path, monkeypatch):
    root, ckpt, _ = release
    args = ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev", "--data-root", str(root),
            "--checkpoint", str(ckpt), "--results", str(tmp_path), "--batch-size", "4"]
    import bench.runners.continuous as continuous

    calls = {"n": 0}
    original = continuous._run_batch

    def dies_on_third(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*a, **k)

    monkeypatch.setattr(continuous, "_run_batch", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        from bench.runners.continuous import ContinuousEval, evaluate_continuous

        evaluate_continuous(ContinuousEval("corrnet_tiny", "phoenix2014", "dev", root, str(ckpt), tmp_path, 4))
    monkeypatch.setattr(continuous, "_run_batch", original)
    log = next(tmp_path.glob("*/hypotheses.jsonl"))
    assert len(log.read_text().splitlines()) == 8  # two batches of four survived
    resumed = []
    monkeypatch.setattr(continuous, "_run_batch", lambda *a, **k: resumed.append(1) or original(*a, **k))
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert len(resumed) == 7  # 35 samples in batches of 4: 9 batches, 2 already done
    fresh = runner.invoke(app, args[:-4] + ["--results", str(tmp_path / "fresh"), "--batch-size", "4"])
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["metrics"] == \
        json.loads(next((tmp_path / "fresh").glob("*.json")).read_text())["metrics"]
    assert fresh.exit_code == 0


def test_refuses_to_evaluate_without_weights(release, tmp_path):
    root, _, _ = release
    out = runner.invoke(app, ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev",
                              "--data-root", str(root), "--results", str(tmp_path)])
    assert out.exit_code == 2 and "does not evaluate unloaded weights" in out.output


def test_csl_daily_official_run_skips_the_last_sample(tmp_path):
    from bench.data.csl import CslDaily, write_csl_daily

    rng = np.random.default_rng(2)
    signer = make_signer(rng)
    samples = {split: [CslDaily.make_sample(split, f"S{split}{i:03d}_P0000_T00", ["他", "今天"]) for i in range(n)]
               for split, n in (("train", 2), ("dev", 5), ("test", 1))}
    frames = {s.id: render_sentence(("SONNE",), signer, 36, rng) for group in samples.values() for s in group}
    root = write_csl_daily(tmp_path / "csl-daily", samples, frames)
    dataset = CslDaily(root)
    vocab = [dataset.id_to_gloss()[i] for i in range(len(dataset.id_to_gloss()))]
    ckpt = save_checkpoint(tmp_path / "tiny.safetensors", load_model("corrnet_tiny", vocabulary=vocab).model.state_dict(),
                           {"card": "corrnet_tiny", "num_classes": len(vocab)})
    base = ["eval", "--model", "corrnet_tiny", "--dataset", "csl_daily", "--split", "dev", "--data-root", str(root),
            "--checkpoint", str(ckpt)]
    official = runner.invoke(app, base + ["--results", str(tmp_path / "official")])
    assert official.exit_code == 0, official.output
    assert "4 of 5 samples evaluated" in official.output and "skipped like official: 1 (Sdev004_P0000_T00)" in official.output
    everything = runner.invoke(app, base + ["--results", str(tmp_path / "all"), "--all-samples"])
    assert everything.exit_code == 0 and "5 of 5 samples evaluated" in everything.output
    assert read_records(tmp_path / "all")[0].protocol["tag"] == "bs2-beam-all"


def _interrupt_on_batch(monkeypatch, n: int, signum=None):
    """Make the n-th batch of the run stop it: Ctrl-C, or a real signal sent to this process."""
    import os

    import bench.runners.continuous as continuous

    calls, original = {"n": 0}, continuous._run_batch

    def stops(*a, **k):
        calls["n"] += 1
        if calls["n"] == n:
            if signum is None:
                raise KeyboardInterrupt
            os.kill(os.getpid(), signum)  # the CLI's handler turns SIGTERM into an interruption
        return original(*a, **k)

    monkeypatch.setattr(continuous, "_run_batch", stops)
    return lambda: monkeypatch.setattr(continuous, "_run_batch", original)


@pytest.mark.parametrize("signum, code", [(None, 130), ("SIGTERM", 143)])
def test_interruption_says_how_far_and_the_rerun_resumes(release, tmp_path, monkeypatch, signum, code):
    import signal

    root, ckpt, _ = release
    args = ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev", "--data-root", str(root),
            "--checkpoint", str(ckpt), "--results", str(tmp_path), "--batch-size", "4"]
    restore = _interrupt_on_batch(monkeypatch, 3, getattr(signal, signum) if signum else None)
    stopped = runner.invoke(app, args)
    restore()
    assert stopped.exit_code == code, stopped.output
    assert "interrupted: 8 of 35 samples done; run the same command to resume" in stopped.output
    clock = next(tmp_path.glob("*/elapsed_s.txt"))
    assert float(clock.read_text()) > 0
    clock.write_text("1000.0\n")  # as if the first session had run for 1000 s
    resumed = runner.invoke(app, args)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming: 8 of 35 samples already done in" in resumed.output
    wall = read_records(tmp_path)[0].provenance["wall_time_s"]
    assert 1000.0 < wall < 1000.0 + 600  # both sessions counted


def test_record_says_how_many_threads_computed_it(release, tmp_path):
    root, ckpt, _ = release
    out = runner.invoke(app, ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev",
                              "--data-root", str(root), "--checkpoint", str(ckpt), "--results", str(tmp_path),
                              "--threads", "1", "--limit", "4"])
    assert out.exit_code == 0, out.output
    provenance = read_records(tmp_path)[0].provenance
    assert provenance["threads"] == 1 and provenance["thread_policy"] == "--threads"
    assert provenance["cpu_capability"] and provenance["cores"] >= 1


def test_ctm_lists_samples_in_the_official_loader_order(release, tmp_path):
    """write2file's order: batches in dataset order, the longer clip of each pair first; not sorted by id."""
    root, ckpt, _ = release
    out = runner.invoke(app, ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev",
                              "--data-root", str(root), "--checkpoint", str(ckpt), "--results", str(tmp_path)])
    assert out.exit_code == 0, out.output
    record = read_records(tmp_path)[0]
    rows = [json.loads(line) for line in open(record.extra["hypotheses"], encoding="utf-8")]
    expected = [i for r in rows for i in r["batch"] if i == r["id"]]  # rows are appended in loader order
    order = list(dict.fromkeys(line.split()[0] for line in open(record.extra["ctm"], encoding="utf-8")))
    decoded = [i for i in expected if any(r["id"] == i and r["glosses"] for r in rows)]
    assert order == decoded
    firsts = [r["batch"] for r in rows if len(r["batch"]) == 2]
    assert any(b[0] > b[1] for b in firsts)  # the longer clip first: not id order
    frames = {r["id"]: r["frames"] for r in rows}
    assert all(frames[a] >= frames[b] for a, b in firsts)


@pytest.fixture()
def dev_only(release, tmp_path):
    """The release with only the dev corpus file (the train/test CSVs are gone), as a user with dev data has it."""
    import shutil

    root, _, _ = release
    copy = tmp_path / "dev-only" / root.name
    shutil.copytree(root, copy)
    (copy / "annotations" / "manual" / "train.corpus.csv").unlink()
    (copy / "annotations" / "manual" / "test.corpus.csv").unlink()
    return copy, Phoenix2014(root).id_to_gloss()


def test_dev_data_and_an_official_checkpoint_evaluate_with_gloss_dict(release, dev_only, tmp_path):
    import torch

    root, vocabulary = dev_only
    _, ckpt, _ = release
    from zoo.checkpoints import read_checkpoint

    official = tmp_path / "dev_18.90_PHOENIX14.pt"  # the official layout: weights only, no gloss list
    torch.save({"model_state_dict": read_checkpoint(str(ckpt)).state_dict}, official)
    args = ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev", "--data-root", str(root),
            "--checkpoint", str(official), "--results", str(tmp_path / "runs")]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "pass --gloss-dict" in refused.output
    np.save(root / "gloss_dict.npy", {g: [i, 1] for i, g in vocabulary.items() if i}, allow_pickle=True)
    found = runner.invoke(app, args)  # a gloss_dict.npy in the data root is read
    assert found.exit_code == 0, found.output
    record = read_records(tmp_path / "runs")[0]
    assert record.extra["vocabulary"].startswith("gloss_dict.npy") and record.samples["evaluated"] == 35


def test_dev_data_and_our_checkpoint_take_its_stored_vocabulary(release, dev_only, tmp_path):
    from zoo.checkpoints import read_checkpoint

    root, vocabulary = dev_only
    _, ckpt, _ = release
    glosses = [vocabulary[i] for i in range(len(vocabulary))]
    ours = save_checkpoint(tmp_path / "ours.safetensors", read_checkpoint(str(ckpt)).state_dict,
                           {"card": "corrnet_tiny", "num_classes": len(glosses),
                            "vocabulary_sha256": vocabulary_sha256(glosses), "vocabulary": glosses})
    out = runner.invoke(app, ["eval", "--model", "corrnet_tiny", "--dataset", "phoenix2014", "--split", "dev",
                              "--data-root", str(root), "--checkpoint", str(ours), "--results", str(tmp_path / "r")])
    assert out.exit_code == 0, out.output
    assert read_records(tmp_path / "r")[0].extra["vocabulary"].startswith("stored in the checkpoint")
