"""The Python entry points behind the CLI: ``score``, ``evaluate``, ``train``, ``report``, ``demo``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from bench.report import make_table
from bench.scoring import WerScore
from bench.scoring import score as _score


def score(reference, hypothesis, scorer: str = "python", cleanup: str = "official") -> WerScore:
    """WER of ``hypothesis`` (CTM path or ``{id: glosses}``) against ``reference`` (STM path); see :mod:`bench.scoring`."""
    return _score(reference, hypothesis, scorer=scorer, cleanup=cleanup)


def evaluate(config, progress=None, log=None):
    """Run an evaluation: :class:`bench.runners.continuous.ContinuousEval` or
    :class:`bench.runners.isolated.IsolatedEval`; returns its result (records, scores, counts).
    ``progress(stage, done, total)`` is called after every batch; ``log`` gets notes such as a resumption."""
    from bench.runners.continuous import ContinuousEval, evaluate_continuous
    from bench.runners.isolated import evaluate_isolated

    return (evaluate_continuous if isinstance(config, ContinuousEval) else evaluate_isolated)(config, progress, log)


def train(config, log=print, progress=None):
    """Train with the card's recipe: :class:`bench.runners.training.TrainConfig` (continuous SLR) or
    :class:`bench.runners.train_isolated.IsolatedTrainConfig`; ``progress(stage, done, total)`` inside epochs."""
    from bench.runners.train_isolated import IsolatedTrainConfig, train_isolated
    from bench.runners.train_steps import train_steps
    from bench.runners.training import train_continuous
    from zoo.cards import get_card
    from zoo.finetune_recipe import FinetuneRecipe
    from zoo.step_recipe import StepTrainRecipe

    if not isinstance(config, IsolatedTrainConfig):
        return train_continuous(config, log, progress)
    # the card's recipe picks the loop; VideoMAE fine-tuning runs in the step loop, counted in epochs
    steps = isinstance(get_card(config.model).training, (StepTrainRecipe, FinetuneRecipe))
    return (train_steps if steps else train_isolated)(config, log, progress)


def report(sources: Iterable[str | Path], fmt: str = "markdown", task: str | None = None, intervals: int = 0,
           flat: bool = False) -> str:
    """The leaderboards (markdown, csv, latex or json) built only from the result records under ``sources``: one
    ranked board per (dataset, split) with footnotes (:mod:`bench.report_boards`), or with ``flat`` one wide table
    per task (:func:`bench.report.make_table`). ``intervals``: bootstrap replicates for 95% intervals from the runs'
    per-sample outputs."""
    if flat:
        return make_table(list(sources), fmt=fmt, task=task, intervals=intervals)
    from bench.report_boards import boards, render_boards

    return render_boards(boards(list(sources), task=task, intervals=intervals), fmt)


def breakdowns(sources: Iterable[str | Path], data_root=None, top: int = 10) -> list[dict]:
    """Per run record under ``sources``: WER or top-k by signer and clip length, per gloss or class, and the most
    frequent confusions, from its stored per-sample outputs (:mod:`bench.breakdowns`); ``data_root`` (a release,
    or several) fills what older runs did not store (signers, clip lengths, class names, scored words)."""
    from bench.breakdowns import run_breakdowns

    return run_breakdowns(list(sources), data_root, top)


def html_report(sources: Iterable[str | Path], out_dir: str | Path, intervals: int = 1000,
                data_root=None) -> Path:
    """Write the self-contained leaderboard page ``out_dir/index.html`` (:mod:`bench.report_html`)."""
    from bench.report_html import write_page

    return write_page(list(sources), out_dir, intervals, data_root)


@dataclass
class DemoResult:
    records: list[Path]
    evaluations: dict  # continuous: {split: ContinuousResult}
    training: object
    seconds: float
    isolated: object = None  # IsolatedResult of the test split
    isolated_training: object = None


def demo(out_dir: str | Path = "bench-demo", seed: int = 0, epochs: int | None = None,
         sizes: dict[str, int] | None = None, log=print, isolated_epochs: int | None = None,
         isolated: bool = True, threads: int | None = 1, progress=None) -> DemoResult:
    """The embedded default, both tasks on CPU through ``bench train``'s and ``bench eval``'s code paths:

    - continuous: synthetic signing in PHOENIX-2014's layout, a reduced CorrNet, dev/test WER;
    - isolated: synthetic signs in WLASL's layout (mp4 + json + keypoint pickle), NLA-SLR's S3D at 1/8 width,
      test top-k under both view protocols.

    One torch thread by default: the printed figures then do not depend on the machine's load (another thread
    count rounds the training differently), and tiny models lose little on a quiet machine and gain a lot on a
    busy one (``benchmarks/bench_threads.py``).
    """
    from bench.data.synthetic_signs import make_dataset
    from bench.runners.continuous import ContinuousEval, evaluate_continuous
    from bench.runners.training import TrainConfig, train_continuous

    start = time.perf_counter()
    out = Path(out_dir)
    root = out / "phoenix-2014-multisigner"
    if not (root / "annotations").is_dir():
        log(f"writing a synthetic PHOENIX-2014-format release to {root}")
        make_dataset(root, sizes, seed=seed)
    log("training corrnet_tiny (CorrNet blocks at 1/8 width, 36x36 frames) with its recipe on CPU")
    training = train_continuous(TrainConfig("corrnet_tiny", "synthetic_phoenix2014", root, out / "train", epochs=epochs,
                                            seed=seed, cache_frames=True, threads=threads,
                                            cache_dir=out / "frame-cache"), log, progress)
    evaluations = {}
    for split in ("dev", "test"):
        evaluations[split] = evaluate_continuous(ContinuousEval("corrnet_tiny", "synthetic_phoenix2014", split, root,
                                                                str(training.best), out / "results", restart=True,
                                                                threads=threads), progress)
    records = [e.record for e in evaluations.values()]
    result = DemoResult(records, evaluations, training, 0.0)
    if isolated:
        result.isolated_training, result.isolated = _isolated_demo(out, seed, isolated_epochs, log, threads, progress)
        result.records += result.isolated.records
    result.seconds = time.perf_counter() - start
    return result


def _isolated_demo(out: Path, seed: int, epochs: int | None, log, threads: int | None, progress):
    from bench.data.synthetic_isolated import make_dataset
    from bench.runners.isolated import IsolatedEval, evaluate_isolated
    from bench.runners.train_isolated import IsolatedTrainConfig, train_isolated

    root = out / "wlasl-synthetic"
    if not (root / "WLASL_v0.3.json").is_file():
        log(f"writing a synthetic WLASL-format release (mp4 clips, json, keypoint pickle) to {root}")
        make_dataset(root, seed=seed)
    log("training s3d_rgb_tiny (NLA-SLR's S3D at 1/8 width, 64x64 clips of 16 frames) with its recipe on CPU")
    training = train_isolated(IsolatedTrainConfig("s3d_rgb_tiny", "synthetic_wlasl", root, out / "train-isolated",
                                                  epochs=epochs, seed=seed, cache_frames=True, threads=threads,
                                                  cache_dir=out / "frame-cache"),
                              log, progress)
    evaluation = evaluate_isolated(IsolatedEval("s3d_rgb_tiny", "synthetic_wlasl", "test", root, str(training.best),
                                                results_dir=out / "results", restart=True, threads=threads), progress)
    return training, evaluation


def datasets() -> list[dict]:
    """The registered datasets as plain data: name, task, splits, classes (None where only the data says: the
    vocabulary is built from the annotation), whether a class count includes a CTC blank, and the expected layout."""
    from bench.data import DATASETS

    rows = []
    for name in DATASETS.names():
        cls = DATASETS.get(name)
        continuous = cls.task == "continuous"
        known = getattr(cls, "num_glosses" if continuous else "num_classes", 0)
        rows.append({"name": name, "task": cls.task, "splits": list(cls.splits), "classes": known or None,
                     "plus_blank": continuous, "layout": cls.layout})
    return rows


def check_dataset(name: str, data_root: str | Path, splits: Iterable[str] | None = None,
                  deep: bool = False, videos: str | Path | None = None) -> dict:
    """The integrity report of each split (default: every split) of the release under ``data_root``, without a
    model: ``{split: IntegrityReport}`` (isolated datasets give :class:`bench.data.isolated.IsolatedIntegrity`).
    ``deep`` decodes every frame instead of the first frame or the container header. Raises ``KeyError`` for an
    unknown dataset and ``DatasetError`` (naming the path and the expected layout) for a wrong root. ``videos``
    (isolated datasets): where the clips are, a folder or ``.zip`` relative to the root or absolute, as ``bench
    eval --videos`` (NLA-SLR's package keeps them apart from its pickles)."""
    import warnings

    from bench.data import get_dataset
    from bench.data.cslr import DatasetError

    cls = get_dataset(name)
    root = Path(data_root)
    if not root.is_dir():
        raise DatasetError(f"{name}: the data root {root} is not a folder; expected {cls.layout} under it")
    if videos is not None and cls.task != "isolated":
        raise DatasetError(f"{name}: --videos is for isolated-SLR datasets (clips); {name} reads frame folders "
                           f"under the root ({cls.layout})")
    dataset = cls(root) if videos is None else cls(root, videos=videos)
    with warnings.catch_warnings():  # seq_len mismatches are in the isolated reports; no second copy on stderr
        warnings.simplefilter("ignore")
        return {split: dataset.integrity(split, deep=deep) for split in (list(splits or []) or dataset.splits)}


def integrity_fields(report) -> dict:
    """An integrity report (either task's) as plain data: counts, missing/unreadable ids and, where the report has
    them, the layout read, reasons, seq_len mismatches and classes without a present sample; no present ids."""
    from dataclasses import asdict

    fields = {k: v for k, v in asdict(report).items() if k != "present_ids"}
    return {**fields, "present": report.present, "missing": report.missing, "unreadable": report.unreadable,
            "ok": report.present == report.nominal}


def landmarks(dataset: str, data_root, splits=None, out=None, processes: int = 1, videos=None, write_videos=None,
              progress=None, log=None):
    """MediaPipe Holistic landmarks of a dataset's videos (``splits``: default every split) under ``out``
    (default ``<data_root>/landmarks``); see :func:`bench.hht.extract.extract_landmarks`."""
    from bench.data import get_dataset
    from bench.hht.extract import extract_landmarks

    reader = get_dataset(dataset, "isolated")(data_root, videos=videos)
    out = Path(out) if out is not None else Path(data_root) / "landmarks"
    return extract_landmarks(reader, splits or reader.splits, out, processes, write_videos, progress, log)
