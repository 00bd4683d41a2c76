"""The thread policy: an explicit count, then the environment, then the cores other jobs leave idle."""

import pytest

import bench.threads as threads


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv("BENCH_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda: 2)


def test_explicit_then_environment(monkeypatch):
    assert threads.choose_threads(3) == (3, "--threads")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.choose_threads() == (1, "OMP_NUM_THREADS")
    monkeypatch.setenv("BENCH_THREADS", "2")
    assert threads.choose_threads() == (2, "BENCH_THREADS")


@pytest.mark.parametrize("idle, expected", [(0.0, 1), (0.4, 1), (0.6, 1), (1.6, 2), (2.0, 2)])
def test_idle_cores_decide(monkeypatch, idle, expected):
    monkeypatch.setattr(threads, "idle_cores", lambda: idle)
    count, rule = threads.choose_threads()
    assert count == expected and rule.startswith("idle cores")


def test_idle_cores_from_cpu_time_counters(monkeypatch):
    """Two busy loops on two cores: 5% idle between the samples; a quiet machine: all idle."""
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    samples = iter([(1000, 10000), (1010, 10200)])  # (idle, total) jiffies: 10 of 200 idle
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(samples))
    assert threads.idle_cores(interval=0) == pytest.approx(0.1)
    samples = iter([(1000, 10000), (1200, 10200)])
    assert threads.idle_cores(interval=0) == pytest.approx(2.0)


def test_provenance_names_threads_and_kernel_path():
    import torch

    before = torch.get_num_threads()
    chosen = threads.apply_threads(1)
    try:
        info = threads.thread_provenance()
        assert chosen == {"threads": 1, "thread_policy": "--threads"}
        assert info["threads"] == 1 and info["thread_policy"] == "--threads"
        assert info["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
        torch.set_num_threads(2)
        assert threads.thread_provenance()["thread_policy"] == "set by the caller"
    finally:
        torch.set_num_threads(before)


def test_a_resumed_run_keeps_the_interrupted_runs_count(monkeypatch):
    import torch

    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "idle_cores", lambda: 2.0)
    try:
        assert threads.apply_threads(None, resumed_with=1) == {"threads": 1,
                                                               "thread_policy": "as the interrupted run being resumed"}
        assert threads.apply_threads(2, resumed_with=1)["threads"] == 2  # an explicit request still wins
    finally:
        torch.set_num_threads(before)
