"""Tables built only from result records (published claims + our runs): markdown, CSV, LaTeX and rich.

Number format: a metric is printed with the decimals its record reports in ``decimals`` (sclite WER 1, the python
evaluator 2, the papers' top-k tables 2), so "19.0" stays "19.0"; a metric without a hint is printed with up to
2 decimals, trailing zeros stripped. A difference is the difference of the printed numbers, printed with the finer
of their two precisions and an explicit sign. Missing values print as "-" in every format.

The per-cell decimals travel in ``df.attrs["decimals"] = {column: {index label: decimals}}``; they survive row
selection and sorting, and a cell without one falls back to the default format.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterable

import numpy as np
import pandas as pd
from rich.table import Table

from bench.records import ResultRecord, read_records

TASK_METRICS = {
    "continuous": ("wer",),
    "isolated": ("per_instance_top1", "per_instance_top5", "per_class_top1", "per_class_top5"),
}
KEY_COLUMNS = ("task", "model", "dataset", "split")
PRIMARY = {"continuous": ("wer", 1), "isolated": ("per_instance_top1", -1)}  # the ranked metric; 1: lower is better
REPRODUCED_WITHIN = 0.5  # points: |ours - published| of the ranked metric at most this reads "reproduced"
FORMATS = ("markdown", "csv", "latex")
MISSING = "-"
UNREADABLE = "not published in a readable source"  # a claim whose paper is known but whose numbers could not be read


def _records(records: Iterable[ResultRecord | str | os.PathLike]) -> list[ResultRecord]:
    """Accept records, or files/directories of them."""
    records = list(records)
    paths = [r for r in records if not isinstance(r, ResultRecord)]
    return [r for r in records if isinstance(r, ResultRecord)] + (read_records(paths) if paths else [])


def _metric_order(names: Iterable[str]) -> list[str]:
    """Known metrics in task order first, then any others alphabetically."""
    known = [m for task in TASK_METRICS.values() for m in task]
    names = set(names)
    return [m for m in known if m in names] + sorted(names - set(known))


def _decimals(table: pd.DataFrame) -> dict[str, dict[Any, int]]:
    return table.attrs.setdefault("decimals", {})


def load_table(records: Iterable[ResultRecord | str | os.PathLike]) -> pd.DataFrame:
    """One row per record: kind, task, model, dataset, split, protocol tag, each metric, evaluated, nominal."""
    records = _records(records)
    metrics = _metric_order(m for r in records for m in r.metrics)
    rows = [{"kind": r.kind, **{k: getattr(r, k) for k in KEY_COLUMNS}, "protocol": r.tag,
             **{m: r.metrics.get(m) for m in metrics},
             "evaluated": r.samples.get("evaluated"), "nominal": r.samples.get("nominal")} for r in records]
    columns = ["kind", *KEY_COLUMNS, "protocol", *metrics, "evaluated", "nominal"]
    table = pd.DataFrame(rows, columns=columns)
    table[metrics] = table[metrics].astype("float64")
    table[["evaluated", "nominal"]] = table[["evaluated", "nominal"]].astype("Int64")
    for i, r in enumerate(records):
        for metric, places in r.decimals.items():
            _decimals(table).setdefault(metric, {})[table.index[i]] = places
    return table


def _shown(value: float | None, places: int | None) -> float | None:
    """The value as printed (rounded to its decimals, 2 when unknown)."""
    return None if value is None else round(value, 2 if places is None else places)


def samples_text(record: ResultRecord | None) -> str | None:
    """ "2878 of 2879" (evaluated of nominal), "2878" when the nominal count is unknown, None when nothing is known."""
    if record is None or record.samples.get("evaluated") is None:
        return None
    evaluated, nominal = record.samples["evaluated"], record.samples.get("nominal")
    return f"{evaluated}" if nominal is None else f"{evaluated} of {nominal}"


def _pairs(group: list[ResultRecord]) -> list[tuple[ResultRecord | None, ResultRecord | None]]:
    """Every run of a group beside every published claim of it; a side with none gets None."""
    runs = sorted((r for r in group if r.kind == "run"), key=lambda r: r.tag)
    claims = sorted((r for r in group if r.kind == "published"), key=lambda r: r.tag)
    return [(run, claim) for run in (runs or [None]) for claim in (claims or [None])]


def leaderboard(records: Iterable[ResultRecord | str | os.PathLike], task: str | None = None,
                intervals: int = 0) -> pd.DataFrame:
    """Our runs beside the published claims, per (task, model, dataset, split), groups in first-seen order.

    Columns: task, model, dataset, split, ``protocol`` (our run's tag), ``published_as`` (the claim's tag), then per
    metric ``{m}_ours``, ``{m}_published``, ``{m}_diff`` (ours - published) and ``samples`` ("2878 of 2879", ours).
    CSLR rows carry WER, ISLR rows per-instance and per-class top-1/top-5. Each run protocol is its own row.
    ``intervals`` (bootstrap replicates, seed 0): a ``{m}_ci95`` column beside ``{m}_ours`` from the run's per-sample
    outputs (:func:`bench.uncertainty.intervals_for_record`); "-" where they cannot be read.
    """
    records = [r for r in _records(records) if task is None or r.task == task]
    groups: dict[tuple, list[ResultRecord]] = {}
    for r in records:
        groups.setdefault(tuple(getattr(r, k) for k in KEY_COLUMNS), []).append(r)
    tasks = [t for t in TASK_METRICS if any(key[0] == t for key in groups)]
    metrics = [m for t in tasks for m in TASK_METRICS[t]]
    rows, places = [], {}
    for key, group in groups.items():
        for run, claim in _pairs(group):
            row: dict[str, Any] = dict(zip(KEY_COLUMNS, key))
            row["protocol"] = run.tag if run else None
            row["published_as"] = (UNREADABLE if claim and not claim.metrics else claim.tag) if claim else None
            for m in metrics:
                d_ours = run.decimals.get(m) if run else None
                d_pub = claim.decimals.get(m) if claim else None
                ours = _shown(run.metrics.get(m), d_ours) if run and m in TASK_METRICS[key[0]] else None
                pub = _shown(claim.metrics.get(m), d_pub) if claim and m in TASK_METRICS[key[0]] else None
                # the finer precision of the two; 2 stands for "no hint" (values were rounded to 2 by _shown)
                finest = max(2 if d is None else d for d in (d_ours, d_pub))
                d_diff = None if d_ours is None and d_pub is None else finest
                row[f"{m}_ours"], row[f"{m}_published"] = ours, pub
                row[f"{m}_diff"] = None if ours is None or pub is None else round(ours - pub, finest)
                for column, d in ((f"{m}_ours", d_ours), (f"{m}_published", d_pub), (f"{m}_diff", d_diff)):
                    if d is not None:
                        places.setdefault(column, {})[len(rows)] = d
            if intervals:
                found = _intervals(run, intervals)
                for m in metrics:
                    ci = found.get(m)
                    row[f"{m}_ci95"] = None if ci is None else f"[{ci.low:.2f}, {ci.high:.2f}]"
            row["verdict"] = verdict(run, claim, row, key[0])
            row["samples"] = samples_text(run)
            rows.append(row)
    value_columns = [f"{m}_{side}" for m in metrics for side in ("ours", "published", "diff")]
    shown = [c for m in metrics for c in (f"{m}_ours", *([f"{m}_ci95"] if intervals else []), f"{m}_published",
                                           f"{m}_diff")]
    rows = _ranked(rows, places)
    table = pd.DataFrame(rows, columns=[*KEY_COLUMNS, "protocol", "published_as", *shown, "verdict", "samples"])
    table[value_columns] = table[value_columns].astype("float64")
    table.attrs["decimals"] = places
    return table


def verdict(run: ResultRecord | None, claim: ResultRecord | None, row: dict, task: str) -> str | None:
    """Our figure against the paper's, on the ranked metric: "reproduced" within ``REPRODUCED_WITHIN`` points, else
    "off by +x"; claims without readable numbers and runs of another protocol than the paper's say so."""
    if run is None or claim is None:
        return None
    if not claim.metrics:
        return UNREADABLE
    if run.protocol.get("paper_reports") is False:
        return "not the paper's protocol"
    diff = row.get(f"{PRIMARY[task][0]}_diff")
    if diff is None or math.isnan(diff):
        return None
    return "reproduced" if abs(diff) <= REPRODUCED_WITHIN + 1e-9 else f"off by {diff:+.2f}"


def _ranked(rows: list[dict], places: dict) -> list[dict]:
    """Rows by task, dataset and split, then best first on the task's ranked metric (ours, else the paper's); the
    decimals hints follow their rows."""
    def key(item):
        row = item[1]
        metric, sign = PRIMARY[row["task"]]
        value = row.get(f"{metric}_ours")
        value = row.get(f"{metric}_published") if value is None or value != value else value
        missing = value is None or value != value
        return (list(TASK_METRICS).index(row["task"]), row["dataset"], row["split"], missing,
                0.0 if missing else sign * value)

    order = sorted(enumerate(rows), key=key)
    for column, hints in places.items():
        places[column] = {new: hints[old] for new, (old, _) in enumerate(order) if old in hints}
    return [row for _, row in order]


def _intervals(run: ResultRecord | None, replicates: int) -> dict:
    """A run's bootstrap intervals, or none where its per-sample outputs are not readable here."""
    from bench.uncertainty import intervals_for_record

    if run is None:
        return {}
    try:
        return intervals_for_record(run, n=replicates, seed=0, origin=getattr(run, "origin", None))
    except (OSError, ValueError, KeyError):
        return {}


def format_number(value: Any, places: int | None = None, signed: bool = False) -> str:
    """One cell: "-" when missing, text and ints as is, floats with ``places`` decimals (default: up to 2 decimals,
    trailing zeros stripped); ``signed`` puts "+" before positive numbers (differences)."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return MISSING
    if isinstance(value, (str, bool)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"+{value}" if signed and value > 0 else str(int(value))
    value = float(value)
    text = f"{value:.2f}".rstrip("0").rstrip(".") if places is None else f"{value:.{places}f}"
    if float(text) == 0:
        return text.lstrip("-")  # no "-0.0"
    return "+" + text if signed and value > 0 else text


def formatted(table: pd.DataFrame) -> pd.DataFrame:
    """The table as strings, every cell formatted by ``format_number`` with its decimals hint."""
    places = table.attrs.get("decimals", {})
    out = {}
    for column in table.columns:
        hints = places.get(column, {})
        signed = str(column).endswith("_diff")
        out[column] = [format_number(v, hints.get(i), signed) for i, v in zip(table.index, table[column].tolist())]
    return pd.DataFrame(out, columns=table.columns, index=table.index)


def _numeric_columns(table: pd.DataFrame) -> set:
    return {c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])}


def to_markdown(table: pd.DataFrame) -> str:
    """GitHub markdown table; numeric columns right-aligned."""
    cells = formatted(table)
    numeric = _numeric_columns(table)

    def line(values):
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    rule = ["---:" if c in numeric else "---" for c in table.columns]
    return "\n".join([line(table.columns), "|" + "|".join(rule) + "|", *map(line, cells.values.tolist())]) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    """CSV (pandas writer) of the formatted cells, so numbers keep their source's decimals; a missing value is an
    empty field (what spreadsheets and pandas read as missing), not "-"."""
    return formatted(table).replace(MISSING, "").to_csv(index=False, lineterminator="\n")


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters."""
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))


def to_latex(table: pd.DataFrame) -> str:
    """A booktabs ``tabular``; numeric columns right-aligned."""
    cells = formatted(table)
    numeric = _numeric_columns(table)
    spec = "".join("r" if c in numeric else "l" for c in table.columns)

    def line(values):
        return " & ".join(latex_escape(v) for v in values) + r" \\"

    body = [line(row) for row in cells.values.tolist()]
    header = " & ".join(latex_column_label(c) for c in table.columns) + r" \\"
    return "\n".join([rf"\begin{{tabular}}{{{spec}}}", r"\toprule", header, r"\midrule", *body,
                      r"\bottomrule", r"\end{tabular}"]) + "\n"


METRIC_LABELS = {"wer": "WER", "per_instance_top1": "Top-1", "per_instance_top5": "Top-5",
                 "per_class_top1": "Class top-1", "per_class_top5": "Class top-5"}
SIDE_LABELS = {"ours": "ours", "published": "paper", "diff": "$\\Delta$", "ci95": "95\\% CI"}


def latex_column_label(column: str) -> str:
    """A LaTeX header a paper can print: ``wer_ours`` -> "WER (ours)", ``published_as`` -> "Paper protocol"."""
    fixed = {"published_as": "Paper protocol", "protocol": "Protocol", "samples": "Samples"}
    if column in fixed:
        return fixed[column]
    metric, _, side = column.rpartition("_")
    if metric in METRIC_LABELS and side in SIDE_LABELS:
        return f"{METRIC_LABELS[metric]} ({SIDE_LABELS[side]})"
    return latex_escape(column.replace("_", " ").capitalize())


def to_json(table: pd.DataFrame) -> str:
    """One JSON object per row, numbers as numbers (missing: null), for programs that read the leaderboard."""
    rows = table.astype(object).where(table.notna(), None).to_dict(orient="records")
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


RENDERERS = {"markdown": to_markdown, "csv": to_csv, "latex": to_latex, "json": to_json}


def render(table: pd.DataFrame, fmt: str = "markdown") -> str:
    """The table as a string in ``fmt``: "markdown", "csv" or "latex"."""
    if fmt not in RENDERERS:
        raise ValueError(f"render: fmt expected one of {list(RENDERERS)}, found {fmt!r}")
    return RENDERERS[fmt](table)


def to_rich_table(table: pd.DataFrame, title: str | None = None) -> Table:
    """A rich Table for the terminal, numeric columns right-justified."""
    cells = formatted(table)
    numeric = _numeric_columns(table)
    out = Table(title=title)
    for column in table.columns:
        out.add_column(str(column), justify="right" if column in numeric else "left")
    for row in cells.values.tolist():
        out.add_row(*row)
    return out


TASK_TITLES = {"continuous": "Continuous SLR (WER, %)", "isolated": "Isolated SLR (top-k accuracy, %)"}


def task_tables(sources: Iterable[ResultRecord | str | os.PathLike], task: str | None = None,
                intervals: int = 0) -> dict[str, pd.DataFrame]:
    """One leaderboard per task present (each with only its own metrics), continuous first."""
    records = _records(sources)
    present = [t for t in TASK_METRICS if (task is None or t == task) and any(r.task == t for r in records)]
    return {t: leaderboard(records, t, intervals) for t in present}


def make_table(sources: Iterable[ResultRecord | str | os.PathLike], fmt: str = "markdown",
               task: str | None = None, intervals: int = 0) -> str:
    """Leaderboard of records or record files/directories, rendered in ``fmt`` (what ``bench report`` prints).

    CSV is one table (a ``task`` column tells the rows apart); Markdown and LaTeX get one table per task, so that
    WER and top-k columns do not share a table.
    """
    if fmt in ("csv", "json"):
        return render(leaderboard(sources, task, intervals), fmt)
    tables = task_tables(sources, task, intervals)
    if fmt == "markdown":
        return "\n".join(f"## {TASK_TITLES[t]}\n\n{render(table, fmt)}" for t, table in tables.items())
    return "\n".join(f"% {TASK_TITLES[t]}\n{render(table, fmt)}" for t, table in tables.items())
