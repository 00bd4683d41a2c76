"""Breakdowns of a run from hand-written per-sample outputs: per-signer and per-length WER, per-gloss S/D/I and
substitutions (sclite's alignment), per-class and per-signer top-1, confused class pairs; every value by hand."""

import json

import pytest
from typer.testing import CliRunner

from bench.breakdowns import breakdowns, gloss_errors, length_bins, load_run_samples, run_breakdowns
from bench.cli import app
from bench.records import ResultRecord, collect_provenance, write_record

# (id, signer, frames, reference, hypothesis): s1 exact; s2 B->D; s3 C D E F vs C E F G: D deleted, G inserted
# (cost 6, cheaper than three substitutions, 12); s4 B->D
SENTENCES = [("s1", "Signer01", 10, "A B C", "A B C"), ("s2", "Signer01", 20, "A B", "A D"),
             ("s3", "Signer02", 30, "C D E F", "C E F G"), ("s4", "Signer02", 40, "B", "D")]
COUNTS = {"s1": (0, 0, 0), "s2": (1, 0, 0), "s3": (0, 1, 1), "s4": (1, 0, 0)}  # sub, del, ins


def continuous_run(results, with_words=True, with_signer=True):
    run_dir = results / "m__synthetic_phoenix2014__dev__official"
    run_dir.mkdir(parents=True)
    with open(run_dir / "hypotheses.jsonl", "w") as handle:
        for sid, signer, frames, _, hyp in SENTENCES:
            row = {"id": sid, "glosses": hyp.split(), "conv_glosses": [], "frames": frames}
            handle.write(json.dumps({**row, **({"signer": signer} if with_signer else {})}) + "\n")
    sentences = [{"id": sid, "ref_words": len(ref.split()), "correct": len(ref.split()) - sum(COUNTS[sid][:2]),
                  "substitutions": COUNTS[sid][0], "deletions": COUNTS[sid][1], "insertions": COUNTS[sid][2]}
                 for sid, _, _, ref, _ in SENTENCES]
    words = [[ref.split(), hyp.split()] for _, _, _, ref, hyp in SENTENCES]
    with open(run_dir / "scores.jsonl", "w") as handle:
        for head in ("python", "sclite"):
            extra = {"words": words} if with_words and head == "python" else {}
            handle.write(json.dumps({"head_or_scorer": head, "sentences": sentences, **extra}) + "\n")
    record = ResultRecord(kind="run", model="m", dataset="synthetic_phoenix2014", split="dev", task="continuous",
                          protocol={"tag": "official", "scorer": "sclite", "cleanup": "official"},
                          metrics={"wer": 40.0}, provenance=collect_provenance(),
                          extra={"hypotheses": f"moved/{run_dir.name}/hypotheses.jsonl"})
    return write_record(record, results)


CLASSES = ["cat", "dog", "emu"]
# (id, label, rank of the label, top-3, signer, frames)
CLIPS = [("c1", 0, 0, [0, 1, 2], "1", 12), ("c2", 0, 1, [1, 0, 2], "1", 14), ("c3", 1, 0, [1, 0, 2], "2", 16),
         ("c4", 1, 2, [2, 0, 1], "2", 18), ("c5", 2, 1, [1, 2, 0], "2", 20), ("c6", 2, 0, [2, 1, 0], "1", 22)]


def isolated_run(results):
    run_dir = results / "m__synthetic_wlasl__test__1view"
    run_dir.mkdir(parents=True)
    with open(run_dir / "scores.jsonl", "w") as handle:
        for cid, label, rank, top, signer, frames in CLIPS:
            handle.write(json.dumps({"id": cid, "label": label, "ranks": {"1view/rgb": rank},
                                     "top": {"1view/rgb": [[c, 0.5] for c in top]}, "signer": signer,
                                     "frames": frames}) + "\n")
    (run_dir / "classes.txt").write_text("".join(f"{c}\n" for c in CLASSES))
    record = ResultRecord(kind="run", model="m", dataset="synthetic_wlasl", split="test", task="isolated",
                          protocol={"tag": "1view-rgb", "views": "1view", "output": "rgb"},
                          metrics={"per_instance_top1": 50.0, "per_class_top1": 50.0},
                          provenance=collect_provenance(), extra={"scores": f"moved/{run_dir.name}/scores.jsonl"})
    return write_record(record, results)


def test_continuous_breakdowns_by_hand(tmp_path):
    tables = breakdowns(load_run_samples(continuous_run(tmp_path)))
    # Signer01: 5 reference words, 1 substitution -> 20 %; Signer02: 5 words, 1 S + 1 D + 1 I -> 60 %
    assert tables["by_signer"] == [
        {"group": "Signer01", "sentences": 2, "ref_words": 5, "sub": 1, "del": 0, "ins": 0, "wer": 20.0},
        {"group": "Signer02", "sentences": 2, "ref_words": 5, "sub": 1, "del": 1, "ins": 1, "wer": 60.0}]
    # frames 10/20/30/40: quartile edges 17.5, 25, 32.5 -> 17, 25, 32
    assert [(r["group"], r["wer"]) for r in tables["by_length"]] == [
        ("<= 17", 0.0), ("18-25", 50.0), ("26-32", 50.0), (">= 33", 100.0)]
    glosses = {r["gloss"]: r for r in tables["by_gloss"]}
    assert tables["by_gloss"][0]["gloss"] == "B"  # most errors first: B (2), then D and G (1 each), by name
    assert [r["gloss"] for r in tables["by_gloss"][1:3]] == ["D", "G"]
    assert glosses["B"] == {"gloss": "B", "occurrences": 3, "correct": 1, "sub": 2, "del": 0, "ins": 0,
                            "error_rate": pytest.approx(200 / 3), "most_substituted_by": "D (2)"}
    assert (glosses["D"]["del"], glosses["D"]["occurrences"], glosses["D"]["error_rate"]) == (1, 1, 100.0)
    assert (glosses["G"]["ins"], glosses["G"]["occurrences"], glosses["G"]["error_rate"]) == (1, 0, None)
    assert glosses["A"]["correct"] == 2 and glosses["C"]["correct"] == 2
    assert tables["substitutions"] == [{"reference": "B", "hypothesis": "D", "count": 2}]


def test_isolated_breakdowns_by_hand(tmp_path):
    tables = breakdowns(load_run_samples(isolated_run(tmp_path)))
    # signer 1: c1 hit, c2 miss, c6 hit; signer 2: c3 hit, c4 and c5 miss; 3 classes, so top-5 is always a hit
    assert tables["by_signer"] == [{"group": "1", "samples": 3, "top1": pytest.approx(200 / 3), "top5": 100.0},
                                   {"group": "2", "samples": 3, "top1": pytest.approx(100 / 3), "top5": 100.0}]
    assert tables["by_class"] == [
        {"class": "cat", "label": 0, "samples": 2, "top1": 50.0, "top5": 100.0, "most_taken_for": "dog (1)"},
        {"class": "dog", "label": 1, "samples": 2, "top1": 50.0, "top5": 100.0, "most_taken_for": "emu (1)"},
        {"class": "emu", "label": 2, "samples": 2, "top1": 50.0, "top5": 100.0, "most_taken_for": "dog (1)"}]
    assert tables["confusions"] == [{"true": "cat", "predicted": "dog", "count": 1},
                                    {"true": "dog", "predicted": "emu", "count": 1},
                                    {"true": "emu", "predicted": "dog", "count": 1}]
    # lengths 12..22: edges floor(14.5), floor(17), floor(19.5) = 14, 17, 19
    assert [(r["group"], r["samples"], r["top1"]) for r in tables["by_length"]] == [
        ("<= 14", 2, 50.0), ("15-17", 1, 100.0), ("18-19", 1, 0.0), (">= 20", 2, 50.0)]


def test_length_bins_keep_unknown_lengths_out():
    assert length_bins([None, 5, 5, 5]) == [None, "<= 5", "<= 5", "<= 5"]
    assert length_bins([None]) == [None]


def test_older_runs_take_signers_and_words_from_the_release(tmp_path):
    """A run written before signers and scored words were stored: the corpus annotation fills them."""
    from bench.data.synthetic_signs import make_dataset

    root = tmp_path / "phoenix-2014-multisigner"
    dataset = make_dataset(root, {"train": 2, "dev": 4, "test": 1}, frame_size=16)
    samples = dataset.samples("dev")
    results = tmp_path / "results"
    run_dir = results / "m__synthetic_phoenix2014__dev__official"
    run_dir.mkdir(parents=True)
    with open(run_dir / "hypotheses.jsonl", "w") as handle:  # every hypothesis empty: all deletions
        for s in samples:
            handle.write(json.dumps({"id": s.id, "glosses": [], "conv_glosses": [], "frames": 9}) + "\n")
    sentences = [{"id": s.id, "ref_words": len(s.glosses), "correct": 0, "substitutions": 0,
                  "deletions": len(s.glosses), "insertions": 0} for s in samples]
    (run_dir / "scores.jsonl").write_text(json.dumps({"head_or_scorer": "python", "sentences": sentences}) + "\n")
    path = write_record(ResultRecord(kind="run", model="m", dataset="synthetic_phoenix2014", split="dev",
                                     task="continuous", protocol={"tag": "official", "scorer": "python"},
                                     metrics={"wer": 100.0}, provenance=collect_provenance(),
                                     extra={"hypotheses": str(run_dir / "hypotheses.jsonl")}), results)
    assert "by_signer" not in breakdowns(load_run_samples(path))  # nothing stored, nothing guessed
    filled = load_run_samples(path, data_root=root)
    assert filled.filled_from == ["signers", "reference words"]
    corpus = (root / "annotations" / "manual" / "dev.corpus.csv").read_text().splitlines()[1:]
    signer_of = {line.split("|")[0]: line.split("|")[2] for line in corpus}  # id|folder|signer|annotation
    tables = breakdowns(filled)
    expected = {}
    for s in samples:
        expected.setdefault(signer_of[s.id], 0)
        expected[signer_of[s.id]] += len(s.glosses)
    assert {r["group"]: r["del"] for r in tables["by_signer"]} == expected
    # re-aligned as scored: an empty hypothesis is the word [EMPTY], one substitution and the rest deletions
    glosses = gloss_errors(filled.rows, top=1000)
    assert sum(r["sub"] for r in glosses) == len(samples)
    assert sum(r["sub"] + r["del"] for r in glosses) == sum(len(s.glosses) for s in samples)


def test_cli_breakdown_prints_markdown_and_json(tmp_path):
    continuous_run(tmp_path / "c")
    isolated_run(tmp_path / "i")
    runner = CliRunner()
    out = runner.invoke(app, ["report", str(tmp_path), "--breakdown"])
    assert out.exit_code == 0, out.output
    assert "## m · synthetic_phoenix2014 dev · official" in out.stdout
    assert "| Signer02 | 2 | 5 | 1 | 1 | 1 | 60 |" in out.stdout
    assert "| cat | dog | 1 |" in out.stdout
    items = json.loads(runner.invoke(app, ["report", str(tmp_path), "--breakdown", "--json"]).stdout)
    assert [i["task"] for i in items] == ["continuous", "isolated"]
    assert items[1]["tables"]["by_class"][0]["class"] == "cat"
    assert run_breakdowns([tmp_path / "c"])[0]["tables"]["by_signer"][0]["wer"] == 20.0


def test_a_release_that_does_not_fit_leaves_the_runs_own_files(tmp_path):
    empty = tmp_path / "not-a-release"
    empty.mkdir()
    samples = load_run_samples(continuous_run(tmp_path / "runs"), data_root=empty)
    assert samples.not_filled.startswith(f"{empty}: ") and samples.filled_from == []
    assert breakdowns(samples)["by_signer"][1]["wer"] == 60.0


def test_several_releases_each_run_takes_its_own(tmp_path):
    """--data-root twice: each run fills from the first release that reads as its dataset."""
    from bench.data.synthetic_signs import make_dataset

    phoenix = tmp_path / "phoenix-2014-multisigner"
    ids = [s.id for s in make_dataset(phoenix, {"train": 1, "dev": 2, "test": 1}, frame_size=16).samples("dev")]
    empty = tmp_path / "empty"
    empty.mkdir()
    path = continuous_run(tmp_path / "runs", with_signer=False)
    samples = load_run_samples(path, data_root=[empty, phoenix])  # readable, but holds none of the run's ids
    assert samples.not_filled.count("none of the run's 4 sample ids") == 1 and samples.filled_from == []
    for file in (path.parent / "m__synthetic_phoenix2014__dev__official").iterdir():  # the run on that release
        file.write_text(file.read_text().replace('"s1"', f'"{ids[0]}"').replace('"s3"', f'"{ids[1]}"'))
    samples = load_run_samples(path, data_root=[empty, phoenix])
    assert samples.not_filled is None and samples.filled_from == ["signers"]
    assert sum(row["signer"] is not None for row in samples.rows) == 2
