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
from typing import Iterable, Mapping, Sequence

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


class TranscriptFormatError(ValueError):
    """A transcript line that does not follow the STM/CTM format; the message names file and line."""


def read_stm(path: str | os.PathLike) -> list[StmSegment]:
    """Read an STM file (UTF-8), keeping each raw line; blank lines and ``;;`` comments are skipped."""
    path = Path(path)
    segments = []
    with path.open("r", encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.split()
            if not fields or fields[0].startswith(";;"):
                continue
            if len(fields) < 5:
                raise TranscriptFormatError(
                    f"{path}:{number}: an STM line needs 'file channel speaker start end [words]'; found {line!r}")
            labels = None
            words = fields[5:]
            if words and words[0].startswith("<"):
                labels, words = words[0], words[1:]
            segments.append(StmSegment(fields[0], fields[1], fields[2], _number(fields[3], path, number),
                                       _number(fields[4], path, number), tuple(words), labels, line))
    return segments


def read_ctm(path: str | os.PathLike) -> list[CtmWord]:
    """Read a CTM file (UTF-8); blank lines and ``;;`` comments are skipped."""
    path = Path(path)
    words = []
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.split()
            if not fields or fields[0].startswith(";;"):
                continue
            if len(fields) not in (5, 6):
                raise TranscriptFormatError(
                    f"{path}:{number}: a CTM line needs 'file channel start duration word [confidence]'; "
                    f"found {len(fields)} fields in {line!r}")
            confidence = _number(fields[5], path, number) if len(fields) == 6 else None
            words.append(CtmWord(fields[0], fields[1], _number(fields[2], path, number),
                                 _number(fields[3], path, number), fields[4], confidence))
    return words


def _number(text: str, path: Path, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise TranscriptFormatError(f"{path}:{line}: expected a number, found {text!r}") from None


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


def write_ctm(words: Iterable[CtmWord], path: str | os.PathLike) -> Path:
    """Write a CTM sorted by file id (byte order), then start time, atomically."""
    ordered = sorted(words, key=lambda w: (w.file, w.channel, w.start))  # ids in code-point order, like LC_ALL=C
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
