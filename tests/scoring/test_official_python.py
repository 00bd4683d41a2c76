"""SlowFastSign's evaluator, quirks included: last-character truncation, duplicate merging, two decimals."""

from bench.io.transcripts import read_stm
from bench.scoring import score
from bench.scoring.official_python import align_official, reference_words


def _write(tmp_path, text):
    path = tmp_path / "ref.stm"
    path.write_text(text, encoding="utf-8")
    return path


def test_last_line_without_newline_loses_its_last_character(tmp_path):
    ref = _write(tmp_path, "a 1 s 0.0 1.79769e+308 REGEN SONNE\nb 1 s 0.0 1.79769e+308 WIND NORD")
    assert reference_words(read_stm(ref)[1].raw) == ["WIND", "NOR"]
    hyps = {"a": ["REGEN", "SONNE"], "b": ["WIND", "NORD"]}
    official = score(ref, hyps, scorer="official-python")
    corrected = score(ref, hyps, scorer="python")
    assert corrected.errors == 0
    assert official.errors == 1 and official.total("substitutions") == 1
    assert official.wer == 25.0  # 1 error / 4 words, printed as 25.00


def test_duplicates_merged_and_case_sensitive(tmp_path):
    ref = _write(tmp_path, "a 1 s 0.0 1.79769e+308 REGEN REGEN SONNE\n")
    official = score(ref, {"a": ["REGEN", "REGEN", "sonne"]}, scorer="official-python", cleanup="none")
    # hypothesis becomes REGEN sonne: one deletion (merged duplicate) and one substitution (case)
    assert (official.total("deletions"), official.total("substitutions")) == (1, 1)
    assert score(ref, {"a": ["REGEN", "REGEN", "sonne"]}, scorer="python").errors == 0


def test_two_decimals(tmp_path):
    ref = _write(tmp_path, "".join(f"s{i} 1 s 0.0 1.79769e+308 A B C\n" for i in range(3)))
    official = score(ref, {"s0": ["A", "B", "C"], "s1": ["A", "B", "C"], "s2": ["A", "B", "X"]},
                     scorer="official-python")
    assert official.wer == 11.11  # 1/9 = 11.111...%, printed with two decimals


def test_tie_breaking_prefers_deletion_over_insertion():
    steps = align_official(["A", "B"], ["B", "C"])
    assert [op for op, _, _ in steps] == ["D", "C", "I"]
    steps = align_official(["A"], ["B", "A"])
    assert [op for op, _, _ in steps] == ["I", "C"]


def test_phoenix_dev_reference_has_no_final_newline(reference):
    # the published SlowFastSign numbers carry one extra error per file: its last gloss is cut
    from bench.decoding import merge_repeats

    stm = reference / "cslr" / "phoenix2014" / "phoenix2014-groundtruth-dev.stm"
    assert not stm.read_text(encoding="utf-8").endswith("\n")
    # a perfect decoder's output: the reference with repeats merged (decoders never emit "A A")
    perfect = {s.file: merge_repeats(s.words) for s in read_stm(stm)}
    corrected = score(stm, perfect, scorer="python")
    official = score(stm, perfect, scorer="official-python")
    assert corrected.errors == corrected.total("deletions") == 5  # the reference's own repeated glosses
    assert official.errors == corrected.errors + 1
    assert official.wer == round(100 * 6 / 5540, 2)
