"""``torchrun --nproc_per_node 2 -m bench eval`` (gloo, CPU) equals one process: the same record metrics and the same
per-sample outputs, on splits whose size is not a multiple of 2 x the batch; a rank killed half way resumes to the
same result, with 2 processes or with 1."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.data.synthetic_isolated import make_dataset as make_isolated
from bench.data.synthetic_signs import make_dataset as make_signs
from bench.records import read_records
from zoo.checkpoints import save_checkpoint, vocabulary_sha256
from zoo.loader import load_model

REPO = Path(__file__).resolve().parents[2]
# rank 1 dies (SIGKILL, no clean-up) in its k-th batch / sample; the other ranks go on as far as they can
KILLER = """
import os, signal, sys
import bench.runners.continuous as continuous, bench.runners.isolated as isolated
def dies(original, after):
    calls = {"n": 0}
    def run(*a, **k):
        calls["n"] += 1
        if os.environ["RANK"] == "1" and calls["n"] > after:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*a, **k)
    return run
continuous._run_batch = dies(continuous._run_batch, int(sys.argv.pop(1)))
isolated.score_sample = dies(isolated.score_sample, int(sys.argv.pop(1)))
from bench.cli import app
app()
"""


def bench(args, processes: int, tmp_path: Path, script: str | None = None) -> subprocess.CompletedProcess:
    """``bench ARGS`` in ``processes`` processes (torchrun, gloo) or in one plain process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if processes == 1:
        command = [sys.executable, "-m", "bench", *args]
    else:
        target = [script] if script else ["-m", "bench"]
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                   str(processes), *target, *args]
    return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """11 dev clips of synthetic PHOENIX (pairs: 6 batches, not a multiple of 2 x 2) with corrnet_tiny; 12 test
    clips of synthetic WLASL with one video missing (11 evaluated) with s3d_rgb_tiny."""
    base = tmp_path_factory.mktemp("dist")
    phoenix = base / "phoenix-2014-multisigner"
    make_signs(phoenix, {"train": 2, "dev": 11, "test": 1}, seed=1)
    from bench.data import get_dataset

    glosses = get_dataset("synthetic_phoenix2014", "continuous")(phoenix).id_to_gloss()
    vocab = [glosses[i] for i in range(len(glosses))]
    torch.manual_seed(0)
    corrnet = save_checkpoint(base / "corrnet.safetensors",
                              load_model("corrnet_tiny", vocabulary=vocab).model.state_dict(),
                              {"card": "corrnet_tiny", "num_classes": len(vocab),
                               "vocabulary_sha256": vocabulary_sha256(vocab)})
    wlasl, _ = make_isolated(base / "wlasl", {"train": 1, "test": 1}, seed=3, signers=3)
    wlasl.video_path(wlasl.samples("test")[4]).unlink()
    s3d = save_checkpoint(base / "s3d.safetensors",
                          load_model("s3d_rgb_tiny", num_classes=len(wlasl.classes())).model.state_dict(),
                          {"card": "s3d_rgb_tiny", "num_classes": len(wlasl.classes())})
    return {"continuous": ["eval", "--model", "corrnet_tiny", "--dataset", "synthetic_phoenix2014", "--split", "dev",
                           "--data-root", str(phoenix), "--checkpoint", str(corrnet)],
            "isolated": ["eval", "--model", "s3d_rgb_tiny", "--dataset", "synthetic_wlasl", "--split", "test",
                         "--data-root", str(wlasl.root), "--checkpoint", str(s3d)]}


def outputs(results: Path) -> dict:
    """Every record's metrics and samples, and every per-sample file of the run folder, by name."""
    records = {r.tag: (r.metrics, r.samples, r.provenance["processes"]) for r in read_records(results)}
    run = next(p for p in results.iterdir() if p.is_dir())
    files = {p.name: p.read_text() for p in sorted(run.iterdir()) if p.suffix in (".jsonl", ".ctm")}
    return {"records": records, "files": files}


@pytest.fixture(scope="module")
def single(data, tmp_path_factory):
    """The one-process results of both tasks."""
    out = {}
    for task, args in data.items():
        results = tmp_path_factory.mktemp(f"one-{task}")
        run = bench(args + ["--results", str(results)], 1, results)
        assert run.returncode == 0, run.stderr
        out[task] = outputs(results)
    return out


def same_results(got: dict, expected: dict, processes: int) -> None:
    assert got["files"] == expected["files"]  # hypotheses/ranks, CTMs, per-sentence counts: byte for byte
    assert {k: v[:2] for k, v in got["records"].items()} == {k: v[:2] for k, v in expected["records"].items()}
    assert all(v[2] == processes for v in got["records"].values())  # the record says how many ran


@pytest.mark.parametrize("task", ["continuous", "isolated"])
def test_two_processes_equal_one(data, single, task, tmp_path):
    run = bench(data[task] + ["--results", str(tmp_path)], 2, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "11 of 11 samples evaluated" in run.stdout or "11 of 12 samples evaluated" in run.stdout
    assert run.stdout.count("samples evaluated") == 1  # rank 0 alone prints the summary
    same_results(outputs(tmp_path), single[task], 2)
    assert sorted(p.name for p in tmp_path.glob("*/*.rank*")) == []  # parts merged away


@pytest.mark.parametrize("task, rerun", [("continuous", 2), ("isolated", 1)])
def test_rank_killed_half_way_resumes_to_the_same_result(data, single, task, rerun, tmp_path):
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    args = data[task] + ["--results", str(tmp_path)]
    killed = bench(["1", "2"] + args, 2, tmp_path, script=str(script))  # rank 1 dies in batch 2 / sample 3
    assert killed.returncode != 0
    parts = {p.name: len(p.read_text().splitlines()) for p in tmp_path.glob("*/*.rank*.jsonl")}
    name = "hypotheses" if task == "continuous" else "scores"
    assert parts.get(f"{name}.rank1.jsonl") == 2  # rank 1's finished work survived its death
    resumed = bench(args, rerun, tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming:" in resumed.stdout
    done = int(resumed.stdout.split("resuming: ")[1].split(" of")[0])
    assert done >= 2  # at least rank 1's rows were not recomputed
    same_results(outputs(tmp_path), single[task], rerun)
