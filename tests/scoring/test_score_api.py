"""score(): inputs, JSON layout, and errors a user can act on."""

import json

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.io.transcripts import StmSegment, hypotheses_to_ctm, write_ctm, write_stm
from bench.scoring import score

END = 1.79769e308


@pytest.fixture
def files(tmp_path):
    ref = write_stm([StmSegment("b", "1", "s", 0.0, END, ("REGEN", "SONNE", "WIND")),
                     StmSegment("a", "1", "s", 0.0, END, ("NORD", "SUED"))], tmp_path / "ref.stm")
    hyp = write_ctm(hypotheses_to_ctm({"b": ["loc-REGEN", "WOLKE", "WIND", "WIND"]}), tmp_path / "hyp.ctm")
    return ref, hyp


def test_counts_and_json_layout(files):
    ref, hyp = files
    result = score(ref, hyp)
    data = result.to_dict()
    # b: REGEN (cleaned from loc-REGEN) correct, SONNE->WOLKE sub, WIND correct, extra WIND inserted
    # a: no hypothesis -> [EMPTY]: NORD deleted, SUED->[EMPTY] substituted
    assert [s["id"] for s in data["sentences"]] == ["a", "b"]  # reference order (the STM was written sorted)
    assert data["sentences"][1] == {"id": "b", "ref_words": 3, "correct": 2, "substitutions": 1, "deletions": 0,
                                    "insertions": 1}
    assert data["sentences"][0] == {"id": "a", "ref_words": 2, "correct": 0, "substitutions": 1, "deletions": 1,
                                    "insertions": 0}
    assert (data["ref_words"], data["correct"], data["substitutions"], data["deletions"], data["insertions"]) == (
        5, 2, 2, 1, 1)
    assert data["wer"] == pytest.approx(80.0)
    assert (data["scorer"], data["cleanup"]) == ("python", "official")


def test_cli_json_and_table(files):
    ref, hyp = files
    runner = CliRunner()
    out = runner.invoke(app, ["score", str(ref), str(hyp), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["wer"] == pytest.approx(80.0)
    out = runner.invoke(app, ["score", str(ref), str(hyp)])
    assert out.exit_code == 0 and "Percent Total Error = 80.0%" in out.output
    # REGEN SONNE WIND vs REGEN WOLKE WIND WIND ties two ways; sclite inserts WOLKE and substitutes SONNE->WIND
    assert "SONNE" in out.output and "[EMPTY]" in out.output


def test_unknown_hypothesis_id_is_an_error(files):
    ref, _ = files
    with pytest.raises(ValueError, match="not in the reference"):
        score(ref, {"zzz": ["A"]})


def test_duplicate_reference_ids_and_bad_lines(tmp_path):
    ref = tmp_path / "dup.stm"
    ref.write_text("a 1 s 0.0 1 A\na 1 s 0.0 1 B\n")
    with pytest.raises(ValueError, match="more than one STM segment"):
        score(ref, {})
    good = tmp_path / "good.stm"
    good.write_text("a 1 s 0.0 1 A\n")
    bad = tmp_path / "bad.ctm"
    bad.write_text("a 1 0.00 A\n")
    with pytest.raises(ValueError, match="bad.ctm:1"):
        score(good, bad)


def test_sclite_syntax_is_refused_by_the_python_scorer():
    segments = [StmSegment("a", "1", "s", 0.0, END, ("(UH)", "REGEN"))]
    with pytest.raises(ValueError, match="special meaning to sclite"):
        score(segments, {"a": ["REGEN"]})
