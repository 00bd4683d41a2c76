"""The leaderboards a paper would print: one table per (dataset, split), built only from result records.

A board ranks the models on the task's metric (WER ascending, per-instance top-1 descending; ours, else the
paper's), and per row shows our figure (with its bootstrap 95% interval when asked), the paper's, the difference
and the verdict (:func:`bench.report.verdict`), the protocol in a short readable form, how many samples were
evaluated, and numbered footnotes: the scorer, the per-class rule, the official-code quirks replayed and every
note the records carry (claims and runs). Continuous boards add our S/D/I (% of reference words); columns without
a value in any row are left out. Rendered as markdown, CSV (one table, the boards stacked), LaTeX (booktabs, a
two-row header, footnote marks on the model) and JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import pandas as pd

from bench.records import ResultRecord
from bench.report import (METRIC_LABELS, PRIMARY, REPRODUCED_WITHIN, TASK_METRICS, UNREADABLE, _intervals, _pairs,
                          _records, _shown, formatted, latex_escape, samples_text, verdict)

WER_PARTS = ("sub", "del", "ins")  # our S/D/I, % of reference words (the python scorer's counts = sclite's)
PART_LABELS = {"sub": "Sub", "del": "Del", "ins": "Ins"}
SIDE_HEADERS = {"ours": "ours", "ci95": r"95\% CI", "published": "paper", "diff": r"$\Delta$"}  # LaTeX, 2nd row
SCORER_TEXT = {"sclite": "sclite (SCTK)", "python": "a Python WER evaluator",
               "official-python": "the official Python evaluator, its quirks replayed"}
TASK_UNITS = {"continuous": "WER %, lower is better", "isolated": "top-k accuracy %, higher is better"}


@dataclass
class Board:
    """One (dataset, split) leaderboard: ``table`` (typed cells, decimals hints in ``attrs``), its footnotes, the
    notes that concern every row, and the numeric intervals behind the CI column (row index -> {metric: Interval})."""

    dataset: str
    split: str
    task: str
    table: pd.DataFrame
    footnotes: list[str]
    general: list[str]
    models: int
    models_evaluated: int
    nominal: int | None
    intervals: dict[int, dict] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.dataset} {self.split}"

    @property
    def caption(self) -> str:
        """``3 of 5 models evaluated here; 540 samples in the split; WER %, lower is better``."""
        nominal = f"; {self.nominal} samples in the split" if self.nominal else ""
        return (f"{self.models_evaluated} of {self.models} models evaluated here{nominal}; "
                f"{TASK_UNITS[self.task]}")


def protocol_text(protocol: dict) -> str:
    """A protocol in a short readable form: ``official: beam 10, batch 2, sclite`` or ``1view-rgb: 1view, rgb,
    16 frames``; the tag alone where nothing else is known."""
    parts = []
    decoder = protocol.get("decoder")
    if decoder:
        width = protocol.get("beam_width")
        parts.append(f"{decoder} {width}" if width and decoder == "beam" else str(decoder))
    if protocol.get("batch_size"):
        parts.append(f"batch {protocol['batch_size']}")
    if protocol.get("scorer"):
        parts.append(str(protocol["scorer"]))
    views = protocol.get("views")
    if views:
        parts.append((f"{views} view" + "s" * (views != 1)) if isinstance(views, int) else str(views))
    if protocol.get("output"):
        parts.append(str(protocol["output"]))
    if protocol.get("frames"):
        parts.append(f"{protocol['frames']} frames")
    if protocol.get("precision") not in (None, "fp32"):
        parts.append(str(protocol["precision"]))
    tag = protocol.get("tag", "")
    return f"{tag}: {', '.join(parts)}" if parts else str(tag)


def _row_notes(run: ResultRecord | None, claim: ResultRecord | None) -> list[str]:
    """The footnotes one row needs: how it was scored, the per-class rule, quirks replayed, the records' notes."""
    notes = []
    for record, whose in ((run, "ours"), (claim, "paper")):
        if record is None:
            continue
        protocol = record.protocol
        if record.task == "continuous" and protocol.get("scorer"):
            cleanup = protocol.get("cleanup")
            notes.append(f"WER ({whose}) scored by {SCORER_TEXT.get(protocol['scorer'], protocol['scorer'])}"
                         + (f" after the {cleanup} clean-up of hypotheses" if cleanup and cleanup != "none" else ""))
        if protocol.get("per_class") == "classes_with_test_samples":
            notes.append(f"class top-k ({whose}): mean over the classes with a test sample")
        notes.extend(n for n in record.notes if n != UNREADABLE)  # the verdict column says that one
    if run is not None:
        extra = run.extra
        skipped = extra.get("not_evaluated", {}).get("skipped_like_official") or []
        if skipped:
            notes.append(f"official loader's quirk replayed: {len(skipped)} sample(s) not decoded "
                         f"({', '.join(skipped[:3])}), scored as empty hypotheses")
        absent = [i for k in ("missing", "unreadable") for i in extra.get("not_evaluated", {}).get(k, [])]
        if absent and run.task == "continuous":
            notes.append(f"{len(absent)} sample(s) missing or unreadable here, scored as empty hypotheses")
        if run.task == "isolated" and extra.get("classes_counted"):
            notes.append(f"class top-k (ours): mean over the {extra['classes_counted']} classes with a clip in "
                         f"the split")
        ties = extra.get("ties", {})
        if ties.get("tie_dependent_top1"):
            notes.append(f"{ties['tie_dependent_top1']} clip(s) whose top-1 hit depends on a tie of scores "
                         "(ties counted against the label)")
    return list(dict.fromkeys(notes))


def _ci_text(interval, places: int | None) -> str:
    places = 2 if places is None else places
    return f"[{interval.low:.{places}f}, {interval.high:.{places}f}]"


def _board(key: tuple, group: list[ResultRecord], intervals: int) -> Board:
    task, dataset, split = key
    metrics = TASK_METRICS[task]
    primary, sign = PRIMARY[task]
    by_model: dict[str, list[ResultRecord]] = {}
    for record in group:
        by_model.setdefault(record.model, []).append(record)
    rows, places = [], {}
    for model, records in by_model.items():
        for run, claim in _pairs(records):
            row: dict[str, Any] = {"model": model,
                                   "protocol": protocol_text((run or claim).protocol)}
            hints: dict[str, int] = {}
            cis = _intervals(run, intervals) if intervals else {}
            for m in metrics:
                d_ours = run.decimals.get(m) if run else None
                d_pub = claim.decimals.get(m) if claim else None
                ours = _shown(run.metrics.get(m), d_ours) if run else None
                pub = _shown(claim.metrics.get(m), d_pub) if claim else None
                finest = max(2 if d is None else d for d in (d_ours, d_pub))
                row[f"{m}_ours"] = ours
                if intervals:
                    row[f"{m}_ci95"] = _ci_text(cis[m], d_ours) if m in cis else None
                row[f"{m}_published"] = pub
                row[f"{m}_diff"] = None if ours is None or pub is None else round(ours - pub, finest)
                for column, d in ((f"{m}_ours", d_ours), (f"{m}_published", d_pub),
                                  (f"{m}_diff", None if d_ours is None and d_pub is None else finest)):
                    if d is not None:
                        hints[column] = d
            if task == "continuous":
                for part in WER_PARTS:
                    row[part] = _shown(run.metrics.get(part), run.decimals.get(part)) if run else None
                    if run and part in run.decimals:
                        hints[part] = run.decimals[part]
            if claim is not None and not claim.metrics:
                row["verdict"] = UNREADABLE
            else:
                row["verdict"] = verdict(run, claim, {f"{primary}_diff": row[f"{primary}_diff"]}, task)
            row["evaluated"] = samples_text(run)
            rows.append((row, hints, _row_notes(run, claim), cis))

    def rank(item):
        row = item[1][0]
        value = row[f"{primary}_ours"] if row[f"{primary}_ours"] is not None else row[f"{primary}_published"]
        return (value is None, 0.0 if value is None else sign * value, row["model"], row["protocol"])

    ordered = [item for _, item in sorted(enumerate(rows), key=rank)]
    footnotes: list[str] = []
    table_rows, intervals_of = [], {}
    for i, (row, hints, notes, cis) in enumerate(ordered):
        marks = []
        for note in notes:
            if note not in footnotes:
                footnotes.append(note)
            marks.append(footnotes.index(note) + 1)
        row["notes"] = ", ".join(map(str, marks)) if marks else None
        table_rows.append(row)
        intervals_of[i] = cis
        for column, d in hints.items():
            places.setdefault(column, {})[i] = d
    columns = ["model", "protocol"]
    for m in metrics:
        columns += [f"{m}_ours", *([f"{m}_ci95"] if intervals else []), f"{m}_published", f"{m}_diff"]
    if task == "continuous":
        columns += list(WER_PARTS)
    columns += ["verdict", "evaluated", "notes"]
    table = pd.DataFrame(table_rows, columns=columns)
    numeric = [c for c in columns if c.endswith(("_ours", "_published", "_diff")) or c in WER_PARTS]
    table[numeric] = table[numeric].astype("float64")
    table = table[[c for c in columns if c in ("model", "protocol") or table[c].notna().any()]]
    table.attrs["decimals"] = places
    judged = any(v == "reproduced" or str(v).startswith("off by") for v in table.get("verdict", []))
    general = [f"Verdict: reproduced when our {METRIC_LABELS[primary]} is within {REPRODUCED_WITHIN:g} points "
               "of the paper's; Δ = ours - paper, of the printed figures"] if judged else []
    if task == "continuous" and any(p in table for p in WER_PARTS):
        general.append("Sub/Del/Ins: our substitutions, deletions and insertions, % of reference words")
    if any(c.endswith("_ci95") for c in table.columns):
        unit = "sentences" if task == "continuous" else "clips (per-class: within classes)"
        general.append(f"95% CI: percentile bootstrap over {unit}, {intervals} replicates, seed 0")
    nominal = next((r.samples.get("nominal") for r in group if r.samples.get("nominal")), None)
    models = len(by_model)
    evaluated = len({r.model for r in group if r.kind == "run"})
    return Board(dataset, split, task, table, footnotes, general, models, evaluated, nominal, intervals_of)


def boards(sources: Iterable[ResultRecord | str | os.PathLike], task: str | None = None,
           intervals: int = 0) -> list[Board]:
    """One :class:`Board` per (dataset, split) of the records: continuous first; per task the boards with our runs
    first, then datasets and splits in alphabetical order. ``intervals``: bootstrap replicates for our figures'
    95% intervals (0: none)."""
    groups: dict[tuple, list[ResultRecord]] = {}
    for record in _records(sources):
        if task is None or record.task == task:
            groups.setdefault((record.task, record.dataset, record.split), []).append(record)
    evaluated = {k for k, group in groups.items() if any(r.kind == "run" for r in group)}
    order = sorted(groups, key=lambda k: (list(TASK_METRICS).index(k[0]), k not in evaluated, k[1], k[2]))
    return [_board(key, groups[key], intervals) for key in order]


# -- rendering ----------------------------------------------------------------------------------------------------
def column_label(column: str) -> str:
    """``wer_ours`` -> "WER", ``wer_published`` -> "WER (paper)", ``per_class_top1_diff`` -> "Class top-1 Δ"."""
    fixed = {"model": "Model", "protocol": "Protocol", "verdict": "Verdict", "evaluated": "Evaluated",
             "notes": "Notes", **PART_LABELS}
    if column in fixed:
        return fixed[column]
    metric, _, side = column.rpartition("_")
    label = METRIC_LABELS.get(metric, metric)
    return {"ours": label, "ci95": f"{label} 95% CI", "published": f"{label} (paper)", "diff": f"{label} Δ"}[side]


def _cells(board: Board) -> pd.DataFrame:
    cells = formatted(board.table)
    for column in cells.columns:  # formatted() signs only "_diff" columns; intervals are text already
        if column == "notes":
            cells[column] = cells[column].replace("-", "")
    return cells


def _numeric(table: pd.DataFrame) -> set:
    return {c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])}


def board_markdown(board: Board) -> str:
    """``### dataset split``, the caption, the table, the numbered footnotes and the general notes."""
    cells, numeric = _cells(board), _numeric(board.table)

    def line(values):
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    lines = [f"### {board.title}", "", board.caption, "", line(column_label(c) for c in cells.columns),
             "|" + "|".join("---:" if c in numeric else "---" for c in cells.columns) + "|",
             *map(line, cells.values.tolist()), ""]
    lines += [f"{i}. {note}" for i, note in enumerate(board.footnotes, 1)]
    lines += ([""] if board.footnotes else []) + [f"*{note}.*" for note in board.general]
    return "\n".join(lines) + "\n"


def board_latex(board: Board) -> str:
    """A booktabs ``table``: two header rows (the metric over ours / CI / paper / Δ), footnote marks on the model,
    the footnotes under the tabular."""
    cells = _cells(board)
    marks = cells.pop("notes") if "notes" in cells else None
    numeric = _numeric(board.table)
    columns = list(cells.columns)
    spec = "".join("r" if c in numeric else "l" for c in columns)
    top, sub, rules, i = [], [], [], 0
    while i < len(columns):
        column = columns[i]
        metric = column.rpartition("_")[0] if column.endswith(("_ours", "_ci95", "_published", "_diff")) else None
        if metric:
            span = [c for c in columns[i:] if c.rpartition("_")[0] == metric]
            top.append(rf"\multicolumn{{{len(span)}}}{{c}}{{{METRIC_LABELS.get(metric, latex_escape(metric))}}}")
            rules.append(rf"\cmidrule(lr){{{i + 1}-{i + len(span)}}}")
            sub += [SIDE_HEADERS[c.rpartition("_")[2]] for c in span]
            i += len(span)
        else:
            top.append("")
            sub.append(latex_escape(column_label(column)))
            i += 1
    body = []
    for index, row in enumerate(cells.values.tolist()):
        values = [latex_escape(v) for v in row]
        if marks is not None and marks.iloc[index]:
            values[0] += rf"\textsuperscript{{{marks.iloc[index]}}}"
        body.append(" & ".join(values) + r" \\")
    notes = [rf"\textsuperscript{{{n}}}\,{latex_escape(t)}" for n, t in enumerate(board.footnotes, 1)]
    notes = [n.replace("Δ", r"$\Delta$") for n in notes + [latex_escape(t) for t in board.general]]
    return "\n".join([r"\begin{table}[t]", r"\centering", r"\small",
                      rf"\caption{{{latex_escape(board.title)}: {latex_escape(board.caption)}}}",
                      rf"\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(top) + r" \\", "".join(rules),
                      " & ".join(sub) + r" \\", r"\midrule", *body, r"\bottomrule", r"\end{tabular}",
                      *([r"\par\smallskip\footnotesize", r" \\ ".join(notes)] if notes else []),
                      r"\end{table}"]) + "\n"


def board_dict(board: Board) -> dict:
    """A board as plain data: title, caption, counts, rows (numbers as numbers, missing: null), footnotes."""
    table = board.table
    rows = table.astype(object).where(table.notna(), None).to_dict(orient="records")
    return {"dataset": board.dataset, "split": board.split, "task": board.task, "caption": board.caption,
            "models": board.models, "models_evaluated": board.models_evaluated, "nominal": board.nominal,
            "rows": rows, "footnotes": board.footnotes, "general": board.general}


def boards_csv(items: list[Board]) -> str:
    """One CSV: the boards stacked with dataset, split and task columns; footnote texts in ``notes``
    (" | "-joined); missing values empty."""
    frames = []
    for board in items:
        cells = _cells(board).replace("-", "")
        cells["notes"] = [" | ".join(board.footnotes[int(n) - 1] for n in str(m).split(", ") if n)
                          for m in board.table.get("notes", pd.Series([None] * len(board.table))).fillna("")]
        cells.insert(0, "task", board.task)
        cells.insert(0, "split", board.split)
        cells.insert(0, "dataset", board.dataset)
        frames.append(cells)
    table = pd.concat(frames, ignore_index=True).fillna("")
    metrics = [f"{m}_{side}" for task in TASK_METRICS for m in TASK_METRICS[task]
               for side in ("ours", "ci95", "published", "diff")]
    order = ["dataset", "split", "task", "model", "protocol", *metrics, *WER_PARTS, "verdict", "evaluated", "notes"]
    return table[[c for c in order if c in table]].to_csv(index=False, lineterminator="\n")


def render_boards(items: list[Board], fmt: str = "markdown") -> str:
    """The boards in ``fmt``: markdown, csv, latex or json."""
    if fmt == "markdown":
        return "\n".join(board_markdown(b) for b in items)
    if fmt == "latex":
        return "\n".join(board_latex(b) for b in items)
    if fmt == "csv":
        return boards_csv(items)
    if fmt == "json":
        return json.dumps([board_dict(b) for b in items], ensure_ascii=False, indent=1) + "\n"
    raise ValueError(f"render_boards: fmt expected one of ['markdown', 'csv', 'latex', 'json'], found {fmt!r}")

