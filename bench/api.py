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


def evaluate(config, progress=None):
    """Run an evaluation (:class:`bench.runners.continuous.ContinuousEval`); returns its result and record path."""
    from bench.runners.continuous import evaluate_continuous

    return evaluate_continuous(config, progress)


def train(config, log=print):
    """Train with the card's recipe (:class:`bench.runners.training.TrainConfig`)."""
    from bench.runners.training import train_continuous

    return train_continuous(config, log)


def report(sources: Iterable[str | Path], fmt: str = "markdown", task: str | None = None) -> str:
    """A leaderboard table (markdown, csv or latex) built only from the result records under ``sources``."""
    return make_table(list(sources), fmt=fmt, task=task)


@dataclass
class DemoResult:
    records: list[Path]
    evaluations: dict
    training: object
    seconds: float


def demo(out_dir: str | Path = "bench-demo", seed: int = 0, epochs: int | None = None,
         sizes: dict[str, int] | None = None, log=print) -> DemoResult:
    """The embedded default: a synthetic signing dataset in PHOENIX-2014's layout, a reduced CorrNet trained on it
    with ``bench train``'s loop, and its dev/test evaluation through ``bench eval``'s path (records written)."""
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
                                            seed=seed, cache_frames=True), log)
    evaluations = {}
    for split in ("dev", "test"):
        evaluations[split] = evaluate_continuous(ContinuousEval("corrnet_tiny", "synthetic_phoenix2014", split, root,
                                                                str(training.best), out / "results", restart=True))
    return DemoResult([e.record for e in evaluations.values()], evaluations, training, time.perf_counter() - start)
