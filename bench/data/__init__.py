"""Datasets by name: ``get_dataset("phoenix2014")(root)`` reads a release from disk."""

from __future__ import annotations

from bench.data.cslr import CslrDataset
from bench.registry import Registry

DATASETS: Registry[type[CslrDataset]] = Registry("dataset")


def get_dataset(name: str) -> type[CslrDataset]:
    """The dataset class registered under ``name``; a KeyError lists the known names."""
    return DATASETS.get(name)


# importing the family modules registers their datasets; they import DATASETS from here, so it comes first
from bench.data import csl, phoenix, synthetic_signs  # noqa: E402,F401
