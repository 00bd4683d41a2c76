"""``score()``: WER of a hypothesis against a reference, with the official clean-up and a choice of scorer.

Scorers: ``python`` (sclite's alignment re-implemented: same per-sentence counts, no binary needed),
``sclite`` (the real one, as CorrNet and VAC report), ``official-python`` (SlowFastSign's evaluator with its
quirks, as SlowFastSign reports). All three see the same cleaned, ``[EMPTY]``-filled hypotheses.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from bench.io.transcripts import STM_FORMAT, CtmWord, StmSegment, ctm_hypotheses, read_ctm, read_stm
from bench.scoring.align import SUBSTITUTION, align
from bench.scoring.cleanup import clean_hypotheses, fill_empty
from bench.scoring.official_python import official_wer_text, score_official
from bench.scoring.sclite import run_sclite

SCORERS = ("python", "sclite", "official-python")
_SPECIAL_TO_SCLITE = {"(", ")", "{", "}", "/", "@"}  # optional deletion, alternations, null word


@dataclass(frozen=True)
class SentenceScore:
    id: str
    ref_words: int
    correct: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


@dataclass(frozen=True)
class WerScore:
    """Counts per sentence (reference order) and their sums; ``wer`` is in percent."""

    scorer: str
    cleanup: str
    sentences: tuple[SentenceScore, ...]
    decimals: int = 1
    reported_wer: float | None = None  # the scorer's own printed number, where it rounds (official-python)
    hypothesis_ids: int = 0  # ids with at least one hypothesis line (CTM) or entry ({id: words})
    missing_ids: tuple[str, ...] = ()  # reference ids without any hypothesis, scored as [EMPTY] (reference order)
    substitution_pairs: Counter = field(default_factory=Counter, compare=False, repr=False)
    words: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(default=(), compare=False, repr=False)

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sentences)

    @property
    def ref_words(self) -> int:
        return self.total("ref_words")

    @property
    def errors(self) -> int:
        return self.total("errors")

    @property
    def wer(self) -> float:
        if self.reported_wer is not None:
            return self.reported_wer
        return 100.0 * self.errors / self.ref_words if self.ref_words else float("nan")

    def coverage_warning(self, shown: int = 5) -> str | None:
        """A sentence on reference ids without any hypothesis (scored as [EMPTY]), or None if there are none."""
        missing, total = len(self.missing_ids), len(self.sentences)
        if not missing:
            return None
        if not self.hypothesis_ids:
            return f"no hypothesis words at all: all {total} reference ids are scored as [EMPTY] (every word an error)"
        more = " ..." if missing > shown else ""
        return (f"{missing} of {total} reference ids have no hypothesis words and are scored as [EMPTY] (every word "
                f"an error): {', '.join(self.missing_ids[:shown])}{more}")

    def to_dict(self) -> dict:
        """The ``bench score --json`` object."""
        return {
            "wer": self.wer,
            "ref_words": self.ref_words,
            "correct": self.total("correct"),
            "substitutions": self.total("substitutions"),
            "deletions": self.total("deletions"),
            "insertions": self.total("insertions"),
            "scorer": self.scorer,
            "cleanup": self.cleanup,
            "coverage": {"reference_ids": len(self.sentences), "hypothesis_ids": self.hypothesis_ids,
                         "missing": len(self.missing_ids), "missing_ids": list(self.missing_ids)},
            "sentences": [
                {"id": s.id, "ref_words": s.ref_words, "correct": s.correct, "substitutions": s.substitutions,
                 "deletions": s.deletions, "insertions": s.insertions}
                for s in self.sentences
            ],
        }


def load_reference(reference: str | os.PathLike | Sequence[StmSegment]) -> list[StmSegment]:
    segments = read_stm(reference) if isinstance(reference, (str, os.PathLike)) else list(reference)
    seen: set[str] = set()
    for segment in segments:
        if segment.file in seen:
            raise ValueError(f"{_name(reference, 'the reference')}: id {segment.file!r} has more than one STM segment; "
                             "CSLR references have one segment per sample (score multi-segment STMs with sclite itself)")
        seen.add(segment.file)
    return segments


def load_hypotheses(hypotheses: str | os.PathLike | Mapping[str, Sequence[str]] | Sequence[CtmWord]) -> dict[str, list[str]]:
    if isinstance(hypotheses, (str, os.PathLike)):
        return ctm_hypotheses(read_ctm(hypotheses))
    if isinstance(hypotheses, Mapping):
        return {k: list(v) for k, v in hypotheses.items()}
    return ctm_hypotheses(hypotheses)


def score(reference, hypotheses, scorer: str = "python", cleanup: str = "official") -> WerScore:
    """Score ``hypotheses`` (CTM path, ``{id: words}`` or CTM words) against ``reference`` (STM path or segments)."""
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}: expected one of {', '.join(SCORERS)}")
    segments = load_reference(reference)
    if not segments:
        raise ValueError(f"{_name(reference, 'the reference')}: no STM segments; expected lines '{STM_FORMAT}'")
    hyps = load_hypotheses(hypotheses)
    ids = [s.file for s in segments]
    unknown = sorted(set(hyps) - set(ids))
    if unknown:
        where = "the reference" + (f" {reference}" if isinstance(reference, (str, os.PathLike)) else "")
        raise ValueError(f"{_name(hypotheses, 'the hypotheses')}: {len(unknown)} of {len(hyps)} hypothesis ids are not "
                         f"in {where} (wrong reference file or split?), e.g. {', '.join(unknown[:5])}")
    coverage = {"hypothesis_ids": len(hyps), "missing_ids": tuple(i for i in ids if i not in hyps)}
    filled = fill_empty(clean_hypotheses(hyps, cleanup), ids)
    scored = tuple((tuple(s.words), tuple(filled[s.file])) for s in segments)  # what was scored, for display

    if scorer == "official-python":
        rows = score_official({s.file: s.raw for s in segments}, filled)
        sentences = tuple(SentenceScore(r["id"], r["ref_words"], r["correct"], r["substitutions"], r["deletions"],
                                        r["insertions"]) for r in rows)
        text = official_wer_text(sum(r["errors"] for r in rows), sum(r["ref_words"] for r in rows))
        pairs = Counter(pair for r in rows for pair in r["substituted"])
        return WerScore(scorer, cleanup, sentences, decimals=2, reported_wer=float(text), words=scored,
                        substitution_pairs=pairs, **coverage)

    pairs = Counter()
    sentences_list = []
    for segment in segments:
        words = filled[segment.file]
        if scorer == "python":
            _refuse_sclite_syntax(segment.file, segment.words, words)
        alignment = align(segment.words, words)  # sclite's alignment (its counts; for sclite: its pairs too)
        pairs.update((r, h) for op, r, h in alignment.ops if op == SUBSTITUTION)
        sentences_list.append(SentenceScore(segment.file, len(segment.words), alignment.correct,
                                            alignment.substitutions, alignment.deletions, alignment.insertions))
    if scorer == "sclite":
        counts = run_sclite(segments, filled)
        sentences_list = [SentenceScore(s.file, len(s.words), *counts[s.file]) for s in segments]
    return WerScore(scorer, cleanup, tuple(sentences_list), decimals=1, substitution_pairs=pairs, words=scored,
                    **coverage)


def _name(source, default: str) -> str:
    """A file argument's path, for messages; ``default`` for in-memory inputs."""
    return str(source) if isinstance(source, (str, os.PathLike)) else default


def _refuse_sclite_syntax(key: str, ref: Sequence[str], hyp: Sequence[str]) -> None:
    """sclite reads "(word)" as optionally deletable and "{ a / b }" as alternatives; this scorer does not."""
    for word in (*ref, *hyp):
        if word in _SPECIAL_TO_SCLITE or (word.startswith("(") and word.endswith(")")):
            raise ValueError(f"sentence {key!r}: the word {word!r} has a special meaning to sclite that the python "
                             "scorer does not interpret; use --scorer sclite")
