"""Greedy CTC decoding and the label clean-up the CSLR papers apply to every decoded sequence."""

from __future__ import annotations

from itertools import groupby
from typing import Iterable, Sequence, TypeVar

import numpy as np

T = TypeVar("T")


def merge_repeats(labels: Iterable[T]) -> list[T]:
    """Merge runs of equal labels (``itertools.groupby``), as the papers do after beam search: A blank A -> A."""
    return [k for k, _ in groupby(labels)]


def ctc_collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    """The CTC many-to-one map: merge repeated frames, then drop blanks."""
    return [k for k in merge_repeats(path) if k != blank]


def greedy_decode(scores, lengths=None, blank: int = 0, merge: bool = True) -> list[list[int]]:
    """Best-path decoding of ``scores [B, T, C]`` (logits or probabilities; only the argmax matters).

    ``merge=True`` is the official ``MaxDecode`` of VAC/CorrNet/SlowFastSign: collapse, drop blanks, then merge
    repeats once more; ``merge=False`` is the plain CTC collapse.
    """
    scores = _as_array(scores)
    batch, frames = scores.shape[:2]
    lengths = np.full(batch, frames) if lengths is None else np.minimum(_as_array(lengths).astype(np.int64), frames)
    best = scores.argmax(axis=2).tolist()
    out = []
    for b in range(batch):
        labels = ctc_collapse(best[b][: int(lengths[b])], blank)
        out.append(merge_repeats(labels) if merge else labels)
    return out


def _as_array(x) -> np.ndarray:
    """numpy view of an array, list or torch tensor (without importing torch)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)
