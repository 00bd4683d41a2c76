"""Resumable evaluations: per-sample rows appended to a JSON-lines log, guarded by a fingerprint of the run."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from bench.distributed import is_main
from bench.io.atomic import atomic_open


def fingerprint(*parts: str) -> str:
    """What must not change between an interrupted run and its resumption (model, checkpoint, protocol, samples)."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def resume_rows(run_dir: Path, log_name: str, run_fingerprint: str, restart: bool) -> dict[str, dict]:
    """Rows ``{id: row}`` already written by an interrupted run of the same evaluation (nothing when restarting)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state, log = run_dir / "state.txt", run_dir / log_name
    if state.exists() and not restart and state.read_text().strip() != run_fingerprint:
        raise ValueError(f"{run_dir}: holds a different evaluation (checkpoint, protocol or samples changed); "
                         "pass --restart to start it over")
    if restart or not state.exists() or not log.exists():
        log.unlink(missing_ok=True)
        with atomic_open(state) as handle:
            handle.write(run_fingerprint + "\n")
        return {}
    done = read_rows(log)
    with atomic_open(log) as handle:  # drop a cut line before appending to the log again
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in done.values())
    return done


def read_rows(log: Path) -> dict[str, dict]:
    """``{id: row}`` of a JSON-lines log, up to a line cut by an interruption (it and anything after are redone)."""
    done = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            break
        done[row["id"]] = row
    return done


class RunClock:
    """Wall time of an evaluation across interruptions: the seconds of earlier sessions are kept beside the rows,
    so the record of a resumed run counts the whole work, not only its last part."""

    def __init__(self, run_dir: Path, resumed: bool):
        self.path = run_dir / "elapsed_s.txt"
        self.before = float(self.path.read_text()) if resumed and self.path.exists() else 0.0
        self.began = time.perf_counter()

    def total(self) -> float:
        return self.before + time.perf_counter() - self.began

    def save(self) -> None:
        if not is_main():  # rank 0 keeps the clock of a multi-process run
            return
        with atomic_open(self.path) as handle:
            handle.write(f"{self.total():.3f}\n")


def resume_message(done: int, total: int, run_dir: Path) -> str:
    """What a rerun says before it continues."""
    return f"resuming: {done} of {total} samples already done in {run_dir} (--restart starts over)"


def resume_threads(run_dir: Path, resumed: bool, requested: int | None) -> dict:
    """Apply the thread policy (the interrupted session's count when resuming) and remember it beside the rows."""
    from bench.threads import apply_threads

    path = run_dir / "threads.txt"
    before = int(path.read_text()) if resumed and path.exists() else None
    chosen = apply_threads(requested, resumed_with=before)
    if is_main():  # one writer per run folder
        with atomic_open(path) as handle:
            handle.write(f"{chosen['threads']}\n")
    return chosen
