"""``bench``: the command line. Thin: parse arguments, call :mod:`bench.api`, render with rich."""

from __future__ import annotations

import json
import signal
import sys
from contextlib import contextmanager
from typing import Callable
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from bench import api

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Sign language recognition benchmark: official checkpoints, official protocols, one harness.")
console = Console(width=None if sys.stdout.isatty() else 150)  # logs and pipes get whole tables, not 80 columns
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)  # stdout stays data (--json)


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
    strict: bool = typer.Option(False, help="reference ids without any hypothesis word are an error (exit 1) "
                                "instead of a warning"),
) -> None:
    """Word error rate of a CTM against an STM, the way the CSLR papers score it."""
    try:
        result = api.score(reference, hypothesis, scorer=scorer.value, cleanup=cleanup.value)
    except (ValueError, RuntimeError, OSError) as err:
        _fail(err)
    warning = result.coverage_warning()
    if warning and strict:
        _fail(f"{hypothesis}: {warning}", code=1)
    if warning:
        err_console.print(f"[bold yellow]warning:[/] {escape(f'{hypothesis}: {warning}')} (--strict makes this an "
                          "error)", highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    from bench.console import wer_summary

    console.print(wer_summary(result, top=top))


@app.command()
def demo(
    out: Path = typer.Option(Path("bench-demo"), help="where the synthetic data, training run and records go"),
    seed: int = typer.Option(0, help="random seed of the synthetic data and the training"),
    epochs: int = typer.Option(None, help="default: the corrnet_tiny recipe's"),
    isolated_epochs: int = typer.Option(None, help="default: the s3d_rgb_tiny recipe's"),
    isolated: bool = typer.Option(True, help="also run the isolated-SLR part"),
    threads: int = typer.Option(1, help="torch CPU threads: 1 keeps the printed figures the same on a busy and a "
                                "quiet machine (training rounds differently with another thread count)"),
) -> None:
    """The embedded default: synthetic signing in PHOENIX-2014's and WLASL's layouts, a reduced CorrNet and a
    reduced NLA-SLR S3D trained on CPU, evaluated with the official protocols, ranked from the records."""
    from bench.console import eval_summary, isolated_summary, progress_display

    with progress_display(err_console) as progress, _interruptible(lambda: _train_stopped(progress.last, out)):
        result = api.demo(out, seed=seed, epochs=epochs, log=_note, isolated_epochs=isolated_epochs,
                          isolated=isolated, threads=threads, progress=progress)
    for split, evaluation in result.evaluations.items():
        console.print(f"[bold]corrnet_tiny, {split}[/]")
        console.print(eval_summary(evaluation))
    if result.isolated is not None:
        console.print("[bold]s3d_rgb_tiny, test[/]")
        console.print(isolated_summary(result.isolated))
    console.print("[bold]Leaderboards (bench report, from the records)[/]")
    _print_boards(result.records, None, 0, False)
    console.print(f"demo finished in {result.seconds / 60:.1f} min")


@app.command()
def report(
    sources: list[Path] = typer.Argument(None, help="record files or directories (default: ./results)"),
    markdown: bool = typer.Option(False, "--markdown", help="print Markdown: one table per dataset and split"),
    csv: bool = typer.Option(False, "--csv", help="print CSV (the boards stacked, dataset and split columns)"),
    latex: bool = typer.Option(False, "--latex", help="print LaTeX booktabs tables, ready for a paper"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (numbers as numbers, missing: null)"),
    task: str = typer.Option(None, help="only 'continuous' or 'isolated' rows"),
    intervals: bool = typer.Option(False, help="95% bootstrap intervals of our figures (1000 replicates, seed 0), "
                                   "from the runs' per-sample outputs"),
    flat: bool = typer.Option(False, help="one wide table per task (every metric ours/paper/diff) instead of one "
                              "board per dataset and split"),
    breakdown: bool = typer.Option(False, help="per run: WER or top-k by signer and clip length, per gloss or "
                                   "class, the most frequent confusions (markdown; --json for data)"),
    html: Path = typer.Option(None, metavar="DIR", help="write DIR/index.html: one self-contained page with the "
                              "boards, interval bars, published-vs-ours plots and the breakdowns"),
    data_root: list[Path] = typer.Option(None, exists=True, file_okay=False,
                                         help="breakdowns: a dataset release, for signers, clip lengths, class "
                                         "names and words that older runs did not store (repeatable: each run "
                                         "uses the first that reads as its dataset)"),
    top: int = typer.Option(10, help="breakdowns: how many glosses, classes and confusions to list"),
) -> None:
    """The leaderboard, built only from result records: published claims beside our runs, one ranked board per
    dataset and split with footnotes; --breakdown and --html add where each run fails."""
    chosen = [name for name, flag in (("markdown", markdown), ("csv", csv), ("latex", latex), ("json", as_json))
              if flag]
    if len(chosen) > 1:
        _fail(ValueError(f"choose one output format, got {', '.join('--' + c for c in chosen)}"))
    sources = sources or [Path("results")]
    try:
        from bench.records import read_records

        found = [r for r in read_records(sources) if task is None or r.task == task]
        if not found:
            raise ValueError(f"no {task + ' ' if task else ''}result records under {', '.join(map(str, sources))}: "
                             "expected record .json files (bench eval writes them to results/runs; published claims "
                             "are in results/published)")
        if html is not None:
            path = api.html_report(found, html, intervals=1000, data_root=data_root)
            err_console.print(f"wrote {escape(str(path))}", highlight=False)
            return
        if breakdown:
            items = api.breakdowns(found, data_root, top)
            if as_json:
                typer.echo(json.dumps(items, ensure_ascii=False, indent=1))
            else:
                from bench.breakdowns import breakdowns_markdown

                typer.echo(breakdowns_markdown(items), nl=False)
            return
        replicates = 1000 if intervals else 0
        if chosen:
            typer.echo(api.report(sources, fmt=chosen[0], task=task, intervals=replicates, flat=flat), nl=False)
            return
        _print_boards(sources, task, replicates, flat)
    except (ValueError, FileNotFoundError) as err:
        _fail(err)


def _print_boards(sources, task, intervals: int, flat: bool) -> None:
    """The boards (or the flat per-task tables) as rich tables, footnotes under each."""
    from bench.report import TASK_TITLES, task_tables, to_rich_table

    if flat:
        for name, table in task_tables(sources, task=task, intervals=intervals).items():
            console.print(to_rich_table(table, title=TASK_TITLES[name]))
        return
    from rich.table import Table

    from bench.report_boards import _cells, _numeric, boards, column_label

    for board in boards(sources, task=task, intervals=intervals):
        cells, numeric = _cells(board), _numeric(board.table)
        table = Table(title=board.title, caption=board.caption, title_justify="left", caption_justify="left",
                      title_style="bold")
        for column in cells.columns:
            table.add_column(column_label(column), justify="right" if column in numeric else "left")
        for row in cells.values.tolist():
            table.add_row(*map(escape, row))
        console.print(table)
        for number, note in enumerate(board.footnotes, 1):
            console.print(f"  {number}. {escape(note)}", highlight=False, soft_wrap=True)
        for note in board.general:
            console.print(f"  {escape(note)}.", highlight=False, soft_wrap=True, style="dim")
        console.print()


@app.command(name="eval")
def evaluate(
    model: str = typer.Option(..., help="registered model (bench models)"),
    dataset: str = typer.Option(..., help="phoenix2014, phoenix2014t, csl_daily, csl, wlasl2000, msasl1000, ..."),
    data_root: Path = typer.Option(..., exists=True, file_okay=False, help="the dataset release folder"),
    split: str = typer.Option("test", help="dev/val or test (train works too)"),
    keypoints: Path = typer.Option(None, exists=True, dir_okay=False,
                                   help="isolated SLR: the keypoint pickle ({video: [T, 133, 3]}) for keypoint streams"),
    videos: str = typer.Option(None, help="isolated SLR: the clips folder or .zip, relative to --data-root or "
                               "absolute (default: the layout's: videos/, frames/, jpg_video/ or NLA-SLR's zip)"),
    views: str = typer.Option(None, help="isolated SLR: view protocols, comma-separated (default: the card's, "
                              "1view,temporal3)"),
    checkpoint: str = typer.Option(None, help="checkpoint file or hf://org/repo/file"),
    batch_size: int = typer.Option(None, help="default: the card's official test batch (pairs for CorrNet/VAC); "
                                   "1 is the padding-free variant"),
    decoder: str = typer.Option(None, help="beam or greedy (default: the card's)"),
    all_samples: bool = typer.Option(False, help="also decode what the official loader skips (CSL-Daily/CSL last sample)"),
    results: Path = typer.Option(Path("results/runs"), help="where the record and the hypotheses go"),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:1, ..."),
    amp: str = typer.Option(None, help="autocast precision: bf16 or fp16 (CUDA only); fp32 is the default for "
                            "reproduction; recorded in the protocol tag"),
    channels_last: bool = typer.Option(False, help="weights in channels-last memory format (recorded)"),
    compile: bool = typer.Option(False, "--compile", help="torch.compile the model (slow to start; recorded)"),
    workers: int = typer.Option(2, help="DataLoader worker processes that decode and transform ahead of the model "
                                "(0: the main process)"),
    profile: bool = typer.Option(False, help="print where the time went: each stage's share of wall time, clips/s"),
    cache_frames: bool = typer.Option(False, help="decode the split once into a packed uint8 file, memory-mapped "
                                      "by later runs (rebuilt when the release changes)"),
    cache_dir: Path = typer.Option(None, help="the frame cache's folder (default: $BENCH_CACHE or "
                                   "~/.cache/slr-bench/frames)"),
    trust_checkpoint: bool = typer.Option(False, help="allow unpickling arbitrary objects (files you trust only)"),
    random_weights: bool = typer.Option(False, help="evaluate without a checkpoint, on purpose (recorded as such)"),
    limit: int = typer.Option(None, help="only the first N samples (a smoke run; recorded)"),
    restart: bool = typer.Option(False, help="discard an interrupted run's hypotheses instead of resuming"),
    reference: Path = typer.Option(None, exists=True, dir_okay=False,
                                   help="score against this STM instead of the dataset's official one"),
    gloss_dict: Path = typer.Option(None, exists=True, dir_okay=False,
                                    help="continuous SLR: the official gloss_dict.npy (default: one in --data-root, "
                                    "else the release's annotations of every split, else the checkpoint's list)"),
    threads: int = typer.Option(None, help="torch CPU threads (default: as many as idle cores; see README)"),
    backbone: str = typer.Option(None, help="SignVLM/EVL: the CLIP file (ViT-L-14.pt, ViT-B-16.pt or "
                                 "hf://openai/clip-vit-large-patch14/model.safetensors); their checkpoints hold no "
                                 "backbone"),
    fp16_backbone: bool = typer.Option(False, help="SignVLM/EVL: the official fp16 frozen backbone (recorded)"),
    landmarks: Path = typer.Option(None, file_okay=False, help="H&HT models (SignNet): the landmarks folder "
                                   "(bench landmarks; default: <data-root>/landmarks)"),
    heatmaps: str = typer.Option("auto", help="NLA-SLR keypoint heatmaps: made by the workers, on the model's "
                                 "device, or auto (the device when it is a GPU)"),
    separable_heatmaps: bool = typer.Option(False, help="NLA-SLR: heatmaps as outer products of 1-D Gaussians "
                                            "(~11x faster on a CPU; equal within float32 rounding; recorded)"),
) -> None:
    """Evaluate a model on a dataset split with the paper's protocol; writes a result record. An interrupted run
    (Ctrl-C, SIGTERM) resumes when the same command is run again."""
    from bench.console import progress_display
    from bench.runners.continuous import ContinuousEval
    from bench.runners.isolated import IsolatedEval
    from zoo.cards import get_card
    from zoo.checkpoints import CheckpointError

    try:
        isolated = get_card(model).task == "isolated"
        from bench.precision import speed_modes

        speed_modes(amp, device, channels_last, compile, separable_heatmaps)  # refused here, before any data is read
        if separable_heatmaps and not isolated:
            raise ValueError(f"--separable-heatmaps is for isolated models with a keypoint stream, not {model}")
    except (KeyError, ValueError) as err:
        _fail(err)
    speed = {"channels_last": channels_last, "compile": compile, "profile": profile, "cache_frames": cache_frames,
             "cache_dir": cache_dir}
    if isolated:
        cfg = IsolatedEval(model, dataset, split, data_root, checkpoint, keypoints, results,
                           tuple(views.split(",")) if views else None, batch_size or 4, device, amp,
                           trust_checkpoint, random_weights, limit, restart, videos=videos, threads=threads,
                           backbone=backbone, fp16_backbone=fp16_backbone, landmarks=landmarks, workers=workers,
                           heatmaps=heatmaps, separable_heatmaps=separable_heatmaps, **speed)
    else:
        cfg = ContinuousEval(model, dataset, split, data_root, checkpoint, results, batch_size, decoder,
                             not all_samples, device, amp, trust_checkpoint, random_weights, limit, restart,
                             reference=reference, gloss_dict=gloss_dict, threads=threads, workers=workers, **speed)
    with progress_display(err_console) as progress, _interruptible(lambda: _eval_stopped(progress.last)):
        try:
            result = api.evaluate(cfg, progress, log=_note)
        except (KeyError, ValueError, CheckpointError, RuntimeError) as err:
            _fail(err)
    from bench.console import eval_summary, isolated_summary
    from bench.distributed import is_main

    if is_main():  # under torchrun every rank has the result; one prints it
        console.print(isolated_summary(result) if isolated else eval_summary(result))
        if result.profile is not None:
            for line in result.profile.lines(f"profile of {model} on {dataset} {split}"):
                console.print(escape(line), highlight=False)


@app.command()
def train(
    model: str = typer.Option(..., help="registered model (bench models)"),
    dataset: str = typer.Option(..., help="phoenix2014, phoenix2014t, csl_daily, csl, wlasl2000, msasl1000, ..."),
    data_root: Path = typer.Option(..., exists=True, file_okay=False, help="the dataset release folder"),
    out: Path = typer.Option(..., help="run folder: checkpoints per epoch, best, history (resumed if present)"),
    keypoints: Path = typer.Option(None, exists=True, dir_okay=False,
                                   help="isolated SLR: the keypoint pickle, for keypoint streams"),
    videos: str = typer.Option(None, help="isolated SLR: the clips folder or .zip, relative to --data-root or "
                               "absolute (default: the layout's)"),
    word_vectors: Path = typer.Option(None, exists=True, dir_okay=False,
                                      help="isolated SLR: gloss vectors (fastText .vec/.bin or {gloss: vector} "
                                      "pickle) for language-aware smoothing and inter-modality mixup"),
    epochs: int = typer.Option(None, help="default: the card's recipe"),
    batch_size: int = typer.Option(None, help="default: the card's recipe"),
    lr: float = typer.Option(None, help="default: the card's recipe"),
    device: str = typer.Option("cpu", help="cpu, cuda, ..."),
    amp: bool = typer.Option(None, help="mixed precision (default: on for CUDA, as the official code)"),
    init: str = typer.Option(None, help="start from this checkpoint's weights (same vocabulary; fine-tuning "
                             "recipes: a previous stage, a head of another class count re-initialised)"),
    backbone_weights: str = typer.Option(None, help="the paper's pretrained backbone: torchvision resnet18 "
                                         "(resnet18-f37072fd.pth) for CorrNet/VAC, SLOWFAST_64x2_R101_50_50.pkl for "
                                         "SlowFastSign, S3D_kinetics400.pt for the NLA-SLR stages"),
    checkpoint_activations: bool = typer.Option(False, help="recompute backbone activations in backward "
                                                "(less memory, same numbers)"),
    cache_frames: bool = typer.Option(False, help="decode the splits once into packed uint8 files, memory-mapped by "
                                      "every epoch and later evaluations (rebuilt when the release changes)"),
    cache_dir: Path = typer.Option(None, help="the frame cache's folder (default: $BENCH_CACHE or "
                                   "~/.cache/slr-bench/frames)"),
    workers: int = typer.Option(2, help="DataLoader worker processes making the training batches and the "
                                "per-epoch evaluation's inputs (0: the main process; the same numbers)"),
    profile: bool = typer.Option(False, help="print each epoch's per-stage profile (not step recipes)"),
    seed: int = typer.Option(None, help="default: 0 (continuous), the recipe's (isolated)"),
    threads: int = typer.Option(None, help="torch CPU threads (default: as many as idle cores; see README)"),
    steps: int = typer.Option(None, help="step recipes (SignVLM/EVL): optimiser steps (default: the recipe's)"),
    save_every: int = typer.Option(None, help="step recipes: checkpoint and validation every N steps"),
    shots: int = typer.Option(None, help="step recipes: few-shot training, N seeded clips per class"),
    train_split: str = typer.Option("train", help="isolated SLR: the training split, or several joined by '+' "
                                    "(train+val; KArSL/LSA64 folds: fold1_train)"),
    eval_split: str = typer.Option(None, help="isolated SLR: the validation split (default: val, else test)"),
    init_matching: str = typer.Option(None, help="step recipes: start from another task's checkpoint (EVL's "
                                      "Kinetics-400 file): every tensor whose name and shape fit; the rest named"),
    landmarks: Path = typer.Option(None, file_okay=False, help="H&HT models (SignNet): the landmarks folder "
                                   "(bench landmarks; default: <data-root>/landmarks)"),
    heatmaps: str = typer.Option("auto", help="NLA-SLR keypoint heatmaps: made by the workers, on the model's "
                                 "device, or auto (the device when it is a GPU)"),
) -> None:
    """Train with the paper's recipe (the card's): a checkpoint per epoch, dev WER or val top-1 per epoch, best
    kept, resumable (an interrupted run continues after its last finished epoch when run again)."""
    from bench.console import progress_display
    from bench.runners.train_isolated import IsolatedTrainConfig
    from bench.runners.training import TrainConfig
    from zoo.cards import get_card

    try:
        isolated = get_card(model).task == "isolated"
        if isolated:
            from zoo.finetune_recipe import FinetuneRecipe

            if checkpoint_activations or (amp and not isinstance(get_card(model).training, FinetuneRecipe)):
                raise ValueError("--checkpoint-activations and --amp are continuous-SLR and fine-tuning options "
                                 "(NLA-SLR trains in fp32)")
            cfg = IsolatedTrainConfig(model, dataset, data_root, out, keypoints, word_vectors, epochs, batch_size, lr,
                                      device, seed, cache_frames=cache_frames, init=init,
                                      backbone_weights=backbone_weights, videos=videos, threads=threads,
                                      steps=steps, save_every=save_every, shots=shots, train_split=train_split,
                                      eval_split=eval_split, init_matching=init_matching, landmarks=landmarks,
                                      cache_dir=cache_dir, profile=profile, workers=workers, amp=amp,
                                      heatmaps=heatmaps)
        else:
            cfg = TrainConfig(model, dataset, data_root, out, epochs, batch_size, lr, device, amp, seed or 0,
                              cache_frames=cache_frames, init=init, backbone_weights=backbone_weights,
                              checkpoint_activations=checkpoint_activations, threads=threads, workers=workers,
                              cache_dir=cache_dir, profile=profile)
    except (KeyError, ValueError) as err:
        _fail(err)
    with progress_display(err_console) as progress, _interruptible(lambda: _train_stopped(progress.last, out)):
        try:
            result = api.train(cfg, log=_note, progress=progress)
        except (KeyError, ValueError, RuntimeError) as err:
            _fail(err)
    from bench.distributed import is_main

    if not is_main():
        return
    if isolated:
        console.print(f"best val top-1 {result.best_top1:.1f}% -> {result.best} (official layout: {result.official})")
    else:
        console.print(f"best dev WER {result.best_wer:.1f}% -> {result.best}")


@app.command()
def inspect(
    model: str = typer.Option(..., help="registered model name (bench models lists them)"),
    checkpoint: str = typer.Option(None, help="checkpoint file, or hf://org/repo/file"),
    num_classes: int = typer.Option(None, help="classes the data needs (glosses + blank); default: the checkpoint's"),
    trust_checkpoint: bool = typer.Option(False, help="allow unpickling arbitrary objects (only for files you trust)"),
    backbone: str = typer.Option(None, help="SignVLM/EVL: the CLIP file to check beside the checkpoint"),
) -> None:
    """Print a model's card, its size, and whether a checkpoint loads strictly (non-zero exit if it does not)."""
    from zoo.checkpoints import CheckpointError
    from zoo.loader import load_model

    try:
        if num_classes is None and checkpoint is None:  # the card's first official checkpoint's classes
            from zoo.cards import get_card

            sources = get_card(model).checkpoints
            num_classes = sources[0].num_classes if sources else 1000
        loaded = load_model(model, checkpoint, num_classes=num_classes, trust=trust_checkpoint, check_only=True,
                            backbone=backbone)
    except (KeyError, CheckpointError, ValueError) as err:
        _fail(err)
    from bench.console import card_summary

    console.print(card_summary(loaded))
    if loaded.report is not None and not loaded.report.ok:
        raise typer.Exit(code=1)


@app.command()
def export(
    checkpoint: str = typer.Option(..., help="our checkpoint (.safetensors) or any file bench reads"),
    out: Path = typer.Option(..., help="the .pt file to write"),
    model: str = typer.Option(None, help="model name (default: the checkpoint's card)"),
) -> None:
    """Write a checkpoint in the official layout ({'model_state_dict': ...}), for the official code to load."""
    from zoo.cards import get_card
    from zoo.checkpoints import CheckpointError, export_official, read_checkpoint

    try:
        ckpt = read_checkpoint(checkpoint)
        card = get_card(model or ckpt.metadata.get("card") or "")
    except (CheckpointError, KeyError) as err:
        _fail(err)
    path = export_official(out, ckpt.state_dict, card.checkpoint_key, epoch=int(ckpt.metadata.get("epoch", 0)),
                           key_prefix=card.key_prefix)
    console.print(f"{path}: {len(ckpt.state_dict)} tensors under {card.checkpoint_key!r} with the official key names")


@app.command()
def average(
    sources: list[Path] = typer.Argument(..., help="checkpoint files, or folders (every .pth/.pt/.safetensors, sorted)"),
    out: Path = typer.Option(..., help="the averaged checkpoint: .pth/.pt for official inputs, .safetensors for ours"),
    model: str = typer.Option(None, help="the card (default: our checkpoints' metadata); tells where official files "
                              "keep their weights"),
) -> None:
    """Average checkpoints' weights as SignVLM's avg_checkpoints.py (uniform mean, sorted order)."""
    import torch

    from zoo.averaging import average_checkpoints, checkpoint_files
    from zoo.cards import get_card
    from zoo.checkpoints import CheckpointError, save_checkpoint

    try:
        files = checkpoint_files(sources)
        key = get_card(model).checkpoint_key if model else ("model", "model_state_dict", "model_state")
        state, first = average_checkpoints(files, key)
        if first.format == "official":
            if out.suffix not in (".pth", ".pt"):
                raise ValueError(f"{out}: official inputs give an official file: name it .pth or .pt")
            out.parent.mkdir(parents=True, exist_ok=True)
            torch.save({key if isinstance(key, str) else "model": state}, out)
        else:
            if out.suffix != ".safetensors":
                raise ValueError(f"{out}: our checkpoints give one of ours: name it .safetensors")
            save_checkpoint(out, state, {**first.metadata, "averaged_from": [Path(f).name for f in files]})
    except (CheckpointError, KeyError, ValueError) as err:
        _fail(err)
    console.print(f"{out}: the mean of {len(files)} checkpoints ({', '.join(Path(f).name for f in files)})")


datasets_app = typer.Typer(help="The registered datasets, and an integrity check of a release on disk.")
app.add_typer(datasets_app, name="datasets")


@datasets_app.callback(invoke_without_command=True)
def datasets(ctx: typer.Context) -> None:
    """List the registered datasets: task, splits, classes and the expected layout under --data-root."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    table = Table(title="Registered datasets (bench datasets check NAME --data-root DIR checks a release)")
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("task", no_wrap=True)
    table.add_column("splits", overflow="fold", max_width=28)
    table.add_column("classes", overflow="fold", max_width=20)
    table.add_column("layout under --data-root", overflow="fold")  # long paths wrap; nothing is cut
    for row in api.datasets():
        classes = "from the data" if row["classes"] is None else str(row["classes"])
        if row["plus_blank"]:
            classes += " glosses + blank"
        table.add_row(escape(row["name"]), row["task"], ", ".join(row["splits"]), classes, escape(row["layout"]))
    console.print(table)


@datasets_app.command("check")
def datasets_check(
    name: str = typer.Argument(..., metavar="NAME", help="registered dataset (bench datasets lists them)"),
    data_root: Path = typer.Option(..., help="the dataset release folder"),
    split: list[str] = typer.Option(None, "--split", metavar="SPLIT",
                                    help="check only this split (repeatable; default: every split)"),
    deep: bool = typer.Option(False, help="decode every frame (slow) instead of the first frame or the video header"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object per split, one per line"),
    show: int = typer.Option(5, help="how many missing / unreadable ids to show per split"),
    videos: str = typer.Option(None, help="isolated SLR: the clips folder or .zip, relative to --data-root or "
                               "absolute (default: the layout's), as bench eval --videos"),
) -> None:
    """Integrity of a release without a model: per split the nominal samples and how many are present, missing
    (no frames / no clip) or unreadable, with the first ids. Exit 0 when every nominal sample is present and
    readable, 1 when some are missing or unreadable, 2 on errors (unknown dataset, wrong root)."""
    from bench.data.cslr import DatasetError

    try:
        reports = api.check_dataset(name, data_root, split or None, deep=deep, videos=videos)
    except (KeyError, DatasetError, OSError) as err:
        _fail(err.args[0] if isinstance(err, KeyError) else err)
    rows = [api.integrity_fields(report) for report in reports.values()]
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            _print_integrity(row, show)
    if not all(row["ok"] for row in rows):
        raise typer.Exit(code=1)


def _print_integrity(row: dict, show: int) -> None:
    """One split's counts, then the first missing / unreadable ids with why, the layout read and mismatches."""
    status = "[green]ok[/]" if row["ok"] else "[bold red]incomplete[/]"
    console.print(f"[bold]{escape(row['dataset'])} {escape(row['split'])}[/]: {row['nominal']} nominal, "
                  f"{row['present']} present, {row['missing']} missing, {row['unreadable']} unreadable  {status}",
                  highlight=False)
    if "layout" in row:
        sources = ", ".join(f"{k} {v}" for k, v in row.get("sources", {}).items())
        console.print(f"  layout read: {row['layout']} ({escape(sources)})", highlight=False, soft_wrap=True)
    problems = row.get("problems", {})
    for kind in ("missing", "unreadable"):
        ids = row[f"{kind}_ids"]
        if ids:
            more = f" (first {show} of {len(ids)})" if len(ids) > show else ""
            console.print(f"  {kind}{more}:", highlight=False)
            for sample_id in ids[:show]:
                why = f": {problems[sample_id]}" if sample_id in problems else ""
                console.print(f"    {escape(sample_id)}{escape(why)}", highlight=False, soft_wrap=True)
    mismatches = row.get("frame_count_mismatches", {})
    if mismatches:
        shown = ", ".join(f"{i}: {m['seq_len']} vs {m['stored']}" for i, m in list(mismatches.items())[:show])
        console.print(f"  seq_len differs from the stored frames for {len(mismatches)} clips ({escape(shown)}); "
                      "seq_len is used, as the official code", highlight=False, soft_wrap=True)
    empty = row.get("classes_without_samples", [])
    if empty:
        console.print(f"  {len(empty)} classes without a present sample: {escape(', '.join(empty[:show]))}"
                      f"{', ...' if len(empty) > show else ''}", highlight=False, soft_wrap=True)


@app.command()
def compare(
    run_a: Path = typer.Argument(..., exists=True, dir_okay=False, help="result record of run A (.json)"),
    run_b: Path = typer.Argument(..., exists=True, dir_okay=False, help="result record of run B, same dataset and split"),
    metric: str = typer.Option(None, help="the metric to compare (default: wer, or per_instance_top1); any metric "
                               "of the records that per-sample outputs give: wer, wer_python, wer_conv, sub, del, ins, "
                               "per_instance_top{k}, per_class_top{k}"),
    seed: int = typer.Option(0, help="seed of numpy.random.default_rng for the resampling and the swaps"),
    n: int = typer.Option(1000, help="bootstrap replicates, and permutations of the randomisation test"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Two runs on the same samples: each figure with its bootstrap 95% interval, B - A with its paired-bootstrap
    interval, and the two-sided approximate randomisation p-value (definitions: bench/stats.py)."""
    from bench.uncertainty import compare_records

    try:
        result = compare_records(run_a, run_b, metric, n=n, seed=seed)
    except (ValueError, OSError, KeyError) as err:
        _fail(err)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    paired = result.result
    level = f"{100 * paired.a.level:g}%"
    console.print(f"{escape(result.metric)}: {result.shared} samples shared (A has {result.samples_a}, "
                  f"B has {result.samples_b}); {n} replicates, seed {seed}")
    for name, path, value in (("A", run_a, paired.a), ("B", run_b, paired.b)):
        console.print(f"  {name} {value.estimate:.2f}  {level} [{value.low:.2f}, {value.high:.2f}]  {escape(str(path))}")
    diff = paired.difference
    console.print(f"  B - A {diff.estimate:+.2f}  {level} [{diff.low:+.2f}, {diff.high:+.2f}]  "
                  f"p = {paired.p_value:.4f} (approximate randomisation, two-sided)")


@app.command()
def landmarks(
    dataset: str = typer.Option(..., help="registered isolated-SLR dataset (bench datasets lists them)"),
    data_root: Path = typer.Option(..., exists=True, file_okay=False, help="the dataset release folder"),
    split: list[str] = typer.Option(None, "--split", metavar="SPLIT", help="this split only (repeatable; default: "
                                    "every split)"),
    out: Path = typer.Option(None, help="where the landmarks files go (default: <data-root>/landmarks)"),
    processes: int = typer.Option(1, help="videos processed at a time, one process each"),
    videos: str = typer.Option(None, help="the clips folder or .zip (default: the layout's)"),
    write_videos: Path = typer.Option(None, help="also write the H&HT mosaic videos (mp4v, source fps) here"),
) -> None:
    """MediaPipe Holistic (SignNet's settings) over a dataset's videos: one landmarks file per video, for the
    H&HT mosaic. Resumable: a killed run continues with the videos not done; unreadable videos are listed."""
    from bench.console import progress_display

    with progress_display(err_console) as progress, _interruptible(lambda: _landmarks_stopped(progress.last)):
        try:
            run = api.landmarks(dataset, data_root, split or None, out, processes, videos, write_videos,
                                progress=progress, log=_note)
        except (KeyError, ValueError, ImportError, OSError) as err:
            _fail(err.args[0] if isinstance(err, KeyError) else err)
    rate = f", {run.frames / run.seconds:.1f} frames/s" if run.seconds > 0 and run.frames else ""
    console.print(f"landmarks in {run.out}: {len(run.done)} videos done now ({run.frames} frames in "
                  f"{run.seconds:.1f} s{rate}), {len(run.skipped)} done before, {len(run.unreadable)} unreadable"
                  + (f"; {run.videos_written} mosaic videos written" if write_videos else ""), highlight=False)
    for sample_id, why in list(run.unreadable.items())[:10]:
        console.print(f"  unreadable {escape(sample_id)}: {escape(why)}", highlight=False, soft_wrap=True)
    for note in run.notes:
        console.print(f"[yellow]{escape(note)}[/]", highlight=False)
    if run.unreadable:
        raise typer.Exit(code=1)


def _landmarks_stopped(last: tuple) -> str:
    stage, done, total = last
    where = f" after {done} of {total} frames" if stage else ""
    return f"stopped{where}; every finished video's landmarks are saved: run the same command to resume"


@app.command()
def models() -> None:
    """List the registered models."""
    from rich.table import Table

    from zoo import get_card, list_models

    table = Table(title="Registered models (bench inspect --model NAME shows a card)")
    for column in ("model", "task", "paper", "official weights"):
        table.add_column(column, no_wrap=column == "model")
    for name in list_models():
        card = get_card(name)
        weights = ("not a published model" if not card.published else
                   ", ".join(c.tag for c in card.checkpoints) or "none published")
        table.add_row(name, card.task, card.paper, weights)
    console.print(table)


def _note(line: str) -> None:
    """Runner notes (epochs, resumption) on stdout, as written (under torchrun: rank 0's)."""
    from bench.distributed import is_main

    if is_main():
        console.print(line, highlight=False)


@contextmanager
def _interruptible(stopped: Callable[[], str]):
    """Ctrl-C and SIGTERM end the command with a line that says what is saved and how to go on; exit 130 / 143."""
    received: list[int] = []

    def on_term(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except KeyboardInterrupt:
        err_console.print(f"[bold yellow]interrupted:[/] {escape(stopped())}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=128 + (received[0] if received else signal.SIGINT))
    finally:
        signal.signal(signal.SIGTERM, previous)


def _eval_stopped(last: tuple) -> str:
    stage, done, total = last
    if stage is None:
        return "before any sample was evaluated; run the same command to start again"
    return f"{done} of {total} samples done; run the same command to resume (--restart starts over)"


def _train_stopped(last: tuple, out: Path) -> str:
    stage, done, total = last
    where = f" in {stage} ({done} of {total})" if stage else ""
    return (f"stopped{where}; every finished epoch is saved in {out}: run the same command to resume after the "
            "last one")


def _fail(err: Exception | str, code: int = 2) -> None:
    """Print ``error: ...`` on stderr (stdout may be a pipe reading --json) and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)  # one greppable line
    raise typer.Exit(code=code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
