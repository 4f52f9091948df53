"""Confident learning with Spark aggregations: the same flags as cleanlab (and as the numpy
module) on frames spread over several partitions, with row order given by a column."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from cleanlab.count import compute_confident_joint, get_confident_thresholds
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from pyspark.sql import functions as F

from refinery.labels import confident_learning as cl
from refinery.score import spark_confident_learning as scl
from refinery.spark.checkpoint import checkpointed, release

PARTITIONS = 5
SCHEMA = "id string, given int, probs array<double>, row_index long"


def noisy_dataset(seed: int, num_classes: int, n: int, decimals: int | None = None):
    """``(pred_probs, labels)``: Dirichlet probabilities peaked on the true class, 20% of the
    labels moved to another class (as in test_confident_learning)."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, num_classes, n)
    alpha = np.where(np.arange(num_classes)[None, :] == true[:, None], 4.0 * max(1.0, num_classes / 4), 0.6)
    probs = np.stack([rng.dirichlet(a) for a in alpha])
    if decimals is not None:
        probs = np.round(probs, decimals)
    flipped = rng.random(n) < 0.2
    labels = true.copy()
    labels[flipped] = (true[flipped] + rng.integers(1, num_classes, flipped.sum())) % num_classes
    return probs, labels


def as_frame(spark, probs: np.ndarray, labels: np.ndarray, seed: int = 0):
    """The rows in a shuffled physical order over several partitions, checkpointed (each call
    reads it several times); ``row_index`` is the numpy row, so only the column can tell Spark
    the order."""
    shuffled = np.random.default_rng(seed).permutation(len(labels))
    rows = [(f"doc-{i}", int(labels[i]), [float(v) for v in probs[i]], int(i)) for i in shuffled]
    frame = checkpointed(spark.createDataFrame(rows, SCHEMA).repartition(PARTITIONS))
    assert frame.rdd.getNumPartitions() == PARTITIONS
    return frame


def collected(frame, n: int, column: str = "is_noisy") -> np.ndarray:
    """A column of the result as a numpy array in row_index order; every row exactly once."""
    rows = frame.select("row_index", column).collect()
    assert sorted(r.row_index for r in rows) == list(range(n))
    out = np.empty(n, dtype=object)
    for r in rows:
        out[r.row_index] = r[column]
    return out


def cleanlab_flags(probs, labels, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_label_issues(labels, probs, filter_by=method, n_jobs=1)


@pytest.fixture(scope="module")
def four(spark):
    probs, labels = noisy_dataset(21, 4, 3000)
    frame = as_frame(spark, probs, labels, seed=1)
    yield probs, labels, frame
    release(frame)


@pytest.fixture(scope="module")
def ten(spark):
    probs, labels = noisy_dataset(22, 10, 4000)
    frame = as_frame(spark, probs, labels, seed=2)
    yield probs, labels, frame
    release(frame)


@pytest.mark.parametrize("method", cl.METHODS)
def test_four_classes_flags_equal_cleanlab(four, method):
    probs, labels, frame = four
    result = scl.noise_flags(frame, 4, method)
    expected = cleanlab_flags(probs, labels, method)
    assert 0 < expected.sum() < len(labels)
    np.testing.assert_array_equal(collected(result, len(labels)).astype(bool), expected)


@pytest.mark.parametrize("method", ["prune_by_noise_rate", "both", "confident_learning", "low_normalized_margin"])
def test_ten_classes_flags_equal_cleanlab(ten, method):
    probs, labels, frame = ten
    result = scl.noise_flags(frame, 10, method)
    expected = cleanlab_flags(probs, labels, method)
    assert 0 < expected.sum() < len(labels)
    np.testing.assert_array_equal(collected(result, len(labels)).astype(bool), expected)


def test_the_result_keeps_every_row_and_column_and_adds_the_prediction(ten):
    probs, labels, frame = ten
    result = scl.noise_flags(frame, 10)
    assert result.columns == [*frame.columns, "pred", "is_noisy"]
    np.testing.assert_array_equal(collected(result, len(labels), "pred").astype(int), probs.argmax(axis=1))
    ids = {r.id: r.row_index for r in result.select("id", "row_index").collect()}
    assert len(ids) == len(labels) and all(ids[f"doc-{i}"] == i for i in range(len(labels)))


def test_the_driver_side_counts_equal_cleanlabs(ten):
    probs, labels, frame = ten
    counts = scl.confident_counts(frame, 10)
    np.testing.assert_array_equal(counts.label_counts, np.bincount(labels, minlength=10))
    # avg() sums in partition order: equal to numpy's pairwise mean up to rounding
    np.testing.assert_allclose(counts.thresholds, get_confident_thresholds(labels, probs), rtol=1e-13, atol=0)
    raw = cl.confident_joint(probs, labels, calibrate=False)
    np.testing.assert_array_equal(cl.confident_joint_from_counts(counts.raw_joint, counts.label_counts, False), raw)
    np.testing.assert_array_equal(counts.confident_joint, compute_confident_joint(labels, probs))
    np.testing.assert_array_equal(counts.flag_counts, cl.flag_counts(counts.confident_joint, counts.label_counts))
    assert np.trace(counts.flag_counts) > 0 and (counts.flag_counts.sum() - np.trace(counts.flag_counts)) > 0


@pytest.mark.parametrize("method", cl.QUALITY_METHODS)
def test_label_quality_equals_cleanlab(four, method):
    probs, labels, frame = four
    scores = collected(scl.label_quality(frame, method), len(labels), "label_quality").astype(float)
    np.testing.assert_array_equal(scores, get_label_quality_scores(labels, probs, method=method))


@pytest.mark.parametrize("method", ["prune_by_noise_rate", "prune_by_class", "low_self_confidence"])
def test_ties_are_broken_by_the_order_column(spark, method):
    """One-decimal probabilities: cut-offs inside ties. Spark breaks them by row_index, which is
    numpy's stable ranking (cleanlab's unstable sort may pick others)."""
    probs, labels = noisy_dataset(23, 4, 3000, decimals=1)
    frame = as_frame(spark, probs, labels, seed=3)
    got = collected(scl.noise_flags(frame, 4, method), len(labels)).astype(bool)
    np.testing.assert_array_equal(got, cl.find_noisy(probs, labels, method, stable_ties=True))
    # reversing the order column reverses every tie: other examples are flagged
    reversed_order = frame.withColumn("row_index", len(labels) - 1 - frame.row_index)
    flipped = collected(scl.noise_flags(reversed_order, 4, method), len(labels)).astype(bool)[::-1]
    expected = cl.find_noisy(probs[::-1], labels[::-1], method, stable_ties=True)[::-1]
    np.testing.assert_array_equal(flipped, expected)
    assert not np.array_equal(flipped, got)


@pytest.mark.parametrize("buckets", [1, 3, 64])
def test_the_bucket_prefilter_never_changes_the_ranking(four, buckets):
    """One bucket (no pre-filter at all) and coarse ones flag exactly what the default does."""
    probs, labels, frame = four
    for method in ("both", "low_normalized_margin"):
        got = collected(scl.noise_flags(frame, 4, method, buckets=buckets), len(labels)).astype(bool)
        np.testing.assert_array_equal(got, cl.find_noisy(probs, labels, method))


def test_an_absent_class_and_correct_labels(spark):
    probs, labels = noisy_dataset(24, 4, 2000)
    labels[labels == 2] = 3
    frame = as_frame(spark, probs, labels, seed=4)
    for method in ("prune_by_noise_rate", "prune_by_class"):
        got = collected(scl.noise_flags(frame, 4, method), len(labels)).astype(bool)
        np.testing.assert_array_equal(got, cleanlab_flags(probs, labels, method))
        assert got.any()
    clean = as_frame(spark, probs, probs.argmax(axis=1), seed=5)
    assert scl.noise_flags(clean, 4).where("is_noisy").count() == 0


def test_bad_frames_are_refused(spark):
    probs, labels = noisy_dataset(25, 3, 200)
    frame = as_frame(spark, probs, labels)
    with pytest.raises(scl.InvalidProbabilitiesError, match="entries"):
        scl.noise_flags(frame, 4)  # arrays of 3 for 4 classes
    with pytest.raises(scl.InvalidProbabilitiesError, match="class index"):
        scl.noise_flags(frame.withColumn("given", frame.given + 1), 3)
    with pytest.raises(scl.InvalidProbabilitiesError, match=r"\[0, 1\]"):
        scl.noise_flags(frame.withColumn("probs", F.transform("probs", lambda x: x * 2)), 3)
    with pytest.raises(scl.InvalidProbabilitiesError, match="null"):
        scl.noise_flags(frame.withColumn("probs", F.when(frame.row_index == 7, None).otherwise(frame.probs)), 3)
    with pytest.raises(scl.InvalidProbabilitiesError, match="null"):
        null_entry = F.transform("probs", lambda x, i: F.when(i == 1, F.lit(None)).otherwise(x))
        scl.noise_flags(frame.withColumn("probs", null_entry), 3, "confident_learning")
    with pytest.raises(ValueError, match="method"):
        scl.noise_flags(frame, 3, "prune_by_luck")


@pytest.mark.parametrize("margin", [0.0, 0.15, 0.5])
def test_outvoted_rows_equal_the_numpy_definition(four, margin):
    probs, labels, frame = four
    flags = collected(frame.withColumn("is_noisy", scl.outvoted(margin)), len(labels)).astype(bool)
    expected = cl.outvoted(probs, labels, margin)
    np.testing.assert_array_equal(flags, expected)
    assert 0 < expected.sum() < len(labels)
