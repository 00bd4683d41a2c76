"""The libstdc++ sort/nth_element emulation against what real libstdc++ did (tests/fixtures, from a C++ run)."""

import json
import random

import pytest

from bench.decoding import stl
from conftest import FIXTURES

CASES = json.loads((FIXTURES / "libstdcxx_cases.json").read_text())


def _before(a, b):
    return a[0] > b[0]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_matches_libstdcxx(index):
    case = CASES[index]
    items = [(key, i) for i, key in enumerate(case["keys"])]
    if case["op"] == 0:
        stl.sort(items, _before)
    else:
        stl.nth_element(items, case["nth"], _before)
    assert [i for _, i in items] == case["out"]


def test_partial_sort_prefix_equals_full_sort():
    sorts = [c for c in CASES if c["op"] == 0 and len(c["keys"]) > 20]
    rng = random.Random(0)
    for case in sorts:
        need = rng.randint(1, len(case["keys"]))
        items = [(key, i) for i, key in enumerate(case["keys"])]
        stl.sort(items, _before, need=need)
        assert [i for _, i in items[:need]] == case["out"][:need]


def test_sort_is_not_stable_on_ties_like_introsort():
    # 17 equal keys exceed the 16-element insertion-sort threshold: introsort's partition reorders them
    items = [(0, i) for i in range(17)]
    stl.sort(items, _before)
    assert [i for _, i in items] != list(range(17))
    assert sorted(i for _, i in items) == list(range(17))
