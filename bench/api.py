"""The Python entry points behind the CLI: ``score``, ``demo``, ``report``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from bench.data.synthetic import make_corpus, simulate_posteriors, vocabulary, write_phoenix_annotations
from bench.decoding import decode_glosses
from bench.io.transcripts import StmSegment, hypotheses_to_ctm, write_ctm, write_stm
from bench.records import ResultRecord, collect_provenance, write_record
from bench.report import make_table
from bench.scoring import WerScore, find_sclite
from bench.scoring import score as _score

STM_END = 1.79769e308  # the CSLR references' segment end: the whole video


def score(reference, hypothesis, scorer: str = "python", cleanup: str = "official") -> WerScore:
    """WER of ``hypothesis`` (CTM path or ``{id: glosses}``) against ``reference`` (STM path); see :mod:`bench.scoring`."""
    return _score(reference, hypothesis, scorer=scorer, cleanup=cleanup)


def report(sources: Iterable[str | Path], fmt: str = "markdown", task: str | None = None) -> str:
    """A leaderboard table (markdown, csv or latex) built only from the result records under ``sources``."""
    return make_table(list(sources), fmt=fmt, task=task)


@dataclass
class DemoResult:
    scores: dict[str, WerScore]
    record: Path
    hypotheses: Path
    reference: Path
    seconds: float


def demo(out_dir: str | Path = "bench-demo", samples: int = 200, seed: int = 0) -> DemoResult:
    """The embedded default: synthetic PHOENIX-2014-format data, decoded and scored like a paper's test run.

    Writes the annotation in the release's format, a reference STM, simulated CTC posteriors' decoding
    (ctcdecode-exact beam search, repeats merged) as the official CTM, scores it with every available
    scorer and writes one result record.
    """
    start = time.perf_counter()
    out = Path(out_dir)
    corpus = make_corpus(samples, seed)
    write_phoenix_annotations(corpus, out / "phoenix-2014-synthetic")
    reference = write_stm([StmSegment(s.id, "1", s.signer, 0.0, STM_END, s.glosses) for s in corpus],
                          out / "synthetic-groundtruth-dev.stm")
    probs, lengths = simulate_posteriors(corpus, seed)
    id_to_gloss = {i: g for g, i in vocabulary().items()}
    glosses = decode_glosses(probs, lengths, id_to_gloss, method="beam")
    hypotheses = write_ctm(hypotheses_to_ctm({s.id: g for s, g in zip(corpus, glosses)}),
                           out / "output-hypothesis-dev.ctm")
    scorers = ["python", "official-python"] + (["sclite"] if find_sclite() else [])
    scores = {name: _score(reference, hypotheses, scorer=name) for name in scorers}
    seconds = time.perf_counter() - start
    metrics = {"wer": scores["python"].wer}
    metrics.update({f"wer_{name.replace('-', '_')}": s.wer for name, s in scores.items() if name != "python"})
    record = ResultRecord(
        kind="run", model="simulated_ctc", dataset="synthetic_phoenix2014", split="dev", task="continuous",
        protocol={"tag": "official", "decoder": "ctcdecode_beam10", "scorer": "python", "cleanup": "official"},
        metrics=metrics, decimals={k: (2 if "official" in k else 1) for k in metrics},
        samples={"nominal": len(corpus), "evaluated": len(corpus), "missing": 0},
        provenance=collect_provenance(device="cpu", wall_time_s=seconds),
        notes=["posteriors simulated by bench.data.synthetic (no model): a check of decoding and scoring"],
    )
    path = write_record(record, out / "results")
    return DemoResult(scores, path, hypotheses, reference, seconds)
