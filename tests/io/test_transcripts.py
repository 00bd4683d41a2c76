"""STM/CTM reading and writing: the official CTM format, sorting, atomic writes, named errors."""

import pytest

from bench.io.transcripts import (CtmWord, TranscriptFormatError, ctm_hypotheses, hypotheses_to_ctm, read_ctm, read_stm,
                                  write_ctm, write_stm)


def test_ctm_is_the_official_write2file_format(tmp_path):
    path = write_ctm(hypotheses_to_ctm({"b": ["X", "Y"], "a": ["Z"]}), tmp_path / "h.ctm")
    assert path.read_text() == "a 1 0.00 0.01 Z\nb 1 0.00 0.01 X\nb 1 0.01 0.02 Y\n"
    assert ctm_hypotheses(read_ctm(path)) == {"a": ["Z"], "b": ["X", "Y"]}


def test_stm_round_trip_keeps_labels_and_raw_lines(tmp_path):
    path = tmp_path / "r.stm"
    path.write_text(";; comment\nb 1 spk 0.0 1.79769e+308 <o,f0,male> A  B\n\na 1 spk 0.0 1.79769e+308 C")
    segments = read_stm(path)
    assert [s.file for s in segments] == ["b", "a"]
    assert segments[0].labels == "<o,f0,male>" and segments[0].words == ("A", "B")
    assert segments[1].raw == "a 1 spk 0.0 1.79769e+308 C"  # no newline: kept as read
    out = write_stm(segments, tmp_path / "sorted.stm")
    assert [s.file for s in read_stm(out)] == ["a", "b"]


def test_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.stm"
    path.write_text("a 1 spk 0.0\n")
    with pytest.raises(TranscriptFormatError, match="bad.stm:1"):
        read_stm(path)
    path = tmp_path / "bad.ctm"
    path.write_text("a 1 x 0.01 A\n")
    with pytest.raises(TranscriptFormatError, match="bad.ctm:1: expected a number, found 'x'"):
        read_ctm(path)


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "h.ctm"
    target.write_text("old\n")

    def broken():
        yield CtmWord("a", "1", 0.0, 0.01, "A")
        raise RuntimeError("disk full")

    import bench.io.transcripts as transcripts

    monkeypatch.setattr(transcripts, "sorted", lambda words, key: broken(), raising=False)
    with pytest.raises(RuntimeError):
        write_ctm([], target)
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("reader, name, good", [(read_stm, "latin1.stm", "a 1 spk 0.0 1.0 A\n"),
                                                (read_ctm, "latin1.ctm", "a 1 0.00 0.01 A\n")])
def test_non_utf8_names_file_line_and_byte_offset(tmp_path, reader, name, good):
    path = tmp_path / name
    path.write_bytes(good.encode() + "b 1 0.00 0.01 K\xe4SE\n".encode("latin-1"))  # a Latin-1 umlaut on line 2
    offset = len(good) + len("b 1 0.00 0.01 K")
    with pytest.raises(TranscriptFormatError, match=f"{name}:2: not UTF-8 text: byte 0xe4 at byte offset {offset} "
                                                    "of the file; expected UTF-8"):
        reader(path)


def test_malformed_lines_say_the_expected_fields(tmp_path):
    path = tmp_path / "short.ctm"
    path.write_text("a 1 0.00 0.01 A\na 1 0.01 B\n")
    with pytest.raises(TranscriptFormatError, match=r"short.ctm:2: a CTM line needs 'file channel start duration "
                                                    r"word \[confidence\]'; found 4 fields"):
        read_ctm(path)
    path = tmp_path / "bad.stm"
    path.write_text("a 1 spk zero 1.0 A\n")
    with pytest.raises(TranscriptFormatError, match=r"bad.stm:1: expected a number, found 'zero' \(fields: 'file "
                                                    r"channel speaker start end"):
        read_stm(path)
