"""The official hypothesis clean-up, rule by rule, and the raw PHOENIX annotation mapping onto the reference."""

import pytest

from bench.scoring import clean_gloss, clean_hypotheses, fill_empty, score


@pytest.mark.parametrize("raw, clean", [
    ("loc-REGEN", "REGEN"),
    ("NICHT-cl-KOMMEN", "NICHT-KOMMEN"),
    ("cl-loc-X", "X"),            # loc- goes first, then cl-
    ("poss-EUCH", "EUCH"),
    ("qu-WAS", "WAS"),
    ("lh-HOCH", "HOCH"),
    ("S0NNE", "SONNE"),
    ("HABEN2", "HABEN"),
    ("ZEIGEN", "ZEIGEN-BILDSCHIRM"),
    ("HINZEIGEN", "HINZEIGEN-BILDSCHIRM"),  # sed 's,ZEIGEN$,...' matches the end of any gloss
    ("ZEIGEN-BILDSCHIRM", "ZEIGEN-BILDSCHIRM"),
    ("ZEITRAUM", "ZEIT"),         # two capitals before RAUM keep, RAUM goes
    ("RAUM", "RAUM"),
    ("KOMMEN-PLUSPLUS", "KOMMEN"),
    ("__EMOTION__", ""),
    ("__PU__", ""),
    ("__LEFTHAND__", ""),
    ("__EPENTHESIS__", ""),
    ("__ON__", "__ON__"),
    ("__OFF__", "__OFF__"),
    ("neg-REGEN", "neg-REGEN"),
])
def test_single_gloss_rules(raw, clean):
    assert clean_gloss(raw) == clean


def test_deleted_glosses_leave_empty_and_empty_fills():
    cleaned = clean_hypotheses({"a": ["__EMOTION__", "loc-REGEN"], "b": ["__PU__"]})
    assert cleaned == {"a": ["REGEN"], "b": []}
    assert fill_empty(cleaned, ["a", "b", "c"]) == {"a": ["REGEN"], "b": ["[EMPTY]"], "c": ["[EMPTY]"]}
    assert clean_hypotheses({"a": ["loc-REGEN"]}, "none") == {"a": ["loc-REGEN"]}
    with pytest.raises(ValueError, match="unknown clean-up"):
        clean_hypotheses({}, "sed")


def test_reference_ids_never_contain_clean_up_patterns(reference):
    # the script applies its rules to whole CTM lines; applying them to glosses only is the same when ids are clean
    from bench.io.transcripts import read_stm

    for stm in sorted((reference / "cslr").glob("*/*-groundtruth-*.stm")):
        for segment in read_stm(stm):
            assert clean_gloss("X" + segment.file) == "X" + segment.file, (stm, segment.file)


@pytest.mark.parametrize("scorer", ["python", "sclite"])
def test_raw_dev_annotation_scores_zero_against_the_official_reference(reference, scorer, request):
    if scorer == "sclite":
        request.getfixturevalue("sclite_binary")
    from bench.io.transcripts import read_stm

    root = reference / "cslr" / "phoenix2014"
    raw = {s.file: list(s.words) for s in read_stm(root / "raw-annotation-dev.stm")}
    result = score(root / "phoenix2014-groundtruth-dev.stm", raw, scorer=scorer)
    assert len(result.sentences) == 540
    assert result.ref_words == 5540
    assert result.errors == 0 and result.wer == 0.0
