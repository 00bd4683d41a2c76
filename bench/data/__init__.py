"""Datasets by name: ``get_dataset("phoenix2014")(root)`` reads a release from disk.

Continuous-SLR datasets derive from :class:`bench.data.cslr.CslrDataset`, isolated ones from
:class:`bench.data.isolated.IslrDataset`; both carry ``task`` ("continuous" / "isolated").
"""

from __future__ import annotations

from typing import Any

from bench.registry import Registry

DATASETS: Registry[type[Any]] = Registry("dataset")


def get_dataset(name: str, task: str | None = None) -> type[Any]:
    """The dataset class registered under ``name``; with ``task``, a dataset of another task is an error."""
    cls = DATASETS.get(name)
    if task is not None and cls.task != task:
        others = [n for n in DATASETS.names() if DATASETS.get(n).task == task]
        raise KeyError(f"{name} is a {cls.task}-SLR dataset; {task} ones: {', '.join(others)}")
    return cls


# importing the family modules registers their datasets; they import DATASETS from here, so it comes first
from bench.data import (asl_citizen, autsl, csl, karsl, lsa64, msasl, nmfs_csl, phoenix,  # noqa: E402,F401
                        signnet_lists, signvlm_lists, synthetic_isolated, synthetic_signs, wlasl)
