"""The resampling maths (:mod:`refinery.labels.resampling`) on the shared corpora's real class
counts, side by side with imbalanced-learn's random samplers."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler

from refinery.labels.resampling import (
    ResamplePlan,
    class_targets,
    class_weights,
    copies_per_row,
    largest_remainder,
)
from tests.support.resampling_corpora import REAL_COUNTS, corpus_labels


@pytest.mark.parametrize("corpus", sorted(REAL_COUNTS))
def test_real_corpora_have_the_issue_counts(corpus):
    assert Counter(corpus_labels(corpus)) == REAL_COUNTS[corpus]


@pytest.mark.parametrize("corpus", sorted(REAL_COUNTS))
def test_under_and_over_sampling_give_imbalanced_learns_counts(corpus):
    labels = np.asarray(corpus_labels(corpus))
    features = np.arange(len(labels)).reshape(-1, 1)
    counts = Counter(labels.tolist())
    _, under = RandomUnderSampler(random_state=0).fit_resample(features, labels)
    _, over = RandomOverSampler(random_state=0).fit_resample(features, labels)
    assert class_targets(counts, ResamplePlan(strategy="undersample")) == dict(Counter(under.tolist()))
    assert class_targets(counts, ResamplePlan(strategy="oversample")) == dict(Counter(over.tolist()))


def test_each_strategy_on_chnsenticorp():
    counts = REAL_COUNTS["chnsenticorp"]  # positive 5,322, negative 2,444
    assert class_targets(counts, ResamplePlan()) == counts
    assert class_targets(counts, ResamplePlan(strategy="undersample", cap=3000)) == {"positive": 3000, "negative": 2444}
    assert class_targets(counts, ResamplePlan(strategy="oversample", floor=4000)) == {
        "positive": 5322,
        "negative": 4000,
    }
    # smooth: p ∝ n^0.5 over the 7,766 rows: 7766 * sqrt(5322) / (sqrt(5322) + sqrt(2444)) = 4629.2
    smooth = class_targets(counts, ResamplePlan(strategy="smooth", alpha=0.5))
    assert smooth == {"positive": 4629, "negative": 3137}
    assert class_targets(counts, ResamplePlan(strategy="smooth", alpha=1.0)) == counts
    assert class_targets(counts, ResamplePlan(strategy="smooth", alpha=0.0)) == {"positive": 3883, "negative": 3883}
    target = ResamplePlan(strategy="target", proportions={"positive": 0.25, "negative": 0.75}, total=4000)
    assert class_targets(counts, target) == {"positive": 1000, "negative": 3000}
    exact = ResamplePlan(strategy="target", counts={"positive": 100, "negative": 5000})
    assert class_targets(counts, exact) == {"positive": 100, "negative": 5000}


def test_target_leaves_out_unlisted_classes_and_defaults_total_to_listed_rows():
    counts = {"ham": 4827, "spam": 747, "other": 10}
    plan = ResamplePlan(strategy="target", proportions={"ham": 0.5, "spam": 0.5})
    assert class_targets(counts, plan) == {"ham": 2787, "spam": 2787, "other": 0}


def test_caps_apply_after_the_strategy_per_class_or_to_all():
    counts = REAL_COUNTS["waimai"]  # negative 7,987, positive 4,000
    plan = ResamplePlan(strategy="oversample", max={"negative": 6000}, min=4500)
    assert class_targets(counts, plan) == {"negative": 6000, "positive": 7987}
    assert class_targets(counts, ResamplePlan(strategy="none", max=5000, min=4500)) == {
        "negative": 5000,
        "positive": 4500,
    }


def test_an_empty_class_gets_no_rows_whatever_the_plan():
    counts = {"a": 10, "b": 0}
    assert class_targets(counts, ResamplePlan(strategy="oversample")) == {"a": 10, "b": 0}
    assert class_targets(counts, ResamplePlan(strategy="target", counts={"a": 3, "b": 5})) == {"a": 3, "b": 0}


@pytest.mark.parametrize("total", [0, 1, 7, 1000, 12345])
def test_largest_remainder_sums_exactly_and_ignores_order(total):
    shares = {"a": 0.3333, "b": 0.3333, "c": 0.3334, "d": 0.0}
    result = largest_remainder(shares, total)
    assert sum(result.values()) == total
    assert result == largest_remainder(dict(reversed(shares.items())), total)
    assert all(abs(result[c] - total * s) < 1 for c, s in shares.items())


def test_copies_per_row_reach_the_target_exactly():
    for n, t in [(747, 4827), (5322, 2444), (3, 3), (4, 0), (7, 100)]:
        q, r = copies_per_row(n, t)
        assert q * n + r == t and 0 <= r < n
    with pytest.raises(ValueError, match="empty class"):
        copies_per_row(0, 5)


@pytest.mark.parametrize("method", ["inverse", "sqrt_inverse", "effective_number", "none"])
def test_weights_have_mean_one_over_gold_rows(method):
    gold = REAL_COUNTS["sms_spam"]
    weights = class_weights(gold, method, beta=0.999)
    rows = sum(gold.values())
    assert math.isclose(sum(gold[c] * weights[c] for c in gold) / rows, 1.0, rel_tol=1e-12)


def test_weight_ratios_follow_their_formulas():
    gold = {"ham": 4827, "spam": 747}
    inverse = class_weights(gold, "inverse")
    assert math.isclose(inverse["spam"] / inverse["ham"], 4827 / 747)
    root = class_weights(gold, "sqrt_inverse")
    assert math.isclose(root["spam"] / root["ham"], math.sqrt(4827 / 747))
    beta = 0.999
    effective = class_weights(gold, "effective_number", beta)
    expected = (1 - beta**4827) / (1 - beta**747)  # E_n(ham) / E_n(spam)
    assert math.isclose(effective["spam"] / effective["ham"], expected, rel_tol=1e-9)
    # β → 0: every class weighs the same; β → 1: inverse frequency
    assert math.isclose(class_weights(gold, "effective_number", 0.0)["spam"], 1.0)
    near_one = class_weights(gold, "effective_number", 1 - 1e-9)
    assert math.isclose(near_one["spam"] / near_one["ham"], 4827 / 747, rel_tol=1e-4)
    assert class_weights({"a": 5, "b": 0}, "inverse") == {"a": 1.0, "b": 0.0}


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"strategy": "shuffle"}, "strategy must be one of"),
        ({"strategy": "target"}, "exactly one of target.counts or target.proportions"),
        ({"strategy": "target", "proportions": {"a": 0.5, "b": 0.6}}, "must sum to 1"),
        ({"strategy": "smooth", "alpha": 1.5}, "alpha must be in"),
        ({"strategy": "undersample", "cap": -1}, "cap must be"),
        ({"min": {"a": -2}}, "min caps"),
    ],
)
def test_inconsistent_plans_are_refused_with_the_field_named(plan, message):
    with pytest.raises(ValueError, match=message):
        ResamplePlan(**plan)
