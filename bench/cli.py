"""``bench``: the command line. Thin: parse arguments, call :mod:`bench.api`, render with rich."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from bench import api

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Sign language recognition benchmark: official checkpoints, official protocols, one harness.")
console = Console(width=None if sys.stdout.isatty() else 150)  # logs and pipes get whole tables, not 80 columns


@app.callback()
def _group() -> None:
    """Sign language recognition benchmark: official checkpoints, official protocols, one harness."""


class Scorer(str, Enum):
    python = "python"
    sclite = "sclite"
    official_python = "official-python"


class Cleanup(str, Enum):
    official = "official"
    none = "none"


@app.command()
def score(
    reference: Path = typer.Argument(..., exists=True, dir_okay=False, help="reference STM (e.g. phoenix2014-groundtruth-dev.stm)"),
    hypothesis: Path = typer.Argument(..., exists=True, dir_okay=False, help="hypothesis CTM, one gloss per line"),
    scorer: Scorer = typer.Option(Scorer.python, help="python: sclite's counts without the binary; sclite: the real one; "
                                  "official-python: SlowFastSign's evaluator, quirks included"),
    cleanup: Cleanup = typer.Option(Cleanup.official, help="official: the CSLR repositories' hypothesis clean-up"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object with totals and per-sentence counts"),
    top: int = typer.Option(10, help="how many of the most frequent substitutions to show"),
) -> None:
    """Word error rate of a CTM against an STM, the way the CSLR papers score it."""
    try:
        result = api.score(reference, hypothesis, scorer=scorer.value, cleanup=cleanup.value)
    except (ValueError, RuntimeError) as err:
        _fail(err)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    from bench.console import wer_summary

    console.print(wer_summary(result, top=top))


@app.command()
def demo(
    out: Path = typer.Option(Path("bench-demo"), help="where the synthetic data, hypotheses and record go"),
    samples: int = typer.Option(200, min=1, help="number of synthetic dev samples"),
    seed: int = typer.Option(0, help="random seed of the synthetic data"),
) -> None:
    """The embedded default: synthetic PHOENIX-format data, decoded and scored, a record, the leaderboard."""
    result = api.demo(out, samples=samples, seed=seed)
    from bench.console import wer_summary
    from bench.report import leaderboard, to_rich_table

    console.print(wer_summary(result.scores["python"], title="Synthetic PHOENIX-2014 dev: decoded and scored", top=5))
    others = ", ".join(f"{name}: {s.wer:.{s.decimals}f}%" for name, s in result.scores.items() if name != "python")
    console.print(f"other scorers on the same CTM: {others}" + ("" if "sclite" in result.scores else
                  "  (sclite not installed: apt-get install sctk)"))
    console.print(to_rich_table(leaderboard([result.record]).drop(columns=["task"]),
                                title="Leaderboard row written (bench report reads it back)"))
    console.print(f"reference {result.reference}\nhypotheses {result.hypotheses}\nrecord {result.record}\n"
                  f"{result.seconds:.1f} s")


@app.command()
def report(
    sources: list[Path] = typer.Argument(None, help="record files or directories (default: ./results)"),
    markdown: bool = typer.Option(False, "--markdown", help="print a Markdown table"),
    csv: bool = typer.Option(False, "--csv", help="print CSV"),
    latex: bool = typer.Option(False, "--latex", help="print a LaTeX tabular"),
    task: str = typer.Option(None, help="only 'continuous' or 'isolated' rows"),
) -> None:
    """The leaderboard, built only from result records: published claims beside our runs."""
    chosen = [name for name, flag in (("markdown", markdown), ("csv", csv), ("latex", latex)) if flag]
    if len(chosen) > 1:
        _fail(ValueError(f"choose one output format, got {', '.join('--' + c for c in chosen)}"))
    sources = sources or [Path("results")]
    try:
        if chosen:
            typer.echo(api.report(sources, fmt=chosen[0], task=task), nl=False)
            return
        from bench.report import TASK_TITLES, task_tables, to_rich_table

        for name, table in task_tables(sources, task=task).items():
            console.print(to_rich_table(table, title=TASK_TITLES[name]))
    except (ValueError, FileNotFoundError) as err:
        _fail(err)


def _fail(err: Exception) -> None:
    console.print(f"[bold red]error:[/] {err}", highlight=False)
    raise typer.Exit(code=2)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
