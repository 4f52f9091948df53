"""Uncertainty sampling (:mod:`refinery.labels.active_learning`) against hand computations on
small matrices, and the budgeted selection with quotas and clusters. Pure numpy, no Spark."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from refinery.labels.active_learning import STRATEGIES, select, uncertainty

# Four rows on which the three strategies rank differently (worked out by hand below).
P3 = np.array(
    [
        [0.5, 0.5, 0.0],  # torn between two classes: the largest margin uncertainty
        [0.4, 0.3, 0.3],  # least confident, and spread over all three: the largest entropy
        [0.9, 0.05, 0.05],  # confident
        [0.6, 0.2, 0.2],
    ]
)


def _entropy(*ps: float) -> float:
    return -sum(p * math.log(p) for p in ps if p > 0)


def test_least_confidence_is_one_minus_the_top_probability():
    assert uncertainty(P3, "least_confidence") == pytest.approx([0.5, 0.6, 0.1, 0.4])


def test_margin_is_one_minus_the_gap_between_the_two_top_probabilities():
    assert uncertainty(P3, "margin") == pytest.approx([1.0, 0.9, 0.15, 0.6])


def test_entropy_in_nats():
    expected = [_entropy(0.5, 0.5), _entropy(0.4, 0.3, 0.3), _entropy(0.9, 0.05, 0.05), _entropy(0.6, 0.2, 0.2)]
    assert expected == pytest.approx([math.log(2), 1.0889, 0.3944, 0.9503], abs=1e-4)
    assert uncertainty(P3, "entropy") == pytest.approx(expected)


def test_the_three_strategies_rank_three_classes_differently():
    assert select(uncertainty(P3, "least_confidence"), 4).tolist() == [1, 0, 3, 2]
    assert select(uncertainty(P3, "margin"), 4).tolist() == [0, 1, 3, 2]
    assert select(uncertainty(P3, "entropy"), 4).tolist() == [1, 3, 0, 2]


def test_two_classes_give_the_same_ranking_under_every_strategy():
    rng = np.random.default_rng(3)
    first = rng.random(200)
    probs = np.column_stack([first, 1.0 - first])
    rankings = {s: select(uncertainty(probs, s), 200).tolist() for s in ("least_confidence", "margin", "entropy")}
    assert rankings["least_confidence"] == rankings["margin"] == rankings["entropy"]
    # the most uncertain row is the one closest to 50/50
    assert rankings["entropy"][0] == int(np.argmin(np.abs(first - 0.5)))
    # margin = 1 - (p - (1 - p)) = 2 (1 - p) for the top probability p
    assert uncertainty(probs, "margin") == pytest.approx(2 * uncertainty(probs, "least_confidence"))


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_rows_with_the_same_probabilities_in_another_class_order_tie_exactly(strategy):
    # summed in class order, entropy differs in its last bits between permutations of a row
    # (the rows below did): then a tie would be broken by class order, not by row index
    rng = np.random.default_rng(0)
    for _ in range(50):
        row = rng.dirichlet(np.ones(4))
        probs = np.array([row, row[::-1], np.roll(row, 1), row[[2, 0, 3, 1]]])
        scores = uncertainty(probs, strategy)
        assert len(set(scores.tolist())) == 1
        assert select(scores, 4).tolist() == [0, 1, 2, 3]


def test_ties_are_broken_by_the_smaller_index():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.9, 0.1], [0.6, 0.4]])
    for strategy in ("least_confidence", "margin", "entropy"):
        assert select(uncertainty(probs, strategy), 4).tolist() == [1, 3, 0, 2]


def test_a_one_column_matrix_is_certain():
    probs = np.ones((3, 1))
    for strategy in ("least_confidence", "margin", "entropy"):
        assert uncertainty(probs, strategy).tolist() == [0.0, 0.0, 0.0]


def test_entropy_of_rows_with_zeros_is_finite_and_warns_nothing():
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0], [0.25, 0.25, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = uncertainty(probs, "entropy")
    assert np.isfinite(scores).all()
    assert scores == pytest.approx([0.0, math.log(2), 0.0, 1.5 * math.log(2)])


def test_random_is_seeded_uniform_and_ignores_the_probabilities():
    probs = np.full((1000, 3), 1 / 3)
    a = uncertainty(probs, "random", seed=1)
    assert a.shape == (1000,)
    assert ((a >= 0) & (a < 1)).all()
    assert a.tolist() == uncertainty(np.eye(3)[np.arange(1000) % 3], "random", seed=1).tolist()
    assert a.tolist() != uncertainty(probs, "random", seed=2).tolist()
    assert 0.45 < a.mean() < 0.55


@pytest.mark.parametrize(
    ("probs", "strategy"),
    [
        pytest.param(np.array([0.5, 0.5]), "margin", id="not a matrix"),
        pytest.param(np.zeros((2, 0)), "least_confidence", id="no classes"),
        pytest.param(np.array([[0.5, 0.5]]), "Entropy", id="unknown strategy"),
        pytest.param(np.array([[0.5, 0.5]]), "bald", id="unsupported strategy"),
        pytest.param(np.array([[np.nan, 0.5]]), "entropy", id="NaN, a diverged model"),
        pytest.param(np.array([[np.inf, 0.0]]), "least_confidence", id="infinite"),
        pytest.param(np.array([[2.0, -1.0]]), "margin", id="logits, not probabilities"),
    ],
)
def test_uncertainty_rejects_bad_input(probs, strategy):
    with pytest.raises(ValueError):
        uncertainty(probs, strategy)


def test_strategies_are_the_four_of_the_issue():
    assert set(STRATEGIES) == {"least_confidence", "margin", "entropy", "random"}


# --- select -----------------------------------------------------------------------------------


def test_select_takes_the_budget_most_uncertain_rows_in_order():
    scores = np.array([0.1, 0.9, 0.5, 0.7])
    assert select(scores, 2).tolist() == [1, 3]
    assert select(scores, 4).tolist() == [1, 3, 2, 0]
    assert select(scores, 10).tolist() == [1, 3, 2, 0]  # a budget over the rows takes them all


def test_select_with_budget_zero_or_no_rows_is_empty():
    chosen = select(np.array([0.3, 0.2]), 0)
    assert chosen.tolist() == []
    assert chosen.dtype.kind == "i"  # still usable as an index
    assert select(np.array([]), 5).tolist() == []


def test_select_breaks_ties_by_the_smaller_index():
    assert select(np.array([0.5, 0.9, 0.5, 0.9, 0.5]), 5).tolist() == [1, 3, 0, 2, 4]
    assert select(np.array([0.5, 0.9, 0.5, 0.9, 0.5]), 3).tolist() == [1, 3, 0]


def test_quotas_cap_each_listed_class_and_leave_the_others_unlimited():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    classes = np.array(["a", "a", "a", "b", "c", "c"])
    # a: its most uncertain row only; b: none; c has no quota
    assert select(scores, 6, classes=classes, quotas={"a": 1, "b": 0}).tolist() == [0, 4, 5]
    assert select(scores, 2, classes=classes, quotas={"a": 1, "b": 0}).tolist() == [0, 4]
    assert select(scores, 6, classes=classes, quotas={"a": 2}).tolist() == [0, 1, 3, 4, 5]
    assert select(scores, 6, classes=classes, quotas={"z": 0}).tolist() == [0, 1, 2, 3, 4, 5]
    assert select(scores, 6, classes=classes, quotas={}).tolist() == [0, 1, 2, 3, 4, 5]


def test_quotas_keep_the_most_uncertain_rows_of_a_class():
    scores = np.array([0.1, 0.8, 0.3, 0.9, 0.2])
    classes = np.array([0, 0, 0, 1, 0])
    assert select(scores, 5, classes=classes, quotas={0: 2}).tolist() == [3, 1, 2]


def test_clusters_keep_their_most_uncertain_row():
    scores = np.array([0.2, 0.9, 0.5, 0.8, 0.1])
    clusters = np.array(["x", "y", "x", "y", "z"])
    assert select(scores, 10, clusters=clusters).tolist() == [1, 2, 4]
    assert select(scores, 2, clusters=clusters).tolist() == [1, 2]
    # a tie inside a cluster: the smaller index represents it
    assert select(np.array([0.5, 0.5, 0.5]), 3, clusters=np.array([7, 7, 8])).tolist() == [0, 2]


def test_rows_in_no_cluster_are_not_limited():
    # dup_cluster is NULL for a row without near-duplicates: None (strings) or NaN (floats)
    scores = np.array([0.2, 0.9, 0.5, 0.8, 0.1])
    strings = np.array([None, "y", None, "y", "z"], dtype=object)
    assert select(scores, 10, clusters=strings).tolist() == [1, 2, 0, 4]
    floats = np.array([np.nan, 1.0, np.nan, 1.0, 2.0])
    assert select(scores, 10, clusters=floats).tolist() == [1, 2, 0, 4]
    assert select(scores, 10, clusters=[None] * 5).tolist() == [1, 3, 2, 0, 4]


def test_a_cluster_is_represented_by_its_most_uncertain_row_before_quotas():
    scores = np.array([0.9, 0.8, 0.7])
    classes = np.array(["a", "b", "b"])
    clusters = np.array(["k", "k", "m"])
    # cluster k's representative is row 0 (class a, quota 0): row 1 does not stand in for it
    assert select(scores, 3, classes=classes, quotas={"a": 0}, clusters=clusters).tolist() == [2]
    assert select(scores, 3, classes=classes, quotas={"b": 1}, clusters=clusters).tolist() == [0, 2]


def test_uncertainty_and_select_together():
    probs = np.array([[0.98, 0.01, 0.01], [0.34, 0.33, 0.33], [0.5, 0.45, 0.05], [0.7, 0.2, 0.1]])
    predicted = probs.argmax(axis=1)  # all class 0
    assert select(uncertainty(probs, "margin"), 2).tolist() == [1, 2]
    assert select(uncertainty(probs, "margin"), 2, classes=predicted, quotas={0: 1}).tolist() == [1]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: select(np.array([0.1, 0.2]), -1), id="negative budget"),
        pytest.param(lambda: select(np.array([[0.1, 0.2]]), 1), id="not one score per row"),
        pytest.param(lambda: select(np.array([0.1, np.nan]), 1), id="NaN score"),
        pytest.param(lambda: select(np.array([0.1, 0.2]), 1, clusters=np.array([1])), id="too few clusters"),
        pytest.param(lambda: select(np.array([0.1, 0.2]), 1, clusters=np.array([1, 2, 3])), id="too many clusters"),
        pytest.param(
            lambda: select(np.array([0.1, 0.2]), 1, classes=np.array([0, 0, 1]), quotas={0: 1}), id="too many classes"
        ),
        pytest.param(lambda: select(np.array([0.1, 0.2]), 1, quotas={0: 1}), id="quotas without classes"),
        pytest.param(
            lambda: select(np.array([0.1, 0.2]), 1, classes=np.array([0, 0]), quotas={0: -1}), id="negative quota"
        ),
    ],
)
def test_select_rejects_bad_input(call):
    with pytest.raises(ValueError):
        call()
