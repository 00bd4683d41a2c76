"""Bootstrap intervals and the paired test (bench/stats.py), recomputed here with plain numpy and the same draws;
the per-sample loaders and ``bench compare`` on hand-written records in the runners' formats."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.records import ResultRecord, collect_provenance, write_record
from bench.stats import (bootstrap, bootstrap_per_class_topk, bootstrap_topk, bootstrap_wer, paired_bootstrap)
from bench.uncertainty import compare_records, intervals_for_record

runner = CliRunner()


def _percentile(replicates, level=0.95):
    return np.percentile(replicates, [50 * (1 - level), 50 * (1 + level)])


def test_wer_interval_resamples_sentences_as_plain_numpy():
    errors = np.array([0, 2, 1, 0, 5, 0, 1, 3, 0, 0])
    ref_words = np.array([4, 6, 3, 5, 7, 2, 4, 6, 3, 5])
    result = bootstrap_wer(errors, ref_words, n=500, seed=7)
    idx = np.random.default_rng(7).integers(0, 10, size=(500, 10))
    replicates = 100.0 * errors[idx].sum(axis=1) / ref_words[idx].sum(axis=1)
    low, high = _percentile(replicates)
    assert result.estimate == pytest.approx(100.0 * 12 / 45)
    assert (result.low, result.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    assert result.low < result.estimate < result.high
    assert bootstrap_wer(errors, ref_words, n=500, seed=7) == result  # seeded: reproducible
    assert bootstrap_wer(errors, ref_words, n=500, seed=8) != result


def test_topk_interval_resamples_samples_as_plain_numpy():
    ranks = np.array([0, 3, 0, 1, 7, 0, 0, 2, 12, 0, 4, 0])
    result = bootstrap_topk(ranks, k=1, n=300, seed=3, level=0.9)
    hits = (ranks < 1).astype(float)
    idx = np.random.default_rng(3).integers(0, 12, size=(300, 12))
    low, high = _percentile(100.0 * hits[idx].mean(axis=1), 0.9)
    assert result.estimate == pytest.approx(50.0)
    assert (result.low, result.high) == (pytest.approx(low), pytest.approx(high))


def test_per_class_interval_resamples_within_classes():
    labels = np.array([2, 0, 0, 2, 1, 0, 1, 2, 2, 0])
    ranks = np.array([0, 0, 5, 1, 0, 0, 3, 0, 0, 2])
    result = bootstrap_per_class_topk(ranks, labels, k=1, n=400, seed=11)
    hits = (ranks < 1).astype(float)
    rng = np.random.default_rng(11)
    rates = []
    for c in (0, 1, 2):  # ascending class ids, one draw per class over its members in input order
        members = np.flatnonzero(labels == c)
        rates.append(hits[members][rng.integers(0, members.size, size=(400, members.size))].mean(axis=1))
    low, high = _percentile(100.0 * np.mean(rates, axis=0))
    assert result.estimate == pytest.approx(100.0 * np.mean([2 / 4, 1 / 2, 3 / 4]))
    assert (result.low, result.high) == (pytest.approx(low), pytest.approx(high))
    # a class that is all hits and one all misses: within-class resampling cannot move the mean of class rates,
    # whereas resampling samples across classes moves the per-instance rate
    labels = np.array([0] * 5 + [1] * 15)
    ranks = np.array([0] * 5 + [9] * 15)
    fixed = bootstrap_per_class_topk(ranks, labels, k=1, n=200, seed=0)
    assert (fixed.estimate, fixed.low, fixed.high) == (50.0, 50.0, 50.0)
    pooled = bootstrap_topk(ranks, k=1, n=200, seed=0)
    assert pooled.estimate == 25.0 and pooled.low < 25.0 < pooled.high


def _expected_paired(a, b, weights, n, seed, level=0.95):
    """paired_bootstrap recomputed: bootstrap indices first, then the swaps, from one default_rng(seed)."""
    rng = np.random.default_rng(seed)
    size = a.size
    idx = rng.integers(0, size, size=(n, size))
    rep_a = 100.0 * a[idx].sum(axis=1) / weights[idx].sum(axis=1)
    rep_b = 100.0 * b[idx].sum(axis=1) / weights[idx].sum(axis=1)
    swap = rng.random((n, size)) < 0.5
    perm_diff = 100.0 * (np.where(swap, a, b).sum(axis=1) - np.where(swap, b, a).sum(axis=1)) / weights.sum()
    observed = 100.0 * (b.sum() - a.sum()) / weights.sum()
    p_value = (1 + np.sum(np.abs(perm_diff) >= abs(observed) - 1e-9)) / (n + 1)
    return observed, _percentile(rep_b - rep_a, level), _percentile(rep_a, level), p_value


def test_paired_runs_differing_by_chance_have_a_large_p_value():
    rng = np.random.default_rng(123)
    a = (rng.random(200) < 0.6).astype(float)
    b = a.copy()
    b[np.flatnonzero(a == 1)[:6]] = 0  # B loses 6 samples A had and wins 4 A missed: noise
    b[np.flatnonzero(a == 0)[:4]] = 1
    weights = np.ones(200)
    result = paired_bootstrap(a, b, n=1000, seed=5)
    observed, (low, high), (a_low, a_high), p_value = _expected_paired(a, b, weights, 1000, 5)
    assert result.difference.estimate == pytest.approx(observed) == pytest.approx(-1.0)
    assert (result.difference.low, result.difference.high) == (pytest.approx(low), pytest.approx(high))
    assert (result.a.low, result.a.high) == (pytest.approx(a_low), pytest.approx(a_high))
    assert result.p_value == pytest.approx(p_value)
    assert result.p_value > 0.5 and result.difference.low < 0 < result.difference.high
    # each run's interval is the one bootstrap() gives alone with the same seed (same first draws)
    assert result.b == bootstrap(b, n=1000, seed=5)


def test_paired_runs_differing_clearly_have_p_near_zero():
    errors_a = np.array([3, 2, 4, 1, 3, 5, 2, 3, 4, 2, 3, 1, 4, 2, 3, 3, 2, 4, 1, 3])
    errors_b = np.maximum(errors_a - 2, 0)  # B makes two errors fewer on every sentence
    ref_words = np.array([6, 5, 8, 4, 7, 9, 5, 6, 8, 5, 6, 4, 8, 5, 7, 6, 5, 8, 4, 6])
    result = paired_bootstrap(errors_a, errors_b, ref_words, n=2000, seed=0)
    observed, (low, high), _, p_value = _expected_paired(errors_a.astype(float), errors_b.astype(float),
                                                         ref_words.astype(float), 2000, 0)
    assert result.difference.estimate == pytest.approx(observed)
    assert (result.difference.low, result.difference.high) == (pytest.approx(low), pytest.approx(high))
    assert result.p_value == pytest.approx(p_value) == pytest.approx(1 / 2001)  # no permutation is as extreme
    assert result.difference.high < 0


def test_paired_per_class_resamples_within_classes_and_swaps_within_samples():
    labels = np.array([1, 0, 1, 0, 0, 2, 2, 1])
    a = np.array([1, 0, 1, 1, 0, 0, 1, 1], dtype=float)
    b = np.array([1, 1, 1, 1, 0, 1, 1, 0], dtype=float)
    result = paired_bootstrap(a, b, strata=labels, n=300, seed=2)
    rng = np.random.default_rng(2)
    draws = [np.flatnonzero(labels == c)[rng.integers(0, m, size=(300, m))]
             for c, m in zip((0, 1, 2), (3, 3, 2))]
    rep = {name: 100.0 * np.mean([v[d].mean(axis=1) for d in draws], axis=0) for name, v in (("a", a), ("b", b))}
    swap = rng.random((300, 8)) < 0.5
    pa, pb = np.where(swap, b, a), np.where(swap, a, b)
    perm = 100.0 * np.mean([(pb[:, labels == c] - pa[:, labels == c]).mean(axis=1) for c in (0, 1, 2)], axis=0)
    observed = 100.0 * np.mean([2 / 3 - 1 / 3, 2 / 3 - 1.0, 1.0 - 1 / 2])
    assert result.difference.estimate == pytest.approx(observed)
    low, high = _percentile(rep["b"] - rep["a"])
    assert (result.difference.low, result.difference.high) == (pytest.approx(low), pytest.approx(high))
    assert result.p_value == pytest.approx((1 + np.sum(np.abs(perm) >= abs(observed) - 1e-9)) / 301)


def test_bad_inputs_name_what_is_wrong():
    with pytest.raises(ValueError, match="weights: expected shape"):
        bootstrap_wer([1, 2], [3])
    with pytest.raises(ValueError, match="level"):
        bootstrap_topk([0, 1], 1, level=95)
    with pytest.raises(ValueError, match="positive sum"):
        bootstrap_wer([0, 0], [0, 0])


# --- records in the runners' formats -------------------------------------------------------------------------------

def _continuous_run(results, name, split, sentences, scorer="sclite"):
    """A record plus its run folder as bench/runners/continuous.py writes them; paths stored relative to a folder
    that is not the test's cwd, so the loader must find the run folder beside the record."""
    run_dir = results / f"corrnet_tiny__synthetic_phoenix2014__{split}__{name}"
    run_dir.mkdir(parents=True)
    with open(run_dir / "hypotheses.jsonl", "w") as handle:
        for s in sentences:
            handle.write(json.dumps({"id": s["id"], "glosses": [], "conv_glosses": []}) + "\n")
    with open(run_dir / "scores.jsonl", "w") as handle:
        for head in ("python", scorer, "conv"):
            handle.write(json.dumps({"head_or_scorer": head, "scorer": head, "sentences": sentences}) + "\n")
    words = sum(s["ref_words"] for s in sentences)
    errors = sum(s["substitutions"] + s["deletions"] + s["insertions"] for s in sentences)
    record = ResultRecord(kind="run", model="corrnet_tiny", dataset="synthetic_phoenix2014", split=split,
                          task="continuous", protocol={"tag": name, "scorer": scorer},
                          metrics={"wer": 100.0 * errors / words, "wer_python": 100.0 * errors / words},
                          provenance=collect_provenance(),
                          extra={"hypotheses": f"elsewhere/results/{run_dir.name}/hypotheses.jsonl"})
    return write_record(record, results)


def _sentences(errors, ref_words, prefix="s"):
    return [{"id": f"{prefix}{i:03d}", "ref_words": int(r), "correct": int(r - min(e, r)),
             "substitutions": int(min(e, r)), "deletions": 0, "insertions": int(max(e - r, 0))}
            for i, (e, r) in enumerate(zip(errors, ref_words))]


def test_compare_cli_pairs_continuous_runs_by_id_and_reports_the_test(tmp_path):
    rng = np.random.default_rng(0)
    ref_words = rng.integers(2, 8, size=40)
    errors_a = rng.integers(0, 3, size=40)
    errors_b = np.maximum(errors_a - rng.integers(0, 2, size=40), 0)
    path_a = _continuous_run(tmp_path, "official", "dev", _sentences(errors_a, ref_words))
    shuffled = _sentences(errors_b, ref_words)[::-1] + _sentences([1], [3], prefix="only_b")  # other order, one more
    path_b = _continuous_run(tmp_path, "bs1", "dev", shuffled)
    out = runner.invoke(app, ["compare", str(path_a), str(path_b), "--seed", "4", "--n", "500", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    expected = paired_bootstrap(errors_a, errors_b, ref_words, n=500, seed=4)
    assert (data["shared"], data["samples_a"], data["samples_b"], data["metric"]) == (40, 40, 41, "wer")
    assert data["difference"] == pytest.approx(expected.difference.to_dict())
    assert data["a"] == pytest.approx(expected.a.to_dict())
    assert data["p_value"] == pytest.approx(expected.p_value)
    text = runner.invoke(app, ["compare", str(path_a), str(path_b), "--seed", "4", "--n", "500"])
    assert text.exit_code == 0 and "40 samples shared" in text.output and "p = " in text.output
    assert f"{expected.difference.estimate:+.2f}" in text.output
    intervals = intervals_for_record(path_a, n=500, seed=4)
    assert set(intervals) == {"wer", "wer_python"}
    assert intervals["wer"] == bootstrap_wer(errors_a, ref_words, n=500, seed=4)


def test_compare_refuses_other_splits_and_disjoint_samples(tmp_path):
    path_a = _continuous_run(tmp_path, "official", "dev", _sentences([1, 0], [3, 4]))
    path_test = _continuous_run(tmp_path, "official", "test", _sentences([1, 0], [3, 4]))
    path_other = _continuous_run(tmp_path, "other", "dev", _sentences([1, 0], [3, 4], prefix="x"))
    out = runner.invoke(app, ["compare", str(path_a), str(path_test)])
    assert out.exit_code == 2 and "field 'split': expected 'dev'" in out.output
    with pytest.raises(ValueError, match="expected sample ids shared"):
        compare_records(path_a, path_other)


def _isolated_runs(results, labels, ranks_by_key):
    """Two records (one per views/output) over one scores.jsonl, as bench/runners/isolated.py writes them."""
    run_dir = results / "s3d_rgb_tiny__synthetic_wlasl__test__1view-temporal3"
    run_dir.mkdir(parents=True)
    with open(run_dir / "scores.jsonl", "w") as handle:
        for i, label in enumerate(labels):
            ranks = {key: int(r[i]) for key, r in ranks_by_key.items()}
            handle.write(json.dumps({"id": f"{i:05d}", "label": int(label), "windows": 1, "ranks": ranks,
                                     "ties": {key: 0 for key in ranks}, "top": {}}) + "\n")
    paths = []
    for key in ranks_by_key:
        views, output = key.split("/")
        record = ResultRecord(kind="run", model="s3d_rgb_tiny", dataset="synthetic_wlasl", split="test",
                              task="isolated", protocol={"tag": f"{views}-{output}", "views": views, "output": output},
                              metrics={"per_instance_top1": 0.0, "per_class_top1": 0.0, "per_class_top5": 0.0},
                              provenance=collect_provenance(), extra={"scores": str(run_dir / "scores.jsonl")})
        paths.append(write_record(record, results))
    return paths


def test_isolated_records_give_per_class_intervals_and_compare(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 6, size=60)
    ranks_1 = rng.integers(0, 4, size=60)
    ranks_3 = np.where(rng.random(60) < 0.3, 0, ranks_1)
    one, three = _isolated_runs(tmp_path, labels, {"1view/rgb": ranks_1, "temporal3/rgb": ranks_3})
    intervals = intervals_for_record(one, n=200, seed=9)
    assert intervals["per_class_top1"] == bootstrap_per_class_topk(ranks_1, labels, 1, n=200, seed=9)
    assert intervals["per_instance_top1"] == bootstrap_topk(ranks_1, 1, n=200, seed=9)
    comparison = compare_records(one, three, "per_class_top5", n=200, seed=9)
    expected = paired_bootstrap(ranks_1 < 5, ranks_3 < 5, strata=labels, n=200, seed=9)
    assert comparison.result == expected and comparison.shared == 60


def test_report_intervals_come_from_the_runs_per_sample_outputs(tmp_path):
    """bench report --intervals: the run's row carries the bootstrap interval of 1000 replicates, seed 0."""
    ref_words = np.array([5, 4, 6, 3, 7])
    errors = np.array([1, 0, 2, 0, 1])
    _continuous_run(tmp_path, "official", "dev", _sentences(errors, ref_words))
    expected = bootstrap_wer(errors, ref_words, n=1000, seed=0)
    out = runner.invoke(app, ["report", str(tmp_path), "--markdown", "--intervals"])
    assert out.exit_code == 0, out.output
    assert f"[{expected.low:.2f}, {expected.high:.2f}]" in out.stdout and "WER 95% CI" in out.stdout
    assert "WER 95% CI" not in runner.invoke(app, ["report", str(tmp_path), "--markdown"]).stdout
    flat = runner.invoke(app, ["report", str(tmp_path), "--markdown", "--intervals", "--flat"]).stdout
    assert f"[{expected.low:.2f}, {expected.high:.2f}]" in flat and "wer_ci95" in flat
