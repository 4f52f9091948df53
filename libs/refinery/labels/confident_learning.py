"""Confident learning: which given labels to distrust, from out-of-sample predicted probabilities.

Pure numpy functions on arrays, in the manner of cleanlab's functional API, that reproduce
``cleanlab.count.compute_confident_joint``, ``cleanlab.filter.find_label_issues`` (single-label,
default arguments) and ``cleanlab.rank.get_label_quality_scores`` bit for bit; cleanlab itself
is only the tests' oracle. ``P`` is the ``(n, C)`` matrix of predicted probabilities (row i:
``p(class | x_i)`` from a model that did not train on ``x_i``), ``y`` the given labels in
``0 .. C-1``, ``n_k = |{i : y_i = k}|``.

**Per-class thresholds** (Northcutt et al. 2021, eq. 2): ``t_k = mean{P[i, k] : y_i = k}``, the
average self-confidence of class k; a class absent from ``y`` gets ``t_k = 2`` (no probability
reaches it), and every threshold is clipped below at ``2e-6``.

**Confident joint** ``J[k, j]``: the number of examples given ``k`` that are confidently of class
``j``. Example i is confident in the classes ``{j : P[i, j] >= t_j - 1e-6}``: with exactly one
such class it is counted there; with several, in ``argmax_j P[i, j]`` (the argmax over *all*
classes, which need not be one of the confident ones); with none, nowhere. The diagonal is then
raised to at least 1 and, when calibrated, each row is rescaled to the class size and the whole
to ``n``::

    J'[k, j] = J[k, j] / sum_j J[k, j] · n_k,    J''= J' / sum J' · n

then rounded to integers preserving each row's total (:func:`round_preserving_row_totals`).

**How many to flag.** From ``J''`` cleanlab's prune-count matrix keeps at least
``min_examples_per_class`` examples in each class (diagonal raised, the raise taken evenly
from that column's non-zero noise entries, then truncated to integers). :func:`flag_counts`
returns it as ``F`` (``[given, true]``): ``F[k, j]`` for ``j != k`` is the number of examples
given k to flag as "really j", ``F[k, k] = n_k - (examples of k to keep)`` the number to flag in
class k regardless of where they belong. Only these C x C counts depend on all rows, so
:mod:`refinery.score.spark_confident_learning` aggregates them and reuses the functions here.

**Which ones** (``method``; every method but the ``low_*`` ones finally unflags an example whose
argmax, after adding ``1e-6`` to its given class's probability, is its given class):

* ``prune_by_noise_rate`` (the default): for every cell ``(k, j != k)``, the ``F[k, j]`` examples
  given k with the largest margin ``P[i, j] - P[i, k]``; an example can be picked by several
  cells (it is ranked against every other class, not only its argmax).
* ``prune_by_class``: in class k, the ``F[k, k]`` examples with the lowest ``P[i, k]``.
* ``both``: flagged by both of the above.
* ``confident_learning``: the off-diagonal examples of the (uncalibrated) confident joint.
* ``predicted_neq_given``: ``argmax_j P[i, j] != y_i``.
* ``low_normalized_margin`` / ``low_self_confidence``: the ``m`` lowest :func:`label_quality`
  scores, ``m`` the number of ``confident_learning`` flags.

**Ties.** Ranking sorts with ``np.argsort`` like cleanlab, whose default quicksort is not
stable (on AVX-512 machines not even for ten elements): examples with exactly equal margins at
a cell's cut-off are picked in an order that depends on the sort's internals. That is what
cleanlab does, so by default :func:`find_noisy` does it too and agrees with cleanlab on ties.
``stable_ties=True`` breaks ties by row order instead (a stable sort), which is what the Spark
version does (by its order column); without exact ties at a cut-off the two agree.

**Edges, all as in cleanlab.** A class absent from ``y``: ``t_k = 2``, its row of the joint
calibrates to zeros, yet examples of other classes can land in its column through the
several-confident argmax rule and be flagged as "really k". A class with at most
``min_examples_per_class`` examples, or with a single one, is never pruned (``prune_*``).
With all labels correct (each the argmax) nothing is flagged by any method.

**Where we differ from cleanlab.** Only where cleanlab refuses the input: it requires at least
two distinct given labels (unless all are 0); here one present class is accepted and the rules
above apply unchanged (every other threshold is 2, so the confident-joint methods flag nothing;
``predicted_neq_given`` still flags disagreements with the argmax).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

#: cleanlab's FLOATING_POINT_COMPARISON: the slack in "p >= t" and in "argmax is the given label".
EPSILON = 1e-6
#: Thresholds are clipped below at this (cleanlab's CONFIDENT_THRESHOLDS_LOWER_BOUND).
THRESHOLD_FLOOR = 2 * EPSILON
#: Threshold of a class nobody is labelled with: no probability reaches it.
ABSENT_CLASS_THRESHOLD = 2.0
#: Denominators are clipped below at this (cleanlab's TINY_VALUE).
TINY = 1e-100

#: numpy's ``argsort`` kinds this module uses: ``None`` (its default) or a stable sort.
SortKind = Literal["stable"]
Method = Literal[
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
]
METHODS: tuple[str, ...] = get_args(Method)
#: Methods that rank examples within cells sized by :func:`flag_counts`.
PRUNE_METHODS: tuple[str, ...] = ("prune_by_noise_rate", "prune_by_class", "both")
QUALITY_METHODS: tuple[str, ...] = ("self_confidence", "normalized_margin")


def validated(pred_probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(pred_probs, labels)`` as a 2-D float array and a 1-D ``int64`` array, or ``ValueError``.

    Like cleanlab: probabilities must lie in ``[-1e-6, 1 + 1e-6]`` (the absent-class threshold 2
    relies on it); labels must be integers in ``0 .. C-1``. Float32 probabilities stay float32
    (cleanlab computes in the input's precision)."""
    probs = np.asarray(pred_probs)
    if not np.issubdtype(probs.dtype, np.floating):
        probs = probs.astype(np.float64)
    given = np.asarray(labels)
    if probs.ndim != 2 or probs.shape[0] == 0 or probs.shape[1] < 2:
        raise ValueError(f"pred_probs must be (n, C) with n >= 1 and C >= 2, not {probs.shape}")
    if given.shape != (probs.shape[0],):
        raise ValueError(f"labels must have shape ({probs.shape[0]},), not {given.shape}")
    if not np.all(np.isfinite(probs)) or probs.min() < -EPSILON or probs.max() > 1 + EPSILON:
        raise ValueError("pred_probs must be finite probabilities in [0, 1]")
    integral = np.issubdtype(given.dtype, np.integer) or (
        np.issubdtype(given.dtype, np.floating) and bool(np.all(np.mod(given, 1) == 0))
    )
    if not integral:
        raise ValueError("labels must be integer class indices")
    given = given.astype(np.int64)
    if given.min() < 0 or given.max() >= probs.shape[1]:
        raise ValueError(f"labels must lie in 0..{probs.shape[1] - 1}")
    return probs, given


def label_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``n_k``, the number of examples given each class (zeros for absent classes), ``int64``."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.int64)


def thresholds_from_means(class_means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per-class thresholds from the class means of self-confidence and the class sizes:
    ``t_k = mean_k`` where ``n_k > 0``, else :data:`ABSENT_CLASS_THRESHOLD`; then
    ``t = max(t, 2e-6)``. Shared by :func:`per_class_thresholds` and the Spark version, which
    aggregates the means itself."""
    means = np.asarray(class_means, dtype=np.float64)
    thresholds = np.where(np.asarray(counts) > 0, means, ABSENT_CLASS_THRESHOLD)
    return np.clip(thresholds, a_min=THRESHOLD_FLOOR, a_max=None)


def per_class_thresholds(pred_probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``t_k = (1 / n_k) · sum_{i : y_i = k} P[i, k]``, the mean self-confidence of each class
    (cleanlab's ``get_confident_thresholds``): shape ``(C,)``.

    Each mean is ``np.mean`` over that class's column in row order, as in cleanlab, so the
    floating-point sum (pairwise) and hence the last bits are the same. Absent classes get
    :data:`ABSENT_CLASS_THRESHOLD`; all are clipped below at :data:`THRESHOLD_FLOOR`."""
    probs, given = validated(pred_probs, labels)
    num_classes = probs.shape[1]
    means = np.zeros(num_classes, dtype=np.float64)
    for k in range(num_classes):
        members = given == k
        if members.any():
            means[k] = np.mean(probs[:, k][members])
    return thresholds_from_means(means, label_counts(given, num_classes))


def confident_classes(pred_probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The class each example is confidently counted in, ``-1`` where none: with
    ``S_i = {j : P[i, j] >= t_j - 1e-6}``, ``j`` if ``S_i = {j}``, ``argmax_j P[i, j]`` (first
    maximum, over all classes) if ``|S_i| > 1``. Shape ``(n,)``, ``int64``."""
    probs = np.asarray(pred_probs)
    confident = probs >= np.asarray(thresholds) - EPSILON
    num_confident = confident.sum(axis=1)
    guess = np.where(num_confident > 1, probs.argmax(axis=1), confident.argmax(axis=1)).astype(np.int64)
    guess[num_confident == 0] = -1
    return guess


def round_preserving_sum(values: np.ndarray) -> np.ndarray:
    """Round floats to ints keeping their (rounded) total: round half to even, then move the
    entries with the largest rounding loss (or gain) by one until the totals agree; ties in the
    loss are taken in ``np.argsort`` order, as cleanlab's ``round_preserving_sum`` does."""
    floats = np.asarray(values, dtype=float)
    ints = floats.round()
    orig_sum = np.sum(floats).round()
    int_sum = np.sum(ints).round()
    while abs(int_sum - orig_sum) > EPSILON:
        diff = np.round(orig_sum - int_sum)
        increment = -1 if int(diff < 0.0) else 1
        changes = min(int(abs(diff)), len(floats))
        for i in np.argsort(floats - ints)[::-increment][:changes]:
            ints[i] = ints[i] + increment
        int_sum = np.sum(ints).round()
    return ints.astype(int)


def round_preserving_row_totals(matrix: np.ndarray) -> np.ndarray:
    """:func:`round_preserving_sum` applied to every row of a 2-D float array: ``int`` counts
    whose row totals are the rounded float row totals."""
    return np.apply_along_axis(func1d=round_preserving_sum, axis=1, arr=matrix).astype(int)


def calibrate_confident_joint(confident_joint: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Force the joint's rows to the class sizes and its total to ``n``:
    ``J'[k, :] = J[k, :] / max(sum_j J[k, j], 1e-100) · n_k``, ``J'' = J' / max(sum J', 1e-100) · n``,
    rounded with :func:`round_preserving_row_totals` (cleanlab's ``calibrate_confident_joint``,
    the same operations in the same order so the rounding sees the same floats)."""
    counts = np.asarray(counts)
    calibrated = (confident_joint.T / np.clip(confident_joint.sum(axis=1), a_min=TINY, a_max=None) * counts).T
    calibrated = calibrated / np.clip(np.sum(calibrated), a_min=TINY, a_max=None) * sum(counts)
    return round_preserving_row_totals(calibrated)


def confident_joint_from_counts(raw_joint: np.ndarray, counts: np.ndarray, calibrate: bool = True) -> np.ndarray:
    """The confident joint from its raw counts ``J[k, j]`` (examples given k confidently counted
    in j, see :func:`confident_classes`) and the class sizes: diagonal raised to at least 1 (so
    every class keeps one "correct" example), then :func:`calibrate_confident_joint` when
    ``calibrate``. The Spark version aggregates ``J`` and calls this on the driver.

    The matrix is laid out column-major, as cleanlab's (the transpose of sklearn's confusion
    matrix): calibration's ``np.sum`` adds the floats in memory order, and a C-ordered copy can
    differ in the last bit and so round a cell the other way."""
    joint = np.array(raw_joint, dtype=np.int64, order="F")
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    return calibrate_confident_joint(joint, counts) if calibrate else joint


def confident_joint(
    pred_probs: np.ndarray,
    labels: np.ndarray,
    thresholds: np.ndarray | None = None,
    calibrate: bool = True,
) -> np.ndarray:
    """The ``(C, C)`` confident joint, rows the given label, columns the confident class:
    ``J[k, j] = |{i : y_i = k, confident_classes(P)[i] = j}|`` with thresholds
    :func:`per_class_thresholds` unless given, finished by :func:`confident_joint_from_counts`.
    Equal to ``cleanlab.count.compute_confident_joint(labels, pred_probs, thresholds=...,
    calibrate=...)``."""
    probs, given = validated(pred_probs, labels)
    num_classes = probs.shape[1]
    if thresholds is None:
        thresholds = per_class_thresholds(probs, given)
    guess = confident_classes(probs, thresholds)
    confident = guess >= 0
    cells = given[confident] * num_classes + guess[confident]
    raw = np.bincount(cells, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    return confident_joint_from_counts(raw, label_counts(given, num_classes), calibrate)


def _prune_count_matrix(joint: np.ndarray, min_examples_per_class: int) -> np.ndarray:
    """cleanlab's ``_keep_at_least_n_per_class(joint.T, n)`` with ``frac_noise = 1``:
    ``[true, given]``; column k (given k) gets its diagonal raised to ``n`` and the raise taken
    evenly from the column's non-zero off-diagonal entries (floored at 0), then truncated."""
    prune = np.asarray(joint).T
    diagonal = np.diagonal(prune)
    new_diagonal = np.maximum(diagonal, min_examples_per_class)
    raise_per_col = new_diagonal - diagonal
    noise_entries_per_col = np.maximum(np.count_nonzero(prune, axis=0) - 1.0, 1.0)
    adjusted = prune - raise_per_col / noise_entries_per_col
    adjusted[adjusted < 0] = 0
    np.fill_diagonal(adjusted, new_diagonal)
    # cleanlab's _reduce_prune_counts at frac_noise = 1 leaves the values and truncates to int;
    # the row-total rounding after it then has nothing left to round.
    return round_preserving_row_totals(adjusted.astype(int)).astype(int)


def flag_counts(joint: np.ndarray, counts: np.ndarray, min_examples_per_class: int = 1) -> np.ndarray:
    """How many examples to flag per cell, ``F`` of shape ``(C, C)``, rows the given label:

    * ``F[k, j]``, ``j != k``: examples given k to flag with the largest ``P[i, j] - P[i, k]``
      (``prune_by_noise_rate``), cleanlab's prune-count entry ``[j, k]``;
    * ``F[k, k] = max(n_k - keep_k, 0)``: examples given k to flag with the lowest ``P[i, k]``
      (``prune_by_class``), ``keep_k`` the prune-count diagonal.

    A class with ``n_k <= min_examples_per_class`` gets a zero row (cleanlab skips it, with a
    warning), and so does a class of one example even at ``min_examples_per_class = 0`` (cleanlab
    drops a one-element mask). ``joint`` is the calibrated confident joint, ``counts`` the class
    sizes."""
    counts = np.asarray(counts)
    prune = _prune_count_matrix(joint, min_examples_per_class)
    flags = np.maximum(prune.T, 0).astype(np.int64)
    np.fill_diagonal(flags, np.maximum(counts - np.diagonal(prune), 0))
    flags[counts <= max(min_examples_per_class, 1), :] = 0
    return flags


def kept_by_prediction(pred_probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``argmax_j (P[i, j] + 1e-6 · [j = y_i]) == y_i``: examples whose given label is (within
    1e-6) the prediction, never flagged except by the ``low_*`` methods (cleanlab's
    ``_reduce_issues``)."""
    bumped = np.array(pred_probs, copy=True)
    rows = np.arange(len(labels))
    bumped[rows, labels] += EPSILON
    return bumped.argmax(axis=1) == labels


def label_quality(
    pred_probs: np.ndarray,
    labels: np.ndarray,
    method: Literal["self_confidence", "normalized_margin"] = "self_confidence",
) -> np.ndarray:
    """Label quality score per example, low = likely mislabelled (cleanlab's
    ``get_label_quality_scores`` with ``adjust_pred_probs=False``):

    * ``self_confidence``: ``P[i, y_i]``;
    * ``normalized_margin``: ``(P[i, y_i] - max_{j != y_i} P[i, j] + 1) / 2``, in [0, 1].
    """
    if method not in QUALITY_METHODS:
        raise ValueError(f"label_quality: method must be one of {QUALITY_METHODS}, not {method!r}")
    probs, given = validated(pred_probs, labels)
    rows = np.arange(len(given))
    self_confidence = probs[rows, given]
    if method == "self_confidence":
        return self_confidence
    others = np.array(probs, copy=True)
    others[rows, given] = -np.inf
    return (self_confidence - others.max(axis=1) + 1) / 2


def outvoted(pred_probs: np.ndarray, labels: np.ndarray, margin: float) -> np.ndarray:
    """Boolean mask of examples whose given label another class beats by more than ``margin``:
    ``max_{j != y_i} P[i, j] - P[i, y_i] > margin``, i.e. normalized margin below
    ``(1 - margin) / 2``.

    Unlike the confident-joint methods, the number flagged is not an estimate of the noise
    rate made from the same probabilities: it follows the data. Where people mislabel
    ambiguous texts towards a plausible class, a model trained on the noisy labels agrees with
    many of them, the confident joint counts them as clean, and prune-by-noise-rate flags a
    fraction of the real errors (measured in ``bench/results/score.json``: instance-dependent
    settings); a fixed margin on probabilities that also carry the neighbours' vote does not
    depend on that count. ``margin = 0`` is ``predicted_neq_given`` (ties kept)."""
    probs, given = validated(pred_probs, labels)
    return (1 - 2 * label_quality(probs, given, "normalized_margin")) > margin


def _flag_by_noise_rate(probs: np.ndarray, given: np.ndarray, flags: np.ndarray, kind: SortKind | None) -> np.ndarray:
    """For each cell ``(k, j != k)`` with ``F[k, j] > 0``: the top ``F[k, j]`` examples given k by
    ``P[i, j] - P[i, k]`` (cleanlab's ``_prune_by_count``)."""
    mask = np.zeros(len(given), dtype=bool)
    for k in range(probs.shape[1]):
        rows = np.flatnonzero(given == k)
        members = probs[rows]
        for j in range(probs.shape[1]):
            if j != k and flags[k, j] > 0:
                margin = members[:, j] - members[:, k]
                mask[rows[np.argsort(-margin, kind=kind)[: flags[k, j]]]] = True
    return mask


def _flag_by_class(probs: np.ndarray, given: np.ndarray, flags: np.ndarray, kind: SortKind | None) -> np.ndarray:
    """For each class k: the ``F[k, k]`` examples given k with the lowest ``P[i, k]`` (cleanlab's
    ``_prune_by_class``)."""
    mask = np.zeros(len(given), dtype=bool)
    for k in range(probs.shape[1]):
        if flags[k, k] >= 1:
            rows = np.flatnonzero(given == k)
            mask[rows[np.argsort(probs[rows, k], kind=kind)[: flags[k, k]]]] = True
    return mask


def off_diagonal(pred_probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Examples counted off the diagonal of the confident joint: confidently of a class other
    than the given one (before :func:`kept_by_prediction`)."""
    probs, given = validated(pred_probs, labels)
    guess = confident_classes(probs, per_class_thresholds(probs, given))
    return (guess >= 0) & (guess != given)


def find_noisy(
    pred_probs: np.ndarray,
    labels: np.ndarray,
    method: Method = "prune_by_noise_rate",
    *,
    min_examples_per_class: int = 1,
    stable_ties: bool = False,
) -> np.ndarray:
    """Boolean mask of examples whose given label is likely wrong; equal to
    ``cleanlab.filter.find_label_issues(labels, pred_probs, filter_by=method,
    min_examples_per_class=...)`` (module docstring: the methods and the counts behind them).

    ``stable_ties=True`` ranks exact ties by row order (a stable sort), as the Spark version
    does, instead of cleanlab's unstable ``np.argsort``."""
    if method not in METHODS:
        raise ValueError(f"find_noisy: method must be one of {METHODS}, not {method!r}")
    probs, given = validated(pred_probs, labels)
    kind: SortKind | None = "stable" if stable_ties else None
    if method in ("low_normalized_margin", "low_self_confidence"):
        scores = label_quality(
            probs, given, "self_confidence" if method == "low_self_confidence" else "normalized_margin"
        )
        num_issues = int(np.sum(off_diagonal(probs, given) & ~kept_by_prediction(probs, given)))
        mask = np.zeros(len(given), dtype=bool)
        mask[np.argsort(scores, kind=kind)[:num_issues]] = True
        return mask
    if method == "confident_learning":
        mask = off_diagonal(probs, given)
    elif method == "predicted_neq_given":
        mask = probs.argmax(axis=1) != given
    else:
        joint = confident_joint(probs, given)
        flags = flag_counts(joint, label_counts(given, probs.shape[1]), min_examples_per_class)
        if method == "prune_by_noise_rate":
            mask = _flag_by_noise_rate(probs, given, flags, kind)
        elif method == "prune_by_class":
            mask = _flag_by_class(probs, given, flags, kind)
        else:
            mask = _flag_by_noise_rate(probs, given, flags, kind) & _flag_by_class(probs, given, flags, kind)
    return mask & ~kept_by_prediction(probs, given)
