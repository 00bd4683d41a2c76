"""NIST transcript files: STM references and CTM hypotheses, as the CSLR repositories write them for sclite.

STM: ``file channel speaker start end [<labels>] word word ...`` (one segment per line; ``;;`` comments).
CTM: ``file channel start duration word [confidence]`` (one word per line).
sclite reads both files in step, file by file, so they are written in the same order (ids sorted as strings,
words in time order); a file that appears in one and not the other misaligns everything after it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from bench.io.atomic import atomic_open


@dataclass(frozen=True)
class StmSegment:
    """One reference segment; ``raw`` keeps the line exactly as read (the official Python scorer needs it)."""

    file: str
    channel: str
    speaker: str
    start: float
    end: float
    words: tuple[str, ...]
    labels: str | None = None
    raw: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class CtmWord:
    """One hypothesis word."""

    file: str
    channel: str
    start: float
    duration: float
    word: str
    confidence: float | None = None


STM_FORMAT = "file channel speaker start end [<labels>] words..."
CTM_FORMAT = "file channel start duration word [confidence]"


class TranscriptFormatError(ValueError):
    """A transcript line that does not follow the STM/CTM format; the message names file and line."""


def read_stm(path: str | os.PathLike) -> list[StmSegment]:
    """Read an STM file (UTF-8), keeping each raw line; blank lines and ``;;`` comments are skipped."""
    path = Path(path)
    segments = []
    for number, line in _lines(path):
        fields = line.split()
        if not fields or fields[0].startswith(";;"):
            continue
        if len(fields) < 5:
            raise TranscriptFormatError(f"{path}:{number}: an STM line needs '{STM_FORMAT}'; found {line!r}")
        labels = None
        words = fields[5:]
        if words and words[0].startswith("<"):
            labels, words = words[0], words[1:]
        segments.append(StmSegment(fields[0], fields[1], fields[2], _number(fields[3], path, number, STM_FORMAT),
                                   _number(fields[4], path, number, STM_FORMAT), tuple(words), labels, line))
    return segments


def read_ctm(path: str | os.PathLike) -> list[CtmWord]:
    """Read a CTM file (UTF-8); blank lines and ``;;`` comments are skipped."""
    path = Path(path)
    words = []
    for number, line in _lines(path):
        fields = line.split()
        if not fields or fields[0].startswith(";;"):
            continue
        if len(fields) not in (5, 6):
            raise TranscriptFormatError(
                f"{path}:{number}: a CTM line needs '{CTM_FORMAT}'; found {len(fields)} fields in {line!r}")
        confidence = _number(fields[5], path, number, CTM_FORMAT) if len(fields) == 6 else None
        words.append(CtmWord(fields[0], fields[1], _number(fields[2], path, number, CTM_FORMAT),
                             _number(fields[3], path, number, CTM_FORMAT), fields[4], confidence))
    return words


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a UTF-8 file, each line with its line break as read; a byte that is not UTF-8 is
    an error naming the line and the byte offset in the file."""
    offset = 0
    for number, raw in enumerate(path.read_bytes().splitlines(keepends=True), 1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise TranscriptFormatError(
                f"{path}:{number}: not UTF-8 text: byte 0x{raw[err.start]:02x} at byte offset {offset + err.start} "
                "of the file; expected UTF-8 (re-encode it, e.g. iconv -f latin1 -t utf-8)") from None
        offset += len(raw)


def _number(text: str, path: Path, line: int, layout: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise TranscriptFormatError(f"{path}:{line}: expected a number, found {text!r} (fields: '{layout}')") from None


def ctm_hypotheses(words: Iterable[CtmWord]) -> dict[str, list[str]]:
    """Words per file id, in time order (stable for equal times), ids in order of first appearance."""
    grouped: dict[str, list[CtmWord]] = {}
    for word in words:
        grouped.setdefault(word.file, []).append(word)
    return {file: [w.word for w in sorted(ws, key=lambda w: w.start)] for file, ws in grouped.items()}


def hypotheses_to_ctm(hypotheses: Mapping[str, Sequence[str]]) -> list[CtmWord]:
    """The CSLR repositories' CTM: word i of a sample spans ``i/100 .. (i+1)/100``, channel 1."""
    return [CtmWord(file, "1", i / 100, (i + 1) / 100, word)
            for file, words in hypotheses.items() for i, word in enumerate(words)]


def format_ctm_line(word: CtmWord) -> str:
    """One CTM line as the official ``write2file`` formats it (two decimals; the 4th field is (i+1)/100)."""
    line = f"{word.file} {word.channel} {word.start:.2f} {word.duration:.2f} {word.word}"
    return line if word.confidence is None else f"{line} {word.confidence:.4f}"


def format_stm_line(segment: StmSegment) -> str:
    labels = f" {segment.labels}" if segment.labels else ""
    words = " ".join(segment.words)
    return f"{segment.file} {segment.channel} {segment.speaker} {segment.start!r} {segment.end!r}{labels} {words}".rstrip()


def write_ctm(words: Iterable[CtmWord], path: str | os.PathLike, sort: bool = True) -> Path:
    """Write a CTM atomically, sorted by file id (byte order) then start time, or in the given order (``sort=False``:
    the official ``write2file`` keeps the loader's order)."""
    ordered = sorted(words, key=lambda w: (w.file, w.channel, w.start)) if sort else list(words)  # like LC_ALL=C
    return _write_lines(path, (format_ctm_line(w) for w in ordered))


def write_stm(segments: Iterable[StmSegment], path: str | os.PathLike) -> Path:
    """Write an STM sorted by file id (byte order), then start time, atomically."""
    ordered = sorted(segments, key=lambda s: (s.file, s.channel, s.start))  # the CTM's order
    return _write_lines(path, (format_stm_line(s) for s in ordered))


def _write_lines(path: str | os.PathLike, lines: Iterable[str]) -> Path:
    with atomic_open(path) as handle:
        for line in lines:
            handle.write(line + "\n")
    return Path(path)
