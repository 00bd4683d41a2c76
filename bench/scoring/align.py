"""Word alignment exactly as sclite (SCTK 2.4.10) computes it, so per-sentence counts equal sclite's.

sclite's ``Network_dpalign`` fills a table over (reference word a, hypothesis word b) with costs
substitution 4, insertion 3, deletion 3 and a match 0, and keeps one back pointer per cell:
the diagonal if it is no worse than both others, else the deletion if strictly cheaper than the insertion,
else the insertion. The trace back from the last cell gives the alignment. Equal-cost alignments exist
(one substitution vs. a deletion plus an insertion cost 4 vs 6, but e.g. "A B" vs "B C" ties several ways),
and this preference order is what makes the S/D/I split match sclite's, not only the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

SUB, INS, DEL = 4, 3, 3

CORRECT, SUBSTITUTION, DELETION, INSERTION = "C", "S", "D", "I"


@dataclass(frozen=True)
class Alignment:
    """One aligned sentence: ``ops`` pairs each step with its reference and hypothesis word (None for a gap)."""

    ops: tuple[tuple[str, str | None, str | None], ...]

    def count(self, op: str) -> int:
        return sum(1 for o, _, _ in self.ops if o == op)

    @property
    def correct(self) -> int:
        return self.count(CORRECT)

    @property
    def substitutions(self) -> int:
        return self.count(SUBSTITUTION)

    @property
    def deletions(self) -> int:
        return self.count(DELETION)

    @property
    def insertions(self) -> int:
        return self.count(INSERTION)


def sclite_fold(word: str) -> str:
    """sclite's default case folding: ASCII letters only (it converts byte by byte in the C locale)."""
    return word.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def align(ref: Sequence[str], hyp: Sequence[str], case_sensitive: bool = False) -> Alignment:
    """Align a hypothesis to a reference with sclite's costs and tie-breaking."""
    r = list(ref) if case_sensitive else [sclite_fold(w) for w in ref]
    h = list(hyp) if case_sensitive else [sclite_fold(w) for w in hyp]
    n, m = len(r), len(h)
    # cost[a][b] and the move into (a, b): 0 diagonal, 1 deletion (from a-1), 2 insertion (from b-1)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]
    row0, mv0 = cost[0], move[0]
    for b in range(1, m + 1):
        row0[b] = row0[b - 1] + INS
        mv0[b] = 2
    for a in range(1, n + 1):
        prev, row, mv = cost[a - 1], cost[a], move[a]
        row[0] = prev[0] + DEL
        mv[0] = 1
        word = r[a - 1]
        left = row[0]
        for b in range(1, m + 1):
            diag = prev[b - 1] + (0 if word == h[b - 1] else SUB)
            up = prev[b] + DEL
            ins = left + INS
            if diag <= up and diag <= ins:
                left = diag
            elif up < ins:
                left = up
                mv[b] = 1
                row[b] = left
                continue
            else:
                left = ins
                mv[b] = 2
                row[b] = left
                continue
            row[b] = left  # mv[b] stays 0: diagonal
    ops = []
    a, b = n, m
    while a > 0 or b > 0:
        step = move[a][b]
        if step == 0:
            ops.append((CORRECT if r[a - 1] == h[b - 1] else SUBSTITUTION, ref[a - 1], hyp[b - 1]))
            a, b = a - 1, b - 1
        elif step == 1:
            ops.append((DELETION, ref[a - 1], None))
            a -= 1
        else:
            ops.append((INSERTION, None, hyp[b - 1]))
            b -= 1
    return Alignment(tuple(reversed(ops)))
