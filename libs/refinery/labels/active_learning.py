"""Uncertainty sampling for active learning: which unlabelled rows an annotator should see next.

Pure numpy on a probability matrix ``P`` (``n × C``, rows summing to 1) from a model that did
not train on the rows. With ``p₍₁₎ ≥ p₍₂₎`` a row's two largest probabilities, the
*uncertainty* of a row (larger = more informative to label; Settles, *Active Learning
Literature Survey*, 2009, §3.1):

* ``least_confidence``: ``1 − p₍₁₎``: the model's doubt about its best guess;
* ``margin``: ``1 − (p₍₁₎ − p₍₂₎)``: rows the model can hardly tell between two classes;
* ``entropy``: ``−Σ_j p_j ln p_j`` (nats), the spread over all classes;
* ``random``: a seeded uniform draw, the baseline every strategy must beat.

The three agree for two classes (each is a monotone function of ``p₍₁₎``) and differ from three
classes on: entropy favours rows spread over many classes, margin rows torn between two.

:func:`select` takes the ``budget`` most uncertain rows, optionally with per-class quotas (by
predicted class, so the batch is not all one confusing class) and at most one row per
near-duplicate cluster (labelling two copies of one text teaches the model once).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

STRATEGIES = ("least_confidence", "margin", "entropy", "random")


def uncertainty(probs: np.ndarray, strategy: str, seed: int = 0) -> np.ndarray:
    """Per-row uncertainty (larger = ask first) of ``probs`` (``n × C``, ``C ≥ 1``, finite and
    non-negative) under ``strategy`` (see the module docstring).

    Every strategy but ``random`` reads each row's probabilities sorted, so rows that are
    permutations of each other score exactly the same (a tie, which :func:`select` breaks by
    row index), whatever order the classes come in."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] == 0:
        raise ValueError(f"probs must be an n x C matrix with C >= 1, not shape {p.shape}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative (probabilities, not logits)")
    if strategy == "random":
        return np.random.default_rng(seed).random(len(p))
    top = -np.sort(-p, axis=1)  # descending per row
    if strategy == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.where(top > 0, top * np.log(top), 0.0).sum(axis=1)
    first = top[:, 0]
    if strategy == "least_confidence":
        return 1.0 - first
    second = top[:, 1] if p.shape[1] > 1 else np.zeros(len(p))
    return 1.0 - (first - second)


def select(
    scores: np.ndarray,
    budget: int,
    *,
    classes: np.ndarray | None = None,
    quotas: Mapping[object, int] | None = None,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """Indices of the rows to label: the ``budget`` largest ``scores`` (ties: the smaller
    index first), at most ``quotas[c]`` rows whose ``classes`` is ``c`` (classes without a quota
    are not limited), and at most one row per ``clusters`` value (the most uncertain one; a
    missing value, ``None`` or NaN, is a row in no cluster, as a null ``dup_cluster``, and is
    not limited). The cluster rule applies first: a cluster is represented by its most
    uncertain row, which the quota of that row's class may then drop.

    Returned in selection order (most uncertain first). ``classes`` and ``clusters`` are
    aligned with ``scores``; ``quotas`` need ``classes``."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, not shape {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("scores must not be NaN")
    if budget < 0:
        raise ValueError(f"budget must be at least 0, not {budget}")
    order = np.lexsort((np.arange(len(scores)), -scores))
    if clusters is not None:
        ranked = _aligned(clusters, len(scores), "clusters")[order]
        keep = _missing(ranked)  # rows in no cluster are all kept
        present = np.flatnonzero(~keep)
        _, first = np.unique(ranked[present], return_index=True)
        keep[present[first]] = True  # the most uncertain row of each cluster
        order = order[keep]
    if quotas:
        if classes is None:
            raise ValueError("quotas need the classes of the rows")
        labels = _aligned(classes, len(scores), "classes")[order]
        keep = np.ones(len(order), dtype=bool)
        for cls, quota in quotas.items():
            if quota < 0:
                raise ValueError(f"the quota of class {cls!r} must be at least 0, not {quota}")
            members = np.flatnonzero(labels == cls)
            keep[members[quota:]] = False
        order = order[keep]
    return order[:budget]


def _aligned(values: np.ndarray, n: int, name: str) -> np.ndarray:
    """``values`` as a one-dimensional array of ``n`` entries, or a ValueError."""
    array = np.asarray(values)
    if array.shape != (n,):
        raise ValueError(f"{name} must have one entry per score ({n}), not shape {array.shape}")
    return array


def _missing(values: np.ndarray) -> np.ndarray:
    """Which entries are ``None`` or NaN."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.fromiter((v is None or (isinstance(v, float) and v != v) for v in values), bool, len(values))
    return np.zeros(len(values), dtype=bool)
