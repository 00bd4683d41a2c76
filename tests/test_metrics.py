"""Top-k metrics against numbers computed by hand, shard additivity, view fusion and input errors."""

import math

import numpy as np
import pytest

from bench.metrics import TopKCounts, fuse_views, topk_accuracy

# 6 samples, 4 classes; class 3 has no sample. Rank = other classes scoring >= the label's score.
SCORES = [
    [0.9, 0.05, 0.03, 0.02],  # label 0: rank 0 -> hit@1, hit@2
    [0.3, 0.5, 0.1, 0.1],  # label 0: 0.5 above -> rank 1 -> miss@1, hit@2
    [0.1, 0.6, 0.2, 0.1],  # label 1: rank 0 -> hit@1, hit@2
    [0.4, 0.1, 0.3, 0.2],  # label 1: 0.4, 0.3, 0.2 above -> rank 3 -> miss@1, miss@2
    [0.1, 0.2, 0.3, 0.4],  # label 2: 0.4 above -> rank 1 -> miss@1, hit@2
    [0.5, 0.3, 0.1, 0.1],  # label 1: 0.5 above -> rank 1 -> miss@1, hit@2
]
LABELS = [0, 0, 1, 1, 2, 1]
# per instance: top1 = 2/6 = 33.33..%, top2 = 5/6 = 83.33..%
# per class (class 3 excluded, 3 classes): top1 = (1/2 + 1/3 + 0/1) / 3 = 5/18 = 27.77..%
#                                          top2 = (2/2 + 2/3 + 1/1) / 3 = 8/9 = 88.88..%
# were class 3 counted as 0, per-class top1 would be (1/2 + 1/3 + 0 + 0) / 4 = 20.83..%


def test_hand_computed_case():
    out = topk_accuracy(np.array(SCORES), np.array(LABELS), ks=(1, 2, 5))
    assert out["per_instance_top1"] == pytest.approx(100 * 2 / 6)
    assert out["per_instance_top2"] == pytest.approx(100 * 5 / 6)
    assert out["per_class_top1"] == pytest.approx(100 * 5 / 18)
    assert out["per_class_top2"] == pytest.approx(100 * 8 / 9)
    # k = 5 > C = 4 is treated as 4: every sample is a hit
    assert out["per_instance_top5"] == 100.0 and out["per_class_top5"] == 100.0
    assert out["classes_counted"] == 3 and out["samples"] == 6 and out["ties"] == 0
    counts = out["counts"]
    assert counts.samples.tolist() == [2, 3, 1, 0]
    assert counts.hits.tolist() == [[1, 1, 0, 0], [2, 2, 1, 0], [2, 3, 1, 0]]


def test_default_keys_and_lists_accepted():
    out = topk_accuracy(SCORES, LABELS)
    assert {"per_instance_top1", "per_instance_top5", "per_class_top1", "per_class_top5", "counts"} <= set(out)


def test_ties_count_against_the_label():
    scores = [[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 3.0, 3.0]]
    # s0 label 0 ties class 1 -> rank 1; s1 label 2 ties class 1 -> rank 1; s2 all equal -> rank 2
    out = topk_accuracy(scores, [0, 2, 1], ks=(1, 2, 3))
    assert out["per_instance_top1"] == 0.0
    assert out["per_instance_top2"] == pytest.approx(100 * 2 / 3)
    assert out["per_instance_top3"] == 100.0
    assert out["ties"] == 3
    # the rule does not depend on class order: label 1 in the first row is also rank 1
    assert topk_accuracy([[1.0, 1.0, 0.0]], [1], ks=(1, 2))["per_instance_top2"] == 100.0
    assert topk_accuracy([[1.0, 1.0, 0.0]], [1], ks=(1, 2))["per_instance_top1"] == 0.0


def test_constant_scores_score_zero():
    assert topk_accuracy(np.zeros((5, 10)), [0, 1, 2, 3, 4], ks=(1,))["per_instance_top1"] == 0.0


def test_shards_add_up_exactly():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 30))
    labels = rng.integers(0, 30, size=200)
    labels[labels == 7] = 8  # leave class 7 without samples
    whole = TopKCounts.from_scores(scores, labels)
    cuts = [(0, 70), (70, 130), (130, 200)]
    shards = [TopKCounts.from_scores(scores[a:b], labels[a:b], num_classes=30) for a, b in cuts]
    merged = TopKCounts.merge(shards)
    assert np.array_equal(merged.hits, whole.hits) and np.array_equal(merged.samples, whole.samples)
    assert merged.compute() == whole.compute()
    # sum() of shards and in-place update give the same counts
    assert np.array_equal((shards[0] + shards[1] + shards[2]).hits, whole.hits)
    streamed = TopKCounts(30)
    for a, b in cuts:
        streamed.update(scores[a:b], labels[a:b])
    assert np.array_equal(streamed.hits, whole.hits)
    # an independent count: argsort-based rank (no ties in continuous random scores)
    order = np.argsort(-scores, axis=1)
    rank = np.array([list(order[i]).index(labels[i]) for i in range(200)])
    got = whole.compute()
    assert got["per_instance_top1"] == pytest.approx(100 * np.mean(rank < 1))
    assert got["per_instance_top5"] == pytest.approx(100 * np.mean(rank < 5))
    present = [c for c in range(30) if (labels == c).any()]
    assert got["classes_counted"] == len(present) == 29
    per_class = [np.mean(rank[labels == c] < 5) for c in present]
    assert got["per_class_top5"] == pytest.approx(100 * np.mean(per_class))


def test_counts_dict_round_trip():
    counts = TopKCounts.from_scores(SCORES, LABELS, ks=(1, 2))
    again = TopKCounts.from_dict(counts.to_dict())
    assert np.array_equal(again.hits, counts.hits) and again.ks == (1, 2)


def test_adding_different_counts_is_an_error():
    with pytest.raises(ValueError, match="ks"):
        TopKCounts(4, ks=(1, 5)) + TopKCounts(4, ks=(1,))
    with pytest.raises(ValueError, match="4 classes"):
        TopKCounts(4) + TopKCounts(5)
    with pytest.raises(ValueError, match="found 0"):
        TopKCounts(4).compute()


def test_tensor_like_input_is_duck_typed():
    class FakeTensor:
        def __init__(self, a):
            self.a = np.asarray(a)

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.a

    out = topk_accuracy(FakeTensor(SCORES), FakeTensor(LABELS), ks=(1,))
    assert out["per_instance_top1"] == pytest.approx(100 * 2 / 6)


def test_fuse_views_by_hand():
    # view 1 logits [0, 0] -> softmax [1/2, 1/2]; view 2 [ln 3, 0] -> [3/4, 1/4]; mean -> [5/8, 3/8]
    fused = fuse_views([[[0.0, 0.0]], [[math.log(3.0), 0.0]]])
    assert fused.shape == (1, 2) and fused.dtype == np.float64
    assert fused[0] == pytest.approx([0.625, 0.375])
    # huge logits do not overflow: [1000, 0] -> [1, 0], [1000, 1000] -> [1/2, 1/2]; mean -> [3/4, 1/4]
    assert fuse_views(np.array([[[1000.0, 0.0]], [[1000.0, 1000.0]]]))[0] == pytest.approx([0.75, 0.25])
    assert fuse_views([[[2.0, 4.0]], [[4.0, 0.0]]], kind="mean")[0] == pytest.approx([3.0, 2.0])


@pytest.mark.parametrize(
    "scores, labels, message",
    [
        (np.zeros((3, 4)), [0, 1], r"labels: expected shape \(3,\).*found shape \(2,\)"),
        (np.zeros((3, 4)), [0, 1, 4], r"expected class ids in \[0, 4\), found \[4\]"),
        (np.zeros((3, 4)), [0, -1, 1], r"found \[-1\]"),
        (np.zeros(4), [0], r"expected a 2-D array.*found shape \(4,\)"),
        (np.array([[0.0, np.nan], [1.0, 0.0]]), [0, 1], r"expected no NaN, found NaN in 1 rows \(first rows \[0\]\)"),
        (np.zeros((2, 3)), [0.0, 1.0], r"expected integer class ids, found dtype float64"),
    ],
)
def test_input_errors(scores, labels, message):
    with pytest.raises(ValueError, match=message):
        topk_accuracy(scores, labels)


def test_other_errors():
    with pytest.raises(ValueError, match=r"expected 5 columns \(num_classes\), found 4"):
        topk_accuracy(np.zeros((2, 4)), [0, 1], num_classes=5)
    with pytest.raises(ValueError, match="positive integers"):
        topk_accuracy(np.zeros((2, 4)), [0, 1], ks=(0,))
    with pytest.raises(ValueError, match=r"3-D array.*found shape \(2, 3\)"):
        fuse_views(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="kind expected one of"):
        fuse_views(np.zeros((1, 2, 3)), kind="max")
    with pytest.raises(ValueError, match="NaN"):
        fuse_views(np.full((1, 1, 2), np.nan))


def test_counts_from_saved_ranks_equal_counts_from_scores():
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((50, 7))
    labels = rng.integers(0, 6, 50)  # class 6 never appears
    from bench.metrics import TopKCounts, label_ranks

    ranks, tied = label_ranks(scores, labels)
    a = TopKCounts.from_scores(scores, labels, ks=(1, 3))
    b = TopKCounts.from_ranks(ranks, labels, 7, ks=(1, 3), tied=tied)
    assert a.compute() == b.compute()


def test_tie_dependent_counts_say_when_tie_breaking_could_move_a_figure():
    from bench.metrics import TopKCounts, label_ranks, label_tie_counts

    scores = np.array([[0.5, 0.5, 0.0, 0.0],  # label 0 tied with class 1 at the top: a top-1 miss here, tie-dependent
                       [0.1, 0.3, 0.3, 0.3],  # label 1 tied with 2 and 3 for places 1-3: top-1 and top-2 dependent
                       [0.9, 0.1, 0.0, 0.0],  # no tie
                       [0.4, 0.4, 0.1, 0.1]])  # label 2 tied with 3 below the top two: a top-3 question only
    labels = np.array([0, 1, 0, 2])
    counts = TopKCounts.from_scores(scores, labels, ks=(1, 2, 3), num_classes=4)
    result = counts.compute()
    assert (result["tie_dependent_top1"], result["tie_dependent_top2"], result["tie_dependent_top3"]) == (2, 1, 1)
    assert result["ties"] == 3 and result["per_instance_top1"] == 25.0  # ties count against the label
    ranks, _ = label_ranks(scores, labels)
    replayed = TopKCounts.from_ranks(ranks, labels, 4, ks=(1, 2, 3), tied=label_tie_counts(scores, labels))
    assert replayed.compute() == result and TopKCounts.from_dict(counts.to_dict()).compute() == result


def test_per_class_rules_on_the_hand_computed_case():
    """Class 3 has no sample: NLA-SLR's rule leaves it out, SignNet's counts it as 0 (ranks 0, 1, 0, 3, 1, 1)."""
    counts = TopKCounts.from_scores(np.array(SCORES), np.array(LABELS), ks=(1, 2))
    nla = counts.compute()  # the default rule: present classes
    signnet = counts.compute(per_class="all_classes")
    assert nla["per_class_top1"] == pytest.approx(100 * 5 / 18) and nla["classes_counted"] == 3
    assert signnet["per_class_top1"] == pytest.approx(100 * (1 / 2 + 1 / 3 + 0 + 0) / 4)  # 20.83
    assert signnet["per_class_top2"] == pytest.approx(100 * (2 / 2 + 2 / 3 + 1 / 1 + 0) / 4)  # 66.67
    for out in (nla, signnet):  # both rules by name in either computation
        assert out["per_class_present_top1"] == pytest.approx(100 * 5 / 18)
        assert out["per_class_all_top1"] == pytest.approx(100 * 5 / 24)
    assert signnet["per_instance_top1"] == nla["per_instance_top1"]  # the rule touches per-class figures only
    with pytest.raises(ValueError, match="per_class: expected one of present_classes, all_classes"):
        counts.compute(per_class="mean")


def test_ranking_metrics_by_hand():
    """ASL-Citizen's DCG = mean 1/log2(rank+2), MRR = mean 1/(rank+1), ranks 0-based: here 0, 1, 0, 3, 1, 1."""
    out = TopKCounts.from_scores(np.array(SCORES), np.array(LABELS), ks=(1,)).compute()
    dcg = (1 + 1 / math.log2(3) + 1 + 1 / math.log2(5) + 1 / math.log2(3) + 1 / math.log2(3)) / 6  # 0.72058
    assert out["dcg"] == pytest.approx(dcg, abs=1e-12) and out["dcg"] == pytest.approx(0.720578, abs=1e-6)
    assert out["mrr"] == pytest.approx((1 + 1 / 2 + 1 + 1 / 4 + 1 / 2 + 1 / 2) / 6, abs=1e-12)  # 0.625


def test_ranking_sums_add_up_exactly_over_shards():
    rng = np.random.default_rng(11)
    ranks, labels = rng.integers(0, 2731, 999), rng.integers(0, 9, 999)
    whole = TopKCounts.from_ranks(ranks, labels, 9, ks=(1, 10, 20))
    parts = TopKCounts.merge(TopKCounts.from_ranks(ranks[i::3], labels[i::3], 9, ks=(1, 10, 20)) for i in range(3))
    assert parts.compute() == whole.compute()  # integer sums: the order of addition cannot change a bit
    assert whole.compute()["mrr"] == pytest.approx(np.mean(1 / (ranks + 1)), abs=1e-12)
    assert TopKCounts.from_dict(whole.to_dict()).compute() == whole.compute()
