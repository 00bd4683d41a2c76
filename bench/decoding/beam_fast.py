"""ctcdecode's beam search for many sequences at once, vectorised over sequences, beams and candidates.

Same float32 arithmetic as :mod:`bench.decoding.beam_exact`, without the trie. What the trie adds over a set
of prefixes is an *order* (children in creation order, depth-first collection, introselect), and order only
matters when two prefixes are equivalent under ctcdecode's comparison: equal float32 score and equal last
character. So this path tracks values only, and hands a sequence to the exact path whenever such a tie
could decide something: equivalent prefixes straddling the beam cut, or equivalent prefixes in the final
beams. Frames with equal probabilities at the top-n cut get their candidates from the libstdc++ sort emulation.
On real posteriors ties are rare; most golden cases with deliberate ties go the exact way.

Per frame and per sequence the work is: blank and repeat contributions for the <= beam prefixes, one
log-sum-exp per prefix for the two ways into it, a (beam x candidates) matrix of extensions, and a top-beam
selection. Only the selected extensions become prefixes; the others (ctcdecode creates and deletes them)
never influence a value.
"""

from __future__ import annotations

import numpy as np

from bench.decoding.candidates import batch_candidates, frame_candidates
from bench.decoding.libm import FLT_MAX, log_sum_exp

NEG = np.float32(-FLT_MAX)
_GONE = np.float32(-np.inf)  # marks pool entries that do not exist (never a real score)


def decode_fast(probs: np.ndarray, lengths: np.ndarray, beam_width: int = 10, blank: int = 0,
                cutoff_top_n: int = 40) -> list[list[tuple[list[int], float]] | None]:
    """Beams per sequence for ``probs [B, T, C]``; ``None`` for the sequences that need the exact path."""
    probs = np.asarray(probs, dtype=np.float32)
    batch, frames, classes = probs.shape
    lengths = np.minimum(np.asarray(lengths, dtype=np.int64), frames)
    order = np.argsort(-lengths, kind="stable")  # longest first: active sequences are a prefix
    lengths = lengths[order]
    k = beam_width

    cand_all, lp_all, tied = batch_candidates(probs.reshape(batch * frames, classes), cutoff_top_n)
    width = cand_all.shape[1]
    cand_all = cand_all.reshape(batch, frames, width)[order]  # copies: rows may be rewritten below
    lp_all = lp_all.reshape(batch, frames, width)[order]
    in_length = np.arange(frames)[None, :] < lengths[:, None]
    for r, t in zip(*np.nonzero(tied.reshape(batch, frames)[order] & in_length)):
        # equal probabilities at the top-n cut: introsort decides which are kept
        chars, log_probs = frame_candidates(probs[order[r], t], cutoff_top_n)
        cand_all[r, t], lp_all[r, t] = chars, log_probs
    needs_exact = np.zeros(batch, dtype=bool)

    # beam state, one row per sequence, one column per slot
    score = np.full((batch, k), _GONE, dtype=np.float32)
    b_prev = np.full((batch, k), NEG, dtype=np.float32)
    nb_prev = np.full((batch, k), NEG, dtype=np.float32)
    last = np.full((batch, k), -2, dtype=np.int64)  # -1 is the root; -2 an empty slot
    node = np.zeros((batch, k), dtype=np.int64)
    parent_slot = np.full((batch, k), -1, dtype=np.int64)
    score[:, 0] = 0.0
    b_prev[:, 0] = 0.0
    last[:, 0] = -1
    node[:, 0] = np.arange(batch)  # node ids 0..batch-1 are the roots
    capacity = batch + int(lengths.sum()) * k  # at most k new prefixes per sequence and frame
    node_parent = np.full(capacity, -1, dtype=np.int64)
    node_char = np.full(capacity, -1, dtype=np.int64)
    next_id = batch
    node_of: dict[int, int] = {}  # parent id * (classes + 1) + char -> node id

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

        match = la[:, :, None] == cand[:, None, :]  # slot's last char among this frame's candidates
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

        # extensions of every prefix by every candidate
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
        needs_exact[:n] |= ambiguous

        sel_r, sel_c = np.nonzero(selected)
        counts = selected.sum(axis=1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(sel_r.size) - starts[sel_r]

        old = sel_c < k
        kq = np.where(old, sel_c, (sel_c - k) // width)
        jq = (sel_c - k) % width
        new_sc = np.full((n, k), _GONE, dtype=np.float32)
        new_bp = np.full((n, k), NEG, dtype=np.float32)
        new_nbp = np.full((n, k), NEG, dtype=np.float32)
        new_la = np.full((n, k), -2, dtype=np.int64)
        new_node = np.zeros((n, k), dtype=np.int64)
        new_sc[sel_r, slot] = pool[sel_r, sel_c]
        new_bp[sel_r, slot] = np.where(old, b_cur[sel_r, kq], NEG)
        new_nbp[sel_r, slot] = np.where(old, nb_cur[sel_r, kq], pool[sel_r, sel_c])
        new_la[sel_r, slot] = pool_char[sel_r, sel_c]
        ids = node[sel_r, kq]  # a surviving prefix keeps its node; an extension gets the node of its labels
        fresh = np.flatnonzero(~old)
        if fresh.size:
            keys = (ids[fresh] * (classes + 1) + new_la[sel_r[fresh], slot[fresh]]).tolist()
            for i, key in zip(fresh.tolist(), keys):
                found = node_of.get(key)
                if found is None:  # one id per label sequence: a revived prefix is still its parent's child
                    found = node_of[key] = next_id
                    node_parent[next_id] = ids[i]
                    node_char[next_id] = key % (classes + 1)
                    next_id += 1
                ids[i] = found
        new_node[sel_r, slot] = ids

        # parent slots for the next frame: the slot holding each prefix's parent node, if any
        same = (node_parent[new_node][:, :, None] == new_node[:, None, :]) & (new_sc != _GONE)[:, None, :]
        new_pslot = np.where(same.any(axis=2), same.argmax(axis=2), -1)

        score[:n], b_prev[:n], nb_prev[:n], last[:n], node[:n], parent_slot[:n] = (
            new_sc, new_bp, new_nbp, new_la, new_node, new_pslot)

    results: list[list[tuple[list[int], float]] | None] = [None] * batch
    for r in range(batch):
        if needs_exact[r]:
            continue
        live = np.flatnonzero(score[r] != _GONE)
        ranked = sorted(live, key=lambda s: (-score[r, s], last[r, s]))
        keys = [(score[r, s], last[r, s]) for s in ranked]
        if len(set(keys)) < len(keys):  # equivalent prefixes: their final order is the sort's business
            continue
        results[order[r]] = [(_labels(int(node[r, s]), node_parent, node_char), float(-score[r, s])) for s in ranked]
    for r in np.flatnonzero(needs_exact):
        results[order[r]] = None
    return results


def _labels(node_id: int, node_parent: np.ndarray, node_char: np.ndarray) -> list[int]:
    out = []
    while node_char[node_id] >= 0:
        out.append(node_char[node_id])
        node_id = node_parent[node_id]
    return out[::-1]


def _select(pool: np.ndarray, chars: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` of each row by (score descending, char ascending); rows where that is not unique."""
    n, size = pool.shape
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
            ambiguous[r] = True
    small = count <= k
    selected[small] = exists[small]
    return selected, ambiguous
