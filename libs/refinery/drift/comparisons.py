"""The ``drift`` job's comparisons: choosing each group's reference window (or date range) per
distribution, and comparing each reported window with the previous one and the reference
(KL, JS, PSI and the χ² test of :mod:`refinery.labels.drift_stats`), with the statistics that
cross their ``drift.thresholds``. The windows are built in :mod:`refinery.drift.windows`; the
job is :mod:`refinery.drift.job`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from refinery.config import ConfigError
from refinery.drift.settings import DriftDateRange, DriftSettings
from refinery.drift.windows import Window, reported
from refinery.labels.drift_stats import ChiSquare, chi_square, js_divergence, kl_divergence, psi

STATISTICS = ("kl", "js", "psi", "p_value")
PREVIOUS, REFERENCE = "previous", "reference"


@dataclass(frozen=True)
class Comparison:
    """One distribution of one window against one baseline: the sample sizes, the four
    statistics, the χ² test, whether it may alert and which statistics crossed."""

    group: str
    window: str
    distribution: str
    baseline: str
    baseline_window: str
    n_window: int
    n_baseline: int
    categories: int
    values: dict[str, float]
    test: ChiSquare
    alertable: bool
    alerts: tuple[str, ...]


def compare_groups(
    ordered: Mapping[str, list[Window]], ranges: Mapping[tuple[str, str], Counter], cfg: DriftSettings
) -> tuple[list[Comparison], list[str]]:
    """Every comparison of every group (windows in order, then distributions, previous before
    reference), and notes on what could not be compared. Only the windows
    :func:`reported` under ``drift.last_windows`` are compared; all of them serve as
    baselines. A named reference window that no group has is a :class:`ConfigError`."""
    comparisons: list[Comparison] = []
    notes: list[str] = []
    named = isinstance(cfg.reference, str) and cfg.reference not in ("first", "none")
    if named and ordered and not any(w.key == cfg.reference for ws in ordered.values() for w in ws):
        raise ConfigError(
            f"config key 'drift.reference': no group has a window {cfg.reference!r}; fix: name an existing "
            f"{cfg.window} window, or use first or a date range"
        )
    for group, windows in sorted(ordered.items()):
        if len(windows) < 2 and cfg.reference in ("first", "none"):
            notes.append(f"{group}: one window, nothing to compare")
        for distribution in cfg.distributions:
            reference = reference_counts(group, windows, distribution, ranges, cfg)
            if reference is None and cfg.reference != "none":
                notes.append(f"{group}: no {distribution} reference")
            first_reported = len(windows) - len(reported(windows, cfg.last_windows))
            for i, w in enumerate(windows):
                current = w.counts.get(distribution, Counter())
                if i < first_reported or not current:
                    continue
                if i > 0 and windows[i - 1].counts.get(distribution):
                    baseline = windows[i - 1]
                    comparisons.append(
                        compare(w, distribution, PREVIOUS, baseline.key, baseline.counts[distribution], cfg)
                    )
                if reference is not None and reference[0] != w.key:
                    comparisons.append(compare(w, distribution, REFERENCE, reference[0], reference[1], cfg))
    return comparisons, notes


def reference_counts(
    group: str,
    windows: list[Window],
    distribution: str,
    ranges: Mapping[tuple[str, str], Counter],
    cfg: DriftSettings,
) -> tuple[str, Counter] | None:
    """The group's reference for one distribution: its name and counts, or ``None``."""
    if isinstance(cfg.reference, DriftDateRange):
        counts = ranges.get((group, distribution))
        return (cfg.reference.label(), counts) if counts else None
    if cfg.reference == "none":
        return None
    if cfg.reference == "first":
        candidates = [w for w in windows if w.counts.get(distribution)]
        large = [w for w in candidates if sum(w.counts[distribution].values()) >= cfg.min_rows]
        chosen = (large or candidates)[0] if (large or candidates) else None
    else:
        chosen = next((w for w in windows if w.key == cfg.reference and w.counts.get(distribution)), None)
    return (chosen.key, chosen.counts[distribution]) if chosen is not None else None


def compare(
    window: Window, distribution: str, baseline: str, baseline_window: str, q: Counter, cfg: DriftSettings
) -> Comparison:
    """The four statistics of ``window``'s ``distribution`` against the baseline counts
    ``q``, and the statistics that cross their thresholds (none when a side is under
    ``min_rows``)."""
    p = window.counts[distribution]
    test = chi_square(p, q, cfg.min_expected)
    values = {
        "kl": kl_divergence(p, q, cfg.smoothing),
        "js": js_divergence(p, q),
        "psi": psi(p, q, cfg.smoothing),
        "p_value": test.p_value,
    }
    alertable = test.n_p >= cfg.min_rows and test.n_q >= cfg.min_rows
    alerts = tuple(s for s in STATISTICS if alertable and crosses(s, values[s], cfg))
    return Comparison(
        group=window.group,
        window=window.key,
        distribution=distribution,
        baseline=baseline,
        baseline_window=baseline_window,
        n_window=test.n_p,
        n_baseline=test.n_q,
        categories=len(set(p) | set(q)),
        values=values,
        test=test,
        alertable=alertable,
        alerts=alerts,
    )


def crosses(statistic: str, value: float, cfg: DriftSettings) -> bool:
    """Whether ``value`` crosses the statistic's threshold: above it for the divergences,
    below it for the p-value; never for a threshold set to null."""
    threshold = getattr(cfg.thresholds, statistic)
    if threshold is None:
        return False
    return value < threshold if statistic == "p_value" else value > threshold
