"""Rich renderings for the terminal: WER summaries in sclite's terms, cards, evaluation results, progress bars."""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console, Group
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from bench.progress import LineProgress
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


def card_summary(loaded) -> Group:
    """A model card, the variant and size built, and the strict-load verdict of its checkpoint."""
    card = loaded.card
    table = Table(title=f"{card.name}: {card.paper}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    params = sum(p.numel() for p in loaded.model.parameters())
    rows = [("task", card.task), ("paper", card.url), ("code", card.code),
            ("input", f"{card.input.frame_size}px frames, crop {card.input.crop}, {card.input.normalization}"
                      if card.task == "continuous" else _describe(card.input)),
            ("protocol", _protocol_line(card.protocol)),
            ("classes", str(loaded.num_classes)), ("variant", str(loaded.variant or "default")),
            ("parameters", f"{params:,}")]
    if loaded.checkpoint is not None:
        ckpt = loaded.checkpoint
        rows += [("checkpoint", ckpt.source), ("format", ckpt.format), ("sha256", ckpt.sha256 or "-"),
                 ("tensors", str(len(ckpt.state_dict)))]
    if card.separate_backbone or loaded.backbone:  # SignVLM/EVL: the frozen backbone is a second file
        rows.append(("backbone", "\n".join(loaded.backbone) if loaded.backbone else
                     "not in checkpoints and none given: the checkpoint alone was checked (see the card's notes)"))
    for field, value in rows:
        table.add_row(field, value)
    parts: list = [table]
    if loaded.report is not None:
        if loaded.report.ok:
            parts.append(Text(f"strict load: OK ({len(loaded.checkpoint.state_dict)} tensors, every key and shape)",
                              style="bold green"))
        else:
            lines = loaded.report.lines()
            parts.append(Text(f"strict load: FAILED ({len(lines)} problems)", style="bold red"))
            parts += [Text("  " + line) for line in lines]
    return Group(*parts)


def eval_summary(result) -> Group:
    """The outcome of ``bench eval``: WER per scorer and head, samples, where the files are."""
    table = Table(title="Evaluation")
    for column in ("scored by", "WER %", "sub", "del", "ins", "ref words"):
        table.add_column(column, justify="right" if column != "scored by" else "left")
    for name, s in result.scores.items():
        label = {"conv": "python, conv head"}.get(name, name)
        words = s.ref_words or 1
        table.add_row(label, f"{s.wer:.{s.decimals}f}", *(f"{100 * s.total(k) / words:.1f}"
                                                         for k in ("substitutions", "deletions", "insertions")),
                      str(s.ref_words))
    lines = _sample_lines(result, "scored as empty hypotheses")
    lines.append(Text(f"record {result.record}\nhypotheses and CTM in {result.run_dir}"))
    return Group(table, *lines)


def isolated_summary(result) -> Group:
    """The outcome of ``bench eval`` on isolated SLR: per-instance / per-class top-k per view protocol and output."""
    table = Table(title="Evaluation (percent)")
    table.add_column("views / output")
    keys = sorted({k for values in result.metrics.values() for k in values if k.startswith("per_")},
                  key=lambda k: (k.startswith("per_class"), int(k.rsplit("top", 1)[1])))
    for key in keys:
        table.add_column(key.replace("per_instance_", "inst. ").replace("per_class_", "class "), justify="right")
    for name, values in result.metrics.items():
        table.add_row(name, *(f"{values[k]:.2f}" for k in keys))
    lines = _sample_lines(result, "not counted")
    lines.append(Text(f"{len(result.records)} records, per-sample ranks and top classes in {result.run_dir}"))
    return Group(table, *lines)


def _sample_lines(result, treatment: str) -> list[Text]:
    """"N of M samples evaluated", what happened to the others (a few ids each), and the run's notes."""
    lines = [Text(f"{result.evaluated} of {result.nominal} samples evaluated", style="bold")]
    for reason, ids in result.not_evaluated.items():
        if ids:
            shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
            lines.append(Text(f"  {reason.replace('_', ' ')}: {len(ids)} ({shown}), {treatment}"))
    return lines + [Text(note, style="bold yellow") for note in result.notes]


def _protocol_line(protocol) -> str:
    if hasattr(protocol, "decoder"):  # continuous SLR
        return (f"{protocol.decoder} (width {protocol.beam_width}), scorer {protocol.scorer}, clean-up "
                f"{protocol.cleanup}, test batch {protocol.batch_size}")
    output = protocol.reported_output or "not stated by the paper: all recorded"
    return (f"views {', '.join(protocol.views)} (paper: {protocol.reported_view or 'not stated'}), "
            f"{protocol.frames} frames, {protocol.fusion}, outputs {', '.join(protocol.outputs)} (paper: {output})")


def _describe(spec) -> str:
    return ", ".join(f"{k}={v}" for k, v in spec.__dict__.items() if v not in ({}, (), None))



class _RateColumn(ProgressColumn):
    """Items per second since the stage started (rich's own speed column averages only the last seconds)."""

    def render(self, task) -> Text:
        done = task.completed - task.fields.get("start", 0)  # a resumed stage: only what this run did
        return Text(f"{done / task.elapsed:.2f}/s" if task.elapsed else "-/s")


class _RichProgress:
    """A rich bar per stage (description, bar, counts, rate, ETA); ``last`` keeps the latest counts."""

    def __init__(self, bar: Progress):
        self.bar, self.task, self.stage, self.last = bar, None, None, (None, 0, 0)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            if self.task is not None:
                self.bar.remove_task(self.task)
            self.stage, self.task = stage, self.bar.add_task(stage, total=total, completed=done, start=done)
        self.last = (stage, done, total)
        self.bar.update(self.task, completed=done, total=total)


@contextmanager
def progress_display(console: Console):
    """A ``progress(stage, done, total)`` callback: a live bar in a terminal, a line every 30 s in a log or pipe."""
    if not console.is_terminal:
        yield LineProgress(lambda text: console.print(text.rstrip("\n"), markup=False, highlight=False))
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                  transient=True) as bar:
        yield _RichProgress(bar)
