"""How a run's work is split across processes, and how their rows come back together.

Evaluation: the units (samples, or whole official batches where the batch composition changes the numbers) go
round-robin to the ranks, each unit to exactly one rank: no padding duplicates (``DistributedSampler`` repeats
samples to even the shards out, which counts them twice). Each rank appends its rows to its own part of the run's
log (``scores.rank1.jsonl`` beside ``scores.jsonl``), so a killed rank loses at most its current unit; the next run,
with any number of processes, merges the parts into the log before it resumes. At the end the rows are gathered
and rank 0 rewrites the log whole, in the order one process writes it.

Training: the recipe's batch is the global batch; each rank takes its contiguous slice of it (as EVL's loader),
so the samples of a step, the learning rate and the gradient (DDP averages the ranks' means) are those of one
process with the whole batch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence, TypeVar

from bench import distributed
from bench.io.atomic import atomic_open
from bench.runners.resume import read_rows, resume_rows

T = TypeVar("T")


def shard(units: Sequence[T], rank: int | None = None, world: int | None = None) -> list[T]:
    """This rank's units: every ``world``-th from ``rank`` (each unit on one rank only, nothing repeated)."""
    rank = distributed.rank() if rank is None else rank
    world = distributed.world_size() if world is None else world
    return list(units[rank::world])


def part_path(run_dir: Path, log_name: str, rank: int | None = None) -> Path:
    """Where this rank appends its rows: the log itself alone, ``<stem>.rank<r><suffix>`` under torchrun."""
    if distributed.world_size() == 1 and rank is None:
        return run_dir / log_name
    rank = distributed.rank() if rank is None else rank
    name = Path(log_name)
    run_dir.mkdir(parents=True, exist_ok=True)  # another machine's disk may not have it yet
    return run_dir / f"{name.stem}.rank{rank}{name.suffix}"


def _parts(run_dir: Path, log_name: str) -> list[Path]:
    name = Path(log_name)
    return sorted(run_dir.glob(f"{name.stem}.rank*{name.suffix}")) if run_dir.is_dir() else []


def resume_sharded(run_dir: Path, log_name: str, run_fingerprint: str, restart: bool) -> dict[str, dict]:
    """:func:`~bench.runners.resume.resume_rows` for runs of any number of processes: rank 0 checks the
    fingerprint, merges the rank parts an interrupted run left into the log, and every rank gets the rows."""
    return distributed.on_main(_resume_on_main, run_dir, log_name, run_fingerprint, restart)


def _resume_on_main(run_dir: Path, log_name: str, run_fingerprint: str, restart: bool) -> dict[str, dict]:
    log = run_dir / log_name
    fresh = restart or not (run_dir / "state.txt").exists() or not log.exists()
    done = resume_rows(run_dir, log_name, run_fingerprint, restart)
    parts = _parts(run_dir, log_name)
    if not fresh:
        for part in parts:
            done.update(read_rows(part))
    if parts or not log.exists():
        write_rows(log, done.values())  # the merged log exists before any part: the next run finds it
    for part in parts:
        part.unlink()
    return done


def write_rows(path: Path, rows: Iterable[dict]) -> None:
    """The whole log, atomically, one JSON row per line."""
    with atomic_open(path) as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def gather_rows(done: dict[str, dict], before: set[str], failed: list[str]) -> tuple[dict[str, dict], list[str]]:
    """Every rank's rows and failed ids (rows of ids not in ``before``: this session's); the same on every rank."""
    mine = {k: v for k, v in done.items() if k not in before}
    merged, failures = dict(done), []
    for rows, ids in distributed.gather_objects((mine, failed)):
        merged.update(rows)
        failures += ids
    return merged, failures


def finish_log(run_dir: Path, log_name: str, rows: Iterable[dict]) -> None:
    """Rank 0, at the end of a run: the log rewritten whole, in the order one uninterrupted process writes it
    (whatever the number of processes and sessions that computed it); the rank parts removed."""
    write_rows(run_dir / log_name, rows)
    for part in _parts(run_dir, log_name):
        part.unlink()


def per_rank_batch(global_batch: int, world: int | None = None) -> int:
    """The batch of one process: the recipe's (global) batch split evenly; refuses what does not divide."""
    world = distributed.world_size() if world is None else world
    if global_batch % world:
        raise ValueError(f"the global batch of {global_batch} does not split over {world} processes: pass a "
                         f"--batch-size divisible by {world}, or run {world} processes that divide it (the "
                         "recipe's batch and learning rate are kept whatever the number of processes)")
    return global_batch // world


def rank_slice(batch: Sequence[T], rank: int | None = None, world: int | None = None) -> list[T]:
    """This rank's contiguous part of a global batch (``len(batch)`` divisible by the world size)."""
    rank = distributed.rank() if rank is None else rank
    world = distributed.world_size() if world is None else world
    size = per_rank_batch(len(batch), world)
    return list(batch[rank * size:(rank + 1) * size])


def announce_batch(global_batch: int, log) -> None:
    """Check that the global batch splits over the processes, and say how it does (nothing alone)."""
    world = distributed.world_size()
    per_rank = per_rank_batch(global_batch, world)
    if world > 1:
        log(f"global batch {global_batch} = {per_rank} per process x {world} processes (the recipe's batch and "
            "learning rate)")
