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

    result = api.demo(tmp_path, epochs=1, sizes={"train": 12, "dev": 4, "test": 4}, log=lambda *_: None,
                      isolated_epochs=1)
    records = read_records(tmp_path / "results")
    isolated = [r for r in records if r.task == "isolated"]
    assert sorted(r.protocol["views"] for r in isolated) == ["1view", "temporal3"]
    for record in isolated:
        assert (record.model, record.dataset, record.split) == ("s3d_rgb_tiny", "synthetic_wlasl", "test")
        assert record.samples["evaluated"] == record.samples["nominal"] == 48
        assert 0.0 <= record.metrics["per_instance_top1"] <= record.metrics["per_instance_top5"] <= 100.0
    assert len(result.isolated_training.history) == 1 and result.isolated_training.official.is_file()
    records = [r for r in records if r.task == "continuous"]
    assert sorted(r.split for r in records) == ["dev", "test"]
    for record in records:
        assert (record.kind, record.task, record.model, record.dataset) == (
            "run", "continuous", "corrnet_tiny", "synthetic_phoenix2014")
        assert record.samples == {"nominal": 4, "evaluated": 4, "missing": 0, "missing_ids": []}
        assert record.metrics["wer"] >= 0.0 and record.provenance["checkpoint_sha256"]  # insertions can pass 100
    assert (tmp_path / "train" / "best.safetensors").is_file() and len(result.training.history) == 1
    report = runner.invoke(app, ["report", str(tmp_path / "results"), "--csv"])
    assert report.exit_code == 0, report.output
    assert 'synthetic_phoenix2014,dev,continuous,corrnet_tiny,"official: beam 10, batch 2' in report.output
    assert 'synthetic_wlasl,test,isolated,s3d_rgb_tiny,"temporal3-rgb: temporal3, rgb' in report.output
    # the runs store what the breakdowns group by (signers, clip lengths, scored words, class names): no release
    items = {(i["task"], i["split"], i["protocol"]): i for i in api.breakdowns([tmp_path / "results"])}
    dev = items[("continuous", "dev", "official")]
    assert dev["filled_from"] == [] and sum(r["sentences"] for r in dev["tables"]["by_signer"]) == 4
    assert sum(r["occurrences"] for r in api.breakdowns([tmp_path / "results"], top=1000)[0]["tables"]["by_gloss"]) \
        == sum(r["ref_words"] for r in dev["tables"]["by_signer"])
    clips = items[("isolated", "test", "1view-rgb")]
    assert clips["filled_from"] == [] and sum(r["samples"] for r in clips["tables"]["by_signer"]) == 48
    assert sum(r["samples"] for r in clips["tables"]["by_length"]) == 48
    assert {r["class"] for r in clips["tables"]["by_class"]} == set(
        (tmp_path / "results" / "s3d_rgb_tiny__synthetic_wlasl__test__1view-temporal3" / "classes.txt")
        .read_text().split())
    out = runner.invoke(app, ["eval", "--model", "s3d_rgb_tiny", "--dataset", "synthetic_wlasl", "--data-root",
                              str(tmp_path / "wlasl-synthetic"), "--random-weights", "--limit", "3", "--views",
                              "1view", "--results", str(tmp_path / "smoke")])
    assert out.exit_code == 0, out.output
    assert "3 of 3 samples evaluated" in out.output and "RANDOM WEIGHTS" in out.output


def test_report_of_published_claims():
    out = runner.invoke(app, ["report", str(REPO / "results" / "published"), "--markdown"])
    assert out.exit_code == 0, out.output
    dev = out.output[out.output.index("### phoenix2014 dev"):out.output.index("### phoenix2014 test")]
    assert "| corrnet | paper: ctcdecode_beam10, batch 2, sclite | 18.8 | 4 |" in dev
    assert "### wlasl2000 test" in out.output


def test_report_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "kind": "run"}))
    out = runner.invoke(app, ["report", str(bad)])
    assert out.exit_code == 2 and "bad.json" in out.output


def test_models_table_marks_our_reduced_models():
    from typer.testing import CliRunner

    from bench.cli import app
    from zoo import get_card, list_models

    out = CliRunner().invoke(app, ["models"])
    assert out.exit_code == 0
    rows = {line.split("│")[1].strip(): line for line in out.stdout.splitlines() if line.startswith("│ ")
            and line.split("│")[1].strip()}
    assert set(rows) == set(list_models())
    for name in list_models():
        assert ("not a published model" in rows[name]) == (not get_card(name).published), name
    assert {n for n in list_models() if not get_card(n).published} == {"corrnet_tiny", "slowfastsign_tiny",
                                                                        "s3d_rgb_tiny", "signvlm_tiny", "signnet_tiny"}


def test_separable_heatmaps_is_refused_where_there_are_no_heatmaps(tmp_path):
    out = runner.invoke(app, ["eval", "--model", "corrnet_tiny", "--dataset", "synthetic_phoenix2014", "--data-root",
                              str(tmp_path), "--separable-heatmaps"])
    assert out.exit_code == 2 and "--separable-heatmaps is for isolated models" in out.output
