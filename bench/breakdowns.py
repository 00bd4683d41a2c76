"""Where a run fails: one run record broken down by signer, clip length, gloss and class, from its stored
per-sample outputs (nothing re-runs a model).

What is read (see :mod:`bench.per_sample` for where the files are):

- continuous: ``hypotheses.jsonl`` (per sentence: ``frames``, and ``signer`` in runs written since the report's
  breakdowns) and ``scores.jsonl`` (per-sentence counts of the reported scorer; the python row's ``words``, the
  scored reference and hypothesis words, for per-gloss counts);
- isolated: ``scores.jsonl`` (per clip: ``label``, the label's rank and the top-10 classes of the record's
  views/output, and ``frames`` / ``signer`` in newer runs) and ``classes.txt`` (class index -> gloss) beside it.

Older runs lack signers, frame counts of clips, scored words or class names: ``data_root`` (the dataset release the
run read) fills them from the dataset's annotation (PHOENIX-2014's corpus files carry the signer; WLASL, AUTSL,
LSA64, KArSL ids or annotations too). Anything still unknown is left out of the tables that need it, and said so.

Definitions: a group's WER is 100 * (S + D + I) / reference words summed over its sentences (as the corpus WER); a
gloss's counts come from sclite's alignment (:func:`bench.scoring.align.align`) of the scored words: how often it
is in the references, matched, substituted (and by what), deleted, and inserted; a class's top-k accuracy is the
share of its clips whose label ranks below k; confusions pair a clip's label with its top-1 class when they differ.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.per_sample import _locate, _rows
from bench.records import ResultRecord, read_record
from bench.scoring.align import DELETION, INSERTION, SUBSTITUTION, align

UNKNOWN_SIGNERS = {"", "unknown", "-1", "None"}  # what a corpus without signer ids writes in the signer field


@dataclass
class RunSamples:
    """One run's per-sample outputs, as plain rows (see the module docstring for the fields)."""

    record: ResultRecord
    rows: list[dict]
    classes: list[str] | None = None  # isolated: class index -> gloss, when known
    filled_from: list[str] = field(default_factory=list)  # what came from the dataset release, not the run's files
    origin: Path | None = None  # the record's file
    not_filled: str | None = None  # why the release given could not fill the gaps


def load_run_samples(record: ResultRecord | str | os.PathLike, origin: str | os.PathLike | None = None,
                     data_root=None) -> RunSamples:
    """The per-sample rows of a run record (or record file); ``origin``: the record's file, for relative paths;
    ``data_root``: the dataset release (or several: the first that reads as the run's dataset is used), to fill
    what older runs did not store (signers, clip lengths, class names, scored words)."""
    if not isinstance(record, ResultRecord):
        origin, record = record, read_record(record)
    if record.kind != "run":
        raise ValueError(f"{origin or record.model}: field 'kind': expected 'run' (a record with per-sample outputs), "
                         f"found {record.kind!r}")
    origin = Path(origin) if origin is not None else None
    samples = _continuous(record, origin) if record.task == "continuous" else _isolated(record, origin)
    samples.origin = origin
    roots = [] if data_root is None else [data_root] if isinstance(data_root, (str, os.PathLike)) else data_root
    failures = []
    for root in roots:
        try:
            _fill_from_release(samples, Path(root))
            break
        except (OSError, ValueError, KeyError) as err:  # another dataset's release: the run's own files still count
            failures.append(f"{root}: {err}")
    else:
        samples.not_filled = "; ".join(failures) or None
    return samples


def _continuous(record: ResultRecord, origin: Path | None) -> RunSamples:
    hypotheses = _locate(record.extra.get("hypotheses"), origin, "hypotheses", record)
    decoded = {row["id"]: row for row in _rows(hypotheses)}
    scores = {row.get("head_or_scorer"): row for row in _rows(hypotheses.parent / "scores.jsonl")}
    reported = scores.get(record.protocol.get("scorer", "python")) or scores["python"]
    words = scores.get("python", {}).get("words")
    rows = []
    for i, sentence in enumerate(reported["sentences"]):
        run = decoded.get(sentence["id"], {})
        rows.append({"id": sentence["id"], "ref_words": sentence["ref_words"], "sub": sentence["substitutions"],
                     "del": sentence["deletions"], "ins": sentence["insertions"],
                     "ref": words[i][0] if words else None, "hyp": words[i][1] if words else None,
                     "signer": _signer(run.get("signer")), "frames": run.get("frames")})
    return RunSamples(record, rows)


def _isolated(record: ResultRecord, origin: Path | None) -> RunSamples:
    scores = _locate(record.extra.get("scores"), origin, "scores", record)
    key = f"{record.protocol.get('views')}/{record.protocol.get('output')}"
    rows = [{"id": str(r["id"]), "label": int(r["label"]), "rank": int(r["ranks"][key]),
             "top": [int(c) for c, _ in r.get("top", {}).get(key, [])], "signer": _signer(r.get("signer")),
             "frames": r.get("frames")} for r in _rows(scores)]
    names = scores.parent / "classes.txt"
    classes = names.read_text(encoding="utf-8").splitlines() if names.is_file() else None
    return RunSamples(record, rows, classes)


def _signer(value) -> str | None:
    return None if value is None or str(value) in UNKNOWN_SIGNERS else str(value)


def _fill_from_release(samples: RunSamples, root: Path) -> None:
    """Signers, frame counts, class names and (continuous) scored words the run did not store, from the release."""
    from bench.data import get_dataset

    record = samples.record
    cls = get_dataset(record.dataset)
    videos = record.extra.get("data", {}).get("videos")  # where the run read its clips, if still there
    use_videos = cls.task == "isolated" and videos and Path(videos).exists()
    dataset = cls(root, videos=Path(videos).resolve()) if use_videos else cls(root)  # as the run saw it: cwd
    by_id = {s.id: s for s in dataset.samples(record.split)}
    if not any(row["id"] in by_id for row in samples.rows):
        raise ValueError(f"none of the run's {len(samples.rows)} sample ids is in {record.dataset} {record.split} "
                         f"under this root (e.g. {samples.rows[0]['id'] if samples.rows else '-'})")
    for row in samples.rows:
        sample = by_id.get(row["id"])
        if sample is None:
            continue
        if row["signer"] is None and _signer(sample.signer):
            row["signer"] = _signer(sample.signer)
            _note(samples, "signers")
        if row["frames"] is None and record.task == "isolated":
            try:
                row["frames"] = int(dataset.frame_count(sample))
                _note(samples, "clip lengths")
            except Exception:  # a clip that is not on disk here: its length stays unknown
                pass
    if record.task == "isolated" and samples.classes is None:
        samples.classes = list(dataset.classes())
        _note(samples, "class names")
    if record.task == "continuous" and any(row["ref"] is None for row in samples.rows):
        _fill_words(samples, dataset)


def _fill_words(samples: RunSamples, dataset) -> None:
    """The scored words of an older run: the dataset's reference and the run's hypotheses after the official
    clean-up, as the scorer saw them."""
    from bench.scoring.cleanup import clean_hypotheses, fill_empty

    record = samples.record
    segments, _ = dataset.scoring_reference(record.split)
    reference = {s.file: list(s.words) for s in segments}
    hypotheses = _locate(record.extra.get("hypotheses"), samples.origin, "hypotheses", record)
    decoded = {r["id"]: r["glosses"] for r in _rows(hypotheses)}
    hyps = fill_empty(clean_hypotheses(decoded, record.protocol.get("cleanup", "official")), list(reference))
    for row in samples.rows:
        if row["id"] in reference:
            row["ref"], row["hyp"] = reference[row["id"]], hyps.get(row["id"], [])
    _note(samples, "reference words")


def _note(samples: RunSamples, what: str) -> None:
    if what not in samples.filled_from:
        samples.filled_from.append(what)


# -- continuous ---------------------------------------------------------------------------------------------------
def wer_by(rows: list[dict], group_of) -> list[dict]:
    """Per group (``group_of(row)``; None leaves a row out): sentences, reference words, S/D/I and WER (%)."""
    groups: dict = {}
    for row in rows:
        group = group_of(row)
        if group is not None:
            groups.setdefault(group, []).append(row)
    out = []
    for group in sorted(groups, key=_group_order):
        members = groups[group]
        words = sum(r["ref_words"] for r in members)
        s, d, i = (sum(r[k] for r in members) for k in ("sub", "del", "ins"))
        out.append({"group": group, "sentences": len(members), "ref_words": words, "sub": s, "del": d, "ins": i,
                    "wer": 100.0 * (s + d + i) / words if words else None})
    return out


def gloss_errors(rows: list[dict], top: int = 20) -> list[dict]:
    """Per reference gloss (sclite's alignment of the scored words): occurrences, correct, substituted, deleted,
    inserted (as a hypothesis word), error rate (S + D) / occurrences in %, and its most frequent substitute;
    the ``top`` glosses with the most errors."""
    counts: dict[str, Counter] = {}
    substitutes: dict[str, Counter] = {}
    for row in rows:
        if row.get("ref") is None:
            continue
        for op, ref, hyp in align(row["ref"], row["hyp"]).ops:
            gloss = hyp if op == INSERTION else ref
            counts.setdefault(gloss, Counter())[op] += 1
            if op == SUBSTITUTION:
                substitutes.setdefault(ref, Counter())[hyp] += 1
    out = []
    for gloss, c in counts.items():
        occurrences = c["C"] + c[SUBSTITUTION] + c[DELETION]
        errors = c[SUBSTITUTION] + c[DELETION]
        common = substitutes.get(gloss, Counter()).most_common(1)
        out.append({"gloss": gloss, "occurrences": occurrences, "correct": c["C"], "sub": c[SUBSTITUTION],
                    "del": c[DELETION], "ins": c[INSERTION],
                    "error_rate": 100.0 * errors / occurrences if occurrences else None,
                    "most_substituted_by": f"{common[0][0]} ({common[0][1]})" if common else None})
    out.sort(key=lambda r: (-(r["sub"] + r["del"] + r["ins"]), r["gloss"]))
    return out[:top]


def substitution_pairs(rows: list[dict], top: int = 10) -> list[dict]:
    """The most frequent (reference gloss, hypothesis gloss) substitutions."""
    pairs = Counter()
    for row in rows:
        if row.get("ref") is not None:
            pairs.update((r, h) for op, r, h in align(row["ref"], row["hyp"]).ops if op == SUBSTITUTION)
    return [{"reference": r, "hypothesis": h, "count": n} for (r, h), n in _most_common(pairs, top)]


# -- isolated -----------------------------------------------------------------------------------------------------
def accuracy_by(rows: list[dict], group_of, ks: tuple[int, ...] = (1, 5)) -> list[dict]:
    """Per group: clips and top-k accuracy (%) for each k."""
    groups: dict = {}
    for row in rows:
        group = group_of(row)
        if group is not None:
            groups.setdefault(group, []).append(row["rank"])
    return [{"group": g, "samples": len(groups[g]),
             **{f"top{k}": 100.0 * float(np.mean(np.asarray(groups[g]) < k)) for k in ks}}
            for g in sorted(groups, key=_group_order)]


def class_accuracy(rows: list[dict], classes: list[str] | None = None, ks: tuple[int, ...] = (1, 5)) -> list[dict]:
    """Per class with clips: its name, clips, top-k accuracy (%) and the class its clips are most often taken for
    (top-1, when wrong); worst top-1 first."""
    out = accuracy_by(rows, lambda r: r["label"], ks)
    wrong: dict[int, Counter] = {}
    for row in rows:
        if row["top"] and row["top"][0] != row["label"]:
            wrong.setdefault(row["label"], Counter())[row["top"][0]] += 1
    for entry in out:
        label = entry.pop("group")
        common = _most_common(wrong.get(label, Counter()), 1)
        entry.update({"class": _name(label, classes), "label": label,
                      "most_taken_for": f"{_name(common[0][0], classes)} ({common[0][1]})" if common else None})
    out = [{"class": e.pop("class"), "label": e.pop("label"), **e} for e in out]
    out.sort(key=lambda e: (e[f"top{ks[0]}"], e["label"]))
    return out


def class_confusions(rows: list[dict], classes: list[str] | None = None, top: int = 10) -> list[dict]:
    """The most frequent (label, top-1 class) pairs among wrongly classified clips, from the stored top-10 lists."""
    pairs = Counter((row["label"], row["top"][0]) for row in rows if row["top"] and row["top"][0] != row["label"])
    return [{"true": _name(t, classes), "predicted": _name(p, classes), "count": n}
            for (t, p), n in _most_common(pairs, top)]


# -- shared -------------------------------------------------------------------------------------------------------
def length_bins(frames: list[int | None], bins: int = 4) -> list[str | None]:
    """Each clip's length bin ("<= 30", "31-38", ..., ">= 52" frames), the edges at the quantiles of the lengths
    (duplicates merged); None where the length is unknown."""
    known = np.array([f for f in frames if f is not None], dtype=np.float64)
    if known.size == 0:
        return [None] * len(frames)
    edges = sorted({int(np.floor(q)) for q in np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1])})
    labels = []
    for f in frames:
        if f is None:
            labels.append(None)
            continue
        i = int(np.searchsorted(edges, f, side="left"))  # bin i: edges[i-1] < f <= edges[i]
        low = edges[i - 1] + 1 if i > 0 else None
        high = edges[i] if i < len(edges) else None
        labels.append(f"<= {high}" if low is None else f">= {low}" if high is None else
                      (f"{low}" if low == high else f"{low}-{high}"))
    return labels


def _group_order(group):
    """Signers and classes in natural order; length bins by their lower bound."""
    if isinstance(group, str) and group[:2] in ("<=", ">="):
        return (0, -1e9 if group.startswith("<=") else 1e9, group)
    if isinstance(group, str) and group.split("-")[0].isdigit():
        return (0, int(group.split("-")[0]), group)
    return (1, 0, str(group)) if isinstance(group, str) else (0, group, "")


def _most_common(counter: Counter, top: int) -> list:
    """Most frequent first, ties in key order (Counter.most_common keeps insertion order)."""
    return sorted(counter.items(), key=lambda item: (-item[1], str(item[0])))[:top]


def _name(label: int, classes: list[str] | None) -> str:
    return classes[label] if classes and 0 <= label < len(classes) else f"class {label}"


def breakdowns(samples: RunSamples, top: int = 10) -> dict[str, list[dict]]:
    """Every breakdown the run's per-sample outputs allow: ``by_signer``, ``by_length``, then ``by_gloss`` and
    ``substitutions`` (continuous) or ``by_class`` and ``confusions`` (isolated); a table whose grouping is
    unknown for every sample is left out."""
    rows = samples.rows
    bins = dict(zip((r["id"] for r in rows), length_bins([r["frames"] for r in rows])))
    out: dict[str, list[dict]] = {}
    if samples.record.task == "continuous":
        out["by_signer"] = wer_by(rows, lambda r: r["signer"])
        out["by_length"] = wer_by(rows, lambda r: bins[r["id"]])
        out["by_gloss"] = gloss_errors(rows, top)
        out["substitutions"] = substitution_pairs(rows, top)
    else:
        out["by_signer"] = accuracy_by(rows, lambda r: r["signer"])
        out["by_length"] = accuracy_by(rows, lambda r: bins[r["id"]])
        out["by_class"] = class_accuracy(rows, samples.classes)
        out["confusions"] = class_confusions(rows, samples.classes, top)
    return {name: table for name, table in out.items() if table}


TITLES = {"by_signer": "By signer", "by_length": "By clip length (frames, bins at the quartiles)",
          "by_gloss": "By gloss (reference glosses with the most errors)",
          "substitutions": "Most frequent substitutions",
          "by_class": "By class (worst top-1 first)", "confusions": "Most confused class pairs (label -> top-1)"}


def run_breakdowns(sources, data_root=None, top: int = 10) -> list[dict]:
    """Breakdowns of every run record under ``sources``: ``[{"record": file or name, "model", "dataset", "split",
    "protocol", "filled_from", "tables": {name: rows}} or {..., "error": why}]``."""
    from bench.report import _records

    out = []
    for record in _records(sources):
        if record.kind != "run":
            continue
        origin = getattr(record, "origin", None)
        item = {"record": origin or record.model, "model": record.model, "dataset": record.dataset,
                "split": record.split, "task": record.task, "protocol": record.tag}
        try:
            samples = load_run_samples(record, origin, data_root)
            item.update(filled_from=samples.filled_from, tables=breakdowns(samples, top))
            if samples.not_filled:
                item["not_filled"] = samples.not_filled
        except (OSError, ValueError, KeyError) as err:
            item["error"] = str(err)
        out.append(item)
    return out


def breakdowns_markdown(items: list[dict]) -> str:
    """Markdown: per run a heading, where filled values came from, and each breakdown as a table."""
    import pandas as pd

    from bench.report import to_markdown

    parts = []
    for item in items:
        parts.append(f"## {item['model']} · {item['dataset']} {item['split']} · {item['protocol']}\n")
        if "error" in item:
            parts.append(f"No breakdowns: {item['error']}\n")
            continue
        if item["filled_from"]:
            parts.append(f"Filled from the dataset release: {', '.join(item['filled_from'])}.\n")
        if item.get("not_filled"):
            parts.append(f"Not filled from the release: {item['not_filled']}\n")
        for name, rows in item["tables"].items():
            parts.append(f"### {TITLES[name]}\n\n{to_markdown(pd.DataFrame(rows))}")
    return "\n".join(parts)
