"""The CLI end to end: the embedded demo writes a record that the report reads back."""

import json

from typer.testing import CliRunner

from bench.cli import app
from bench.records import read_records
from conftest import REPO

runner = CliRunner()


def test_demo_writes_a_record_the_report_reads(tmp_path):
    out = runner.invoke(app, ["demo", "--out", str(tmp_path), "--samples", "40", "--seed", "3"])
    assert out.exit_code == 0, out.output
    records = read_records(tmp_path / "results")
    assert len(records) == 1
    record = records[0]
    assert (record.kind, record.task, record.split) == ("run", "continuous", "dev")
    assert record.samples == {"nominal": 40, "evaluated": 40, "missing": 0}
    assert 0.0 < record.metrics["wer"] < 40.0  # simulated recogniser: imperfect, far from chance
    if "wer_sclite" in record.metrics:  # same counts, so the same number
        assert record.metrics["wer_sclite"] == record.metrics["wer"]
    report = runner.invoke(app, ["report", str(tmp_path / "results"), "--csv"])
    assert report.exit_code == 0, report.output
    assert "simulated_ctc,synthetic_phoenix2014,dev,official" in report.output


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
