"""Confident-learning noise flags over a Spark frame, equal to :mod:`refinery.labels.confident_learning`
(and so to cleanlab) without bringing rows to the driver.

Input: one row per example with its given label (``given``, int in ``0 .. C-1``), its
out-of-sample predicted probabilities (``probs``, ``array<double>`` of length C) and, for the
ranked methods, a unique non-null ordering column (``row_index``) that stands for numpy's row
order when two examples tie.

What runs where:

1. **Class statistics** (one aggregation, C rows to the driver): ``n_k`` and
   ``t_k = avg(probs[given])`` per given class, plus the checks (labels in range, arrays of
   length C, probabilities in [0, 1]). The driver finishes the thresholds with
   :func:`~refinery.labels.confident_learning.thresholds_from_means`.
2. **Confident joint** (one aggregation, at most C x C rows): each row's confident class (the
   thresholds travel as a literal array), counted by ``(given, confident class)``. The driver
   calibrates it and derives the per-cell flag counts ``F`` with the numpy module's own
   :func:`~refinery.labels.confident_learning.confident_joint_from_counts` and
   :func:`~refinery.labels.confident_learning.flag_counts`.
3. **Ranking** (``prune_*`` and ``low_*`` methods): every row is paired with the cells of its
   class that flag something (a broadcast join with the small table of ``F``), keyed by
   ``probs[j] - probs[given]`` (noise-rate cell ``(k, j)``) or ``-probs[given]`` (class cell
   ``(k, k)``); per cell the ``F[k, j]`` rows with the largest key are flagged, ties broken by
   the smaller ``order_col`` (numpy's stable sort, i.e. ``find_noisy(..., stable_ties=True)``).

**Exact top-k without one giant sort.** A window over a whole cell would sort a whole class in
one task. Instead each candidate's key gets an equal-width bucket over [-1, 1] (monotone in the
key, so equal keys share a bucket) and :func:`refinery.spark.top_k.mark_first_k` counts rows per
bucket, takes the buckets above each cell's ``F``-th largest key whole and sorts only the one
boundary bucket per cell: the ranks are the window's, at a fraction of the sorting.

**Where it can differ from numpy.** ``t_k`` is Spark's ``avg``: a sum in partition order, not
numpy's pairwise sum, so it can differ from :func:`per_class_thresholds` in the last bits, which
changes a flag only for a probability within a few ulp of ``t_k - 1e-6``. Ties are broken by
``order_col`` (stable), where cleanlab's default quicksort breaks them in an unspecified order.

``frame`` is scanned up to five times (statistics, joint or issue count, bucket counts, and
twice in the final plan: the rows and their ranked candidates): checkpoint it first
(:mod:`refinery.spark.checkpoint`) when it is expensive to compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from refinery.labels import confident_learning as cl
from refinery.spark.top_k import IN_FIRST_K, mark_first_k


class InvalidProbabilitiesError(ValueError):
    """The frame's labels or probabilities do not fit ``num_classes``."""


@dataclass(frozen=True)
class ConfidentCounts:
    """The C x C summary the driver works from (all numpy, all small)."""

    #: ``n_k``: examples given each class, shape (C,).
    label_counts: np.ndarray
    #: ``t_k``: per-class thresholds, shape (C,).
    thresholds: np.ndarray
    #: Uncalibrated confident joint as counted (before the diagonal floor), (C, C).
    raw_joint: np.ndarray
    #: Calibrated confident joint, (C, C).
    confident_joint: np.ndarray
    #: Examples to flag per cell, :func:`refinery.labels.confident_learning.flag_counts`, (C, C).
    flag_counts: np.ndarray


def _argmax(values: Column) -> Column:
    """0-based index of the first maximum of an array (numpy's ``argmax``)."""
    return (F.array_position(values, F.array_max(values)) - 1).cast("int")


def _probs(probs: str) -> Column:
    return F.col(probs).cast(T.ArrayType(T.DoubleType()))


def _kept_by_prediction(given: str, probs: str) -> Column:
    """``argmax(probs + 1e-6 · onehot(given)) == given``
    (:func:`refinery.labels.confident_learning.kept_by_prediction`)."""
    bumped = F.transform(_probs(probs), lambda x, i: F.when(i == F.col(given), x + F.lit(cl.EPSILON)).otherwise(x))
    return _argmax(bumped) == F.col(given)


def _confident_class(thresholds: np.ndarray, probs: str) -> Column:
    """Per row: the one class with ``p_j >= t_j - 1e-6``, the argmax when there are several,
    ``-1`` when none (:func:`refinery.labels.confident_learning.confident_classes`)."""
    cut = F.array(*[F.lit(float(v)) for v in np.asarray(thresholds, dtype=np.float64) - cl.EPSILON])
    confident = F.transform(_probs(probs), lambda x, i: x >= F.get(cut, i))
    num_confident = F.size(F.filter(confident, lambda c: c))
    first = (F.array_position(confident, F.lit(True)) - 1).cast("int")
    return (
        F.when(num_confident > 1, _argmax(_probs(probs))).when(num_confident == 1, first).otherwise(F.lit(-1))
    ).cast("int")


def label_quality(
    frame: DataFrame,
    method: str = "self_confidence",
    *,
    given: str = "given",
    probs: str = "probs",
    out: str = "label_quality",
) -> DataFrame:
    """``frame`` with column ``out``: ``probs[given]`` (``self_confidence``) or
    ``(probs[given] - max_{j != given} probs[j] + 1) / 2`` (``normalized_margin``), as
    :func:`refinery.labels.confident_learning.label_quality`."""
    return frame.withColumn(out, _quality(method, given, probs))


def _quality(method: str, given: str, probs: str) -> Column:
    if method not in cl.QUALITY_METHODS:
        raise ValueError(f"label_quality: method must be one of {cl.QUALITY_METHODS}, not {method!r}")
    self_confidence = F.get(_probs(probs), F.col(given))
    if method == "self_confidence":
        return self_confidence
    best_other = F.array_max(F.filter(_probs(probs), lambda _, i: i != F.col(given)))
    return (self_confidence - best_other + F.lit(1.0)) / F.lit(2.0)


def class_thresholds(
    frame: DataFrame, num_classes: int, *, given: str = "given", probs: str = "probs"
) -> tuple[np.ndarray, np.ndarray]:
    """``(label_counts, thresholds)``: ``n_k`` and ``t_k = avg(probs[given])`` over rows given k
    (absent classes 2, all clipped at 2e-6), from one aggregation of C rows.

    Raises :class:`InvalidProbabilitiesError` for a null or out-of-range label, a null array or
    entry, an array not of length ``num_classes``, or a probability outside
    ``[-1e-6, 1 + 1e-6]`` (NaN included)."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, not {num_classes}")
    rows = (
        frame.groupBy(F.col(given).alias("k"))
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count_if(F.col(probs).isNull() | F.exists(probs, lambda x: x.isNull())).alias("nulls"),
            F.avg(F.get(_probs(probs), F.col(given))).alias("mean"),
            F.min(F.size(probs)).alias("min_size"),
            F.max(F.size(probs)).alias("max_size"),
            F.min(F.array_min(_probs(probs))).alias("low"),
            F.max(F.array_max(_probs(probs))).alias("high"),
        )
        .collect()
    )
    counts = np.zeros(num_classes, dtype=np.int64)
    means = np.zeros(num_classes, dtype=np.float64)
    for row in rows:
        if row.k is None or not 0 <= row.k < num_classes:
            raise InvalidProbabilitiesError(f"{given} = {row.k} is not a class index in 0..{num_classes - 1}")
        if row.nulls:
            raise InvalidProbabilitiesError(f"{row.nulls} rows of class {row.k} have null {probs} or entries")
        if row.min_size != num_classes or row.max_size != num_classes:
            raise InvalidProbabilitiesError(
                f"{probs} arrays of class {row.k} have {row.min_size}..{row.max_size} entries, not {num_classes}"
            )
        if not (row.low >= -cl.EPSILON and row.high <= 1 + cl.EPSILON):
            raise InvalidProbabilitiesError(f"{probs} of class {row.k} leave [0, 1]: {row.low}..{row.high}")
        counts[row.k] = row.n
        means[row.k] = row.mean
    if counts.sum() == 0:
        raise InvalidProbabilitiesError("the frame is empty")
    return counts, cl.thresholds_from_means(means, counts)


def confident_counts(
    frame: DataFrame,
    num_classes: int,
    *,
    given: str = "given",
    probs: str = "probs",
    min_examples_per_class: int = 1,
) -> ConfidentCounts:
    """The class sizes, thresholds, confident joint and per-cell flag counts of ``frame``: two
    aggregations (C rows, then at most C x C), the rest on the driver with the numpy module."""
    counts, thresholds = class_thresholds(frame, num_classes, given=given, probs=probs)
    confident = _confident_class(thresholds, probs)
    cells = (
        frame.select(F.col(given).alias("k"), confident.alias("j"))
        .where(F.col("j") >= 0)
        .groupBy("k", "j")
        .count()
        .collect()
    )
    raw = np.zeros((num_classes, num_classes), dtype=np.int64)
    for row in cells:
        raw[row.k, row.j] = row["count"]
    joint = cl.confident_joint_from_counts(raw, counts)
    return ConfidentCounts(
        label_counts=counts,
        thresholds=thresholds,
        raw_joint=raw,
        confident_joint=joint,
        flag_counts=cl.flag_counts(joint, counts, min_examples_per_class),
    )


_CELLS = T.StructType(
    [
        T.StructField("_cl_given", T.IntegerType(), False),
        T.StructField("_cl_cand", T.IntegerType(), False),
        T.StructField("_cl_quota", T.LongType(), False),
    ]
)


def _bucket(key: Column, buckets: int) -> Column:
    """Equal-width bucket of a key in [-1, 1], clipped to ``0 .. buckets-1``; monotone in the key."""
    raw = F.floor((key + F.lit(1.0)) * F.lit(buckets / 2.0))
    return F.least(F.greatest(raw, F.lit(0)), F.lit(buckets - 1))


def _top_per_cell(candidates: DataFrame, order_col: str, buckets: int) -> DataFrame:
    """The rows of ``candidates`` (``order_col, _cl_cell_a, _cl_cell_b, _cl_key, _cl_quota``) that
    rank within their cell's quota by ``_cl_key`` descending, then ``order_col`` ascending
    (:func:`refinery.spark.top_k.mark_first_k`, bucketed on the key: module docstring)."""
    keyed = candidates.withColumn("_cl_desc", F.lit(0.0) - F.col("_cl_key")).withColumn(
        "_cl_bucket", F.lit(buckets - 1) - _bucket(F.col("_cl_key"), buckets)
    )
    marked = mark_first_k(
        keyed, ["_cl_cell_a", "_cl_cell_b"], key="_cl_desc", tiebreak=order_col, quota="_cl_quota", bucket="_cl_bucket"
    )
    return marked.where(F.col(IN_FIRST_K))


def _pruned(
    frame: DataFrame,
    flags: np.ndarray,
    method: str,
    *,
    given: str,
    probs: str,
    order_col: str,
    buckets: int,
) -> DataFrame:
    """``(order_col, _cl_flag)`` of the rows flagged by ``prune_by_noise_rate``,
    ``prune_by_class`` or ``both`` (before the kept-by-prediction rule)."""
    num_classes = flags.shape[0]
    wanted = [
        (k, j, int(flags[k, j]))
        for k in range(num_classes)
        for j in range(num_classes)
        if flags[k, j] > 0
        and (
            (j != k and method in ("prune_by_noise_rate", "both")) or (j == k and method in ("prune_by_class", "both"))
        )
    ]
    cells = frame.sparkSession.createDataFrame(wanted, _CELLS)
    p = _probs(probs)
    is_class_cell = F.col("_cl_cand") == F.col(given)
    candidates = (
        frame.select(order_col, F.col(given).cast("int").alias(given), p.alias("_cl_p"))
        .join(F.broadcast(cells), F.col(given) == F.col("_cl_given"))
        .select(
            order_col,
            F.col(given).alias("_cl_cell_a"),
            F.col("_cl_cand").alias("_cl_cell_b"),
            F.when(is_class_cell, F.lit(0.0) - F.get("_cl_p", F.col(given)))
            .otherwise(F.get("_cl_p", F.col("_cl_cand")) - F.get("_cl_p", F.col(given)))
            .alias("_cl_key"),
            "_cl_quota",
        )
    )
    top = _top_per_cell(candidates, order_col, buckets)
    by_class = F.max((F.col("_cl_cell_a") == F.col("_cl_cell_b")).cast("int")) == 1
    by_noise = F.max((F.col("_cl_cell_a") != F.col("_cl_cell_b")).cast("int")) == 1
    flag = {"prune_by_noise_rate": by_noise, "prune_by_class": by_class, "both": by_noise & by_class}[method]
    return top.groupBy(order_col).agg(flag.alias("_cl_flag"))


def outvoted(margin: float, *, given: str = "given", probs: str = "probs") -> Column:
    """Whether another class beats the given one by more than ``margin``, as
    :func:`refinery.labels.confident_learning.outvoted` (row by row, no aggregation)."""
    normalized = _quality("normalized_margin", given, probs)
    return (F.lit(1.0) - F.lit(2.0) * normalized) > F.lit(float(margin))


def noise_flags(
    frame: DataFrame,
    num_classes: int,
    method: str = "prune_by_noise_rate",
    *,
    order_col: str = "row_index",
    given: str = "given",
    probs: str = "probs",
    min_examples_per_class: int = 1,
    buckets: int = 1024,
) -> DataFrame:
    """``frame`` with ``pred`` (int, the argmax class) and ``is_noisy`` (boolean): the rows that
    :func:`refinery.labels.confident_learning.find_noisy` flags with ``method`` (and
    ``stable_ties=True``) on the same probabilities, labels and row order.

    ``order_col`` must be unique and non-null (a row index); it orders exact ties and joins the
    ranked flags back, and is only read by the ``prune_*`` and ``low_*`` methods. Existing
    ``pred`` / ``is_noisy`` columns are replaced. The result is lazy; the class statistics and
    the confident joint have already been aggregated (they fix the literals in its plan)."""
    if method not in cl.METHODS:
        raise ValueError(f"noise_flags: method must be one of {cl.METHODS}, not {method!r}")
    if buckets < 1:
        raise ValueError(f"buckets must be positive, not {buckets}")
    kept = F.col("_cl_kept")
    out = frame.withColumn("pred", _argmax(_probs(probs))).withColumn("_cl_kept", _kept_by_prediction(given, probs))
    if method == "predicted_neq_given":
        class_thresholds(frame, num_classes, given=given, probs=probs)  # the same checks as the others
        noisy = (F.col("pred") != F.col(given)) & ~kept
    elif method in cl.PRUNE_METHODS:
        counts = confident_counts(
            frame, num_classes, given=given, probs=probs, min_examples_per_class=min_examples_per_class
        )
        flagged = _pruned(
            frame, counts.flag_counts, method, given=given, probs=probs, order_col=order_col, buckets=buckets
        )
        out = out.join(flagged, on=order_col, how="left")
        noisy = F.coalesce(F.col("_cl_flag"), F.lit(False)) & ~kept
    else:
        _, thresholds = class_thresholds(frame, num_classes, given=given, probs=probs)
        guess = _confident_class(thresholds, probs)
        noisy = (guess >= 0) & (guess != F.col(given)) & ~kept
        if method != "confident_learning":
            # low_*: the m lowest quality scores, m = the number of confident_learning flags
            num_issues = out.where(noisy).count()
            noisy = F.lit(False)
            if num_issues > 0:
                candidates = frame.select(
                    order_col,
                    F.lit(0).alias("_cl_cell_a"),
                    F.lit(0).alias("_cl_cell_b"),
                    (F.lit(0.0) - _quality(method[4:], given, probs)).alias("_cl_key"),
                    F.lit(num_issues).cast("long").alias("_cl_quota"),
                )
                flagged = _top_per_cell(candidates, order_col, buckets)
                out = out.join(flagged.select(order_col, F.lit(True).alias("_cl_flag")), on=order_col, how="left")
                noisy = F.coalesce(F.col("_cl_flag"), F.lit(False))
    columns = [c for c in frame.columns if c not in ("pred", "is_noisy")]
    return out.withColumn("is_noisy", noisy).select(*columns, "pred", "is_noisy")
