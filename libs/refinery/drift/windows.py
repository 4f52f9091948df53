"""The ``drift`` job's windows: each silver row's group and window (a calendar ``day`` /
``week`` / ``month`` of its ``event_ts`` in UTC, or its ``ingest_batch``), the per-window
totals and category counts (two aggregations, a few rows per window to the driver), and the
windows' order and the ones reported under ``drift.last_windows``. The job is
:mod:`refinery.drift.job`; the comparisons of these windows are in
:mod:`refinery.drift.comparisons`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from refinery.drift.settings import DriftDateRange, DriftSettings

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


def reported(windows: list[Window], last: int | None) -> list[Window]:
    """The windows (in order) that are reported: the last ``last`` of them, or all."""
    return windows if last is None else windows[-last:]


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
