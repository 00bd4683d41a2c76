"""Bootstrap intervals and a paired test for the figures of a run, from per-sample values: pure numpy, no files.

Every figure of the harness is a ratio of sums, in percent: WER = 100 * sum(errors) / sum(reference words) over
sentences, per-instance top-k = 100 * sum(hits) / samples, and per-class top-k = the mean over classes of each
class's per-instance rate (classes present only, as `bench.metrics`). So one resampler serves all of them:
``values`` (errors or hits), ``weights`` (reference words, or 1 per sample) and optional ``strata`` (class labels:
resample within each class, then average the class rates).

Draw order (so that a test can recompute every number with plain numpy and the same seed):
  rng = numpy.random.default_rng(seed)
  1. bootstrap draws. Without strata: one call ``rng.integers(0, N, size=(n, N))``; row i holds the sample indices
     of replicate i. With strata: one call per class, classes in ascending order of ``numpy.unique(strata)``:
     ``rng.integers(0, m_c, size=(n, m_c))`` indexes the class's m_c samples (taken in their input order).
  2. (paired test only) the sign swaps of approximate randomisation: one call ``rng.random((n, N)) < 0.5``; where
     True, sample j's values of run A and run B trade places in permutation i.
Intervals are percentile intervals: ``numpy.percentile(replicates, [50 * (1 - level), 50 * (1 + level)])``
(numpy's default linear interpolation). A replicate whose weights sum to 0 is nan and left out (nanpercentile).

The p-value of `paired_bootstrap` is that of a two-sided approximate randomisation test (Noreen 1989; Riezler and
Maxwell 2005) of "A and B are exchangeable on every sample": p = (1 + #{i : |d_i| >= |d|}) / (n + 1), where d is
the observed difference B - A and d_i the difference after permutation i's swaps. Its smallest value is 1 / (n + 1).
The interval of the difference is the paired bootstrap's: the same resampled indices for both runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_N = 1000
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A figure (percent) with its bootstrap percentile interval."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairedResult:
    """Two runs on the same samples: each figure with its interval, B - A with its interval, and the p-value."""

    a: Interval
    b: Interval
    difference: Interval  # B - A
    p_value: float  # two-sided approximate randomisation, see the module docstring
    samples: int

    def to_dict(self) -> dict:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "difference": self.difference.to_dict(),
                "p_value": self.p_value, "test": "approximate randomisation, two-sided, (1 + hits) / (n + 1)",
                "samples": self.samples}


def _check(values, weights, strata, name: str = "values") -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array of per-sample values, found shape {values.shape}")
    weights = np.ones_like(values) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != values.shape:
        raise ValueError(f"weights: expected shape {values.shape} to match {name}, found {weights.shape}")
    if strata is not None:
        strata = np.asarray(strata)
        if strata.shape != values.shape:
            raise ValueError(f"strata: expected shape {values.shape} to match {name}, found {strata.shape}")
    if weights.sum() <= 0:
        raise ValueError(f"weights: expected a positive sum (e.g. reference words), found {weights.sum()}")
    return values, weights, strata


def _check_level(level: float, n: int) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level: expected a fraction in (0, 1) such as 0.95, found {level!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive number of replicates, found {n!r}")


def ratio(values: np.ndarray, weights: np.ndarray, strata: np.ndarray | None = None) -> float:
    """The figure itself: 100 * sum(values) / sum(weights), or its mean over strata (classes) when given."""
    if strata is None:
        return 100.0 * float(values.sum()) / float(weights.sum())
    rates = [values[strata == c].sum() / weights[strata == c].sum() for c in np.unique(strata)]
    return 100.0 * float(np.mean(rates))


def bootstrap_draws(rng: np.random.Generator, size: int, strata: np.ndarray | None, n: int) -> list[np.ndarray]:
    """Resampled indices in the documented order: one (n, N) array, or one (n, m_c) array of global indices per
    class (classes in ascending order)."""
    if strata is None:
        return [rng.integers(0, size, size=(n, size))]
    draws = []
    for c in np.unique(strata):
        members = np.flatnonzero(strata == c)
        draws.append(members[rng.integers(0, members.size, size=(n, members.size))])
    return draws


def _replicates(values: np.ndarray, weights: np.ndarray, draws: list[np.ndarray]) -> np.ndarray:
    """Figure of each replicate (n,): pooled ratio for one draw array, mean of class ratios for several."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = [values[d].sum(axis=1) / weights[d].sum(axis=1) for d in draws]
    return 100.0 * (rates[0] if len(rates) == 1 else np.mean(rates, axis=0))


def _interval(estimate: float, replicates: np.ndarray, level: float, n: int, seed: int) -> Interval:
    low, high = np.nanpercentile(replicates, [50 * (1 - level), 50 * (1 + level)])
    return Interval(float(estimate), float(low), float(high), float(level), int(n), int(seed))


def bootstrap(values, weights=None, strata=None, n: int = DEFAULT_N, seed: int = 0,
              level: float = DEFAULT_LEVEL) -> Interval:
    """Percentile bootstrap interval of 100 * sum(values) / sum(weights) (within ``strata`` and averaged over them,
    when given); draws as in the module docstring."""
    _check_level(level, n)
    values, weights, strata = _check(values, weights, strata)
    draws = bootstrap_draws(np.random.default_rng(seed), values.size, strata, n)
    return _interval(ratio(values, weights, strata), _replicates(values, weights, draws), level, n, seed)


def bootstrap_wer(errors, ref_words, n: int = DEFAULT_N, seed: int = 0, level: float = DEFAULT_LEVEL) -> Interval:
    """WER interval: resample sentences; each replicate's WER = 100 * sum(errors) / sum(reference words)."""
    return bootstrap(errors, ref_words, None, n, seed, level)


def bootstrap_topk(ranks, k: int, n: int = DEFAULT_N, seed: int = 0, level: float = DEFAULT_LEVEL) -> Interval:
    """Per-instance top-k interval from each sample's 0-based label rank (a hit when rank < k): resample samples."""
    return bootstrap(np.asarray(ranks) < k, None, None, n, seed, level)


def bootstrap_per_class_topk(ranks, labels, k: int, n: int = DEFAULT_N, seed: int = 0,
                             level: float = DEFAULT_LEVEL) -> Interval:
    """Per-class top-k interval: resample within each class, then average the class accuracies (classes present)."""
    return bootstrap(np.asarray(ranks) < k, None, labels, n, seed, level)


def paired_bootstrap(a_values, b_values, weights=None, strata=None, n: int = DEFAULT_N, seed: int = 0,
                     level: float = DEFAULT_LEVEL) -> PairedResult:
    """Two runs on the same samples (same order, same ``weights`` and ``strata``): both figures and B - A with
    paired-bootstrap intervals (the same indices for both runs), and the two-sided approximate randomisation
    p-value; draws as in the module docstring (bootstrap first, then the swaps)."""
    _check_level(level, n)
    a, weights, strata = _check(a_values, weights, strata, "a_values")
    b, _, _ = _check(b_values, weights, strata, "b_values")
    rng = np.random.default_rng(seed)
    draws = bootstrap_draws(rng, a.size, strata, n)
    rep_a, rep_b = _replicates(a, weights, draws), _replicates(b, weights, draws)
    est_a, est_b = ratio(a, weights, strata), ratio(b, weights, strata)
    swap = rng.random((n, a.size)) < 0.5
    perm_a, perm_b = np.where(swap, b, a), np.where(swap, a, b)
    perm_diff = _permuted_differences(perm_a, perm_b, weights, strata)
    observed = est_b - est_a
    # a tolerance so that permutations equal to the observed difference up to rounding count as "as extreme"
    extreme = np.abs(perm_diff) >= abs(observed) - 1e-9
    p_value = (1.0 + float(extreme.sum())) / (n + 1.0)
    return PairedResult(_interval(est_a, rep_a, level, n, seed), _interval(est_b, rep_b, level, n, seed),
                        _interval(observed, rep_b - rep_a, level, n, seed), p_value, int(a.size))


def _permuted_differences(perm_a: np.ndarray, perm_b: np.ndarray, weights: np.ndarray,
                          strata: np.ndarray | None) -> np.ndarray:
    """B - A figure of each permutation (rows of ``perm_a``/``perm_b``), on all samples (no resampling)."""
    if strata is None:
        total = weights.sum()
        return 100.0 * (perm_b.sum(axis=1) - perm_a.sum(axis=1)) / total
    diffs = []
    for c in np.unique(strata):
        members = strata == c
        total = weights[members].sum()
        diffs.append((perm_b[:, members].sum(axis=1) - perm_a[:, members].sum(axis=1)) / total)
    return 100.0 * np.mean(diffs, axis=0)
