"""Distribution-drift statistics between two windows of category counts.

Pure functions on category counts (labels, languages …) of a *window* ``P`` and a *baseline*
``Q`` (the previous window or a reference); the Spark job (:mod:`refinery.drift.job`) counts
the categories per window and asks here how far apart two windows are. numpy and scipy only.

**Alignment.** Counts are mappings ``{category: count}`` (aligned over the union of their
keys) or equal-length sequences. A category counted in neither window is dropped before
anything is computed, so the result does not depend on which unseen categories a caller
lists. ``k`` below is the number of categories left; ``n_P = Σ p_i`` and ``n_Q = Σ q_i``.

**Smoothing.** KL and PSI take ``ln(p/q)``, infinite when a category is absent from one
window. They use additively smoothed shares (Lidstone)::

    p̃_i = (p_i + α) / (n_P + α k)          q̃_i = (q_i + α) / (n_Q + α k)

The default ``α = 0.5`` is the Jeffreys / Krichevsky–Trofimov estimator, the usual choice
when an estimate is scored by log loss. KL's value depends on ``α`` when a window lacks a
category, and a tiny ``α`` lets one stray row decide an alert: a balanced 4-class window of
500 rows with one row of a fifth category that the baseline (500 rows) lacks is at KL 0.026
nats from it with ``α = 10⁻⁶`` but 0.0013 with ``α = 0.5`` (without that row: 0.000006). A
class that really appears or disappears still moves KL far past any sensible threshold at
``α = 0.5``: the balanced window against a baseline without one of its classes is at 1.17
nats (4.45 with ``α = 10⁻⁶``); the reverse, a class gone from the window, at 0.28 (either ``α``).

**Statistics** (natural logarithms: values in *nats*; divide by ln 2 for bits):

* ``kl_divergence``: ``KL(P̃ ‖ Q̃) = Σ p̃_i ln(p̃_i / q̃_i)``, ≥ 0; the extra nats per row
  of coding the window with the baseline's distribution. Not symmetric: the window is ``P``.
  For small shifts ``KL ≈ ½ Σ (p_i − q_i)² / q_i``.
* ``js_divergence``: ``JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M)`` with ``M = (P + Q) / 2``,
  symmetric, in ``[0, ln 2]``, finite without smoothing (``M`` is never 0 where ``P`` or
  ``Q`` is not), so it is computed on the raw shares by default. It is the square of
  scipy's ``jensenshannon`` *distance*. For small shifts ``JS ≈ KL / 4``.
* ``psi`` (population stability index): ``Σ (p̃_i − q̃_i) ln(p̃_i / q̃_i) =
  KL(P̃ ‖ Q̃) + KL(Q̃ ‖ P̃)``, symmetric; for small shifts ``PSI ≈ 2 KL``, so the usual
  rule "PSI > 0.2: significant shift" matches "KL > 0.1".
* ``chi_square``: Pearson's test of homogeneity on the 2 × k table ``[p; q]``:
  ``X² = Σ_rows Σ_i (O − E)² / E`` with ``E = row total × column total / N``, ``k − 1``
  degrees of freedom, p-value ``P(χ²_{k−1} ≥ X²)`` (``scipy.special.chdtrc``, which is
  ``scipy.stats.chi2.sf``); no continuity correction. The χ² approximation needs expected
  counts of about 5 or more (Cochran), which long-tailed distributions such as languages
  violate, so categories whose smallest expected count is under ``min_expected`` are pooled
  into one before testing, and the smallest other categories join the pool while it is still
  under (:func:`pooled_columns`; two-category tables are tested as they are).
  ``min_expected = 0`` tests the table as it is, exactly
  ``scipy.stats.chi2_contingency(…, correction=False)``. The test's
  power grows with ``n``: on large windows it flags shifts too small to matter, which is why
  the job also thresholds the effect sizes above.

**Edge cases.** A window with no rows has no distribution: every function raises
``ValueError`` (so do negative counts and sequences of different lengths). With a single
category left, every divergence is 0 and the test gives ``X² = 0``, ``dof = 0``, p-value 1
(nothing can differ). ``smoothing = 0`` is allowed for KL and PSI and gives ``inf`` when
``P`` has a category ``Q`` lacks (as ``scipy.stats.entropy`` does).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc  # χ² survival function; scipy.stats costs ~1 s to import

#: Additive smoothing per category of KL and PSI: Jeffreys / Krichevsky–Trofimov.
DEFAULT_SMOOTHING = 0.5
#: Cochran's rule for the χ² approximation: expected counts of at least 5.
DEFAULT_MIN_EXPECTED = 5.0

Counts = Mapping[Hashable, float] | Sequence[float] | np.ndarray


@dataclass(frozen=True)
class ChiSquare:
    """Pearson's χ² test of homogeneity of two windows (see the module doc).

    ``categories`` is the number of columns tested (after pooling), ``pooled`` how many of the
    aligned categories were merged into the pool (0: none)."""

    statistic: float
    p_value: float
    dof: int
    n_p: int
    n_q: int
    categories: int
    pooled: int


def aligned(p_counts: Counts, q_counts: Counts) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    """The categories counted in either window (sorted by ``repr`` for mappings, positions
    for sequences) and both windows' counts over them, as float arrays.

    Raises ``ValueError`` for negative or non-finite counts, sequences of different lengths,
    or a window without any count."""
    if isinstance(p_counts, Mapping) != isinstance(q_counts, Mapping):
        raise ValueError("pass both windows as mappings {category: count} or both as sequences")
    if isinstance(p_counts, Mapping) and isinstance(q_counts, Mapping):
        keys = sorted(set(p_counts) | set(q_counts), key=repr)
        p = np.array([float(p_counts.get(k, 0)) for k in keys])
        q = np.array([float(q_counts.get(k, 0)) for k in keys])
    else:
        p, q = np.asarray(p_counts, dtype=float), np.asarray(q_counts, dtype=float)
        if p.ndim != 1 or p.shape != q.shape:
            raise ValueError(f"count vectors must be 1-d and of equal length, not {p.shape} and {q.shape}")
        keys = list(range(len(p)))
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))) or (p < 0).any() or (q < 0).any():
        raise ValueError("counts must be finite and at least 0")
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("a window without any count has no distribution; compare only non-empty windows")
    seen = (p + q) > 0
    return [k for k, s in zip(keys, seen, strict=True) if s], p[seen], q[seen]


def smoothed_shares(counts: np.ndarray, smoothing: float) -> np.ndarray:
    """``(c_i + α) / (n + α k)``: additively smoothed shares of one window's counts."""
    if smoothing < 0 or not math.isfinite(smoothing):
        raise ValueError(f"smoothing must be a finite number of at least 0, not {smoothing}")
    return (counts + smoothing) / (counts.sum() + smoothing * len(counts))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """``Σ p ln(p/q)`` over shares, with ``0 ln 0 = 0`` and ``p ln(p/0) = ∞``."""
    support = p > 0
    if np.any(q[support] == 0):
        return math.inf
    return float(max(np.sum(p[support] * np.log(p[support] / q[support])), 0.0))


def kl_divergence(p_counts: Counts, q_counts: Counts, smoothing: float = DEFAULT_SMOOTHING) -> float:
    """``KL(P̃ ‖ Q̃)`` in nats of the window ``p_counts`` from the baseline ``q_counts``,
    on shares smoothed by ``smoothing`` per category (module doc)."""
    _, p, q = aligned(p_counts, q_counts)
    return _kl(smoothed_shares(p, smoothing), smoothed_shares(q, smoothing))


def js_divergence(p_counts: Counts, q_counts: Counts, smoothing: float = 0.0) -> float:
    """Jensen–Shannon divergence ``½ KL(P ‖ M) + ½ KL(Q ‖ M)``, ``M = (P + Q) / 2``, in nats
    (``[0, ln 2]``); raw shares unless ``smoothing`` is given."""
    _, p, q = aligned(p_counts, q_counts)
    ps, qs = smoothed_shares(p, smoothing), smoothed_shares(q, smoothing)
    m = (ps + qs) / 2
    return float(min(max(0.5 * _kl(ps, m) + 0.5 * _kl(qs, m), 0.0), math.log(2)))


def psi(p_counts: Counts, q_counts: Counts, smoothing: float = DEFAULT_SMOOTHING) -> float:
    """Population stability index ``Σ (p̃_i − q̃_i) ln(p̃_i / q̃_i)`` on smoothed shares
    (``KL(P̃ ‖ Q̃) + KL(Q̃ ‖ P̃)``, symmetric, nats)."""
    _, p, q = aligned(p_counts, q_counts)
    ps, qs = smoothed_shares(p, smoothing), smoothed_shares(q, smoothing)
    return _kl(ps, qs) + _kl(qs, ps)


def pooled_columns(table: np.ndarray, min_expected: float) -> tuple[np.ndarray, int]:
    """``table`` (2 × k counts) with its sparse columns pooled: the columns whose smallest
    expected count ``min(row totals) × column total / N`` is under ``min_expected`` are
    merged into one, then the smallest other columns join the pool while it is still under
    (a single sparse column is merged with the smallest other one). Returns the table (pool
    last) and how many original columns the pool holds (0: nothing pooled). Tables of two
    columns are left as they are: pooling would leave nothing to test."""
    if min_expected <= 0 or table.shape[1] <= 2:
        return table, 0
    floor = min_expected * table.sum() / table.sum(axis=1).min()
    rare = table.sum(axis=0) < floor
    if not rare.any():
        return table, 0
    pool, kept = table[:, rare].sum(axis=1), table[:, ~rare]
    pooled = int(rare.sum())
    while (pooled < 2 or pool.sum() < floor) and kept.shape[1] > 0:
        smallest = int(np.argmin(kept.sum(axis=0)))
        pool, kept = pool + kept[:, smallest], np.delete(kept, smallest, axis=1)
        pooled += 1
    return np.column_stack([kept, pool]), pooled


def chi_square(p_counts: Counts, q_counts: Counts, min_expected: float = DEFAULT_MIN_EXPECTED) -> ChiSquare:
    """Pearson's χ² test that the window and the baseline come from one distribution: the
    statistic, its p-value, degrees of freedom and both sample sizes (module doc)."""
    _, p, q = aligned(p_counts, q_counts)
    if min_expected < 0 or not math.isfinite(min_expected):
        raise ValueError(f"min_expected must be a finite number of at least 0, not {min_expected}")
    table, pooled = pooled_columns(np.vstack([p, q]), min_expected)
    n_p, n_q = round(float(p.sum())), round(float(q.sum()))
    k = table.shape[1]
    if k < 2:
        return ChiSquare(0.0, 1.0, 0, n_p, n_q, k, pooled)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = k - 1
    return ChiSquare(statistic, float(chdtrc(dof, statistic)), dof, n_p, n_q, k, pooled)
