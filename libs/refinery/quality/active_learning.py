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
    """Per-row uncertainty (larger = ask first) of ``probs`` (``n × C``) under ``strategy``
    (see the module docstring)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probs must be an n x C matrix, not shape {p.shape}")
    if strategy == "random":
        return np.random.default_rng(seed).random(len(p))
    if strategy == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    top = -np.sort(-p, axis=1)
    first = top[:, 0] if p.shape[1] else np.zeros(len(p))
    if strategy == "least_confidence":
        return 1.0 - first
    if strategy == "margin":
        second = top[:, 1] if p.shape[1] > 1 else np.zeros(len(p))
        return 1.0 - (first - second)
    raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")


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
    are not limited), and at most one row per ``clusters`` value (the most uncertain one).

    Returned in selection order (most uncertain first)."""
    scores = np.asarray(scores, dtype=np.float64)
    if budget < 0:
        raise ValueError(f"budget must be at least 0, not {budget}")
    order = np.lexsort((np.arange(len(scores)), -scores))
    if clusters is not None:
        _, first = np.unique(np.asarray(clusters)[order], return_index=True)
        order = order[np.sort(first)]  # the most uncertain row of each cluster, in score order
    if quotas and classes is not None:
        labels = np.asarray(classes)[order]
        keep = np.ones(len(order), dtype=bool)
        for cls, quota in quotas.items():
            members = np.flatnonzero(labels == cls)
            keep[members[quota:]] = False
        order = order[keep]
    return order[:budget]
