"""The ``drift`` job: label and language distributions per window of ``silver``, compared
over time, with alert rows in ``metrics``.

read (one pinned ``silver`` version) → window (each row's group, ``drift.group_by``, and
window: the ``day`` / ``week`` / ``month`` of its ``event_ts`` in UTC, or its
``ingest_batch``) → count (two aggregations, a few rows per window to the driver: the
window's rows, labelled rows, ``event_ts`` range, mean ``confidence`` and share of
``is_noisy`` when silver has the score columns; and the count of every category of every
distribution per window) → compare (each window with the previous one and with the
reference, per distribution: KL, JS, PSI and the χ² test of
:mod:`refinery.labels.drift_stats`) → write (``metrics`` rows, below) and log one line per
alerting comparison (group, window, counts and statistic values; never text or labels).

**Windows.** Time windows are calendar days, ISO weeks (Monday to Sunday, key ``2024-W05``)
or months (``2024-01``) of ``event_ts``; a row without ``event_ts`` belongs to none and is
counted as filtered (``no_event_ts``). Batch windows are the ``ingest_batch`` values, in
order of their first ``event_ts`` (then name); rows without ``event_ts`` still count there.
All silver rows are counted (flagged duplicates and disallowed languages too): drift
describes what arrives. The label distribution counts labelled rows only.

**Baselines.** ``previous``: the window before, in the group. ``reference`` (config):
``first``, each group's first window with at least ``min_rows`` rows of the distribution
(else its first window); a named window; ``{start, end}``, the rows of those dates
whatever their window; ``none``. A comparison alerts when a statistic crosses its threshold
(``drift.thresholds``: KL, JS, PSI above; p-value below) and both sides have at least
``drift.min_rows`` rows of the distribution; smaller ones are reported, never alerted on.

**Metrics rows** (all with ``job = drift``; read ``details``, not the stage string):

* ``drift``: the run. ``rows_in`` = silver rows (counted on their own), ``rows_out`` = rows in
  a window, ``filtered_by_reason`` = ``no_event_ts`` (time windows) or ``no_ingest_batch``.
  Drift writes no rows of a table of its own (only these metrics rows), so what it "commits"
  is its windows' counts: ``rows_out`` and the filters are the sums of the window
  aggregation, and a row the windowing loses makes the run fail. Details:
  ``kind=run``, the settings (``threshold.<statistic>`` among them), ``silver_version``,
  ``groups``, ``windows``, ``comparisons``, ``alerts`` (statistic rows alerting),
  ``alert_windows`` (``group/window, …``) and ``note`` on what could not be computed
  (a group with one window, missing score columns, a group without the named reference).
* ``drift/<group>/<window>``: one window. ``rows_in = rows_out`` = its rows; details
  ``kind=window``, ``group``, ``window``, ``window_start`` / ``window_end`` (time windows:
  dates, end excluded; batches: first and last ``event_ts``), ``rows``, ``labelled``,
  ``label.<value>`` / ``lang.<value>`` counts, ``scored``, ``confidence_mean``,
  ``noisy_share`` (with score columns), ``alert`` (``true`` when any of its comparisons
  alerts) and ``alerts`` (``<distribution>/<statistic>/<baseline>, …``).
* ``drift/<group>/<window>/<distribution>/<statistic>/<baseline>``: one statistic of one
  comparison, statistic ``kl`` | ``js`` | ``psi`` | ``p_value``, baseline ``previous`` |
  ``reference``. ``rows_in = rows_out`` = the window's rows in the distribution; details
  ``kind=statistic``, ``group``, ``window``, ``window_start``, ``distribution``,
  ``statistic``, ``baseline``, ``baseline_window``, ``value``, ``threshold`` (``none``:
  not alerted on), ``direction`` (``above`` | ``below``: which side alerts), ``alert``,
  ``alertable`` (both sides have ``min_rows``), ``n_window``, ``n_baseline``,
  ``categories``; KL and PSI add ``smoothing``, the p-value adds ``chi2``, ``dof`` and
  ``pooled`` (categories pooled for the test). These rows are written and checked but not
  logged one line each (:attr:`~refinery.runtime.metrics.StageMetrics.quiet`).

``<group>`` is the ``group_by`` value (``null`` for a null one), or ``all`` without grouping.

So a report plots ``value`` by ``window_start`` per ``group``/``distribution``/``statistic``/
``baseline``, and Airflow asks ``details['alert'] = 'true'`` of one ``run_id``.

**Last windows.** With ``drift.last_windows: N`` only the last N windows of each group are
reported: they alone get window and statistic rows, comparisons, alerts and log lines. The
earlier windows are still counted and still serve as the ``previous`` window of the first
reported one and as the ``reference`` (``first`` picks among all windows); their rows are
counted as filtered (``before_last_windows``), so the run row still reconciles, and the run's
details add ``last_windows`` and ``windows_before`` (the windows not reported). A daily run
with ``last_windows: 1`` so reports the newest window once, against everything before it.

**Failing on drift.** With ``drift.fail_on_alert: true`` a run in which any reported
comparison alerts writes all its metrics and log lines as usual, then exits with code 3
(:data:`refinery.runtime.runner.EXIT_ALERT`) instead of 0, so Airflow or a shell fails the batch.

This module holds the job's entry (:func:`run`) and its ``metrics`` rows and log fields; the
windows and their counts are in :mod:`refinery.drift.windows`, the baselines, statistics and
alerts in :mod:`refinery.drift.comparisons`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from refinery.config import ConfigError
from refinery.drift.comparisons import STATISTICS, Comparison, compare_groups
from refinery.drift.details import DriftRunDetails, DriftStatisticDetails, DriftWindowDetails
from refinery.drift.settings import DriftDateRange, DriftSettings
from refinery.drift.windows import (
    SCORE_COLUMNS,
    Window,
    by_key,
    category_counts,
    order_windows,
    reported,
    window_totals,
    with_windows,
)
from refinery.runtime.context import JobContext, JobResult, check_group_by, pinned_silver
from refinery.runtime.faults import drop_one_row
from refinery.runtime.metrics import StageMetrics
from refinery.runtime.stage import stage

STAGE = "drift"
NO_EVENT_TS, NO_INGEST_BATCH = "no_event_ts", "no_ingest_batch"
#: Filter reason of rows in windows before ``drift.last_windows``: baselines, not reported.
BEFORE_LAST_WINDOWS = "before_last_windows"


def run(ctx: JobContext) -> JobResult:
    """Count, compare and report the distributions of the latest silver version."""
    cfg = ctx.settings.drift
    with stage(ctx, STAGE) as s:
        snapshot = pinned_silver(ctx)
        silver = snapshot.frame
        check_columns(silver.columns, cfg)
        has_scores = all(c in silver.columns for c in SCORE_COLUMNS)
        ctx.log.info("drift started", extra={"version": snapshot.version, "window": cfg.window})

        s.count_input(silver)  # the input, counted before windowing
        framed = drop_one_row(with_windows(silver, cfg), STAGE)
        windows, filtered = window_totals(framed, cfg, has_scores)
        for (group, raw, distribution), counts in category_counts(framed, cfg.distributions, in_ref=False).items():
            windows[group][raw].counts[distribution] = counts
        dated = isinstance(cfg.reference, DriftDateRange)
        ranges = category_counts(framed, cfg.distributions, in_ref=True) if dated else {}
        ordered = {group: order_windows(list(by_key.values()), cfg.window) for group, by_key in windows.items()}
        comparisons, notes = compare_groups(ordered, ranges, cfg)

        reason = NO_INGEST_BATCH if cfg.window == "batch" else NO_EVENT_TS
        shown = {group: reported(ws, cfg.last_windows) for group, ws in ordered.items()}
        in_shown = sum(w.rows for ws in shown.values() for w in ws)
        before = sum(w.rows for ws in ordered.values() for w in ws) - in_shown
        s.out(in_shown)
        s.outcomes([("filter", reason, filtered)] if filtered else [])
        s.outcomes([("filter", BEFORE_LAST_WINDOWS, before)] if before else [])
    if not has_scores:
        notes.append("confidence_mean, noisy_share: silver has no score columns (run score first)")
    s.details = details = run_details(cfg, snapshot.version, ordered, comparisons, notes)
    by_window: dict[tuple[str, str], list[Comparison]] = defaultdict(list)
    for c in comparisons:
        by_window[(c.group, c.window)].append(c)
    for group, group_windows in sorted(shown.items()):
        for w in group_windows:
            s.add(window_stage(w, by_window[(group, w.key)]))
    keyed = by_key(ordered)
    for c in comparisons:
        s.add(*statistic_stages(c, keyed[(c.group, c.window)], cfg))
    for c in comparisons:
        if c.alerts:
            ctx.log.warning("drift alert", extra=alert_fields(c))
    ctx.log.info(
        "drift finished",
        extra={"windows": str(details.windows), "comparisons": len(comparisons), "alerts": str(details.alerts)},
    )
    alerted = any(c.alerts for c in comparisons)
    return JobResult(batch=f"v{snapshot.version}", stages=s.stages, alert=cfg.fail_on_alert and alerted)


def check_columns(columns: list[str], cfg: DriftSettings) -> None:
    """Fail with the config key to fix when silver lacks a column the settings need."""
    present = set(columns)
    check_group_by(columns, "drift.group_by", cfg.group_by)
    needed = "ingest_batch" if cfg.window == "batch" else "event_ts"
    if needed not in present:
        raise ConfigError(f"config key 'drift.window': silver has no column {needed!r} to window {cfg.window} by")
    if isinstance(cfg.reference, DriftDateRange) and "event_ts" not in present:
        raise ConfigError("config key 'drift.reference': a date range needs silver's event_ts; fix: use first")
    missing = [d for d in cfg.distributions if d not in present]
    if missing:
        raise ConfigError(f"config key 'drift.distributions': silver has no column {missing[0]!r}; fix: remove it")


def run_details(
    cfg: DriftSettings, version: int, ordered: Mapping[str, list[Window]], comparisons: list[Comparison], notes
) -> DriftRunDetails:
    """The ``drift`` row's details: settings, totals, alerts and notes."""
    alerting = sorted({(c.group, c.window) for c in comparisons if c.alerts})
    reference = cfg.reference.label() if isinstance(cfg.reference, DriftDateRange) else cfg.reference
    details = DriftRunDetails(
        silver_version=version,
        window=cfg.window,
        reference=reference,
        group_by=cfg.group_by,
        distributions=list(cfg.distributions),
        smoothing=cfg.smoothing,
        min_rows=cfg.min_rows,
        groups=len(ordered),
        windows=sum(len(reported(ws, cfg.last_windows)) for ws in ordered.values()),
        comparisons=len(comparisons),
        alerts=sum(len(c.alerts) for c in comparisons),
        alert_windows=[f"{g}/{w}" for g, w in alerting],
        thresholds={statistic: getattr(cfg.thresholds, statistic) for statistic in STATISTICS},
        fail_on_alert=cfg.fail_on_alert,
        notes=list(notes),
    )
    if cfg.last_windows is not None:
        details.last_windows = cfg.last_windows
        details.windows_before = sum(len(ws) - len(reported(ws, cfg.last_windows)) for ws in ordered.values())
    return details


def window_stage(window: Window, comparisons: list[Comparison]) -> StageMetrics:
    """The ``drift/<group>/<window>`` row: the window's distributions and its alerts."""
    details = DriftWindowDetails(
        group=window.group,
        window=window.key,
        window_start=window.start,
        window_end=window.end,
        rows=window.rows,
        labelled=window.labelled,
        counts={distribution: dict(counts) for distribution, counts in window.counts.items()},
        alerts=[f"{c.distribution}/{s}/{c.baseline}" for c in comparisons for s in c.alerts],
    )
    if window.scored is not None:
        details.scored = window.scored
        details.confidence_mean, details.noisy_share = window.confidence_mean, window.noisy_share
    name = f"{STAGE}/{window.group}/{window.key}"
    return StageMetrics(name, window.rows, window.rows, details=details.to_map())


def statistic_stages(c: Comparison, window: Window, cfg: DriftSettings) -> list[StageMetrics]:
    """The four ``drift/<group>/<window>/<distribution>/<statistic>/<baseline>`` rows."""
    stages = []
    for statistic in STATISTICS:
        details = DriftStatisticDetails(
            group=c.group,
            window=c.window,
            window_start=window.start,
            distribution=c.distribution,
            statistic=statistic,
            baseline=c.baseline,
            baseline_window=c.baseline_window,
            value=c.values[statistic],
            threshold=getattr(cfg.thresholds, statistic),
            direction="below" if statistic == "p_value" else "above",
            alert=statistic in c.alerts,
            alertable=c.alertable,
            n_window=c.n_window,
            n_baseline=c.n_baseline,
            categories=c.categories,
        )
        if statistic in ("kl", "psi"):
            details.smoothing = cfg.smoothing
        if statistic == "p_value":
            details.chi2, details.dof, details.pooled = c.test.statistic, c.test.dof, c.test.pooled
        name = f"{STAGE}/{c.group}/{c.window}/{c.distribution}/{statistic}/{c.baseline}"
        stages.append(StageMetrics(name, c.n_window, c.n_window, details=details.to_map(), quiet=True))
    return stages


def alert_fields(c: Comparison) -> dict[str, object]:
    """The log fields of one alerting comparison: identifiers, counts and statistics only."""
    return {
        "group": c.group,
        "window": c.window,
        "distribution": c.distribution,
        "baseline": c.baseline,
        "baseline_window": c.baseline_window,
        "n_window": c.n_window,
        "n_baseline": c.n_baseline,
        **{s: round(v, 6) for s, v in c.values.items()},
        "crossed": list(c.alerts),
    }
