"""Per-sample outputs of a run record, read back as arrays keyed by sample id (for intervals and paired tests).

Where they are: a continuous record's ``extra["hypotheses"]`` names ``hypotheses.jsonl``; ``scores.jsonl`` beside it
holds one row per scorer/head (``head_or_scorer``: "python", the reported scorer, "conv") with per-sentence counts
(`WerScore.to_dict`). An isolated record's ``extra["scores"]`` names ``scores.jsonl``: one row per sample with its
``label`` and ``ranks[views/output]`` (the label's 0-based rank, ties against it). Stored paths are as the run saw
them (often relative to where it ran); they are looked up as given, then beside the record file (the run folder
next to it), so a results folder that was moved still reads.

Which counts give which metric: ``wer`` the reported scorer's sentences (``protocol.scorer``; sclite's counts equal
the python scorer's), ``wer_python``/``sub``/``del``/``ins`` the python scorer's, ``wer_conv`` the conv head's;
``per_instance_top{k}``/``per_class_top{k}`` the ranks of the record's ``views/output``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.records import ResultRecord, read_record

_TOPK = re.compile(r"^(per_instance|per_class)_top(\d+)$")
_WER_PARTS = {"sub": ("substitutions",), "del": ("deletions",), "ins": ("insertions",),
              "wer_python": ("substitutions", "deletions", "insertions")}


@dataclass(frozen=True)
class MetricSamples:
    """One metric's per-sample terms: figure = 100 * sum(values) / sum(weights), averaged over ``strata`` if set."""

    metric: str
    ids: tuple[str, ...]
    values: np.ndarray  # errors of a sentence, or 1.0 for a hit at k
    weights: np.ndarray  # reference words, or 1.0 per sample
    strata: np.ndarray | None  # class labels for per-class metrics
    source: str  # the file they came from


def _load(record: ResultRecord | str | os.PathLike) -> tuple[ResultRecord, Path | None]:
    if isinstance(record, ResultRecord):
        return record, None
    return read_record(record), Path(record)


def _locate(stored: str | None, origin: Path | None, what: str, record: ResultRecord) -> Path:
    """The per-sample file named in a record: as stored, else in the run folder beside the record file."""
    if not stored:
        raise ValueError(f"{origin or record.model}: field 'extra.{what}': expected the path of the run's per-sample "
                         f"file, found none (a record written without per-sample outputs has no intervals)")
    path = Path(stored)
    candidates = [path]
    if origin is not None:
        candidates += [origin.parent / path.parent.name / path.name, origin.parent / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"{origin or record.model}: field 'extra.{what}' names {stored}, found no such file "
                            f"(tried {tried}); keep the run folder beside its record")


def _rows(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: line {number}: expected a JSON object, found {exc.msg}") from exc
    return rows


def supported_metrics(record: ResultRecord) -> list[str]:
    """The record's metrics that per-sample outputs can resample."""
    if record.task == "continuous":
        return [m for m in record.metrics if m in ("wer", "wer_conv", *_WER_PARTS)]
    return [m for m in record.metrics if _TOPK.match(m)]


def metric_samples(record: ResultRecord | str | os.PathLike, metric: str,
                   origin: str | os.PathLike | None = None) -> MetricSamples:
    """Per-sample terms of ``metric`` of a run record (or record file); ``origin``: the record's file, to find
    per-sample files stored with relative paths."""
    record, path = _load(record)
    origin = Path(origin) if origin is not None else path
    if metric not in supported_metrics(record):
        raise ValueError(f"{origin or record.model}: metric {metric!r}: expected one of "
                         f"{supported_metrics(record)} for this {record.task} record")
    if record.task == "continuous":
        return _continuous(record, metric, origin)
    return _isolated(record, metric, origin)


def _continuous(record: ResultRecord, metric: str, origin: Path | None) -> MetricSamples:
    hypotheses = _locate(record.extra.get("hypotheses"), origin, "hypotheses", record)
    scores = hypotheses.parent / "scores.jsonl"
    if not scores.is_file():
        raise FileNotFoundError(f"{scores}: expected the per-sentence counts written beside {hypotheses.name} at the "
                                f"end of the run, found nothing (re-run the evaluation to finish it)")
    head = {"wer": record.protocol.get("scorer", "python"), "wer_conv": "conv"}.get(metric, "python")
    rows = {row.get("head_or_scorer"): row for row in _rows(scores)}
    if head not in rows:
        raise ValueError(f"{scores}: expected a row with head_or_scorer {head!r} for {metric}, found {sorted(rows)}")
    sentences = rows[head]["sentences"]
    parts = _WER_PARTS.get(metric, ("substitutions", "deletions", "insertions"))
    values = np.array([sum(s[p] for p in parts) for s in sentences], dtype=np.float64)
    weights = np.array([s["ref_words"] for s in sentences], dtype=np.float64)
    return MetricSamples(metric, tuple(s["id"] for s in sentences), values, weights, None, str(scores))


def _isolated(record: ResultRecord, metric: str, origin: Path | None) -> MetricSamples:
    scores = _locate(record.extra.get("scores"), origin, "scores", record)
    key = f"{record.protocol.get('views')}/{record.protocol.get('output')}"
    kind, k = _TOPK.match(metric).groups()
    rows = _rows(scores)
    absent = [r.get("id") for r in rows if key not in r.get("ranks", {})]
    if absent:
        raise ValueError(f"{scores}: expected ranks[{key!r}] on every row (the record's views/output), found it "
                         f"missing on {len(absent)} rows, e.g. {absent[:3]}")
    ranks = np.array([r["ranks"][key] for r in rows], dtype=np.int64)
    labels = np.array([r["label"] for r in rows], dtype=np.int64)
    return MetricSamples(metric, tuple(str(r["id"]) for r in rows), (ranks < int(k)).astype(np.float64),
                         np.ones(len(rows)), labels if kind == "per_class" else None, str(scores))
