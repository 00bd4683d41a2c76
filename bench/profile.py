"""Where a run's time goes: per-stage wall-clock totals, printed by ``bench eval|train --profile``.

Stages timed in the main process (input wait, host-to-device, model, decoding, scoring, ...) are sequential, so
with the time outside every stage ("other": model loading, records) they add up to the run's wall time. Stages
that run inside DataLoader worker processes (read/decode, transform) overlap the main process: each worker times
them itself and the totals are summed over workers and reported apart, as the share of the workers' time.
On CUDA a stage ends with ``torch.cuda.synchronize`` (``sync``), else the GPU's queued work is charged to
whatever waits for it next.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from typing import Callable, Iterator

CACHE_BUILD = "frame cache build"  # --cache-frames: decoding a split into the packed file (once)
READ = "read/decode"
TRANSFORM = "transform"
HEATMAPS = "heatmaps"  # NLA-SLR keypoint heatmaps made in the main process on the model's device (GPU)
INPUT_WAIT = "input wait"  # the main process waiting for the next batch from the workers
H2D = "host-to-device"
MODEL = "model"
BACKWARD = "backward+step"  # training: backward pass and optimiser step
AUGMENT = "read+augment"  # ISLR training: reading the clips and the batch's augmentations, in the main process
VALIDATION = "validation"  # ISLR training: the per-epoch validation pass (read, transform, model)
DECODING = "decoding"  # softmax + beam search / greedy (CSLR), softmax + ranks (ISLR)
SCORING = "scoring"
OTHER = "other"  # wall time outside every timed stage: setup, model loading, writing records
STAGES = (CACHE_BUILD, READ, TRANSFORM, AUGMENT, INPUT_WAIT, HEATMAPS, H2D, MODEL, BACKWARD, DECODING, SCORING,
          VALIDATION)


class StageClock:
    """Stage totals inside a worker (or the main process without workers), returned with each batch."""

    sync: Callable[[], None] | None = None  # called as each stage ends (Profile on CUDA: synchronize)

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            if self.sync is not None:
                self.sync()
            self.seconds[name] += time.perf_counter() - began

    def take(self) -> dict[str, float]:
        """The totals so far, reset."""
        out, self.seconds = dict(self.seconds), defaultdict(float)
        return out


class Profile(StageClock):
    """Stage totals of one run; ``stage(name)`` times a block, ``add_worker`` takes a worker's own totals."""

    def __init__(self, workers: int = 0, sync: Callable[[], None] | None = None):
        super().__init__()
        self.workers = workers
        self.sync = sync
        self.worker_seconds: dict[str, float] = defaultdict(float)
        self.clips = 0
        self.started = time.perf_counter()
        self.wall: float | None = None
        self._lap: float | None = None

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds

    def lap(self, name: str | None = None) -> None:
        """The time since the previous ``lap`` goes to ``name`` (None: only start the clock): stages of a loop
        timed with one line after each, without re-indenting it."""
        if self.sync is not None:
            self.sync()
        now = time.perf_counter()
        if name is not None and self._lap is not None:
            self.seconds[name] += now - self._lap
        self._lap = now

    def add_worker(self, timings: dict[str, float]) -> None:
        """A batch's stage times measured in a worker (``workers == 0``: the main process did that work)."""
        for name, seconds in timings.items():
            (self.worker_seconds if self.workers else self.seconds)[name] += seconds

    def stop(self) -> "Profile":
        self.wall = time.perf_counter() - self.started
        return self

    def to_dict(self) -> dict:
        """Seconds per stage (``other`` included, so the main stages sum to ``wall``), clips and clips/s."""
        wall = self.wall if self.wall is not None else time.perf_counter() - self.started
        main = {name: round(self.seconds[name], 4) for name in _ordered(self.seconds)}
        main[OTHER] = round(max(0.0, wall - sum(self.seconds.values())), 4)
        return {"wall_s": round(wall, 4), "clips": self.clips, "clips_per_s": round(self.clips / wall, 3) if wall else 0,
                "workers": self.workers, "main_s": main,
                "worker_s": {name: round(self.worker_seconds[name], 4) for name in _ordered(self.worker_seconds)}}

    def lines(self, title: str = "profile") -> list[str]:
        """The table ``--profile`` prints: seconds and share of wall per stage, clips/s end to end."""
        data = self.to_dict()
        wall = data["wall_s"] or 1e-9
        out = [f"{title}: {data['clips']} clips in {data['wall_s']:.2f} s = {data['clips_per_s']:.2f} clips/s end to "
               f"end ({self.workers} worker processes)"]
        out += [f"  {name:<16}{seconds:9.2f} s {100 * seconds / wall:6.1f}%" for name, seconds in data["main_s"].items()]
        if data["worker_s"]:
            capacity = wall * max(1, self.workers)
            out.append(f"  in the {self.workers} workers (summed; share of their {capacity:.1f} s):")
            out += [f"  {name:<16}{seconds:9.2f} s {100 * seconds / capacity:6.1f}%"
                    for name, seconds in data["worker_s"].items()]
        return out


def _ordered(names) -> list[str]:
    return [n for n in STAGES if n in names] + sorted(n for n in names if n not in STAGES)


class _Off:
    """The profile of a run without ``--profile``: every call is a no-op."""

    workers, clips = 0, 0

    def stage(self, name: str):
        return nullcontext()

    def add(self, name: str, seconds: float) -> None:
        pass

    def lap(self, name: str | None = None) -> None:
        pass

    def add_worker(self, timings: dict[str, float]) -> None:
        pass


OFF = _Off()


def make_profile(enabled: bool, workers: int, device: str) -> Profile | _Off:
    """A :class:`Profile` (synchronising CUDA at each stage end) when ``enabled``, else the no-op :data:`OFF`."""
    if not enabled:
        return OFF
    sync = None
    if str(device).startswith("cuda"):
        import torch

        sync = torch.cuda.synchronize
    return Profile(workers, sync)
