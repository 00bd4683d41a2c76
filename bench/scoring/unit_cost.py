"""A unit-cost Levenshtein view through jiwer, shown beside the official number and never reported as it.

sclite weighs substitutions 4 and insertions/deletions 3, so its alignments (and sometimes its totals) differ
from plain edit distance; printing both makes that difference visible instead of surprising.
"""

from __future__ import annotations

from typing import Sequence

import jiwer

from bench.scoring.align import sclite_fold


def unit_cost_wer(pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> float | None:
    """Unit-cost WER in percent over (reference words, hypothesis words) pairs, case-folded like sclite."""
    refs = [" ".join(sclite_fold(w) for w in ref) for ref, _ in pairs if ref]
    hyps = [" ".join(sclite_fold(w) for w in hyp) for ref, hyp in pairs if ref]
    if not refs:
        return None
    return 100.0 * jiwer.wer(refs, hyps)
