"""Several processes, one run: ``torchrun --nproc_per_node N -m bench eval|train ...`` (one node or many).

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address; :func:`init_from_env` joins the
process group from them (gloo on CPU, nccl on CUDA) and is a no-op for a plain ``python -m bench`` run, so every
helper here also works with one process (rank 0 of 1). Objects travel pickled (``all_gather_object``): per-sample
rows and counts, never tensors of a model.
"""

from __future__ import annotations

import atexit
import os
from typing import Any


def requested_world() -> int:
    """Processes the launcher started (``WORLD_SIZE``; 1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_from_env(device: str = "cpu") -> bool:
    """Join torchrun's process group when ``WORLD_SIZE`` > 1 (idempotent); True when running distributed."""
    import torch.distributed as dist

    if requested_world() <= 1 or not dist.is_available():
        return False
    if not dist.is_initialized():
        cuda = device.startswith("cuda")
        if cuda:
            import torch

            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="nccl" if cuda else "gloo")
        atexit.register(_close)
    return True


def _close() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 without a process group)."""
    import torch.distributed as dist

    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Processes in the group (1 without one)."""
    import torch.distributed as dist

    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Rank 0: the one process that writes records, checkpoints and logs."""
    return rank() == 0


def local_device(device: str) -> str:
    """``cuda`` under torchrun means this process's GPU (``cuda:LOCAL_RANK``); anything else is kept."""
    if device == "cuda" and is_distributed():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device


def barrier() -> None:
    """Wait for every process (no-op alone)."""
    import torch.distributed as dist

    if is_distributed():
        dist.barrier()


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (picklable), in rank order, on every rank; ``[obj]`` alone."""
    import torch.distributed as dist

    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, source: int = 0) -> Any:
    """Rank ``source``'s ``obj`` on every rank."""
    import torch.distributed as dist

    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=source)
    return box[0]


def on_main(work, *args, **kwargs) -> Any:
    """Run ``work`` on rank 0 only and give its result (or raise its error) on every rank, so that a failure on
    rank 0 (a fingerprint mismatch, a bad file) stops every process instead of leaving them waiting."""
    result, error = None, None
    if is_main():
        try:
            result = work(*args, **kwargs)
        except Exception as err:  # re-raised below on every rank
            error = err
    result, error = broadcast_object((result, error))
    if error is not None:
        raise error
    return result


def mean_across(value: float) -> float:
    """The mean of a per-rank number (a loss over equal per-rank batches: the global batch's mean)."""
    values = gather_objects(float(value))
    return sum(values) / len(values)


def all_true(flag: bool) -> bool:
    """True when ``flag`` holds on every rank (a step is skipped everywhere or nowhere, or DDP would wait)."""
    return all(gather_objects(bool(flag)))


def seed_for_rank(base: int, rank_: int | None = None) -> int:
    """A per-process seed: ``base`` on rank 0 (a one-process run keeps its numbers), distinct on other ranks
    (``rank_``: the rank, given where a worker process asks on its rank's behalf)."""
    rank_ = rank() if rank_ is None else rank_
    return base if rank_ == 0 else base * 1_000_033 + rank_


def provenance() -> dict[str, Any]:
    """What a record says about the processes that computed it."""
    import torch.distributed as dist

    return {"processes": world_size(), "backend": dist.get_backend() if is_distributed() else None}


def rank_generators(rng, nprng, base: int, rank_: int | None = None):
    """The augmentation generators of this rank: rank 0 keeps ``rng``/``nprng`` (a one-process run keeps its
    numbers), other ranks get their own, seeded from ``base`` and the rank (each process draws its own batch's
    augmentations, as the official DDP loaders do). ``rank_``: as in :func:`seed_for_rank`."""
    import random

    import numpy as np

    rank_ = rank() if rank_ is None else rank_
    if rank_ == 0:
        return rng, nprng
    return random.Random(seed_for_rank(base, rank_)), np.random.default_rng([base, rank_])


def wrap_for_training(model, device: str, sync_batchnorm: bool, find_unused_parameters: bool = False):
    """``model`` under DistributedDataParallel (SyncBatchNorm first when the recipe says so; ``find_unused_parameters``
    where the official code sets it: parameters a step does not reach); unchanged alone."""
    import torch

    if not is_distributed():
        return model
    if sync_batchnorm and device.startswith("cuda"):
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    elif sync_batchnorm:  # torch's SyncBatchNorm refuses CPU tensors
        from bench.sync_batchnorm import convert_sync_batchnorm

        model = convert_sync_batchnorm(model)
    ids = [torch.device(device).index or 0] if device.startswith("cuda") else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids,
                                                     find_unused_parameters=find_unused_parameters)


def unwrap(model):
    """The module inside a DDP wrapper (state dicts keep the official key names, evaluation runs locally)."""
    return getattr(model, "module", model)
