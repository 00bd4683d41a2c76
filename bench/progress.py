"""Progress of long loops (epochs, evaluations), reported to whoever renders it: ``progress(stage, done, total)``.

Runners call it after every batch with a stage name ("epoch 3/12: train", "dev: decode") and counts; the CLI
draws a bar with rate and ETA in a terminal and writes a line every half minute to a log or pipe.
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: report nothing."""


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class LineProgress:
    """Plain progress lines for logs and pipes: one when a stage starts, then every ``every`` seconds, one at its end.

    Each line has the counts, the rate since the stage started and the time left at that rate; ``last`` keeps the
    latest counts so that an interruption can say how far the work got."""

    def __init__(self, write: Callable[[str], None] | TextIO, every: float = 30.0, clock=time.monotonic):
        self.write = write.write if hasattr(write, "write") else write
        self.every, self.clock = every, clock
        self.stage, self.began, self.shown, self.last = None, 0.0, 0.0, (None, 0, 0)

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self.stage:
            self.stage, self.began, self.start_done, self.shown = stage, now, done, -float("inf")
        self.last = (stage, done, total)
        if now - self.shown >= self.every or done >= total:
            self.shown = now
            self.write(self.line(done, total, now) + "\n")

    def line(self, done: int, total: int, now: float) -> str:
        elapsed = now - self.began
        rate = (done - self.start_done) / elapsed if elapsed > 0 else 0.0
        eta = _clock((total - done) / rate) if rate > 0 and done < total else ("done" if done >= total else "-")
        return f"{self.stage}: {done}/{total} ({rate:.2f}/s, {_clock(elapsed)} elapsed, ETA {eta})"
