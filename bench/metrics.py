"""Top-k accuracy for isolated SLR, per instance and per class, from sum-reducible counts.

Counts first, rates last (the torchmetrics rule): a `TopKCounts` holds, per class, how many test samples there were
and how many of them were hits at each k. Counts of shards add up exactly to the counts of the whole set, so a
metric computed on several processes equals the one computed in one; percentages are derived only in `compute()`.

Conventions (all shared by every ISLR model in the harness):
- Rates are in percent (0-100).
- Per-instance top-k = hits / samples.
- Per-class top-k = mean over classes of hits_c / samples_c, by one of two rules (``PER_CLASS_RULES``), which a
  record names: ``present_classes`` (NLA-SLR): the classes with at least one evaluated sample only (a class whose
  test videos are all missing, "caterpillar" in WLASL-2000, is left out); ``all_classes`` (SignNet's
  ``compute_accuracy``): every class of the head, a class without samples counting 0. ``per_class_top{k}`` follows
  the rule passed to ``compute``; ``per_class_present_top{k}`` and ``per_class_all_top{k}`` name theirs.
  `classes_counted` reports how many classes had samples.
- Ranking metrics (ASL-Citizen's official extras), from the label's 0-based rank r: ``dcg`` = mean of
  1 / log2(r + 2) and ``mrr`` = mean of 1 / (r + 1), as fractions in [0, 1] as that paper prints them (not
  percent). Per class, the sums of the per-sample terms are kept as integers in units of 1e-12 (``RANK_UNIT``),
  so shards add up exactly, like the counts (each term is rounded by at most 5e-13).
- Ties are counted against the label: the label is a hit at k when the number of OTHER classes scoring greater than
  or equal to it is below k, i.e. the label must beat every tied class for the last places. This is independent of
  class order (a stable argsort would favour low class ids) and makes a constant-output model score 0, never 100.
  `ties` counts the samples whose label score equals another class's score, so a report can show if ties mattered.
  `tie_dependent_top{k}` counts the samples whose hit at k depends on how ties are broken (the label is tied with
  another class exactly at the k-th place: fewer than k classes score higher, but k or more score >= it). NLA-SLR's
  official code ranks tied classes in ``torch.argsort`` order and would count some of them as hits; these counts
  bound how far a figure could move (at most ``tie_dependent_top{k} / samples`` percent per instance).
- k larger than the number of classes C is treated as C (every sample is a hit); the key keeps the requested k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

DEFAULT_KS = (1, 5)
# per-class rules: what a class without evaluated samples does to the mean (see the module docstring)
PER_CLASS_RULES = {
    "present_classes": "mean over the classes with at least one evaluated sample (NLA-SLR)",
    "all_classes": "mean over all classes, a class without evaluated samples counting 0 (SignNet)",
}
RANK_METRICS = ("dcg", "mrr")  # optional ranking metrics (ASL-Citizen), fractions in [0, 1]
RANK_UNIT = 10**12  # per-sample dcg / reciprocal-rank terms are summed as integers of 1e-12: exact over shards


def _as_array(x, name: str) -> np.ndarray:
    """numpy view of an array, list or torch tensor, without importing torch."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
        # bfloat16 / half tensors have no numpy twin: widen before converting
        x = x.float() if str(getattr(x, "dtype", "")) in ("torch.bfloat16", "torch.float16") else x
        x = x.numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected an array-like, found {type(x).__name__} ({exc})") from exc


def _check_ks(ks: Iterable[int]) -> tuple[int, ...]:
    """Validate ks: positive distinct integers, kept in the given order."""
    ks = tuple(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in ks):
        raise ValueError(f"ks: expected positive integers such as (1, 5), found {ks!r}")
    if len(set(ks)) != len(ks):
        raise ValueError(f"ks: expected distinct values, found {ks!r}")
    return tuple(int(k) for k in ks)


def check_scores_labels(scores, labels, num_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``scores (N, C)`` and integer ``labels (N,)``; return float64 scores and int64 labels."""
    scores = _as_array(scores, "scores")
    labels = _as_array(labels, "labels")
    if scores.ndim != 2:
        raise ValueError(f"scores: expected a 2-D array (samples, classes), found shape {scores.shape}")
    if not np.issubdtype(scores.dtype, np.number) or np.issubdtype(scores.dtype, np.complexfloating):
        raise ValueError(f"scores: expected real numbers, found dtype {scores.dtype}")
    n, c = scores.shape
    if num_classes is not None and c != num_classes:
        raise ValueError(f"scores: expected {num_classes} columns (num_classes), found {c}")
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"labels: expected shape ({n},) to match the {n} rows of scores, found shape {labels.shape}")
    if n and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels: expected integer class ids, found dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= c):
        bad = labels[(labels < 0) | (labels >= c)]
        raise ValueError(f"labels: expected class ids in [0, {c}), found {bad[:5].tolist()} ({bad.size} out of range)")
    scores = scores.astype(np.float64, copy=False)
    if np.isnan(scores).any():
        rows = np.flatnonzero(np.isnan(scores).any(axis=1))
        raise ValueError(f"scores: expected no NaN, found NaN in {rows.size} rows (first rows {rows[:5].tolist()})")
    return scores, labels.astype(np.int64, copy=False)


def label_tie_counts(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per sample: how many other classes score exactly the label's score."""
    own = scores[np.arange(scores.shape[0]), labels][:, None]
    return (scores == own).sum(axis=1) - 1


def label_ranks(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: the number of other classes scoring >= the label (its 0-based rank, ties against it), and
    whether the label's score is tied with another class."""
    own = scores[np.arange(scores.shape[0]), labels][:, None]
    higher = (scores > own).sum(axis=1)
    tied = (scores == own).sum(axis=1) - 1  # minus the label itself
    return higher + tied, tied > 0


@dataclass
class TopKCounts:
    """Sum-reducible top-k counters: ``hits[i, c]`` = samples of class c that are hits at ``ks[i]``.

    ``samples[c]`` = evaluated samples of class c, ``ties[c]`` = samples of class c whose label score ties another
    class, ``tie_dependent[i, c]`` = samples of class c whose hit at ``ks[i]`` depends on tie-breaking. Add shards
    with ``+`` or ``TopKCounts.merge``; derive percentages with ``compute()``.
    """

    num_classes: int
    ks: tuple[int, ...] = DEFAULT_KS
    hits: np.ndarray = field(default=None)  # (len(ks), C) int64
    samples: np.ndarray = field(default=None)  # (C,) int64
    ties: np.ndarray = field(default=None)  # (C,) int64
    tie_dependent: np.ndarray = field(default=None)  # (len(ks), C) int64
    dcg: np.ndarray = field(default=None)  # (C,) int64: sum of 1 / log2(rank + 2) in RANK_UNITs
    reciprocal_rank: np.ndarray = field(default=None)  # (C,) int64: sum of 1 / (rank + 1) in RANK_UNITs

    def __post_init__(self):
        self.ks = _check_ks(self.ks)
        c = int(self.num_classes)
        if c < 1:
            raise ValueError(f"num_classes: expected a positive integer, found {self.num_classes!r}")
        self.num_classes = c
        shapes = {"hits": (len(self.ks), c), "samples": (c,), "ties": (c,), "tie_dependent": (len(self.ks), c)}
        shapes.update(dcg=(c,), reciprocal_rank=(c,))
        for name, shape in shapes.items():
            value = getattr(self, name)
            value = np.zeros(shape, np.int64) if value is None else np.asarray(value, dtype=np.int64)
            if value.shape != shape:
                raise ValueError(f"TopKCounts.{name}: expected shape {shape}, found {value.shape}")
            setattr(self, name, value)

    @classmethod
    def from_scores(cls, scores, labels, ks: Sequence[int] = DEFAULT_KS,
                    num_classes: int | None = None) -> "TopKCounts":
        """Counts of one batch (or shard) of ``scores (N, C)`` and ``labels (N,)``."""
        scores, labels = check_scores_labels(scores, labels, num_classes)
        return cls(num_classes=scores.shape[1], ks=tuple(ks)).update(scores, labels)

    @classmethod
    def from_ranks(cls, ranks, labels, num_classes: int, ks: Sequence[int] = DEFAULT_KS,
                   tied=None) -> "TopKCounts":
        """Counts from each sample's label rank (``label_ranks``: classes scoring >= the label), e.g. as saved
        per sample by an evaluation, so metrics are recomputed without the score matrix. ``tied``: per sample,
        whether the label is tied (bools), or how many other classes share its score (``label_tie_counts``;
        only counts give ``tie_dependent``)."""
        ranks = np.asarray(ranks, dtype=np.int64)
        labels = np.asarray(labels, dtype=np.int64)
        counts = cls(num_classes=num_classes, ks=tuple(ks))
        counts.samples += np.bincount(labels, minlength=num_classes)
        counts._add_rank_sums(labels, ranks)
        tied = None if tied is None else np.asarray(tied)
        if tied is not None:
            counts.ties += _per_class(labels, tied.astype(bool), num_classes)
        for i, k in enumerate(counts.ks):
            counts.hits[i] += _per_class(labels, ranks < min(k, num_classes), num_classes)
            if tied is not None and tied.dtype != bool:
                counts.tie_dependent[i] += _per_class(labels, _tie_dependent(ranks, tied, min(k, num_classes)),
                                                      num_classes)
        return counts

    def update(self, scores, labels) -> "TopKCounts":
        """Add one batch to these counts in place; returns self so calls chain."""
        scores, labels = check_scores_labels(scores, labels, self.num_classes)
        rank, tied = label_ranks(scores, labels)
        equal = label_tie_counts(scores, labels)
        c = self.num_classes
        self.samples += np.bincount(labels, minlength=c)
        self._add_rank_sums(labels, rank)
        self.ties += _per_class(labels, tied, c)
        for i, k in enumerate(self.ks):
            self.hits[i] += _per_class(labels, rank < min(k, c), c)
            self.tie_dependent[i] += _per_class(labels, _tie_dependent(rank, equal, min(k, c)), c)
        return self

    def _add_rank_sums(self, labels: np.ndarray, ranks: np.ndarray) -> None:
        ranks = np.asarray(ranks, dtype=np.float64)
        for name, terms in (("dcg", 1.0 / np.log2(ranks + 2)), ("reciprocal_rank", 1.0 / (ranks + 1))):
            units = np.rint(terms * RANK_UNIT).astype(np.int64)
            np.add.at(getattr(self, name), labels, units)  # integer sums: exact in any order

    def __add__(self, other: "TopKCounts") -> "TopKCounts":
        if not isinstance(other, TopKCounts):
            return NotImplemented
        if other.num_classes != self.num_classes or other.ks != self.ks:
            raise ValueError(
                f"TopKCounts: cannot add counts of {other.num_classes} classes at ks {other.ks} "
                f"to counts of {self.num_classes} classes at ks {self.ks}"
            )
        return TopKCounts(self.num_classes, self.ks, self.hits + other.hits, self.samples + other.samples,
                          self.ties + other.ties, self.tie_dependent + other.tie_dependent, self.dcg + other.dcg,
                          self.reciprocal_rank + other.reciprocal_rank)

    @staticmethod
    def merge(counts: Iterable["TopKCounts"]) -> "TopKCounts":
        """Sum of the counts of several shards (at least one)."""
        counts = list(counts)
        if not counts:
            raise ValueError("TopKCounts.merge: expected at least one TopKCounts, found none")
        total = counts[0]
        for part in counts[1:]:
            total = total + part
        return total

    def compute(self, per_class: str = "present_classes") -> dict[str, float | int]:
        """Percentages ``per_instance_top{k}``, ``per_class_top{k}`` (by the ``per_class`` rule, see
        ``PER_CLASS_RULES``), ``per_class_present_top{k}`` and ``per_class_all_top{k}`` (each rule by name), the
        fractions ``dcg`` and ``mrr``, plus ``samples``, ``classes_counted``, ``ties`` and ``tie_dependent_top{k}``
        (counts)."""
        if per_class not in PER_CLASS_RULES:
            raise ValueError(f"per_class: expected one of {', '.join(PER_CLASS_RULES)}, found {per_class!r}")
        total = int(self.samples.sum())
        if total == 0:
            raise ValueError("TopKCounts.compute: expected at least one evaluated sample, found 0")
        present = self.samples > 0
        out: dict[str, float | int] = {}
        for i, k in enumerate(self.ks):
            out[f"per_instance_top{k}"] = 100.0 * float(self.hits[i].sum()) / total
        rules = {"present_classes": "per_class_present", "all_classes": "per_class_all"}
        for i, k in enumerate(self.ks):
            recall = self.hits[i][present] / self.samples[present]
            by_rule = {"present_classes": float(np.mean(recall)),
                       "all_classes": float(recall.sum() / self.num_classes)}  # absent classes add 0
            out[f"per_class_top{k}"] = 100.0 * by_rule[per_class]
            for rule, prefix in rules.items():
                out[f"{prefix}_top{k}"] = 100.0 * by_rule[rule]
        out.update(dcg=int(self.dcg.sum()) / RANK_UNIT / total,
                   mrr=int(self.reciprocal_rank.sum()) / RANK_UNIT / total)
        out.update(samples=total, classes_counted=int(present.sum()), ties=int(self.ties.sum()))
        for i, k in enumerate(self.ks):
            out[f"tie_dependent_top{k}"] = int(self.tie_dependent[i].sum())
        return out

    def to_dict(self) -> dict:
        """JSON-ready form (lists of ints), e.g. for a result record's ``extra``; inverse of ``from_dict``."""
        return {"num_classes": self.num_classes, "ks": list(self.ks), "hits": self.hits.tolist(),
                "samples": self.samples.tolist(), "ties": self.ties.tolist(),
                "tie_dependent": self.tie_dependent.tolist(), "dcg": self.dcg.tolist(),
                "reciprocal_rank": self.reciprocal_rank.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "TopKCounts":
        """Counts from ``to_dict()`` output."""
        return cls(data["num_classes"], tuple(data["ks"]), data["hits"], data["samples"], data["ties"],
                   data.get("tie_dependent"), data.get("dcg"),  # absent in counts stored before they existed
                   data.get("reciprocal_rank"))


def _tie_dependent(ranks: np.ndarray, equal: np.ndarray, k: int) -> np.ndarray:
    """Samples whose hit at ``k`` depends on tie-breaking: a miss with ties against the label (``ranks`` counts the
    tied classes), a hit with the label placed before every tied class."""
    return (ranks >= k) & (ranks - np.asarray(equal, dtype=np.int64) < k)


def _per_class(labels: np.ndarray, mask: np.ndarray, num_classes: int) -> np.ndarray:
    """How many samples of each class have ``mask`` set, as int64 (C,)."""
    return np.bincount(labels[mask], minlength=num_classes).astype(np.int64)


def topk_accuracy(scores, labels, ks: Sequence[int] = DEFAULT_KS, num_classes: int | None = None) -> dict:
    """Per-instance and per-class top-k accuracy (percent) of ``scores (N, C)`` against ``labels (N,)``.

    Returns ``per_instance_top{k}`` and ``per_class_top{k}`` for each k, ``samples``, ``classes_counted``, ``ties``
    and ``counts`` (the `TopKCounts`, to merge with other shards or store with ``counts.to_dict()``).
    """
    counts = TopKCounts.from_scores(scores, labels, ks, num_classes)
    return {**counts.compute(), "counts": counts}


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax in float64 (subtract the max so exp never overflows)."""
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


FUSIONS = {
    "softmax_mean": lambda v: _softmax(v, axis=-1).mean(axis=0),
    "mean": lambda v: v.mean(axis=0),
}


def fuse_views(view_scores, kind: str = "softmax_mean") -> np.ndarray:
    """Fuse ``(V, N, C)`` per-view logits into ``(N, C)`` float64 scores.

    ``softmax_mean`` averages the softmax of each view: this is NLA-SLR's ``3x_pad`` "3-crop" test (three temporal
    windows), SignVLM's 3 spatial crops and SignNet's 3 temporal clips. ``mean`` averages the raw scores as given.
    SignNet's official merge groups views by file basename (up to its first dot) and skips the views of a second
    clip of the same name; no SignNet list has two such clips in a split, so grouping by sample is the same there.
    """
    if kind not in FUSIONS:
        raise ValueError(f"fuse_views: kind expected one of {sorted(FUSIONS)}, found {kind!r}")
    v = _as_array(view_scores, "view_scores")
    if v.ndim != 3 or v.shape[0] < 1:
        raise ValueError(f"view_scores: expected a 3-D array (views, samples, classes), found shape {v.shape}")
    v = v.astype(np.float64)
    if np.isnan(v).any():
        raise ValueError(f"view_scores: expected no NaN, found {int(np.isnan(v).sum())} NaN values")
    return FUSIONS[kind](v)
