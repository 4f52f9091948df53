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
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from refinery.config import ConfigError
from refinery.drift.details import DriftRunDetails, DriftStatisticDetails, DriftWindowDetails
from refinery.drift.settings import DriftDateRange, DriftSettings
from refinery.labels.drift_stats import ChiSquare, chi_square, js_divergence, kl_divergence, psi
from refinery.runtime.context import JobContext, JobResult, check_group_by, pinned_silver
from refinery.runtime.faults import drop_one_row
from refinery.runtime.metrics import StageMetrics
from refinery.runtime.stage import stage

STAGE = "drift"
NO_EVENT_TS, NO_INGEST_BATCH = "no_event_ts", "no_ingest_batch"
#: Filter reason of rows in windows before ``drift.last_windows``: baselines, not reported.
BEFORE_LAST_WINDOWS = "before_last_windows"
STATISTICS = ("kl", "js", "psi", "p_value")
PREVIOUS, REFERENCE = "previous", "reference"
#: The group of every row when ``drift.group_by`` is null, and of a row whose group is null.
ALL_ROWS, NULL_GROUP = "all", "null"
#: Silver columns each distribution counts (``label``: labelled rows only).
SCORE_COLUMNS = ("confidence", "is_noisy")
GROUP, WINDOW, IN_REF, LABEL, LANG = "_dr_group", "_dr_window", "_dr_in_ref", "_dr_label", "_dr_lang"
DISTRIBUTION_COLUMNS = {"label": LABEL, "lang": LANG}
#: Batch bounds: ``event_ts`` in the session time zone (UTC), sortable as text.
TS_FORMAT = "yyyy-MM-dd HH:mm:ss"


@dataclass
class Window:
    """One window of one group: its key, bounds, row counts, score summary and category
    counts per distribution."""

    group: str
    key: str
    start: str
    end: str
    rows: int
    labelled: int
    first_ts: str | None = None
    scored: int | None = None
    confidence_mean: float | None = None
    noisy_share: float | None = None
    counts: dict[str, Counter] = field(default_factory=dict)


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


def reported(windows: list[Window], last: int | None) -> list[Window]:
    """The windows (in order) that are reported: the last ``last`` of them, or all."""
    return windows if last is None else windows[-last:]


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


def with_windows(silver: DataFrame, cfg: DriftSettings) -> DataFrame:
    """``silver`` with :data:`GROUP`, :data:`WINDOW` (time windows: the window's first day
    ``yyyy-MM-dd``; batches: ``ingest_batch``; null: in no window), :data:`IN_REF` (the row
    is in the reference date range), :data:`LABEL` (null when blank) and :data:`LANG`
    (``und`` when null)."""
    group = F.coalesce(F.col(cfg.group_by).cast("string"), F.lit(NULL_GROUP)) if cfg.group_by else F.lit(ALL_ROWS)
    if cfg.window == "batch":
        window = F.col("ingest_batch")
    else:
        window = F.date_format(F.date_trunc(cfg.window, F.col("event_ts")), "yyyy-MM-dd")
    columns = [group.alias(GROUP), window.alias(WINDOW), in_range(cfg.reference).alias(IN_REF)]
    if "event_ts" in silver.columns:
        columns.append("event_ts")
    if "label" in silver.columns:
        columns.append(F.when(F.trim("label") != "", F.col("label")).alias(LABEL))
    if "lang" in silver.columns:
        columns.append(F.coalesce(F.col("lang"), F.lit("und")).alias(LANG))
    columns += [c for c in SCORE_COLUMNS if c in silver.columns]
    return silver.select(*columns)


def in_range(reference: DriftDateRange | str) -> Column:
    """Whether a row's ``event_ts`` falls on the reference dates (its UTC date, the session's
    time zone, between ``start`` and ``end``, both included); false without ``event_ts``."""
    if not isinstance(reference, DriftDateRange):
        return F.lit(False)
    start, end = (F.lit(d.isoformat()).cast("date") for d in (reference.start, reference.end))
    return F.coalesce(F.to_date(F.col("event_ts")).between(start, end), F.lit(False))


def window_totals(framed: DataFrame, cfg: DriftSettings, has_scores: bool) -> tuple[dict[str, dict[str, Window]], int]:
    """Per group and raw :data:`WINDOW` value its :class:`Window` (counts still empty), and
    the rows in no window. One aggregation; one row per window reaches the driver."""
    ts = F.col("event_ts") if "event_ts" in framed.columns else F.lit(None).cast("timestamp")
    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        (F.count(LABEL) if LABEL in framed.columns else F.lit(0)).alias("labelled"),
        F.date_format(F.min(ts), TS_FORMAT).alias("first_ts"),
        F.date_format(F.max(ts), TS_FORMAT).alias("last_ts"),
    ]
    if has_scores:
        aggregates += [
            F.count("confidence").alias("scored"),
            F.avg("confidence").alias("confidence_mean"),
            F.avg(F.col("is_noisy").cast("double")).alias("noisy_share"),
        ]
    windows: dict[str, dict[str, Window]] = defaultdict(dict)
    outside = 0
    for r in framed.groupBy(GROUP, WINDOW).agg(*aggregates).collect():
        if r[WINDOW] is None:
            outside += int(r["rows"])
            continue
        key, start, end = window_bounds(r[WINDOW], cfg.window, r["first_ts"], r["last_ts"])
        windows[r[GROUP]][r[WINDOW]] = Window(
            group=r[GROUP],
            key=key,
            start=start,
            end=end,
            rows=int(r["rows"]),
            labelled=int(r["labelled"]),
            first_ts=r["first_ts"],
            scored=int(r["scored"]) if has_scores else None,
            confidence_mean=r["confidence_mean"] if has_scores else None,
            noisy_share=r["noisy_share"] if has_scores else None,
        )
    return windows, outside


def window_bounds(value: str, kind: str, first_ts: str | None, last_ts: str | None) -> tuple[str, str, str]:
    """The window's key, start and end. Time windows: ``value`` is the first day; the end
    is the first day after the window. Batches: the first and last ``event_ts`` (UTC, empty
    when no row has one)."""
    if kind == "batch":
        return value, first_ts or "", last_ts or ""
    start = date.fromisoformat(value)
    if kind == "day":
        return value, value, (start + timedelta(days=1)).isoformat()
    if kind == "week":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}", value, (start + timedelta(days=7)).isoformat()
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return value[:7], value, following.isoformat()


def category_counts(framed: DataFrame, distributions: Sequence[str], in_ref: bool) -> dict[tuple, Counter]:
    """Rows per category of each distribution: ``(group, raw window, distribution) →
    Counter`` over all windowed rows (``in_ref=False``), or ``(group, distribution) →
    Counter`` over the reference date range's rows (``in_ref=True``). One aggregation, one
    row per (window, category) to the driver."""
    pairs = F.explode(
        F.array(*[F.struct(F.lit(d).alias("d"), F.col(DISTRIBUTION_COLUMNS[d]).alias("v")) for d in distributions])
    )
    rows = framed.where(F.col(WINDOW).isNotNull())
    if in_ref:
        rows = rows.where(F.col(IN_REF))
    keys = [GROUP] if in_ref else [GROUP, WINDOW]
    exploded = rows.select(*keys, pairs.alias("p")).select(*keys, "p.d", "p.v").where(F.col("v").isNotNull())
    result: dict[tuple, Counter] = defaultdict(Counter)
    for r in exploded.groupBy(*keys, "d", "v").agg(F.count(F.lit(1)).alias("n")).collect():
        key = (r[GROUP], r["d"]) if in_ref else (r[GROUP], r[WINDOW], r["d"])
        result[key][r["v"]] += int(r["n"])
    return result


def order_windows(windows: list[Window], kind: str) -> list[Window]:
    """Time windows by start; batches by first ``event_ts`` (none: last), then name."""
    if kind != "batch":
        return sorted(windows, key=lambda w: w.start)
    return sorted(windows, key=lambda w: (w.first_ts is None, w.first_ts or "", w.key))


def by_key(ordered: Mapping[str, list[Window]]) -> dict[tuple[str, str], Window]:
    """``(group, window key) → Window``."""
    return {(w.group, w.key): w for ws in ordered.values() for w in ws}


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
