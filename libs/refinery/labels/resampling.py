"""Class-frequency resampling maths: exact per-class target counts and loss weights.

Pure functions on ``{class: count}`` mappings; the Spark job (:mod:`refinery.rebalance.job`)
counts the classes, asks for the targets here, and then picks exactly that many rows per class.

**Targets.** Given the eligible counts ``n_c`` of each class ``c``, a strategy gives the gold
count ``t_c`` (an integer: the job draws exactly ``t_c`` rows, not a Bernoulli sample with
expectation ``t_c``):

* ``none``: ``t_c = n_c``.
* ``undersample``: ``t_c = min(n_c, m)`` with ``m = cap`` or, without a cap, ``min_c n_c``
  (imbalanced-learn's ``RandomUnderSampler(sampling_strategy="auto")`` when there is no cap).
* ``oversample``: ``t_c = max(n_c, f)`` with ``f = floor`` or, without one, ``max_c n_c``
  (``RandomOverSampler(sampling_strategy="auto")``).
* ``target``: explicit ``counts`` (``t_c`` given), or ``proportions`` ``p_c`` (summing to 1) of a
  ``total`` (default: the eligible rows of the listed classes), rounded by largest remainder so
  the counts sum to the total exactly. A class that is not listed gets 0.
* ``smooth``: temperature sampling as used for multilingual language-model data (XLM,
  mT5): ``p_c ∝ n_c^α`` with ``0 ≤ α ≤ 1`` (α = 1 keeps the distribution, α = 0 makes it
  uniform), of ``total`` rows (default ``Σ n_c``), by largest remainder.

Then per-class caps: ``t_c = min(max(t_c, min_c), max_c)``. A class with ``n_c = 0`` cannot be
over-sampled and always gets 0. ``t_c > n_c`` means over-sampling: every row is repeated
``⌊t_c / n_c⌋`` times and ``t_c mod n_c`` of them once more.

**Loss weights** (``sample_weight``), from the gold counts ``g_c``:

* ``inverse``: ``w_c ∝ 1 / g_c``;
* ``sqrt_inverse``: ``w_c ∝ 1 / √g_c``;
* ``effective_number`` (Cui et al., *Class-Balanced Loss Based on Effective Number of
  Samples*, CVPR 2019): ``w_c ∝ (1 − β) / (1 − β^{g_c})``, the inverse of the expected number
  of distinct samples ``E_n = (1 − β^n) / (1 − β)``; β → 0 gives equal weights, β → 1
  inverse frequency.

normalised so that the mean weight over the gold rows is 1: ``Σ_c g_c w_c = Σ_c g_c``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

STRATEGIES = ("none", "undersample", "oversample", "target", "smooth")
WEIGHTINGS = ("none", "inverse", "sqrt_inverse", "effective_number")

#: Rows per class; a class is any hashable key (a label, or a ``(label, lang)`` cell).
Counts = Mapping[Any, int]


@dataclass(frozen=True)
class ResamplePlan:
    """How one group's classes are resampled (the module docstring defines each field)."""

    strategy: str = "none"
    #: ``undersample``: the largest class count kept; ``None`` = the smallest class's count.
    cap: int | None = None
    #: ``oversample``: the smallest class count reached; ``None`` = the largest class's count.
    floor: int | None = None
    #: ``target``: exact counts per class (exclusive with ``proportions``).
    counts: Mapping[Hashable, int] | None = None
    #: ``target``: shares per class summing to 1, of ``total`` rows.
    proportions: Mapping[Hashable, float] | None = None
    #: ``target`` with proportions and ``smooth``: gold rows; ``None`` = the eligible rows.
    total: int | None = None
    #: ``smooth``: the exponent α of ``p_c ∝ n_c^α``.
    alpha: float = 0.5
    #: Per-class floors and ceilings applied after the strategy: one number for every class,
    #: or a mapping (classes not in it are not capped).
    min: int | Mapping[Hashable, int] | None = None
    max: int | Mapping[Hashable, int] | None = None

    def __post_init__(self) -> None:
        check_plan(self)


def check_plan(plan: ResamplePlan) -> None:
    """Raise ``ValueError`` (naming the field and the fix) for an inconsistent plan."""
    if plan.strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, not {plan.strategy!r}")
    for name in ("cap", "floor", "total"):
        value = getattr(plan, name)
        if value is not None and value < 0:
            raise ValueError(f"{name} must be a count of at least 0, not {value}")
    if not 0.0 <= plan.alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] (1 keeps the distribution, 0 is uniform), not {plan.alpha}")
    if plan.strategy == "target":
        if (plan.counts is None) == (plan.proportions is None):
            raise ValueError("strategy 'target' needs exactly one of target.counts or target.proportions")
        if plan.counts is not None and any(v < 0 for v in plan.counts.values()):
            raise ValueError("target.counts must be counts of at least 0")
        if plan.proportions is not None:
            if any(p < 0 for p in plan.proportions.values()):
                raise ValueError("target.proportions must be shares of at least 0")
            if not math.isclose(sum(plan.proportions.values()), 1.0, abs_tol=1e-6):
                total = sum(plan.proportions.values())
                raise ValueError(f"target.proportions must sum to 1, not {total:g}; divide each by {total:g}")
    for name in ("min", "max"):
        caps = getattr(plan, name)
        values = caps.values() if isinstance(caps, Mapping) else [] if caps is None else [caps]
        if any(v < 0 for v in values):
            raise ValueError(f"{name} caps must be counts of at least 0")


def largest_remainder(shares: Mapping[Any, float], total: int) -> dict[Any, int]:
    """Integers proportional to ``shares`` that sum to ``total`` exactly (Hamilton's method):
    each class gets ``⌊total · s_c / Σs⌋``, and the rows left over go one each to the largest
    fractional parts (ties: the class that sorts first by ``repr``, so the result never depends
    on the mapping's order)."""
    if total < 0:
        raise ValueError(f"total must be at least 0, not {total}")
    weight = float(sum(shares.values()))
    if weight <= 0 or total == 0:
        return {c: 0 for c in shares}
    exact = {c: total * s / weight for c, s in shares.items()}
    result = {c: math.floor(v) for c, v in exact.items()}
    left = total - sum(result.values())
    order = sorted(shares, key=lambda c: (-(exact[c] - result[c]), repr(c)))
    for c in order[:left]:
        result[c] += 1
    return result


def class_targets(counts: Counts, plan: ResamplePlan) -> dict[Any, int]:
    """The exact gold count of every class in ``counts`` (and of every class the plan lists)
    under ``plan``; see the module docstring for the formulas."""
    n = {c: int(v) for c, v in counts.items()}
    if any(v < 0 for v in n.values()):
        raise ValueError("class counts must be at least 0")
    present = [c for c, v in n.items() if v > 0]
    strategy = plan.strategy
    if strategy == "none" or not present:
        targets = dict(n)
    elif strategy == "undersample":
        m = plan.cap if plan.cap is not None else min(n[c] for c in present)
        targets = {c: min(v, m) for c, v in n.items()}
    elif strategy == "oversample":
        f = plan.floor if plan.floor is not None else max(n.values())
        targets = {c: max(v, f) for c, v in n.items()}
    elif strategy == "target":
        if plan.counts is not None:
            targets = {c: int(plan.counts.get(c, 0)) for c in n}
        else:
            listed = plan.proportions or {}
            total = plan.total if plan.total is not None else sum(n.get(c, 0) for c in listed)
            shares = {c: float(listed.get(c, 0.0)) for c in n}
            targets = largest_remainder(shares, total)
    else:  # smooth
        total = plan.total if plan.total is not None else sum(n.values())
        targets = largest_remainder({c: float(v) ** plan.alpha if v > 0 else 0.0 for c, v in n.items()}, total)
    targets = {c: _capped(c, t, plan) for c, t in targets.items()}
    # nothing can be drawn from an empty class
    return {c: (t if n.get(c, 0) > 0 else 0) for c, t in targets.items()}


def _capped(cls: Hashable, target: int, plan: ResamplePlan) -> int:
    low, high = _cap_for(plan.min, cls), _cap_for(plan.max, cls)
    if low is not None:
        target = max(target, low)
    if high is not None:
        target = min(target, high)
    return target


def _cap_for(caps: int | Mapping[Hashable, int] | None, cls: Hashable) -> int | None:
    if caps is None:
        return None
    if isinstance(caps, Mapping):
        return caps.get(cls)
    return int(caps)


def copies_per_row(n: int, t: int) -> tuple[int, int]:
    """``(q, r)``: with ``n`` rows and target ``t``, every row appears ``q`` times and the first
    ``r`` rows (in the job's hash order) once more, so that ``q·n + r = t``. For ``t ≤ n`` this
    is ``(0, t)``: the first ``t`` rows are kept once (under-sampling)."""
    if n <= 0:
        if t > 0:
            raise ValueError(f"cannot draw {t} rows from an empty class")
        return 0, 0
    return divmod(t, n)


def class_weights(gold: Counts, method: str = "inverse", beta: float = 0.999) -> dict[Hashable, float]:
    """Per-class loss weight ``w_c`` from gold counts ``g_c``, normalised to mean 1 over the
    gold rows (``Σ g_c w_c = Σ g_c``); classes with no gold rows get weight 0."""
    if method not in WEIGHTINGS:
        raise ValueError(f"weights must be one of {WEIGHTINGS}, not {method!r}")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), not {beta}")
    g = {c: int(v) for c, v in gold.items()}
    raw: dict[Hashable, float] = {}
    for c, v in g.items():
        if v <= 0:
            raw[c] = 0.0
        elif method == "none":
            raw[c] = 1.0
        elif method == "inverse":
            raw[c] = 1.0 / v
        elif method == "sqrt_inverse":
            raw[c] = 1.0 / math.sqrt(v)
        else:
            # (1 - β) / (1 - β^n), computed with expm1/log1p so β near 1 keeps its precision
            raw[c] = (1.0 - beta) / -math.expm1(v * math.log(beta)) if beta > 0 else 1.0
    rows = sum(g.values())
    mass = sum(g[c] * raw[c] for c in g)
    if rows == 0 or mass == 0:
        return {c: 0.0 for c in g}
    return {c: raw[c] * rows / mass for c in g}
