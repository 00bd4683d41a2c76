"""How many CPU threads torch uses: a policy that is fast on a quiet machine and on a busy one, and is recorded.

torch's default (one OpenMP thread per core) is fast on a quiet machine and disastrous on a busy one: OpenMP
threads spin-wait for each other, and a core taken by another job stalls every parallel region. Measured on a
2-core machine (``benchmarks/bench_threads.py``, benchmarks/README.md): a corrnet_tiny training step takes 40 ms
with 2 threads and 50 ms with 1 when the machine is quiet, 3.6 s with 2 threads and 70 ms with 1 while another job
loads both cores. So, unless told otherwise (``--threads``, ``BENCH_THREADS``, ``OMP_NUM_THREADS``), bench uses
as many threads as there are idle cores, measured over a quarter second from ``/proc/stat`` (the 1-minute load
average where that file is absent), at least one. The choice goes into every record's provenance.
"""

from __future__ import annotations

import math
import os
import sys
import time

_choice: dict = {}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_times() -> tuple[int, int] | None:
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return idle, sum(fields[:8])  # guest time is already inside user time


def idle_cores(interval: float = 0.25) -> float:
    """Cores left idle by everything else on the machine, over ``interval`` seconds."""
    cores = available_cores()
    first = _cpu_times()
    if first is None:
        return max(0.0, cores - os.getloadavg()[0])
    time.sleep(interval)
    second = _cpu_times()
    busy_share = 1.0 - (second[0] - first[0]) / max(1, second[1] - first[1])
    return max(0.0, cores - busy_share * (os.cpu_count() or cores))


def choose_threads(requested: int | None = None) -> tuple[int, str]:
    """The thread count and the rule that chose it: an explicit request, the environment, or the idle cores."""
    if requested:
        return int(requested), "--threads"
    for variable in ("BENCH_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value), variable
    idle = idle_cores()
    threads = max(1, min(available_cores(), math.floor(idle + 0.5)))
    return threads, f"idle cores ({idle:.1f} of {available_cores()} idle at start)"


def apply_threads(requested: int | None = None, resumed_with: int | None = None) -> dict:
    """Set torch's intra-op threads by :func:`choose_threads`, or, when resuming without an explicit request, to
    the count the interrupted run used (another count rounds differently: a resumed run would not equal an
    uninterrupted one); returns (and remembers for provenance) the choice."""
    import torch

    if resumed_with and not requested and not any(os.environ.get(v, "").strip().isdigit()
                                                  for v in ("BENCH_THREADS", "OMP_NUM_THREADS")):
        threads, rule = int(resumed_with), "as the interrupted run being resumed"
    else:
        threads, rule = choose_threads(requested)
    torch.set_num_threads(threads)
    _choice.clear()
    _choice.update({"threads": threads, "thread_policy": rule})
    return dict(_choice)


def thread_provenance() -> dict:
    """What this process computes with: torch threads (and the rule that set them), the CPU kernel path, the CPU."""
    torch = sys.modules.get("torch")  # provenance never imports torch by itself
    out: dict = {}
    if torch is not None:
        out["threads"] = torch.get_num_threads()
        out["thread_policy"] = _choice.get("thread_policy", "torch default") \
            if _choice.get("threads") == out["threads"] else "set by the caller"
        out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    out["cpu"] = _cpu_model()
    out["cores"] = available_cores()
    return out


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None
