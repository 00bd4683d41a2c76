"""The official CSLR hypothesis clean-up (``evaluation/slr_eval/preprocess.sh`` of VAC, CorrNet, SlowFastSign).

The script runs sed/perl rules over CTM lines, one gloss per line, so only the rules that act inside a single
gloss ever fire; they are applied here to each gloss, in the script's order. The multi-gloss rules (joining
spelled letters ``A B`` into ``A+B``, ``WIE AUSSEHEN``, de-duplicating repeated words) need two glosses on one
line and never match the CTM the repositories write. ``__ON__``/``__OFF__`` and ``neg-`` are kept.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

EMPTY = "[EMPTY]"
CLEANUPS = ("official", "none")

_DELETED_SUBSTRINGS = ("loc-", "cl-", "qu-", "poss-", "lh-")  # sed 's,loc-,,g' ... in this order
_MARKERS_ERASED = ("__EMOTION__", "__PU__", "__LEFTHAND__")
_DROPS_LINE = ("__LEFTHAND__", "__EPENTHESIS__", "__EMOTION__")  # grep -v
_TWO_CAPITALS_RAUM = re.compile(r"([A-Z][A-Z])RAUM")


def clean_gloss(gloss: str) -> str:
    """One hypothesis gloss after the official rules; ``""`` when the rules delete it."""
    for part in _DELETED_SUBSTRINGS:
        gloss = gloss.replace(part, "")
    gloss = gloss.replace("S0NNE", "SONNE").replace("HABEN2", "HABEN")
    for marker in _MARKERS_ERASED:
        gloss = gloss.replace(marker, "")
    if gloss.endswith("ZEIGEN"):  # sed 's,ZEIGEN$,ZEIGEN-BILDSCHIRM,' at the end of the CTM line
        gloss += "-BILDSCHIRM"
    gloss = _TWO_CAPITALS_RAUM.sub(r"\1", gloss)
    gloss = gloss.replace("-PLUSPLUS", "")
    if any(marker in gloss for marker in _DROPS_LINE):
        return ""
    return gloss


def clean_hypotheses(hypotheses: Mapping[str, Sequence[str]], cleanup: str = "official") -> dict[str, list[str]]:
    """Apply ``cleanup`` ("official" or "none") to every gloss; deleted glosses disappear."""
    if cleanup not in CLEANUPS:
        raise ValueError(f"unknown clean-up {cleanup!r}: expected one of {', '.join(CLEANUPS)}")
    if cleanup == "none":
        return {k: list(v) for k, v in hypotheses.items()}
    out = {}
    for key, words in hypotheses.items():
        cleaned = (clean_gloss(w) for w in words)
        out[key] = [w for w in cleaned if w]
    return out


def fill_empty(hypotheses: Mapping[str, Sequence[str]], reference_ids: Iterable[str]) -> dict[str, list[str]]:
    """Every reference id with no hypothesis word gets the single word ``[EMPTY]``, so that sclite aligns it."""
    return {key: list(hypotheses.get(key) or [EMPTY]) for key in reference_ids}
