"""Result records: round trip, atomic writes, validation messages, and the published claims shipped in results/."""

import hashlib
import json
from pathlib import Path

import pytest

import bench
import bench.records as records
from bench.records import (
    SCHEMA_VERSION,
    ResultRecord,
    collect_provenance,
    read_record,
    read_records,
    record_path,
    sha256_file,
    write_record,
)

PUBLISHED_DIR = Path(__file__).resolve().parent.parent / "results" / "published"


def run_record(**overrides) -> ResultRecord:
    fields = dict(
        kind="run", model="corrnet", dataset="phoenix2014", split="dev", task="continuous",
        protocol={"tag": "official", "decoder": "beam10", "scorer": "sclite", "batch_size": 2},
        metrics={"wer": 18.9}, decimals={"wer": 1},
        samples={"nominal": 540, "evaluated": 540, "missing": 0, "missing_ids": []},
        provenance=collect_provenance(checkpoint_sha256="ab" * 32, device="cuda:0", wall_time_s=12.3456),
        notes=["test record"],
    )
    fields.update(overrides)
    return ResultRecord(**fields)


def test_round_trip(tmp_path):
    record = run_record()
    path = write_record(record, tmp_path / "runs")
    assert path == tmp_path / "runs" / "corrnet__phoenix2014__dev__official.json"
    assert path == record_path(tmp_path / "runs", "corrnet", "phoenix2014", "dev", record.protocol)
    again = read_record(path)
    assert again == record
    raw = json.loads(path.read_text())
    assert list(raw)[0] == "schema_version" and raw["schema_version"] == SCHEMA_VERSION
    assert raw["provenance"]["wall_time_s"] == 12.346 and raw["provenance"]["device"] == "cuda:0"


def test_provenance_fields():
    prov = collect_provenance()
    assert prov["bench_version"] == bench.__version__ and prov["device"] == "cpu" and prov["wall_time_s"] is None
    assert prov["created"].endswith("+00:00") and prov["python"].count(".") == 2
    assert prov["git_revision"] is None or len(prov["git_revision"]) == 40


def test_git_revision_none_outside_a_checkout(tmp_path):
    assert records.git_revision(tmp_path) is None


def test_file_names_are_sanitized_and_protocols_kept_apart(tmp_path):
    path = record_path(tmp_path, "nla/slr", "wlasl 2000", "test", {"tag": "3x_pad"})
    assert path.name == "nla-slr__wlasl-2000__test__3x_pad.json"
    a = record_path(tmp_path, "m", "d", "test", {"views": 1})
    b = record_path(tmp_path, "m", "d", "test", {"views": 3})
    assert a != b and len(a.stem.split("__")[-1]) == 8
    assert record_path(tmp_path, "m", "d", "test").name == "m__d__test__default.json"


def test_atomic_write_leaves_no_temp_file(tmp_path):
    write_record(run_record(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["corrnet__phoenix2014__dev__official.json"]


def test_interrupted_write_keeps_the_old_record(tmp_path, monkeypatch):
    path = write_record(run_record(metrics={"wer": 20.0}), tmp_path)
    before = path.read_bytes()

    def broken_dump(obj, handle, **kwargs):
        handle.write('{"schema_version": 1, "kind": "ru')  # half a record, then the crash
        raise OSError("disk full")

    monkeypatch.setattr(records.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        write_record(run_record(metrics={"wer": 18.9}), tmp_path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    with pytest.raises(OSError):
        write_record(run_record(), tmp_path / "fresh")
    assert list((tmp_path / "fresh").iterdir()) == []


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("metrics"), r"field 'metrics': expected it to be present, found it missing"),
        (lambda d: d.update(task="translation"), r"field 'task': expected one of \['continuous', 'isolated'\], "
                                                 r"found str 'translation'"),
        (lambda d: d["metrics"].update(wer="18.9"), r"field 'metrics.wer': expected a finite number \(percent\), "
                                                    r"found str '18.9'"),
        (lambda d: d["samples"].update(evaluated=541), r"field 'samples.evaluated': expected at most "
                                                       r"samples.nominal = 540, found int 541"),
        (lambda d: d["samples"].update(missing=3), r"field 'samples.missing': expected nominal - evaluated = 0"),
        (lambda d: d.update(accuracy=1), r"field 'accuracy': expected one of .* found an unknown field"),
        (lambda d: d["provenance"].pop("created"), r"field 'provenance.created': expected present in a run record"),
        (lambda d: d["protocol"].update(views=[1, 2]), r"field 'protocol.views': expected a string/number/bool/null"),
        (lambda d: d["decimals"].update(top1=2), r"field 'decimals.top1': expected a metric name among \['wer'\]"),
        (lambda d: d.update(schema_version="1"), r"field 'schema_version': expected an integer 1..1, found str '1'"),
    ],
)
def test_validation_errors_name_file_and_field(tmp_path, change, message):
    data = run_record().to_dict()
    change(data)
    path = write_json(tmp_path / "bad.json", data)
    with pytest.raises(ValueError, match=message) as info:
        read_record(path)
    assert str(info.value).startswith(str(path))


def test_newer_schema_version_is_refused(tmp_path):
    data = run_record().to_dict()
    data["schema_version"] = SCHEMA_VERSION + 1
    path = write_json(tmp_path / "future.json", data)
    with pytest.raises(ValueError, match=rf"{path}: field 'schema_version': expected at most 1, found 2.*upgrade"):
        read_records(tmp_path)


def test_published_record_needs_a_source(tmp_path):
    data = run_record(kind="published", provenance=None).to_dict()
    path = write_json(tmp_path / "claim.json", [data])
    with pytest.raises(ValueError, match=rf"{path}\[0\]: field 'source.paper': expected the paper's title"):
        read_records(path)
    data["source"] = {"paper": "Continuous Sign Language Recognition with Correlation Network", "table": "1"}
    write_json(path, [data, data])
    assert len(read_records(path)) == 2
    with pytest.raises(ValueError, match="expected one record, found a list of 2"):
        read_record(path)


def test_read_records_recurses_and_skips_other_files(tmp_path):
    write_record(run_record(), tmp_path / "a" / "b")
    write_record(run_record(split="test"), tmp_path)
    (tmp_path / "README.md").write_text("not a record")
    (tmp_path / "a" / "log.txt").write_text("{}")
    found = read_records([tmp_path])
    assert sorted(r.split for r in found) == ["dev", "test"]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_records(tmp_path / "nowhere")


def test_sha256_file(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"x" * 3_000_001)
    assert sha256_file(path, chunk_size=1000) == hashlib.sha256(b"x" * 3_000_001).hexdigest()


def test_every_published_file_loads():
    files = sorted(PUBLISHED_DIR.glob("*.json"))
    assert files, f"no published claims under {PUBLISHED_DIR}"
    claims = read_records(PUBLISHED_DIR)
    assert all(r.kind == "published" and r.source["paper"] for r in claims)
    keys = [(r.model, r.dataset, r.split, r.tag) for r in claims]
    assert len(keys) == len(set(keys)), "two published claims share model/dataset/split/protocol tag"
    by_key = {(r.model, r.dataset, r.split, r.tag): r for r in claims}
    # spot checks against PROTOCOLS.md
    assert by_key["corrnet", "phoenix2014", "test", "paper"].metrics == {"wer": 19.4}
    assert by_key["corrnet", "phoenix2014", "test", "released_retrain"].metrics == {"wer": 19.7}
    assert by_key["slowfastsign", "csl_daily", "dev", "paper"].metrics == {"wer": 25.49}
    nla = by_key["nla_slr", "wlasl2000", "test", "paper"].metrics
    assert nla == {"per_instance_top1": 61.26, "per_instance_top5": 91.77, "per_class_top1": 58.31,
                   "per_class_top5": 90.91}
    evl = by_key["evl_vitb16_8f_k400", "kinetics400", "val", "paper"].metrics
    assert evl == {"per_instance_top1": 82.8, "per_instance_top5": 95.8}
    assert all(not r.metrics for r in claims if r.model == "signvlm")  # known paper, tables not readable here
    assert {r.model for r in claims} == {"vac", "corrnet", "corrnet_plus", "slowfastsign", "nla_slr", "signnet",
                                         "signvlm", *(f"evl_vit{b}_{f}f_k400" for b in ("b16", "l14")
                                                      for f in (8, 16, 32))}
