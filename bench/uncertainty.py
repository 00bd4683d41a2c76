"""Intervals on a record's figures and the paired comparison of two records: records -> per-sample terms -> stats.

`intervals_for_record` gives every resamplable metric of a run record its bootstrap interval (for the report);
`compare_records` pairs two runs on the same dataset and split by sample id and tests B - A (``bench compare``).
Definitions, draw order and the p-value are documented in `bench.stats`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.per_sample import MetricSamples, metric_samples, supported_metrics
from bench.records import ResultRecord, read_record
from bench.stats import DEFAULT_LEVEL, DEFAULT_N, Interval, PairedResult, bootstrap, paired_bootstrap

DEFAULT_METRIC = {"continuous": "wer", "isolated": "per_instance_top1"}


def intervals_for_record(record: ResultRecord | str | os.PathLike, n: int = DEFAULT_N, seed: int = 0,
                         level: float = DEFAULT_LEVEL, origin: str | os.PathLike | None = None) -> dict[str, Interval]:
    """{metric: bootstrap interval} for each metric of a run record its per-sample outputs can resample (WER:
    sentences; top-k: samples; per-class: within classes). ``origin``: the record's file when ``record`` is a
    `ResultRecord` whose per-sample paths are relative. Published records have none: {}."""
    if not isinstance(record, ResultRecord):
        origin, record = record, read_record(record)
    if record.kind != "run":
        return {}
    out = {}
    for metric in supported_metrics(record):
        terms = metric_samples(record, metric, origin)
        out[metric] = bootstrap(terms.values, terms.weights, terms.strata, n, seed, level)
    return out


@dataclass(frozen=True)
class Comparison:
    """``bench compare``: the two records, the metric, how many samples each has and shares, and the test."""

    metric: str
    a: str
    b: str
    samples_a: int
    samples_b: int
    shared: int
    result: PairedResult

    def to_dict(self) -> dict:
        return {"metric": self.metric, "a": self.a, "b": self.b, "samples_a": self.samples_a,
                "samples_b": self.samples_b, "shared": self.shared, **self.result.to_dict()}


def _same_task(a: ResultRecord, b: ResultRecord, path_a, path_b) -> None:
    for key in ("task", "dataset", "split"):
        if getattr(a, key) != getattr(b, key):
            raise ValueError(f"{path_b}: field '{key}': expected {getattr(a, key)!r} as in {path_a} (a paired test "
                             f"needs the same samples), found {getattr(b, key)!r}")
    for path, record in ((path_a, a), (path_b, b)):
        if record.kind != "run":
            raise ValueError(f"{path}: field 'kind': expected 'run' (a record with per-sample outputs), "
                             f"found {record.kind!r}")


def _paired(a: MetricSamples, b: MetricSamples, path_a, path_b) -> tuple[np.ndarray, ...]:
    """A's and B's terms on the samples both have, in A's order; weights and classes must agree."""
    where = {sample: i for i, sample in enumerate(b.ids)}
    shared = [(i, where[sample]) for i, sample in enumerate(a.ids) if sample in where]
    if not shared:
        raise ValueError(f"{path_b}: expected sample ids shared with {path_a}, found none of {len(a.ids)} "
                         f"(e.g. {a.ids[:2]} vs {b.ids[:2]})")
    ia, ib = (np.array(x) for x in zip(*shared))
    if not np.array_equal(a.weights[ia], b.weights[ib]):
        bad = int(np.flatnonzero(a.weights[ia] != b.weights[ib])[0])
        raise ValueError(f"{b.source}: sample {a.ids[ia[bad]]!r}: expected {a.weights[ia[bad]]:g} reference words as "
                         f"in {a.source}, found {b.weights[ib[bad]]:g} (different references?)")
    if a.strata is not None and not np.array_equal(a.strata[ia], b.strata[ib]):
        bad = int(np.flatnonzero(a.strata[ia] != b.strata[ib])[0])
        raise ValueError(f"{b.source}: sample {a.ids[ia[bad]]!r}: expected label {a.strata[ia[bad]]} as in "
                         f"{a.source}, found {b.strata[ib[bad]]} (different class lists?)")
    return a.values[ia], b.values[ib], a.weights[ia], None if a.strata is None else a.strata[ia]


def compare_records(path_a: str | os.PathLike, path_b: str | os.PathLike, metric: str | None = None,
                    n: int = DEFAULT_N, seed: int = 0, level: float = DEFAULT_LEVEL) -> Comparison:
    """Paired bootstrap and approximate randomisation of ``metric`` (default: WER, or per-instance top-1) between
    two run records on the same dataset and split, over the sample ids both evaluated."""
    a, b = read_record(path_a), read_record(path_b)
    _same_task(a, b, path_a, path_b)
    metric = metric or DEFAULT_METRIC[a.task]
    terms_a, terms_b = metric_samples(a, metric, Path(path_a)), metric_samples(b, metric, Path(path_b))
    values_a, values_b, weights, strata = _paired(terms_a, terms_b, path_a, path_b)
    result = paired_bootstrap(values_a, values_b, weights, strata, n, seed, level)
    return Comparison(metric, str(path_a), str(path_b), len(terms_a.ids), len(terms_b.ids), len(weights), result)
