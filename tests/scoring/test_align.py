"""sclite's alignment: hand-worked tie-breaks and counts."""

from bench.scoring.align import align


def counts(ref, hyp, **kw):
    a = align(ref.split(), hyp.split(), **kw)
    return a.correct, a.substitutions, a.deletions, a.insertions


def test_identity_and_empty():
    assert counts("A B C", "A B C") == (3, 0, 0, 0)
    assert counts("A B", "") == (0, 0, 2, 0)
    assert counts("", "A B") == (0, 0, 0, 2)


def test_substitution_preferred_over_deletion_plus_insertion():
    # one substitution costs 4, a deletion and an insertion 6
    assert counts("A B C", "A X C") == (2, 1, 0, 0)


def test_tie_breaking_follows_sclite():
    # ref "A B", hyp "[EMPTY]": sclite aligns A->* (deletion) and B->[EMPTY] (substitution), not the reverse
    a = align(["A", "B"], ["[EMPTY]"])
    assert [op for op, _, _ in a.ops] == ["D", "S"]
    assert a.ops[1] == ("S", "B", "[EMPTY]")
    # equal-cost choice between a deletion and an insertion goes to the insertion (del < ins is strict)
    a = align(["A", "B"], ["B", "C"])
    assert [op for op, _, _ in a.ops] == ["D", "C", "I"]


def test_case_insensitive_ascii_only_like_sclite():
    assert counts("REGEN Ä", "regen ä") == (1, 1, 0, 0)  # sclite folds ASCII only: Ä and ä differ
    assert counts("REGEN", "regen", case_sensitive=True) == (0, 1, 0, 0)
