"""The result record: one evaluation result (our run, or a paper's published claim) as self-describing JSON.

Every table the report prints is built from these records only (the lm-evaluation-harness rule), so a record carries
what is needed to read its numbers: the protocol, the sample counts, where it came from. Layout (schema version 1):

    {"schema_version": 1, "kind": "run" | "published", "model": "corrnet", "dataset": "phoenix2014",
     "split": "dev", "task": "continuous" | "isolated",
     "protocol": {"tag": "official", "decoder": "beam10", "scorer": "sclite", "batch_size": 2, ...},
     "metrics": {"wer": 18.8},                   # percent
     "decimals": {"wer": 1},                     # optional: decimals the source reported, per metric
     "samples": {"nominal": 540, "evaluated": 540, "missing": 0, "missing_ids": []},
     "provenance": {...} (runs; see collect_provenance), "source": {"paper": ..., "url": ..., "table": ...}
     (published), "notes": [...], "extra": {...}}

A file holds one record or a list of records. Files are written atomically: a crash never leaves a half record.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from bench.io.atomic import atomic_open

SCHEMA_VERSION = 1
KINDS = ("run", "published")
TASKS = ("continuous", "isolated")
SAMPLE_KEYS = ("nominal", "evaluated", "missing")
PROVENANCE_REQUIRED = ("bench_version", "python", "created")
_SCALARS = (str, int, float, bool, type(None))


@dataclass
class ResultRecord:
    """One evaluation result; see the module docstring for the JSON layout. Metrics are in percent."""

    kind: str
    model: str
    dataset: str
    split: str
    task: str
    protocol: dict[str, Any]
    metrics: dict[str, float]
    samples: dict[str, Any] = field(default_factory=lambda: {"nominal": None, "evaluated": None, "missing": None})
    provenance: dict[str, Any] | None = None
    source: dict[str, Any] | None = None
    decimals: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def tag(self) -> str:
        """Short protocol tag used in file names and report rows."""
        return protocol_tag(self.protocol)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, ``schema_version`` first."""
        data = asdict(self)
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_dict(cls, data: Any, origin: str = "<dict>") -> "ResultRecord":
        """Validate ``data`` and build a record; errors name ``origin``, the field, the expected and found value."""
        validate_record(data, origin)
        return cls(**data)


def _fail(origin: str, key: str, expected: str, found: Any) -> None:
    shown = repr(found) if len(repr(found)) <= 80 else repr(found)[:77] + "..."
    raise ValueError(f"{origin}: field '{key}': expected {expected}, found {type(found).__name__} {shown}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_str(data: dict, key: str, origin: str, choices: tuple[str, ...] | None = None) -> None:
    value = data[key]
    if not isinstance(value, str) or not value:
        _fail(origin, key, "a non-empty string", value)
    if choices and value not in choices:
        _fail(origin, key, f"one of {list(choices)}", value)


def _check_mapping(value: Any, key: str, origin: str, allowed=None, what: str = "") -> None:
    if not isinstance(value, dict):
        _fail(origin, key, "an object (dict)", value)
    for k, v in value.items():
        if not isinstance(k, str):
            _fail(origin, f"{key}", "string keys", k)
        if allowed is not None and not allowed(v):
            _fail(origin, f"{key}.{k}", what, v)


def validate_record(data: Any, origin: str = "<dict>") -> None:
    """Raise ValueError unless ``data`` is a valid record dict of a schema version this bench can read."""
    if not isinstance(data, dict):
        _fail(origin, "<record>", "a JSON object", data)
    version = data.get("schema_version", "<missing>")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _fail(origin, "schema_version", f"an integer 1..{SCHEMA_VERSION}", version)
    if version > SCHEMA_VERSION:
        raise ValueError(f"{origin}: field 'schema_version': expected at most {SCHEMA_VERSION}, found {version}: "
                         f"written by a newer bench; upgrade slr-bench to read it")
    known = set(ResultRecord.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{origin}: field '{unknown[0]}': expected one of {sorted(known)}, found an unknown field "
                         f"(put free-form data under 'extra')")
    required = ("kind", "model", "dataset", "split", "task", "protocol", "metrics")
    for key in required:
        if key not in data:
            raise ValueError(f"{origin}: field '{key}': expected it to be present, found it missing")
    _check_str(data, "kind", origin, KINDS)
    _check_str(data, "task", origin, TASKS)
    for key in ("model", "dataset", "split"):
        _check_str(data, key, origin)
    _check_mapping(data["protocol"], "protocol", origin, lambda v: isinstance(v, _SCALARS), "a string/number/bool/null")
    _check_mapping(data["metrics"], "metrics", origin, _is_number, "a finite number (percent)")
    _check_mapping(data.get("decimals", {}), "decimals", origin,
                   lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 6, "an integer 0..6")
    for name in data.get("decimals", {}):
        if name not in data["metrics"]:
            _fail(origin, f"decimals.{name}", f"a metric name among {sorted(data['metrics'])}", name)
    _check_samples(data.get("samples", {}), origin)
    _check_sources(data, origin)
    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        _fail(origin, "notes", "a list of strings", notes)
    _check_mapping(data.get("extra", {}), "extra", origin)


def _check_samples(samples: Any, origin: str) -> None:
    _check_mapping(samples, "samples", origin)
    for key in SAMPLE_KEYS:
        value = samples.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            _fail(origin, f"samples.{key}", "a non-negative integer or null", value)
    ids = samples.get("missing_ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        _fail(origin, "samples.missing_ids", "a list of sample ids (strings)", ids)
    extra = sorted(set(samples) - set(SAMPLE_KEYS) - {"missing_ids"})
    if extra:
        _fail(origin, f"samples.{extra[0]}", f"one of {list(SAMPLE_KEYS) + ['missing_ids']}", extra[0])
    nominal, evaluated, missing = (samples.get(k) for k in SAMPLE_KEYS)
    if nominal is not None and evaluated is not None:
        if evaluated > nominal:
            _fail(origin, "samples.evaluated", f"at most samples.nominal = {nominal}", evaluated)
        if missing is not None and missing != nominal - evaluated:
            _fail(origin, "samples.missing", f"nominal - evaluated = {nominal - evaluated}", missing)


def _check_sources(data: dict, origin: str) -> None:
    provenance, source = data.get("provenance"), data.get("source")
    if provenance is not None:
        _check_mapping(provenance, "provenance", origin)
    if source is not None:
        _check_mapping(source, "source", origin)
    if data["kind"] == "run":
        if provenance is None:
            _fail(origin, "provenance", "an object from collect_provenance() for a run record", provenance)
        for key in PROVENANCE_REQUIRED:
            if key not in provenance:
                _fail(origin, f"provenance.{key}", "present in a run record", "<missing>")
    elif source is None or not isinstance(source.get("paper"), str) or not source["paper"]:
        _fail(origin, "source.paper", "the paper's title for a published record", (source or {}).get("paper"))


def protocol_tag(protocol: dict[str, Any]) -> str:
    """``protocol["tag"]`` if given (e.g. "official", "bs1", "3x_pad"), "default" for an empty protocol, else an
    8-hex-digit hash of the canonical protocol JSON, so that different protocols never share a file name."""
    if protocol.get("tag"):
        return _sanitize(str(protocol["tag"]))
    if not protocol:
        return "default"
    canonical = json.dumps(protocol, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()[:8]


def _sanitize(part: str) -> str:
    """File-name-safe form of one name part: [A-Za-z0-9._-] only, no leading dot."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", part).lstrip(".") or "_"


def record_path(directory: str | os.PathLike, model: str, dataset: str, split: str,
                protocol: dict | None = None) -> Path:
    """Where ``write_record`` puts a record: ``{directory}/{model}__{dataset}__{split}__{tag}.json``."""
    parts = (model, dataset, split, protocol_tag(protocol or {}))
    return Path(directory) / ("__".join(_sanitize(p) for p in parts) + ".json")


def write_record(record: ResultRecord, directory: str | os.PathLike) -> Path:
    """Validate and write ``record`` atomically (temp file beside the target, fsync, os.replace); return its path."""
    data = record.to_dict()
    target = record_path(directory, record.model, record.dataset, record.split, record.protocol)
    validate_record(data, str(target))
    with atomic_open(target) as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False, allow_nan=False)
        handle.write("\n")
    return target


def _read_file(path: Path) -> list[ResultRecord]:
    """Records of one JSON file holding a single record or a list of them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: expected JSON, found a syntax error at line {exc.lineno}: {exc.msg}") from exc
    records = [ResultRecord.from_dict(item, f"{path}[{i}]") for i, item in enumerate(data)] \
        if isinstance(data, list) else [ResultRecord.from_dict(data, str(path))]
    for record in records:  # not a field: where its relative per-sample paths start (bench.per_sample)
        record.origin = str(path)
    return records


def read_record(path: str | os.PathLike) -> ResultRecord:
    """The one validated record of ``path``; errors name the file, the field, the expected and found value."""
    records = _read_file(Path(path))
    if len(records) != 1:
        raise ValueError(f"{path}: expected one record, found a list of {len(records)}: use read_records()")
    return records[0]


def read_records(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[ResultRecord]:
    """Records of files and directories (recursing, sorted; non-JSON and hidden temp files are skipped)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    records: list[ResultRecord] = []
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.json") if p.is_file() and not p.name.startswith("."))
        elif path.exists():
            files = [path]
        else:
            raise FileNotFoundError(f"{path}: expected a record file or a directory of them, found nothing there")
        for file in files:
            records.extend(_read_file(file))
    return records


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so checkpoints of any size fit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version(package: str) -> str | None:
    # metadata lookup, not import: importing torch here would cost seconds and tie records to torch
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def git_revision(directory: str | os.PathLike | None = None) -> str | None:
    """``git rev-parse HEAD`` of the checkout holding ``directory`` (default: this package), None if not a checkout."""
    directory = Path(directory) if directory else Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def collect_provenance(checkpoint_sha256: str | None = None, device: str = "cpu",
                       wall_time_s: float | None = None) -> dict[str, Any]:
    """Versions, git revision, checkpoint hash, device, CPU threads and kernel path, wall time (over every session
    of a resumed run), UTC creation time and command line of a run."""
    from bench import __version__
    from bench.threads import thread_provenance

    return {
        "bench_version": __version__,
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "git_revision": git_revision(),
        "checkpoint_sha256": checkpoint_sha256,
        "device": device,
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 3),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(sys.argv),
        **thread_provenance(),  # the thread count moves logits by up to ~5e-6: part of what made the numbers
    }
