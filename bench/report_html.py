"""The leaderboard as one self-contained static HTML page (``bench report --html DIR``): no server, no scripts, no
external files; inline CSS (laptop and phone layouts) and inline SVG.

The page holds, per (dataset, split), the ranked board of :mod:`bench.report_boards` (the same cells as the markdown,
each ``<td>`` tagged with its ``data-column``), a published-vs-ours plot (our figure with its 95% interval bar, the
paper's as a hollow diamond) and the footnotes; then, per run with readable per-sample outputs, the breakdowns of
:mod:`bench.breakdowns` as tables and SVG bar charts (per signer, per clip length, per class or gloss).
"""

from __future__ import annotations

import html
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from bench.breakdowns import TITLES, run_breakdowns
from bench.io.atomic import atomic_open
from bench.records import ResultRecord
from bench.report import PRIMARY, _records, format_number
from bench.report_boards import Board, _cells, _numeric, boards, column_label

CSS = """
:root{--ink:#1d2733;--muted:#5b6775;--line:#d9dee4;--ours:#1f6feb;--paper:#b4541a;--bg:#fbfcfd;--bar:#6f9fd8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:1.6em;margin:.4em 0}
h2{font-size:1.25em;margin:1.6em 0 .3em;border-bottom:2px solid var(--line);padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
nav a{display:inline-block;margin:0 .8em .3em 0;color:var(--ours);text-decoration:none}
.caption,.general,footer{color:var(--muted)}
.general{font-size:.88em;margin:.2em 0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5em 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;min-width:100%}
th,td{padding:.35em .6em;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{font-weight:600;background:#eef2f6;position:sticky;top:0}
td.num,th.num{text-align:right}
table.leaderboard tbody tr:first-child td{font-weight:600}
td.verdict-ok{color:#1a7f37}
td.verdict-off{color:#b42318}
ol.footnotes{font-size:.88em;color:var(--muted);padding-left:1.6em}
figure{margin:.6em 0}
figcaption{font-size:.85em;color:var(--muted)}
svg{max-width:100%;height:auto;display:block}
svg text{font:12px system-ui,sans-serif;fill:var(--ink)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr));gap:8px 24px}
.grid>div{min-width:0}
details{margin:.6em 0;border:1px solid var(--line);border-radius:6px;padding:.3em .8em;background:#fff}
summary{cursor:pointer;font-weight:600}
@media (max-width:640px){body{font-size:14px}header,main,footer{padding:0 10px}th,td{padding:.3em .4em}
 .grid{grid-template-columns:1fr}}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _board_table(board: Board) -> str:
    cells, numeric = _cells(board), _numeric(board.table)
    head = "".join(f'<th class="{"num" if c in numeric else "text"}" scope="col">{_e(column_label(c))}</th>'
                   for c in cells.columns)
    body = []
    for index, row in zip(cells.index, cells.values.tolist()):
        tds = []
        for column, value in zip(cells.columns, row):
            css = "num" if column in numeric else "text"
            if column == "verdict" and value != "-":
                css += " verdict-ok" if value == "reproduced" else " verdict-off" if value.startswith("off") else ""
            tds.append(f'<td class="{css}" data-column="{_e(column)}">{_e(value)}</td>')
        body.append(f'<tr data-row="{index}">{"".join(tds)}</tr>')
    return (f'<div class="scroll"><table class="leaderboard" data-dataset="{_e(board.dataset)}" '
            f'data-split="{_e(board.split)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            f"</table></div>")


def _axis(values: list[float], percent: bool = True) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = max(1.0, 0.08 * (high - low))
    low, high = low - pad, high + pad
    if percent:
        low, high = max(0.0, low), min(100.0, high) if high > 5 else high
    return (low, high) if high > low else (low - 1, high + 1)


def plot_board(board: Board) -> str:
    """Published vs ours: one line per row, our figure (dot) with its 95% interval (bar), the paper's (diamond)."""
    metric, _ = PRIMARY[board.task]
    table = board.table
    points = []
    for i, row in table.iterrows():
        ours, paper = row.get(f"{metric}_ours"), row.get(f"{metric}_published")
        ci = board.intervals.get(i, {}).get(metric)
        ours = None if ours is None or ours != ours else float(ours)
        paper = None if paper is None or paper != paper else float(paper)
        if ours is None and paper is None:
            continue
        points.append((f"{row['model']} · {str(row['protocol']).split(':')[0]}", ours, paper, ci))
    if not points:
        return ""
    values = [v for _, o, p, ci in points for v in (o, p, *((ci.low, ci.high) if ci else ())) if v is not None]
    low, high = _axis(values)
    left, width, step = 210, 420, 24
    height = 30 + step * len(points)

    def x(v):
        return left + (v - low) / (high - low) * width

    parts = [f'<svg viewBox="0 0 {left + width + 60} {height}" style="max-width:{left + width + 60}px" role="img" '
             f'aria-label="published vs ours, '
             f'{_e(board.title)}">']
    for tick in _ticks(low, high):
        parts.append(f'<line x1="{x(tick):.1f}" y1="4" x2="{x(tick):.1f}" y2="{height - 18}" stroke="#e3e7ec"/>'
                     f'<text x="{x(tick):.1f}" y="{height - 4}" text-anchor="middle">{tick:g}</text>')
    for n, (label, ours, paper, ci) in enumerate(points):
        y = 16 + n * step
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{_e(label)}</text>')
        if ci is not None:
            parts.append(f'<line x1="{x(ci.low):.1f}" y1="{y}" x2="{x(ci.high):.1f}" y2="{y}" stroke="var(--ours)" '
                         f'stroke-width="3" opacity=".45"><title>95% interval {ci.low:.2f} to {ci.high:.2f}</title>'
                         "</line>")
        if paper is not None:
            px = x(paper)
            parts.append(f'<path d="M{px:.1f} {y - 6}l6 6l-6 6l-6 -6z" fill="#fff" stroke="var(--paper)" '
                         f'stroke-width="2"><title>paper {paper:g}</title></path>')
        if ours is not None:
            parts.append(f'<circle cx="{x(ours):.1f}" cy="{y}" r="5" fill="var(--ours)"><title>ours {ours:g}'
                         "</title></circle>")
    parts.append("</svg>")
    return ("<figure>" + "".join(parts) + f"<figcaption>{_e(column_label(metric + '_ours'))}: ours "
            "(filled dot, bar: 95% bootstrap interval) and the paper's (hollow diamond).</figcaption></figure>")


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = next(s for s in (0.5, 1, 2, 5, 10, 20, 25, 50) if span / s <= 8)
    first = step * int(low / step + (0 if low % step == 0 else 1))
    return [round(first + i * step, 6) for i in range(int((high - first) / step) + 1)]


def bar_chart(rows: list[dict], label: str, value: str, title: str, limit: int = 30, percent_max: bool = True) -> str:
    """A horizontal SVG bar chart of ``rows`` (``label`` and ``value`` keys); at most ``limit`` bars."""
    rows = [r for r in rows if r.get(value) is not None][:limit]
    if not rows:
        return ""
    top = 100.0 if percent_max and value.startswith("top") else max(max(r[value] for r in rows), 1e-9)
    left, width, step = 120, 300, 18
    height = 8 + step * len(rows)
    parts = [f'<svg viewBox="0 0 {left + width + 56} {height}" style="max-width:{left + width + 56}px" role="img" '
             f'aria-label="{_e(title)}">']
    for n, r in enumerate(rows):
        y = 4 + n * step
        w = width * r[value] / top if top else 0
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(str(r[label])[:18])}</text>'
                     f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{step - 5}" fill="var(--bar)">'
                     f"<title>{_e(r[label])}: {r[value]:.2f}</title></rect>"
                     f'<text x="{left + w + 4:.1f}" y="{y + 12}">{r[value]:.1f}</text>')
    parts.append("</svg>")
    return f"<figure>{''.join(parts)}<figcaption>{_e(title)}</figcaption></figure>"


def _plain_table(rows: list[dict], limit: int = 30) -> str:
    columns = list(rows[0])
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(
        f'<td class="{"num" if isinstance(r[c], (int, float)) else "text"}">{_e(format_number(r[c]))}</td>'
        for c in columns) + "</tr>" for r in rows[:limit])
    more = f"<p class='caption'>{len(rows) - limit} more rows not shown.</p>" if len(rows) > limit else ""
    return f'<div class="scroll"><table class="breakdown"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>' \
           f"</table></div>{more}"


def _run_section(item: dict) -> str:
    """One run's breakdowns (an item of :func:`bench.breakdowns.run_breakdowns`) as charts and tables."""
    name = f"{item['model']} · {item['dataset']} {item['split']} · {item['protocol']}"
    if "error" in item:
        return f"<details><summary>{_e(name)}</summary><p class='caption'>No breakdowns: {_e(item['error'])}</p>" \
               "</details>"
    metric, label = ("wer", "WER %") if item["task"] == "continuous" else ("top1", "top-1 %")
    blocks = []
    for key, rows in item["tables"].items():
        chart = ""
        if key in ("by_signer", "by_length"):
            chart = bar_chart(rows, "group", metric, f"{TITLES[key]}: {label}")
        elif key == "by_class":
            chart = bar_chart(rows, "class", "top1", "Per-class top-1 % (worst 30)")
        blocks.append(f"<div><h3>{_e(TITLES[key])}</h3>{chart}{_plain_table(rows)}</div>")
    filled = (f"<p class='caption'>Filled from the dataset release: {_e(', '.join(item['filled_from']))}.</p>"
              if item["filled_from"] else "")
    return f"<details open><summary>{_e(name)}</summary>{filled}<div class='grid'>{''.join(blocks)}</div></details>"


def page(sources: Iterable[ResultRecord | str | os.PathLike], intervals: int = 1000,
         data_root=None, title: str = "Sign language recognition leaderboard") -> str:
    """The whole page as a string (see the module docstring)."""
    records = _records(sources)
    items = boards(records, intervals=intervals)
    runs = [r for r in records if r.kind == "run"]
    nav = "".join(f'<a href="#{_anchor(b)}">{_e(b.title)}</a>' for b in items)
    sections = []
    for board in items:
        notes = "".join(f"<li>{_e(n)}</li>" for n in board.footnotes)
        general = "".join(f"<p class='general'>{_e(n)}.</p>" for n in board.general)
        sections.append(f'<section class="board" id="{_anchor(board)}"><h2>{_e(board.title)}</h2>'
                        f'<p class="caption">{_e(board.caption)}</p>{_board_table(board)}{plot_board(board)}'
                        f'<ol class="footnotes">{notes}</ol>{general}</section>')
    runs_html = "".join(_run_section(item) for item in run_breakdowns(runs, data_root))
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{CSS}</style></head><body><header><h1>{_e(title)}</h1>"
            f"<p class='caption'>{len(records)} result records ({len(runs)} runs, {len(records) - len(runs)} "
            f"published claims), one board per dataset and split, ranked on the task's metric. Built {created} by "
            f"<code>bench report --html</code> from the records and the runs' stored per-sample outputs; nothing "
            f"here re-runs a model.</p><nav>{nav}</nav></header><main>{''.join(sections)}"
            f"{'<h2 id=breakdowns>Where each run fails</h2>' + runs_html if runs else ''}</main>"
            f"<footer><p>WER: lower is better; top-k: higher is better. Intervals: percentile bootstrap, "
            f"{intervals} replicates, seed 0.</p></footer></body></html>\n")


def _anchor(board: Board) -> str:
    return "board-" + "".join(ch if ch.isalnum() else "-" for ch in f"{board.dataset}-{board.split}")


def write_page(sources: Iterable[ResultRecord | str | os.PathLike], out_dir: str | os.PathLike,
               intervals: int = 1000, data_root=None) -> Path:
    """Write ``out_dir/index.html`` atomically and return its path."""
    path = Path(out_dir) / "index.html"
    text = page(sources, intervals, data_root)
    with atomic_open(path) as handle:
        handle.write(text)
    path.chmod(0o644)  # a page to serve or share, not a private temporary file
    return path
