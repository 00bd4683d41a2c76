"""The input pipeline every runner shares: prepared batches from DataLoader worker processes, in order.

A runner hands over a map-style dataset whose items are whole prepared batches (the official batch composition
is decided before, in the main process, so that it does not depend on the number of workers); ``workers``
processes decode, resize and transform them ahead of the model (``prefetch`` batches each: bounded memory),
into pinned memory when the model runs on CUDA, and the copy to the device does not block. ``workers=0`` does the
same work in the main process, with the same results.
"""

from __future__ import annotations

import time
from typing import Iterator

from bench.profile import INPUT_WAIT, OFF


def batch_loader(items, workers: int, device: str, prefetch: int = 2):
    """A ``DataLoader`` over ``items`` (each item one prepared batch; no re-batching), in order."""
    import torch

    workers = max(0, int(workers))
    # its own generator: a DataLoader draws its workers' base seed when iterated, and from the global one that
    # would shift every later dropout mask of a training run (the items draw nothing from torch's generators)
    return torch.utils.data.DataLoader(items, batch_size=None, shuffle=False, num_workers=workers, collate_fn=_as_is,
                                       pin_memory=str(device).startswith("cuda"),
                                       prefetch_factor=prefetch if workers else None, persistent_workers=False,
                                       generator=torch.Generator().manual_seed(0))


def _as_is(item):
    """Items are already what the runner takes (no numpy-to-tensor conversion, no re-batching)."""
    return item


def timed(loader, profile=OFF) -> Iterator:
    """Iterate ``loader``; with workers, the main process's wait for each batch is the profile's input wait."""
    iterator = iter(loader)
    while True:
        began = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        if profile.workers:
            profile.add(INPUT_WAIT, time.perf_counter() - began)
        yield item


def to_device(tensor, device: str):
    """Host-to-device copy; asynchronous from pinned memory on CUDA."""
    return tensor.to(device, non_blocking=str(device).startswith("cuda"))


class _StepItems:
    """Map-style: item ``k`` is ``make(keys[k], clock)`` and the stage times ``clock`` took while making it."""

    def __init__(self, make, keys):
        self.make, self.keys = make, list(keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int):
        from bench.profile import StageClock

        clock = StageClock()
        return self.make(self.keys[index], clock), clock.take()


def prepared_steps(make, keys, workers: int, device: str, profile=OFF) -> Iterator:
    """``make(key, clock)`` for each of ``keys`` in order, made ``workers`` processes ahead (0: in the main
    process, each when its turn comes). Training loops hand over everything a step's batch depends on inside
    ``key`` (its clips and its own random generators), so the batches, and what the main process draws after them
    from generators returned with them, are the same whatever the number of workers. ``clock.stage`` times go to
    ``profile``."""
    for item, timings in timed(batch_loader(_StepItems(make, keys), workers, device), profile):
        profile.add_worker(timings)
        yield item
