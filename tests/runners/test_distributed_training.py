"""``torchrun --nproc_per_node 2 -m bench train`` (DDP, gloo, CPU) with the recipe's global batch computes what one
process computes: the same loss and gradients at every step (within 1e-5 relative), SyncBatchNorm included
(corrnet_tiny has BatchNorm in its frame backbone and temporal convolution); rank 0 alone writes the checkpoints;
a global batch that does not split over the processes is refused."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.data.synthetic_signs import make_dataset
from bench.runners.sharding import per_rank_batch, rank_slice

REPO = Path(__file__).resolve().parents[2]
# records every step's loss and gradients (after DDP's all-reduce) of the real training loop; the LSTM's dropout
# is off, as its masks are drawn per process (the only stochastic difference left between 1 and 2 processes). In
# float64: float32 rounding alone moves this model's gradient by ~2e-5 (L2) from exact arithmetic, and Adam's first
# update (+-lr wherever a gradient is ~0) turns such rounding into different weights for the later steps
RECORDER = """
import os, sys, torch
import bench.distributed as distributed
import bench.runners.training as training
import zoo.loader as loader
out = sys.argv.pop(1)
seen = {"loss": [], "grads": [], "norms": []}
load = loader.load_model
def no_dropout(*a, **k):
    loaded = load(*a, **k)
    loaded.model.temporal_model.rnn.dropout = 0.0
    loaded.model.double()  # float64: float32 alone moves this model's gradient by ~2e-5 (L2) from exact
    return loaded
loader.load_model = no_dropout
import bench.runners.continuous as continuous
def in_float64(pad):
    def padded(*a, **k):
        video, lengths, order = pad(*a, **k)
        return video.double(), lengths, order
    return padded
for module in (training, continuous):  # training batches and the dev decode
    module.pad_batch = in_float64(module.pad_batch)
loss = training.cslr_loss
def recorded(*a, **k):
    total, parts = loss(*a, **k)
    seen["loss"].append(float(total.detach()))
    return total, parts
training.cslr_loss = recorded
wrap = distributed.wrap_for_training
def wrapped(*a, **k):
    model = wrap(*a, **k)
    seen["norms"] = sorted({type(m).__name__ for m in model.modules() if "BatchNorm" in type(m).__name__})
    return model
distributed.wrap_for_training = wrapped
def before_step(optimizer, args, kwargs):
    seen["grads"].append([p.grad.detach().clone() for g in optimizer.param_groups for p in g["params"]])
from torch.optim.optimizer import register_optimizer_step_pre_hook
register_optimizer_step_pre_hook(before_step)
from bench.cli import app
try:
    app()
finally:
    torch.save(seen, os.path.join(out, f"rank{os.environ.get('RANK', '0')}.pt"))
"""


def train(root: Path, out: Path, processes: int, tmp_path: Path, batch: int = 4) -> subprocess.CompletedProcess:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    out.mkdir(parents=True, exist_ok=True)
    args = [str(out), "train", "--model", "corrnet_tiny", "--dataset", "synthetic_phoenix2014", "--data-root",
            str(root), "--out", str(out), "--epochs", "1", "--batch-size", str(batch), "--cache-frames"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_THREADS": "1", "OMP_NUM_THREADS": "1"}
    launcher = [] if processes == 1 else ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                                          str(processes)]
    return subprocess.run([sys.executable, *launcher, str(script), *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "phoenix-2014-multisigner"
    make_dataset(root, {"train": 12, "dev": 3, "test": 1}, seed=1)  # clips of different lengths
    return root


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp(min=1e-12))


def test_two_process_ddp_equals_one_process(release, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    single = train(release, one, 1, tmp_path)
    assert single.returncode == 0, single.stderr[-3000:]
    ddp = train(release, two, 2, tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert "global batch 4 = 2 per process x 2 processes" in ddp.stdout
    a, r0, r1 = (torch.load(p, weights_only=False) for p in (one / "rank0.pt", two / "rank0.pt", two / "rank1.pt"))
    assert r0["norms"] == ["CpuSyncBatchNorm"] and a["norms"] == ["BatchNorm1d", "BatchNorm3d"]
    assert len(a["loss"]) == len(r0["loss"]) == 3  # 12 clips, global batches of 4
    for step, (whole, first, second) in enumerate(zip(a["loss"], r0["loss"], r1["loss"])):
        assert (first + second) / 2 == pytest.approx(whole, rel=1e-5), step  # the mean over the global batch
    worst = {"l2": 0.0, "max": 0.0}
    for g_one, g_r0, g_r1 in zip(a["grads"], r0["grads"], r1["grads"]):
        assert all(torch.equal(x, y) for x, y in zip(g_r0, g_r1))  # all-reduced: every rank steps alike
        one_, two_ = torch.cat([g.flatten() for g in g_one]), torch.cat([g.flatten() for g in g_r0])
        worst["l2"] = max(worst["l2"], float((two_ - one_).norm() / one_.norm()))
        worst["max"] = max(worst["max"], relative(two_, one_))
    losses = max(abs((x + y) / 2 - w) / abs(w) for w, x, y in zip(a["loss"], r0["loss"], r1["loss"]))
    print(f"2 processes vs 1, max relative difference over {len(a['loss'])} steps: loss {losses:.1e}, gradient "
          f"{worst['l2']:.1e} (L2), {worst['max']:.1e} (max element / max |gradient|)")
    assert worst["l2"] < 1e-5 and worst["max"] < 1e-5, worst
    # rank 0 wrote the run folder: weights and history as one process's
    assert sorted(p.name for p in two.glob("*.safetensors")) == ["best.safetensors", "last.safetensors"]
    from zoo.checkpoints import read_checkpoint

    w1, w2 = (read_checkpoint(d / "last.safetensors").state_dict for d in (one, two))
    assert w1.keys() == w2.keys()  # the official key names: no "module." prefix
    assert max(float((w2[k] - w1[k]).abs().max()) for k in w1) < 1e-9  # after the recipe's three Adam steps


def test_global_batch_must_split_over_processes():
    assert per_rank_batch(32, 8) == 4 and rank_slice(list(range(8)), 1, 2) == [4, 5, 6, 7]
    with pytest.raises(ValueError, match="global batch of 6 does not split over 4 processes"):
        per_rank_batch(6, 4)


@pytest.fixture(scope="module")
def wlasl(tmp_path_factory):
    from bench.data.synthetic_isolated import make_dataset as make_isolated

    dataset, _ = make_isolated(tmp_path_factory.mktemp("wlasl"), {"train": 1, "val": 1}, seed=5, signers=3)
    return dataset.root


@pytest.mark.parametrize("model, length", [("s3d_rgb_tiny", ["--epochs", "{n}"]),  # NLA-SLR's epoch recipe
                                           ("signvlm_tiny", ["--steps", "{n}", "--save-every", "1"])])  # EVL's
def test_isolated_recipes_train_and_resume_under_torchrun(wlasl, model, length, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_THREADS": "1", "OMP_NUM_THREADS": "1"}
    base = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "bench",
            "train", "--model", model, "--dataset", "synthetic_wlasl", "--data-root", str(wlasl), "--out",
            str(tmp_path / "run"), "--batch-size", "4", "--cache-frames"]
    for n in (1, 2):  # one unit, then a rerun that resumes after it
        run = subprocess.run(base + [a.format(n=n) for a in length], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=180)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "global batch 4 = 2 per process x 2 processes" in run.stdout
    assert "resuming after" in run.stdout and run.stdout.count("resuming after") == 1  # rank 0 speaks
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert len(history) == 2 and all(h["processes"] == 2 and h["global_batch"] == 4 for h in history)
    from zoo.checkpoints import read_checkpoint

    assert not any(k.startswith("module.") for k in read_checkpoint(tmp_path / "run" / "last.safetensors").state_dict)


def test_a_global_batch_that_does_not_split_is_refused(wlasl, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_THREADS": "1", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
                          "bench", "train", "--model", "s3d_rgb_tiny", "--dataset", "synthetic_wlasl", "--data-root",
                          str(wlasl), "--out", str(tmp_path / "run"), "--batch-size", "3", "--epochs", "1"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert run.returncode != 0
    assert "error: the global batch of 3 does not split over 2 processes: pass a --batch-size divisible by 2" in \
        run.stderr.replace("\n", " ")


def test_cpu_sync_batchnorm_alone_is_batchnorm_with_the_same_keys():
    from bench.sync_batchnorm import CpuSyncBatchNorm, convert_sync_batchnorm

    torch.manual_seed(0)
    plain = torch.nn.Sequential(torch.nn.Conv1d(3, 4, 3), torch.nn.BatchNorm1d(4), torch.nn.Conv1d(4, 2, 1))
    plain[1].weight.data.uniform_(0.5, 2)
    reference = {k: v.clone() for k, v in plain.state_dict().items()}
    x = torch.randn(5, 3, 9)
    expected = plain(x)
    plain.load_state_dict(reference)
    synced = convert_sync_batchnorm(plain)
    assert isinstance(synced[1], CpuSyncBatchNorm) and list(synced.state_dict()) == list(reference)
    assert torch.equal(synced(x), expected)  # one process: BatchNorm's own path, running stats included
    assert synced[1].num_batches_tracked.item() == 1
