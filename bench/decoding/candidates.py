"""The characters ctcdecode looks at in each frame, in the order it visits them (``get_pruned_log_probs``).

With more than ``cutoff_top_n`` classes, ctcdecode sorts all (index, probability) pairs with ``std::sort`` by
probability, descending, and keeps the first ``cutoff_top_n``; with fewer, it visits every class in index
order. The sort is not stable, so when probabilities tie around the cut the kept set (and otherwise only the
visiting order) is whatever introsort leaves: those frames are sorted with the libstdc++ emulation.
"""

from __future__ import annotations

import math

import numpy as np

from bench.decoding import libm, stl


def _by_probability_descending(a: tuple[int, float], b: tuple[int, float]) -> bool:
    return a[1] > b[1]


def _log_sum_exp_double(x: float, y: float) -> float:
    """``log_sum_exp<double>`` (only used by the cumulative-probability cut)."""
    if x <= -1.7976931348623157e308:
        return y
    if y <= -1.7976931348623157e308:
        return x
    m = max(x, y)
    return math.log(math.exp(x - m) + math.exp(y - m)) + m


def frame_candidates(probs: np.ndarray, cutoff_top_n: int = 40, cutoff_prob: float = 1.0) -> tuple[list[int], list[float]]:
    """Indices and float32 log probabilities of the characters ctcdecode visits in one frame, in its order."""
    probs = np.asarray(probs, dtype=np.float32)
    n = probs.shape[0]
    cut_by_mass = math.log(cutoff_prob) < 0.0
    if not cut_by_mass and cutoff_top_n >= n:
        order = list(range(n))
    elif cut_by_mass:
        pairs = [(i, float(p)) for i, p in enumerate(probs)]
        stl.sort(pairs, _by_probability_descending)
        cumulative, keep = 0.0, 0  # ctcdecode starts the sum at log(1): in practice only the top-n cut acts
        for _, p in pairs:
            cumulative = _log_sum_exp_double(cumulative, math.log(p) if p > 0 else -math.inf)
            keep += 1
            if cumulative >= cutoff_prob or keep >= cutoff_top_n:
                break
        order = [i for i, _ in pairs[:keep]]
    else:
        order = _top_n_order(probs, cutoff_top_n)
    return order, [float(v) for v in libm.log_probs(probs[order])]


def _top_n_order(probs: np.ndarray, top_n: int) -> list[int]:
    """The first ``top_n`` indices after ``std::sort`` by probability, descending."""
    n = probs.shape[0]
    head = np.argpartition(-probs, top_n)[: top_n + 1] if top_n + 1 < n else np.arange(n)
    head = head[np.argsort(-probs[head], kind="stable")]
    values = probs[head]
    if np.all(values[:-1] > values[1:]):
        return [int(i) for i in head[:top_n]]  # no ties among the top n + 1: the order is unique
    pairs = [(i, float(p)) for i, p in enumerate(probs)]
    stl.sort(pairs, _by_probability_descending, need=top_n)
    return [i for i, _ in pairs[:top_n]]


def batch_candidates(probs: np.ndarray, top_n: int = 40, chunk: int = 4096
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of many frames at once: ``(index [N, k], log prob [N, k], tied_at_cut [N], tied_inside [N])``.

    ``tied_at_cut`` marks frames whose kept set is decided by introsort's handling of equal probabilities at the
    cut: those rows must be recomputed with :func:`frame_candidates`. ``tied_inside`` marks frames with equal
    probabilities among the kept ones: the set and values are right, only their visiting order may differ
    from ctcdecode's (it matters for tie-breaking alone).
    """
    probs = np.asarray(probs, dtype=np.float32)
    rows, classes = probs.shape
    if classes <= top_n:
        index = np.broadcast_to(np.arange(classes), (rows, classes))
        none = np.zeros(rows, dtype=bool)
        return index, libm.log_probs(probs), none, none
    index = np.empty((rows, top_n), dtype=np.int64)
    values = np.empty((rows, top_n), dtype=np.float32)
    at_cut = np.empty(rows, dtype=bool)
    inside = np.empty(rows, dtype=bool)
    for start in range(0, rows, chunk):  # chunks keep argpartition's (rows, C) index array small
        part = probs[start:start + chunk]
        head = np.argpartition(part, classes - top_n - 1, axis=1)[:, classes - top_n - 1:]
        vals = np.take_along_axis(part, head, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        head = np.take_along_axis(head, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
        index[start:start + chunk] = head[:, :top_n]
        values[start:start + chunk] = vals[:, :top_n]
        at_cut[start:start + chunk] = vals[:, top_n - 1] == vals[:, top_n]
        inside[start:start + chunk] = (vals[:, : top_n - 1] == vals[:, 1:top_n]).any(axis=1)
    return index, libm.log_probs(values), at_cut, inside
