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
    assert json.loads(out.stdout)["wer"] == pytest.approx(80.0)  # the coverage warning goes to stderr
    assert "1 of 2 reference ids have no hypothesis words" in out.stderr
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


@pytest.fixture
def half(tmp_path):
    """A reference of 6 ids and a CTM with words for 3 of them (as a CTM written from part of a split)."""
    ids = [f"s{i}" for i in range(6)]
    ref = write_stm([StmSegment(i, "1", "s", 0.0, END, ("A", "B")) for i in ids], tmp_path / "ref.stm")
    hyp = write_ctm(hypotheses_to_ctm({i: ["A", "B"] for i in ids[::2]}), tmp_path / "half.ctm")
    return ref, hyp


def test_missing_hypotheses_are_counted_in_the_result(half):
    ref, hyp = half
    result = score(ref, hyp)
    assert result.missing_ids == ("s1", "s3", "s5") and result.hypothesis_ids == 3
    assert result.to_dict()["coverage"] == {"reference_ids": 6, "hypothesis_ids": 3, "missing": 3,
                                            "missing_ids": ["s1", "s3", "s5"]}
    assert result.coverage_warning() == ("3 of 6 reference ids have no hypothesis words and are scored as [EMPTY] "
                                         "(every word an error): s1, s3, s5")
    assert score(ref, {i: [] for i in ("s0", "s1", "s2", "s3", "s4", "s5")}).missing_ids == ()  # empty on purpose


def test_cli_warns_on_stderr_and_keeps_json_clean(half):
    ref, hyp = half
    out = CliRunner().invoke(app, ["score", str(ref), str(hyp), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["coverage"]["missing"] == 3 and json.loads(out.stdout)["wer"] == pytest.approx(50.0)
    assert out.stderr == (f"warning: {hyp}: 3 of 6 reference ids have no hypothesis words and are scored as [EMPTY] "
                          "(every word an error): s1, s3, s5 (--strict makes this an error)\n")
    strict = CliRunner().invoke(app, ["score", str(ref), str(hyp), "--json", "--strict"])
    assert strict.exit_code == 1 and strict.stdout == ""
    assert strict.stderr.startswith(f"error: {hyp}: 3 of 6 reference ids have no hypothesis words")


def test_cli_empty_hypothesis_file(half, tmp_path):
    ref, _ = half
    empty = tmp_path / "empty.ctm"
    empty.write_text("")
    out = CliRunner().invoke(app, ["score", str(ref), str(empty)])
    assert out.exit_code == 0 and "Percent Total Error = 100.0%" in out.stdout
    assert out.stderr == (f"warning: {empty}: no hypothesis words at all: all 6 reference ids are scored as [EMPTY] "
                          "(every word an error) (--strict makes this an error)\n")
    assert CliRunner().invoke(app, ["score", str(ref), str(empty), "--strict"]).exit_code == 1


def test_cli_unknown_ids_non_utf8_and_malformed_files_are_errors_on_stderr(half, tmp_path):
    ref, _ = half
    cases = {"other.ctm": (b"s0 1 0.00 0.01 A\nx9 1 0.00 0.01 A\n",
                           f": 1 of 2 hypothesis ids are not in the reference {ref} (wrong reference file or split?), "
                           "e.g. x9"),
             "latin1.ctm": ("s0 1 0.00 0.01 K\xe4SE\n".encode("latin-1"),  # the umlaut is byte 16 of line 1
                            ":1: not UTF-8 text: byte 0xe4 at byte offset 16 of the file; expected UTF-8"),
             "short.ctm": (b"s0 1 0.00 A\n", ":1: a CTM line needs 'file channel start duration word [confidence]'")}
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        out = CliRunner().invoke(app, ["score", str(ref), str(path), "--json"])
        assert out.exit_code == 2 and out.stdout == ""
        assert out.stderr.startswith(f"error: {path}{message}"), out.stderr
