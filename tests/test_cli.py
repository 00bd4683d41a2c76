"""The CLI end to end: the embedded demo writes a record that the report reads back."""

import json

from typer.testing import CliRunner

from bench.cli import app
from bench.records import read_records
from conftest import REPO

runner = CliRunner()


def test_demo_pipeline_writes_records_the_report_reads(tmp_path):
    # the demo's whole path at toy size: synthetic release -> one training epoch -> bench eval of dev and test
    from bench import api

    result = api.demo(tmp_path, epochs=1, sizes={"train": 12, "dev": 4, "test": 4}, log=lambda *_: None)
    records = read_records(tmp_path / "results")
    assert sorted(r.split for r in records) == ["dev", "test"]
    for record in records:
        assert (record.kind, record.task, record.model, record.dataset) == (
            "run", "continuous", "corrnet_tiny", "synthetic_phoenix2014")
        assert record.samples == {"nominal": 4, "evaluated": 4, "missing": 0, "missing_ids": []}
        assert record.metrics["wer"] >= 0.0 and record.provenance["checkpoint_sha256"]  # insertions can pass 100
    assert (tmp_path / "train" / "best.safetensors").is_file() and len(result.training.history) == 1
    report = runner.invoke(app, ["report", str(tmp_path / "results"), "--csv"])
    assert report.exit_code == 0, report.output
    assert "corrnet_tiny,synthetic_phoenix2014,dev,official" in report.output


def test_report_of_published_claims():
    out = runner.invoke(app, ["report", str(REPO / "results" / "published"), "--markdown"])
    assert out.exit_code == 0, out.output
    assert "| continuous | corrnet | phoenix2014 | dev | - | paper | - | 18.8 | - | - |" in out.output
    assert "## Isolated SLR" in out.output


def test_report_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "kind": "run"}))
    out = runner.invoke(app, ["report", str(bad)])
    assert out.exit_code == 2 and "bad.json" in out.output
