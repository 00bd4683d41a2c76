"""From CTC posteriors to gloss sequences, the way VAC/CorrNet/SlowFastSign's ``Decode`` does it."""

from __future__ import annotations

from typing import Mapping, Sequence

from bench.decoding.beam import beam_search
from bench.decoding.greedy import greedy_decode, merge_repeats

METHODS = ("beam", "greedy")


def decode_glosses(probs, lengths, id_to_gloss: Mapping[int, str] | Sequence[str], method: str = "beam",
                   beam_width: int = 10, blank: int = 0) -> list[list[str]]:
    """Glosses per sample: the best beam (or the best path), repeats merged (``A blank A`` -> ``A``), ids mapped."""
    if method == "beam":
        best = [beams[0][0] for beams in beam_search(probs, lengths, beam_width=beam_width, blank=blank)]
        labels = [merge_repeats(b) for b in best]
    elif method == "greedy":
        labels = greedy_decode(probs, lengths, blank=blank, merge=True)
    else:
        raise ValueError(f"unknown decoding method {method!r}: expected one of {', '.join(METHODS)}")
    return [[id_to_gloss[i] for i in sample] for sample in labels]
