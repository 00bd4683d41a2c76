"""ctcdecode's beam search for many sequences at once, vectorised over sequences, beams and candidates.

Same float32 arithmetic as :mod:`bench.decoding.beam_exact`, without materialising the trie. Two facts make
that possible:

- values do not depend on order: every prefix gets at most two contributions per frame and ctcdecode's
  log-sum-exp is symmetric, and an extension that is not kept leaves no trace;
- the trie's order does not depend on the beam's order either: a node's children are appended when its
  parent extends, and a parent extends by the frame's candidates in candidate order. So the depth-first
  order ctcdecode collects prefixes in is the order of their paths of (creation frame, candidate rank) keys.

Order matters only when two prefixes are equivalent for ctcdecode's comparison (equal float32 score and
equal last label): when such a pair straddles the beam cut, and for the final order of the beams. Only
there, for that sequence and frame, the depth-first vector is rebuilt from the beam history and
``std::nth_element`` / ``std::sort`` are emulated on it (:mod:`bench.decoding.stl`).
"""

from __future__ import annotations

import numpy as np

from bench.decoding import stl
from bench.decoding.candidates import batch_candidates, frame_candidates
from bench.decoding.libm import FLT_MAX, log_sum_exp

NEG = np.float32(-FLT_MAX)
_GONE = np.float32(-np.inf)  # marks pool entries that do not exist (never a real score)

Beams = list[tuple[list[int], float]]


class _CandidateRanks:
    """Position of a label in a frame's candidate list as ctcdecode visits it (its child-creation order).

    Frames with equal probabilities among the kept candidates are re-sorted with the libstdc++ emulation, lazily:
    their order matters only when ties between prefixes have to be resolved.
    """

    def __init__(self, probs: np.ndarray, order: np.ndarray, candidates: np.ndarray, tied: np.ndarray, top_n: int):
        self.probs, self.order, self.candidates, self.tied, self.top_n = probs, order, candidates, tied, top_n
        self.exact: dict[tuple[int, int], dict[int, int]] = {}

    def rank(self, row: int, frame: int, label: int) -> int:
        positions = self.exact.get((row, frame))
        if positions is None:
            if self.tied[row, frame]:
                chars, _ = frame_candidates(self.probs[self.order[row], frame], self.top_n)
            else:
                chars = self.candidates[row, frame].tolist()
            positions = self.exact[row, frame] = {c: i for i, c in enumerate(chars)}
        return positions[label]


class _Nodes:
    """One id per label sequence (its parent's id and last label), shared by all sequences of a batch."""

    def __init__(self, roots: int, capacity: int, classes: int):
        self.parent = np.full(roots + capacity, -1, dtype=np.int64)
        self.char = np.full(roots + capacity, -1, dtype=np.int64)
        self.count = roots
        self.classes = classes
        self.by_key: dict[int, int] = {}

    def find(self, parent: int, char: int) -> int | None:
        return self.by_key.get(parent * (self.classes + 1) + char)

    def get(self, parent: int, char: int) -> int:
        key = parent * (self.classes + 1) + char
        found = self.by_key.get(key)
        if found is None:
            found = self.by_key[key] = self.count
            self.parent[found], self.char[found] = parent, char
            self.count += 1
        return found

    def labels(self, node: int) -> list[int]:
        out = []
        while self.char[node] >= 0:
            out.append(int(self.char[node]))
            node = int(self.parent[node])
        return out[::-1]


def decode_fast(probs: np.ndarray, lengths: np.ndarray, beam_width: int = 10, blank: int = 0,
                cutoff_top_n: int = 40) -> list[Beams]:
    """Beams per sequence for ``probs [B, T, C]`` and ``lengths [B]``, exactly as ctcdecode orders them."""
    probs = np.asarray(probs, dtype=np.float32)
    batch, frames, classes = probs.shape
    lengths = np.minimum(np.asarray(lengths, dtype=np.int64), frames)
    order = np.argsort(-lengths, kind="stable")  # longest first: active sequences are a prefix
    lengths = lengths[order]
    k = beam_width

    cand_all, lp_all, at_cut, inside = batch_candidates(probs.reshape(batch * frames, classes), cutoff_top_n)
    width = cand_all.shape[1]
    cand_all = cand_all.reshape(batch, frames, width)[order]  # copies: rows may be rewritten below
    lp_all = lp_all.reshape(batch, frames, width)[order]
    in_length = np.arange(frames)[None, :] < lengths[:, None]
    for r, t in zip(*np.nonzero(at_cut.reshape(batch, frames)[order] & in_length)):
        # equal probabilities at the top-n cut: introsort decides which are kept
        cand_all[r, t], lp_all[r, t] = frame_candidates(probs[order[r], t], cutoff_top_n)
    ranks = _CandidateRanks(probs, order, cand_all, inside.reshape(batch, frames)[order], cutoff_top_n)

    # beam state, one row per sequence, one column per slot
    score = np.full((batch, k), _GONE, dtype=np.float32)
    b_prev = np.full((batch, k), NEG, dtype=np.float32)
    nb_prev = np.full((batch, k), NEG, dtype=np.float32)
    last = np.full((batch, k), -2, dtype=np.int64)  # -1 is the root; -2 an empty slot
    node = np.full((batch, k), -1, dtype=np.int64)
    parent_slot = np.full((batch, k), -1, dtype=np.int64)
    score[:, 0] = 0.0
    b_prev[:, 0] = 0.0
    last[:, 0] = -1
    node[:, 0] = np.arange(batch)  # node ids 0..batch-1 are the roots
    nodes = _Nodes(batch, int(lengths.sum()) * k, classes)
    history = np.full((batch, frames, k), -1, dtype=np.int64)  # beam node ids after each frame
    final_order: dict[int, list[int]] = {}  # row -> slots in ctcdecode's output order, where ties need it

    rows_all = np.arange(batch)
    for t in range(frames):
        n = int(np.searchsorted(-lengths, -t, side="left"))  # sequences with length > t
        if n == 0:
            break
        rows = rows_all[:n]
        cand, lp = cand_all[:n, t], lp_all[:n, t]
        sc, bp, nbp, la, pslot = score[:n], b_prev[:n], nb_prev[:n], last[:n], parent_slot[:n]
        exists = sc != _GONE

        is_blank = cand == blank
        has_blank = is_blank.any(axis=1)
        blank_lp = np.where(has_blank, lp[rows, is_blank.argmax(axis=1)], NEG)
        b_cur = np.where(has_blank[:, None], blank_lp[:, None] + sc, NEG)

        match = la[:, :, None] == cand[:, None, :]  # slot's last label among this frame's candidates
        has_c = match.any(axis=2)
        j_c = match.argmax(axis=2)
        lp_c = np.take_along_axis(lp, j_c, axis=1)
        rep = np.where(has_c, lp_c + nbp, NEG)

        from_parent = exists & (pslot >= 0) & has_c
        ps = np.maximum(pslot, 0)
        p_last = np.take_along_axis(la, ps, axis=1)
        p_bprev = np.take_along_axis(bp, ps, axis=1)
        p_score = np.take_along_axis(sc, ps, axis=1)
        ext = np.where(la == p_last, np.where(p_bprev > NEG, lp_c + p_bprev, NEG), lp_c + p_score)
        ext = np.where(from_parent, ext, NEG)

        nb_cur = log_sum_exp(rep, ext)
        new_score = np.where(exists, log_sum_exp(b_cur, nb_cur), _GONE)

        # extensions of every prefix by every candidate; "a a" needs a blank in between
        ext_all = lp[:, None, :] + sc[:, :, None]
        ext_rep = np.where((bp > NEG)[:, :, None], lp[:, None, :] + bp[:, :, None], NEG)
        child = np.where(match, ext_rep, ext_all)
        gone = is_blank[:, None, :] | ~exists[:, :, None]
        r_in, q_in = np.nonzero(from_parent)
        gone[r_in, pslot[r_in, q_in], j_c[r_in, q_in]] = True  # that extension is an existing prefix
        child = np.where(gone, _GONE, child).reshape(n, k * width)

        pool = np.concatenate([new_score, child], axis=1)
        pool_char = np.concatenate([la, np.tile(cand, (1, k))], axis=1)
        selected, ambiguous = _select(pool, pool_char, k)
        ending = lengths[:n] == t + 1
        tied_rows = set(np.flatnonzero(ambiguous).tolist())
        tied_rows.update(r for r in np.flatnonzero(ending).tolist() if _has_equivalents(pool[r], pool_char[r], selected[r]))
        for r in sorted(tied_rows):
            vector = _ctcdecode_vector(t, pool[r], pool_char[r], node[r], cand_all[r], history[r], nodes, k,
                                       lambda f, c, r=r: ranks.rank(r, f, c))
            selected[r] = False
            selected[r, vector] = True
            if ending[r]:  # slots are filled in column order: a column's slot is its rank among the kept
                columns = sorted(vector)
                final_order[r] = [columns.index(c) for c in vector]

        sel_r, sel_c = np.nonzero(selected)
        counts = selected.sum(axis=1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(sel_r.size) - starts[sel_r]

        old = sel_c < k
        kq = np.where(old, sel_c, (sel_c - k) // width)
        new_sc = np.full((n, k), _GONE, dtype=np.float32)
        new_bp = np.full((n, k), NEG, dtype=np.float32)
        new_nbp = np.full((n, k), NEG, dtype=np.float32)
        new_la = np.full((n, k), -2, dtype=np.int64)
        new_node = np.full((n, k), -1, dtype=np.int64)
        new_sc[sel_r, slot] = pool[sel_r, sel_c]
        new_bp[sel_r, slot] = np.where(old, b_cur[sel_r, kq], NEG)
        new_nbp[sel_r, slot] = np.where(old, nb_cur[sel_r, kq], pool[sel_r, sel_c])
        new_la[sel_r, slot] = pool_char[sel_r, sel_c]
        ids = node[sel_r, kq]  # a surviving prefix keeps its node; an extension gets the node of its labels
        for i in np.flatnonzero(~old).tolist():
            ids[i] = nodes.get(int(ids[i]), int(new_la[sel_r[i], slot[i]]))
        new_node[sel_r, slot] = ids

        # parent slots for the next frame: the slot holding each prefix's parent node, if any
        parents = np.where(new_node >= 0, nodes.parent[np.maximum(new_node, 0)], -2)
        same = (parents[:, :, None] == new_node[:, None, :]) & (new_node >= 0)[:, None, :]
        new_pslot = np.where(same.any(axis=2), same.argmax(axis=2), -1)

        score[:n], b_prev[:n], nb_prev[:n], last[:n], node[:n], parent_slot[:n] = (
            new_sc, new_bp, new_nbp, new_la, new_node, new_pslot)
        history[:n, t] = new_node

    results: list[Beams] = [[] for _ in range(batch)]
    for r in range(batch):
        if r in final_order:
            slots = final_order[r]
            stl.sort(slots, lambda a, b: _before(score[r, a], last[r, a], score[r, b], last[r, b]))
        else:  # no equivalent prefixes: (score, label) sorts them uniquely
            slots = sorted(np.flatnonzero(score[r] != _GONE).tolist(), key=lambda s: (-score[r, s], last[r, s]))
        results[order[r]] = [(nodes.labels(int(node[r, s])), float(-score[r, s])) for s in slots]
    return results


def _before(score_a, char_a, score_b, char_b) -> bool:
    """ctcdecode's ``prefix_compare``."""
    if score_a == score_b:
        return char_a < char_b
    return score_a > score_b


def _select(pool: np.ndarray, chars: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` of each row by (score descending, label ascending); rows where that is not unique."""
    n, _ = pool.shape
    exists = pool != _GONE
    count = exists.sum(axis=1)
    kth = -np.partition(-pool, k - 1, axis=1)[:, k - 1]
    above = pool > kth[:, None]
    at = pool == kth[:, None]
    need = k - above.sum(axis=1)
    selected = above | at
    ambiguous = np.zeros(n, dtype=bool)
    for r in np.flatnonzero(at.sum(axis=1) > need):
        if count[r] <= k:
            continue
        cols = np.flatnonzero(at[r])
        cs = chars[r, cols]
        ranked = np.argsort(cs, kind="stable")
        selected[r, cols[ranked[need[r]:]]] = False
        if cs[ranked[need[r] - 1]] == cs[ranked[need[r]]]:
            ambiguous[r] = True  # equivalent prefixes on both sides of the cut
    small = count <= k
    selected[small] = exists[small]
    return selected, ambiguous


def _has_equivalents(pool: np.ndarray, chars: np.ndarray, selected: np.ndarray) -> bool:
    """Whether the selected prefixes of one row include two with equal score and equal last label."""
    cols = np.flatnonzero(selected)
    return len(set(zip(pool[cols].tolist(), chars[cols].tolist()))) < cols.size


def _ctcdecode_vector(t: int, pool: np.ndarray, chars: np.ndarray, beam: np.ndarray, candidates: np.ndarray,
                      history: np.ndarray, nodes: _Nodes, k: int, rank) -> list[int]:
    """One sequence's pool columns in ctcdecode's vector order after frame ``t`` (pruned to ``k`` if it prunes).

    Rebuilds the depth-first order of the existing prefixes (the beam's and this frame's new extensions)
    from each live node's (creation frame, candidate rank) key, then runs ``std::nth_element`` on it.
    """
    keys = _lifetime_keys(history[:t], nodes, rank)
    width = candidates.shape[1]
    paths: dict[int, tuple] = {}

    def path(node_id: int) -> tuple:
        if node_id not in paths:
            parent = int(nodes.parent[node_id])
            paths[node_id] = () if parent < 0 else path(parent) + (keys[node_id],)
        return paths[node_id]

    entries = []
    for col in np.flatnonzero(pool != _GONE).tolist():
        if col < k:
            key = path(int(beam[col]))
        else:
            parent, j = int(beam[(col - k) // width]), (col - k) % width
            char = int(candidates[t, j])
            existing = nodes.find(parent, char)
            own = keys[existing] if existing is not None and existing in keys else (t, rank(t, char))  # revived/new
            key = path(parent) + (own,)
        entries.append((key, col))
    entries.sort()
    vector = [(float(pool[col]), int(chars[col]), col) for _, col in entries]
    if len(vector) >= k:
        stl.nth_element(vector, k, lambda a, b: _before(a[0], a[1], b[0], b[1]))
        del vector[k:]
    return [col for _, _, col in vector]


def _lifetime_keys(history: np.ndarray, nodes: _Nodes, rank) -> dict[int, tuple]:
    """(creation frame, candidate rank) of every node alive after the last frame of ``history``.

    A node is alive while it is a prefix of a beam member (ctcdecode keeps pruned nodes that still have children);
    when it stops being one, it is deleted, and a later extension creates it anew with a new key. Reference
    counts (in the beam + live children) follow this in time proportional to the beam's changes.
    """
    keys: dict[int, tuple] = {}
    refs: dict[int, int] = {}
    previous: set[int] = set()
    for f in range(history.shape[0]):
        current = {m for m in history[f].tolist() if m >= 0 and nodes.char[m] >= 0}
        for member in current - previous:  # entered the beam: created now, or revived with its old key
            if member not in refs:
                keys[member] = (f, rank(f, int(nodes.char[member])))
                refs[member] = 0
                parent = int(nodes.parent[member])
                if nodes.char[parent] >= 0:
                    refs[parent] += 1
            refs[member] += 1
        for member in previous - current:  # left the beam: deleted unless it still has live children
            refs[member] -= 1
            while refs[member] == 0:
                del refs[member], keys[member]
                member = int(nodes.parent[member])
                if nodes.char[member] < 0:
                    break
                refs[member] -= 1
        previous = current
    return keys
