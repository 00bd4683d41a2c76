"""ctcdecode 1.0.3's prefix beam search (no language model), replayed step for step on one sequence.

This is the specification the fast decoder (:mod:`bench.decoding.beam_fast`) is checked against, and the
decoder behind ``beam_search_with_timesteps`` and the (rarely used) probability-mass cut-off. Everything that
ctcdecode does is here: the prefix trie with children in creation order, removal and revival of nodes,
"impossible" prefixes (log 0 is -FLT_MAX, not -inf), float32 arithmetic with glibc's expf/logf, the
depth-first collection of prefixes, ``std::nth_element`` for pruning and ``std::sort`` for the final order,
and peak-frame timesteps. ``../shared/reference/ctc/ALGORITHM.md`` describes the same algorithm in prose.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bench.decoding import stl
from bench.decoding.candidates import frame_candidates
from bench.decoding.libm import FLT_MAX, f32, log_sum_exp_scalar as lse

NEG = float(-FLT_MAX)


class TimedBeam(NamedTuple):
    """One beam with ctcdecode's per-token peak frames."""

    labels: list[int]
    score: float
    timesteps: list[int]


class _Node:
    __slots__ = ("char", "parent", "children", "exists", "b_prev", "nb_prev", "b_cur", "nb_cur", "score",
                 "lp_c", "timestep")

    def __init__(self, char: int, parent: "_Node | None", timestep: int = 0, lp_c: float = NEG):
        self.char = char
        self.parent = parent
        self.children: list[_Node] = []
        self.exists = True
        self.b_prev = self.nb_prev = self.b_cur = self.nb_cur = self.score = NEG
        self.lp_c = lp_c
        self.timestep = timestep

    def child(self, char: int, t: int, lp: float) -> "_Node":
        """``PathTrie::get_path_trie``: find or append the child, keep its peak frame, revive it if pruned."""
        for node in self.children:
            if node.char == char:
                if node.lp_c < lp:  # strict: the first frame with the peak wins
                    node.lp_c = lp
                    node.timestep = t
                if not node.exists:
                    node.exists = True
                    node.b_prev = node.nb_prev = node.b_cur = node.nb_cur = NEG
                return node
        node = _Node(char, self, t, lp)
        self.children.append(node)
        return node

    def collect(self, out: list["_Node"]) -> None:
        """``PathTrie::iterate_to_vec``: pre-order over existing nodes, rolling cur into prev."""
        stack = [self]
        while stack:
            node = stack.pop()
            if node.exists:
                node.b_prev, node.nb_prev = node.b_cur, node.nb_cur
                node.b_cur = node.nb_cur = NEG
                node.score = lse(node.b_prev, node.nb_prev)
                out.append(node)
            stack.extend(reversed(node.children))

    def remove(self) -> None:
        """``PathTrie::remove``: a pruned leaf leaves the trie, and so do ancestors it leaves empty."""
        self.exists = False
        node = self
        while not node.children and not node.exists and node.parent is not None:
            parent = node.parent
            for i, sibling in enumerate(parent.children):
                if sibling.char == node.char:
                    del parent.children[i]
                    break
            node = parent

    def path(self) -> tuple[list[int], list[int]]:
        labels, times = [], []
        node = self
        while node.parent is not None:
            labels.append(node.char)
            times.append(node.timestep)
            node = node.parent
        return labels[::-1], times[::-1]


def _ranks_before(x: _Node, y: _Node) -> bool:
    """ctcdecode's ``prefix_compare``: higher score first, equal scores by smaller last character."""
    if x.score == y.score:
        return x.char < y.char
    return x.score > y.score


def decode_exact(probs: np.ndarray, beam_width: int = 10, blank: int = 0, cutoff_top_n: int = 40,
                 cutoff_prob: float = 1.0) -> list[TimedBeam]:
    """Beams of one sequence ``probs [T, C]`` (softmax outputs), best first, exactly as ctcdecode returns them."""
    probs = np.asarray(probs, dtype=np.float32)
    root = _Node(-1, None)
    root.score = root.b_prev = 0.0
    prefixes = [root]
    for t in range(probs.shape[0]):
        chars, log_probs = frame_candidates(probs[t], cutoff_top_n, cutoff_prob)
        beam = prefixes[:beam_width]
        for c, lp in zip(chars, log_probs):
            for prefix in beam:
                if c == blank:
                    prefix.b_cur = lse(prefix.b_cur, f32(lp + prefix.score))
                    continue
                if c == prefix.char:
                    prefix.nb_cur = lse(prefix.nb_cur, f32(lp + prefix.nb_prev))
                new = prefix.child(c, t, lp)
                if c != prefix.char:
                    log_p = f32(lp + prefix.score)
                elif prefix.b_prev > NEG:
                    log_p = f32(lp + prefix.b_prev)
                else:
                    log_p = NEG  # "a a" with no blank in between cannot start a new token
                new.nb_cur = lse(new.nb_cur, log_p)
        prefixes = []
        root.collect(prefixes)
        if len(prefixes) >= beam_width:
            stl.nth_element(prefixes, beam_width, _ranks_before)
            for pruned in prefixes[beam_width:]:
                pruned.remove()
            del prefixes[beam_width:]
    final = prefixes[:beam_width]
    stl.sort(final, _ranks_before)
    beams = []
    for node in final:
        labels, times = node.path()
        beams.append(TimedBeam(labels, -node.score, times))
    return beams
