"""Rich renderings for the terminal: a WER summary in sclite's terms and the most frequent substitutions."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from bench.scoring import WerScore
from bench.scoring.unit_cost import unit_cost_wer


def wer_summary(result: WerScore, title: str = "", top: int = 10) -> Group:
    """sclite's Sum/Avg row (percent of reference words), the total line, and the top substitutions."""
    words = result.ref_words
    counts = {k: result.total(k) for k in ("correct", "substitutions", "deletions", "insertions")}
    sentences = len(result.sentences)
    wrong = sum(1 for s in result.sentences if s.errors)
    pct = (lambda n: f"{100.0 * n / words:.1f}") if words else (lambda n: "-")
    table = Table(title=title or f"WER ({result.scorer} scorer, {result.cleanup} clean-up)")
    for column in ("# Snt", "# Wrd", "Corr", "Sub", "Del", "Ins", "Err", "S.Err"):
        table.add_column(column, justify="right")
    table.add_row(str(sentences), str(words), pct(counts["correct"]), pct(counts["substitutions"]),
                  pct(counts["deletions"]), pct(counts["insertions"]), pct(result.errors),
                  f"{100.0 * wrong / sentences:.1f}" if sentences else "-")
    table.add_row("", "", str(counts["correct"]), str(counts["substitutions"]), str(counts["deletions"]),
                  str(counts["insertions"]), str(result.errors), str(wrong), style="dim")
    parts: list = [table, Text(f"Percent Total Error = {result.wer:.{result.decimals}f}%   "
                               f"({result.errors} errors / {words} reference words)", style="bold")]
    unit = unit_cost_wer(result.words)
    if unit is not None:
        parts.append(Text(f"unit-cost Levenshtein (jiwer, for comparison only): {unit:.2f}%", style="dim"))
    if result.substitution_pairs and top > 0:
        subs = Table(title="Most frequent substitutions")
        subs.add_column("reference")
        subs.add_column("hypothesis")
        subs.add_column("count", justify="right")
        for (ref, hyp), n in result.substitution_pairs.most_common(top):
            subs.add_row(ref, hyp, str(n))
        parts.append(subs)
    return Group(*parts)
