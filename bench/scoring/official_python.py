"""SlowFastSign's Python WER evaluator (``python_wer_evaluation.py``), replayed with its quirks.

What it does differently from sclite, all reproduced here:
- the reference is each raw STM line minus its last character (``line[:-1]``), split on single spaces: the
  newline normally, but the last gloss's last letter on a final line without newline (PHOENIX-2014 dev/test);
- consecutive duplicate hypothesis words are merged before alignment;
- words compare case-sensitively;
- ties between equal-cost moves prefer substitution, then deletion, then insertion (sclite prefers insertion
  over deletion), so S/D/I splits can differ from sclite's while the cost does not;
- the WER is printed with two decimals.
"""

from __future__ import annotations

from itertools import groupby
from typing import Mapping, Sequence

SUB, DEL, INS = 4, 3, 3


def reference_words(raw_line: str) -> list[str]:
    """The official ``load_groundtruth`` words of one STM line (note ``[:-1]``)."""
    return [w for w in raw_line[:-1].split(" ")[5:] if len(w)]


def align_official(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[str, str, str]]:
    """``get_wer_delsubins``: ``(op, reference string, hypothesis string)`` per step, ``*`` filling gaps."""
    hyp = [k for k, _ in groupby(hyp)]
    n, m = len(ref) + 1, len(hyp) + 1
    cost = [[1_000_000] * m for _ in range(n)]
    back = [[0] * m for _ in range(n)]
    for j in range(m):
        cost[0][j], back[0][j] = j * INS, 2
    for i in range(n):
        cost[i][0], back[i][0] = i * DEL, 3
    for i in range(1, n):
        for j in range(1, m):
            if ref[i - 1] == hyp[j - 1]:
                cost[i][j] = min(cost[i - 1][j - 1], cost[i][j])
                back[i][j] = 0
            else:
                options = [cost[i - 1][j - 1] + SUB, cost[i - 1][j] + DEL, cost[i][j - 1] + INS]
                best = min(options)
                if best < cost[i][j]:
                    cost[i][j] = best
                    back[i][j] = options.index(best) + 1  # 1 substitution, 2 deletion, 3 insertion
    i, j = n - 1, m - 1
    path = []
    while min(i, j) > 0:
        op = back[i][j]
        if op in (0, 1):
            i, j = i - 1, j - 1
        elif op == 2:
            i -= 1
        else:
            j -= 1
        path.append((i, j, "CSDI"[op]))
    if not path:  # the official code then fails on bt_path[-1] (IndexError)
        raise ValueError("the official Python evaluator cannot score an empty reference or hypothesis")
    steps = [("D", ref[k], "*" * len(ref[k])) for k in range(path[-1][0])]
    steps += [("I", "*" * len(hyp[k]), hyp[k]) for k in range(path[-1][1])]
    for i, j, op in reversed(path):
        if op in "CS":
            steps.append((op, ref[i], hyp[j]))
        elif op == "I":
            steps.append((op, "*" * len(hyp[j]), hyp[j]))
        else:
            steps.append((op, ref[i], "*" * len(ref[i])))
    return steps


def sentence_counts(ref: Sequence[str], hyp: Sequence[str]) -> dict[str, int]:
    """One sentence's counts; ``ref_words`` and ``errors`` are computed the way ``calculate_stats`` does."""
    steps = align_official(ref, hyp)
    return {
        "ref_words": sum(1 for _, g, _ in steps if "*" not in g),
        "correct": sum(1 for op, _, _ in steps if op == "C"),
        "substitutions": sum(1 for op, _, _ in steps if op == "S"),
        "deletions": sum(1 for op, _, _ in steps if op == "D"),
        "insertions": sum(1 for op, _, _ in steps if op == "I"),
        "errors": sum(1 for _, g, p in steps if g != p),
        "substituted": [(g, p) for op, g, p in steps if op == "S"],
    }


def official_wer_text(errors: int, ref_words: int) -> str:
    """The number as the evaluator prints it: ``f"{ratio: 2.2%}"`` without the sign space and percent."""
    return f"{errors / ref_words:2.2%}"[:-1].strip() if ref_words else "nan"


def score_official(raw_reference: Mapping[str, str], hypotheses: Mapping[str, Sequence[str]]) -> list[dict]:
    """Per-sentence counts for ``{id: raw STM line}`` against cleaned, ``[EMPTY]``-filled hypotheses."""
    out = []
    for key, line in raw_reference.items():
        try:
            out.append({"id": key, **sentence_counts(reference_words(line), hypotheses[key])})
        except ValueError as err:
            raise ValueError(f"sentence {key!r}: {err}") from None
    return out
