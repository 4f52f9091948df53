"""The label-noise benchmark's yardstick: flips at exactly the asked rate, of the asked kind,
reproducible by seed; detection scores and average precision checked by hand."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest

from bench.noise_evalset import average_precision, detection_scores, inject_noise
from tests.support.paths import corpora_dir


def ag_news_labels(n: int) -> list[str]:
    """The first ``n`` class labels of AG News test (four balanced topics)."""
    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        return [row[0] for _, row in zip(range(n), csv.reader(f), strict=False)]


def test_uniform_flips_change_exactly_the_asked_share_to_another_class():
    labels = ag_news_labels(2000)
    noisy, flipped = inject_noise(labels, 0.1, "uniform", seed=3)
    given = np.asarray(labels, dtype=object)
    assert flipped.sum() == 200
    assert np.all(noisy[flipped] != given[flipped]) and np.all(noisy[~flipped] == given[~flipped])
    # symmetric: flips from one class spread over all the others
    targets = Counter(noisy[flipped & (given == given[0])].tolist())
    assert len(targets) == len(set(labels)) - 1


def test_class_conditional_flips_move_each_class_to_one_other_class():
    labels = ag_news_labels(2000)
    noisy, flipped = inject_noise(labels, 0.2, "class_conditional", seed=3)
    given = np.asarray(labels, dtype=object)
    for c, count in Counter(labels).items():
        moved = flipped & (given == c)
        assert moved.sum() == round(0.2 * count)
        assert len(set(noisy[moved].tolist())) == 1 and noisy[moved][0] != c
    assert not np.array_equal(noisy, given)


def test_the_same_seed_gives_the_same_flips_and_another_seed_others():
    labels = ag_news_labels(500)
    first, again, other = (inject_noise(labels, 0.1, "uniform", seed=s) for s in (1, 1, 2))
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="kind"):
        inject_noise(["a", "b"], 0.1, "sideways", seed=0)
    with pytest.raises(ValueError, match="rate"):
        inject_noise(["a", "b"], 1.0, "uniform", seed=0)
    with pytest.raises(ValueError, match="two classes"):
        inject_noise(["a", "a"], 0.5, "uniform", seed=0)


def test_detection_scores_count_hits_against_flips():
    scores = detection_scores([True, True, False, True, False], [True, False, False, True, True])
    assert scores == {
        "precision": pytest.approx(2 / 3, abs=1e-4),
        "recall": pytest.approx(2 / 3, abs=1e-4),
        "f1": pytest.approx(2 / 3, abs=1e-4),
        "flagged": 3,
    }
    assert detection_scores([False, False], [True, False])["f1"] == 0.0


def test_average_precision_by_hand():
    # perfect ranking: the flipped samples have the lowest quality
    assert average_precision([0.1, 0.4, 0.35, 0.8], [True, False, True, False]) == pytest.approx(1.0)
    # ranks: clean, flipped, flipped -> precisions 1/2 and 2/3 at the two hits
    assert average_precision([0.1, 0.2, 0.3], [False, True, True]) == pytest.approx((1 / 2 + 2 / 3) / 2)
    # a tie enters together: one threshold holding both samples, precision 1/2, recall 1
    assert average_precision([0.5, 0.5], [True, False]) == pytest.approx(0.5)


def test_average_precision_of_a_random_ranking_is_near_the_flipped_share():
    rng = np.random.default_rng(0)
    flipped = rng.random(20000) < 0.1
    assert average_precision(rng.random(20000), flipped) == pytest.approx(flipped.mean(), abs=0.02)


def test_instance_dependent_flips_go_to_the_confused_class_and_favour_confusable_rows():
    labels = ag_news_labels(2000)
    classes = sorted(set(labels))
    rng = np.random.default_rng(5)
    confusion = rng.dirichlet(np.full(len(classes), 0.3), len(labels))
    noisy, flipped = inject_noise(labels, 0.2, "instance_dependent", seed=3, confusion=confusion)
    given = np.asarray(labels, dtype=object)
    assert flipped.sum() == 400
    assert np.all(noisy[~flipped] == given[~flipped])
    index = np.searchsorted(classes, given)
    others = confusion.copy()
    others[np.arange(len(labels)), index] = -np.inf
    target = np.asarray(classes, dtype=object)[others.argmax(1)]
    np.testing.assert_array_equal(noisy[flipped], target[flipped])
    # a row the weak model confuses easily is flipped far more often than one it does not
    q = others.max(1)
    assert q[flipped].mean() > q[~flipped].mean() + 0.1
    again = inject_noise(labels, 0.2, "instance_dependent", seed=3, confusion=confusion)
    assert np.array_equal(again[1], flipped)
    with pytest.raises(ValueError, match="confusion"):
        inject_noise(labels, 0.2, "instance_dependent", seed=3)
