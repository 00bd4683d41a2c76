"""libstdc++'s ``std::sort`` and ``std::nth_element``, step for step, for lists and a strict-weak-order ``less``.

ctcdecode orders equal elements the way these two algorithms happen to leave them (introsort is not stable),
and that order decides which of two equally probable prefixes survives a beam. Reproducing it exactly
needs the same median-of-three pivots, unguarded partitions, 16-element insertion-sort threshold and heap
fallbacks as GCC's ``bits/stl_algo.h`` / ``bits/stl_heap.h``; this module follows them line for line.
"""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")
Less = Callable[[T, T], bool]

_THRESHOLD = 16


def _lg(n: int) -> int:
    return n.bit_length() - 1


def _move_median_to_first(v: list, result: int, a: int, b: int, c: int, less: Less) -> None:
    if less(v[a], v[b]):
        if less(v[b], v[c]):
            v[result], v[b] = v[b], v[result]
        elif less(v[a], v[c]):
            v[result], v[c] = v[c], v[result]
        else:
            v[result], v[a] = v[a], v[result]
    elif less(v[a], v[c]):
        v[result], v[a] = v[a], v[result]
    elif less(v[b], v[c]):
        v[result], v[c] = v[c], v[result]
    else:
        v[result], v[b] = v[b], v[result]


def _unguarded_partition(v: list, first: int, last: int, pivot: int, less: Less) -> int:
    p = v[pivot]
    while True:
        while less(v[first], p):
            first += 1
        last -= 1
        while less(p, v[last]):
            last -= 1
        if not first < last:
            return first
        v[first], v[last] = v[last], v[first]
        first += 1


def _unguarded_partition_pivot(v: list, first: int, last: int, less: Less) -> int:
    mid = first + (last - first) // 2
    _move_median_to_first(v, first, first + 1, mid, last - 1, less)
    return _unguarded_partition(v, first + 1, last, first, less)


def _unguarded_linear_insert(v: list, last: int, less: Less) -> None:
    val = v[last]
    nxt = last - 1
    while less(val, v[nxt]):
        v[last] = v[nxt]
        last = nxt
        nxt -= 1
    v[last] = val


def _insertion_sort(v: list, first: int, last: int, less: Less) -> None:
    if first == last:
        return
    for i in range(first + 1, last):
        if less(v[i], v[first]):
            val = v[i]
            v[first + 1:i + 1] = v[first:i]
            v[first] = val
        else:
            _unguarded_linear_insert(v, i, less)


def _final_insertion_sort(v: list, first: int, last: int, less: Less) -> None:
    if last - first > _THRESHOLD:
        _insertion_sort(v, first, first + _THRESHOLD, less)
        for i in range(first + _THRESHOLD, last):
            _unguarded_linear_insert(v, i, less)
    else:
        _insertion_sort(v, first, last, less)


def _push_heap(v: list, first: int, hole: int, top: int, val, less: Less) -> None:
    parent = (hole - 1) // 2
    while hole > top and less(v[first + parent], val):
        v[first + hole] = v[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[first + hole] = val


def _adjust_heap(v: list, first: int, hole: int, length: int, val, less: Less) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(v[first + child], v[first + child - 1]):
            child -= 1
        v[first + hole] = v[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        v[first + hole] = v[first + child - 1]
        hole = child - 1
    _push_heap(v, first, hole, top, val, less)


def _make_heap(v: list, first: int, last: int, less: Less) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(v, first, parent, length, v[first + parent], less)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(v: list, first: int, last: int, result: int, less: Less) -> None:
    val = v[result]
    v[result] = v[first]
    _adjust_heap(v, first, 0, last - first, val, less)


def _heap_select(v: list, first: int, middle: int, last: int, less: Less) -> None:
    _make_heap(v, first, middle, less)
    for i in range(middle, last):
        if less(v[i], v[first]):
            _pop_heap(v, first, middle, i, less)


def _sort_heap(v: list, first: int, last: int, less: Less) -> None:
    while last - first > 1:
        last -= 1
        _pop_heap(v, first, last, last, less)


def _introsort_loop(v: list, first: int, last: int, depth: int, less: Less, need: int, skipped: list) -> None:
    while last - first > _THRESHOLD:
        if depth == 0:
            _heap_select(v, first, last, last, less)  # std::__partial_sort(first, last, last)
            _sort_heap(v, first, last, less)
            return
        depth -= 1
        cut = _unguarded_partition_pivot(v, first, last, less)
        if cut < need:
            _introsort_loop(v, cut, last, depth, less, need, skipped)
        else:  # nothing right of this cut can reach a position below `need`
            skipped.append(cut)
        last = cut


def sort(v: list, less: Less, need: int | None = None) -> None:
    """``std::sort(v.begin(), v.end(), less)`` in place.

    With ``need``, only positions ``[0, need)`` are guaranteed to hold what ``std::sort`` puts there: partitions
    entirely right of ``need`` are skipped, since introsort never moves an element across a partition cut
    (left part <= pivot <= right part, and insertion sort stops at an element that is not greater).
    """
    n = len(v)
    if n == 0:
        return
    need = n if need is None else min(n, need)
    skipped: list[int] = []
    _introsort_loop(v, 0, n, 2 * _lg(n), less, need, skipped)
    _final_insertion_sort(v, 0, min(skipped, default=n), less)


def nth_element(v: list, nth: int, less: Less) -> None:
    """``std::nth_element(v.begin(), v.begin() + nth, v.end(), less)`` in place."""
    first, last = 0, len(v)
    if first == last or nth == last:
        return
    depth = 2 * _lg(last - first)
    while last - first > 3:
        if depth == 0:
            _heap_select(v, first, nth + 1, last, less)
            v[first], v[nth] = v[nth], v[first]
            return
        depth -= 1
        cut = _unguarded_partition_pivot(v, first, last, less)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(v, first, last, less)
