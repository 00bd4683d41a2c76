"""The real sclite (NIST SCTK) as a subprocess: found on PATH, in /usr/lib/sctk/bin, or through ``$SCLITE``.

The CSLR repositories call ``sclite -h hyp.ctm ctm -r ref.stm stm -f 0 -o ...`` and read "Percent Total Error";
when sclite is missing, their shell call fails silently and the WER reads 100. Here a missing sclite is an
error, and the per-sentence counts are read from sclite's own alignment dump (``-o pra``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from bench.io.transcripts import StmSegment, hypotheses_to_ctm, write_ctm, write_stm

DEBIAN_SCTK = Path("/usr/lib/sctk/bin/sclite")
_SCORES = re.compile(r"^Scores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)")


class ScliteNotFound(RuntimeError):
    """sclite was asked for and is not installed."""


def find_sclite() -> str | None:
    """Path of the sclite binary: ``$SCLITE``, then ``sclite`` on PATH, then Debian's sctk location."""
    env = os.environ.get("SCLITE")
    if env:
        return env if Path(env).is_file() else None
    found = shutil.which("sclite")
    if found:
        return found
    return str(DEBIAN_SCTK) if DEBIAN_SCTK.is_file() else None


def require_sclite() -> str:
    path = find_sclite()
    if path is None:
        where = os.environ.get("SCLITE")
        hint = f"$SCLITE points to {where}, which is not a file. " if where else ""
        raise ScliteNotFound(
            f"sclite not found. {hint}Install NIST SCTK (Debian/Ubuntu: apt-get install sctk, which puts it in "
            f"{DEBIAN_SCTK.parent}), put sclite on PATH, or set SCLITE=/path/to/sclite; "
            "or score with --scorer python, which reproduces sclite's counts")
    return path


def run_sclite(segments: Sequence[StmSegment], hypotheses: Mapping[str, Sequence[str]]) -> dict[str, tuple[int, int, int, int]]:
    """sclite's (correct, substitutions, deletions, insertions) per reference id.

    Every reference id needs at least one hypothesis word (see :func:`bench.scoring.cleanup.fill_empty`).
    """
    binary = require_sclite()
    folded: dict[str, str] = {}
    for segment in segments:  # sclite lower-cases ids along with the words
        key = segment.file.lower()
        if key in folded and folded[key] != segment.file:
            raise ValueError(f"ids {folded[key]!r} and {segment.file!r} differ only in case: sclite cannot tell them apart")
        folded[key] = segment.file
    with tempfile.TemporaryDirectory(prefix="bench-sclite-") as tmp:
        ref, hyp = Path(tmp, "ref.stm"), Path(tmp, "hyp.ctm")
        write_stm(segments, ref)
        write_ctm(hypotheses_to_ctm(hypotheses), hyp)
        cmd = [binary, "-h", str(hyp), "ctm", "-r", str(ref), "stm", "-f", "0", "-o", "pra", "stdout"]
        proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if proc.returncode != 0 or "do not match" in proc.stderr or "Error" in proc.stderr:
        raise RuntimeError(f"sclite failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()[-2000:]}")
    counts: dict[str, tuple[int, int, int, int]] = {}
    current = None
    for line in proc.stdout.splitlines():
        if line.startswith("File: "):
            current = line[6:].strip()
        match = _SCORES.match(line)
        if match and current is not None:
            counts[folded.get(current, current)] = tuple(int(g) for g in match.groups())  # type: ignore[assignment]
    missing = [s.file for s in segments if s.file not in counts]
    if missing:
        raise RuntimeError(f"sclite reported no alignment for {len(missing)} ids, e.g. {missing[:5]}")
    return counts
