"""Greedy decoding equals argmax-then-collapse; the papers' extra merge after blank removal."""

import numpy as np

from bench.decoding import ctc_collapse, greedy_decode, merge_repeats


def test_collapse_and_merge_by_hand():
    assert ctc_collapse([0, 3, 3, 0, 0, 3, 5, 5, 0]) == [3, 3, 5]
    assert merge_repeats([3, 3, 5, 3]) == [3, 5, 3]
    assert ctc_collapse([0, 0, 0]) == []


def test_greedy_is_argmax_collapse():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((5, 40, 7))
    lengths = np.array([40, 33, 10, 1, 0])
    got = greedy_decode(scores, lengths, merge=False)
    for b in range(5):
        path = scores[b, : lengths[b]].argmax(axis=1)
        expected = []
        previous = None
        for label in path:  # the CTC map written out: keep a label when it changes and is not blank
            if label != previous and label != 0:
                expected.append(int(label))
            previous = label
        assert got[b] == expected


def test_official_max_decode_merges_across_blanks():
    # frames: A A blank A B -> collapse A A B -> official MaxDecode merges again -> A B
    one_hot = np.eye(4)[[1, 1, 0, 1, 2]][None]
    assert greedy_decode(one_hot, merge=False) == [[1, 1, 2]]
    assert greedy_decode(one_hot) == [[1, 2]]
