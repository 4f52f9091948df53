"""The ``report`` job: one self-contained HTML page of the latest run of each job.

read (``metrics``: the latest run of every other job, by ``finished_at``; ``silver``,
``gold`` and ``review_queue`` as they are now: counts, and from silver a few examples per
quality rule) → collect
(:func:`collect_report`: plain :class:`~refinery.report.data.ReportData`, a few rows per
aggregation to the driver; the aggregations of :mod:`refinery.report.summary` and
:func:`refinery.dedup.job.duplicate_counts` are reused) → render
(:func:`refinery.report.html.render_report`, matplotlib on the Agg canvas) → write
``<report.dir>/<run_id>/report.html`` on the driver.

Where each plot's numbers come from:

* rows through each stage: every job's latest run row (the stage without ``/``);
* languages, PII by type, annotation rules: the clean run's ``details`` (``lang.<code>``,
  ``pii.<TYPE>``, ``rule.<name>.blocked`` / ``.flagged``), every PII type shown;
* quality heuristics: the clean run's ``quality.<rule>.flagged`` / ``.dropped``,
  ``quality.flagged_rows`` and ``quality.dropped_rows`` (:func:`quality_counts`), its rows out
  as the accepted rows; examples: ``report.quality_examples`` silver rows per rule
  (:func:`quality_examples`: rows of that clean run, picked by ``xxhash64(id)``, their
  ``text``, which clean has PII-masked, cut to :data:`EXAMPLE_CHARS` characters). This is
  the only text from a row the page shows; ``report.quality_examples: 0`` turns it off;
* classes before and after rebalance: the rebalance run's ``before.<cell>`` / ``after.<cell>``
  details, cells read with this config's ``rebalance.group_by`` and ``stratify_by_lang``
  (a label may contain ``/``: ``ag_news/Sci/Tech``), summed over languages;
* confidence: silver's labelled rows scored by the latest score run (``score_run``), binned
  in Spark, split by ``is_noisy``; the thresholds that act on confidence in this config;
* drift: the drift run's ``kind=window`` and ``kind=statistic`` rows and its ``note``;
* review queue: ``review_queue`` per reason and status.

Metrics: one ``report`` row. The report writes a page, not table rows, so its count is of the
runs it reports on: ``rows_in`` = the metrics rows of the latest runs read from ``metrics``;
``rows_out`` = the metrics rows of the runs the written page's Runs table shows (the file read
back), so a run lost between the read and the page makes the run fail. Details ``path``,
``tables_read``, ``no_data`` (sections without data), ``quality_examples`` (how many rows' text
the page shows) and ``run.<job>`` (each run id covered).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from refinery.clean.details import CleanDetails
from refinery.config import Settings
from refinery.dedup.job import duplicate_counts
from refinery.drift.details import DriftRunDetails, DriftStatisticDetails, DriftWindowDetails
from refinery.rebalance.details import RebalanceDetails
from refinery.report.data import (
    ConfidenceHistogram,
    DriftValue,
    DriftWindow,
    QualityExample,
    QualityRuleCount,
    ReportData,
    RuleCount,
    RunCounts,
)
from refinery.report.html import build_report
from refinery.report.summary import gold_counts, review_queue_counts, score_counts, table_counts
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.faults import drop_one
from refinery.runtime.runner import ALL_JOBS
from refinery.runtime.stage import stage
from refinery.spark.tables import read_table
from refinery.text.pii import COUNTED_TYPES

STAGE = "report"
FILE_NAME = "report.html"
#: A quality example's text is cut to this many characters (``…`` marks the cut).
EXAMPLE_CHARS = 240
#: Where the page's Runs table starts, and one of its rows (job and run id: its first cells).
RUNS_HEADING = '<h2 id="runs">'
_RUN_ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td>")


def run(ctx: JobContext) -> JobResult:
    """Collect, render and write this run's report."""
    with stage(ctx, STAGE) as s:
        data, rows_by_run, tables_read = collect_report(ctx.spark, ctx.settings, ctx.run_id)
        data.runs = drop_one(data.runs, STAGE)
        page, no_data = build_report(data)
        path = write_report(page, Path(ctx.settings.report.dir) / ctx.run_id / FILE_NAME)
        shown = runs_on_page(path.read_text(encoding="utf-8"))  # what was written, read back
        s.rows_in = sum(rows_by_run.values())
        s.out(sum(n for run, n in rows_by_run.items() if run in shown))
    s.details = {
        "path": str(path),
        "bytes": str(path.stat().st_size),
        "tables_read": ",".join(tables_read),
        "no_data": ",".join(no_data),
        "quality_examples": str(sum(len(examples) for examples in data.quality_examples.values())),
        **{f"run.{r.job}": r.run_id for r in data.runs},
    }
    ctx.log.info("report written", extra={"path": str(path), "no_data": s.details["no_data"]})
    return JobResult(batch=None, stages=s.stages)


def write_report(page: str, path: Path) -> Path:
    """Write ``page`` to ``path`` (via a temporary file, so a reader never sees half a page)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path


def runs_on_page(page: str) -> set[tuple[str, str]]:
    """The ``(job, run_id)`` of every row of a written page's Runs table."""
    start = page.find(RUNS_HEADING)
    if start < 0:
        return set()
    table = page[start : page.find("</table>", start)]
    return {(html.unescape(job), html.unescape(run)) for job, run in _RUN_ROW.findall(table)}


def collect_report(
    spark: SparkSession, settings: Settings, run_id: str
) -> tuple[ReportData, dict[tuple[str, str], int], list[str]]:
    """The report's data, the metrics rows of each run it covers (``(job, run_id)`` → rows),
    and the tables read."""
    tables = settings.tables
    data = ReportData(run_id=run_id, generated_at=f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
    data.tables = table_counts(spark, settings)
    present = {name for name, rows, _ in data.tables if rows is not None}
    read = ["metrics"] if "metrics" in present else []
    metrics_rows: dict[tuple[str, str], int] = {}
    details: dict[str, dict[str, str]] = {}
    clean_run = None
    if "metrics" in present:
        metrics = read_table(spark, tables.metrics)
        data.runs, details, metrics_rows = latest_runs(metrics)
        clean_run = next((r for r in data.runs if r.job == "clean"), None)
        data.languages, data.pii, data.rules = clean_counts(details.get("clean", {}))
        data.quality, data.quality_rows = quality_counts(details.get("clean", {}))
        if data.quality and clean_run is not None:
            data.quality_rows["accepted_rows"] = clean_run.rows_out
        group_by, stratified = settings.rebalance.group_by is not None, settings.rebalance.stratify_by_lang
        data.classes_before, data.classes_after = class_counts(details.get("rebalance", {}), group_by, stratified)
        drift_run = next((r.run_id for r in data.runs if r.job == "drift"), None)
        if drift_run is not None:
            data.drift_windows, data.drift_values = drift_rows(metrics, drift_run)
            data.drift_note = "; ".join(DriftRunDetails.from_map(details["drift"]).notes)
    if "silver" in present:
        read.append("silver")
        silver = read_table(spark, tables.silver)
        if "dup_kind" in silver.columns:
            data.duplicates = duplicate_counts(silver)
        if {"confidence", "is_noisy"} <= set(silver.columns):
            score_run = next((r.run_id for r in data.runs if r.job == "score"), None)
            data.confidence = confidence_histogram(silver, score_run, settings)
            data.scores = [row.asDict() for row in score_counts(silver)]
        if data.quality:
            data.quality_examples, data.quality_examples_note = collect_quality_examples(
                silver, data.quality, settings.report.quality_examples, clean_run.run_id if clean_run else None
            )
    if "gold" in present:
        read.append("gold")
        data.gold = [row.asDict() for row in gold_counts(read_table(spark, tables.gold))]
    if "review_queue" in present:
        read.append("review_queue")
        for reason, status, rows in review_queue_counts(read_table(spark, tables.review_queue)):
            data.review_queue.setdefault(reason, {})[status] = rows
    return data, metrics_rows, read


def latest_runs(
    metrics: DataFrame,
) -> tuple[list[RunCounts], dict[str, dict[str, str]], dict[tuple[str, str], int]]:
    """Each job's latest run (the report job's own excepted), in pipeline order: its run row,
    the run row's details by job, and how many metrics rows each of those runs wrote
    (``(job, run_id)`` → rows)."""
    runs = metrics.where((F.col("job") != STAGE) & ~F.col("stage").contains("/"))
    latest = runs.groupBy("job").agg(F.max_by("run_id", "finished_at").alias("run_id"))
    rows = runs.join(latest, ["job", "run_id"]).collect()
    order = {job: i for i, job in enumerate(ALL_JOBS)}
    rows.sort(key=lambda r: (order.get(r.job, len(order)), r.job, r.finished_at))
    result = [
        RunCounts(
            job=r.job,
            run_id=r.run_id,
            finished_at=f"{r.finished_at:%Y-%m-%d %H:%M:%S}",
            rows_in=r.rows_in,
            rows_out=r.rows_out,
            quarantined_by_reason=dict(r.quarantined_by_reason or {}),
            filtered_by_reason=dict(r.filtered_by_reason or {}),
            reconciled=bool(r.reconciled),
        )
        for r in rows
    ]
    covered = {}
    if rows:
        per_run = metrics.join(latest, ["job", "run_id"]).groupBy("job", "run_id").count().collect()
        covered = {(r.job, r.run_id): int(r["count"]) for r in per_run}
    return result, {r.job: dict(r.details or {}) for r in rows}, covered


def clean_counts(details: dict[str, str]) -> tuple[dict[str, int], dict[str, int], list[RuleCount]]:
    """From the clean run's details (:class:`~refinery.clean.details.CleanDetails`):
    documents per language, PII per type (every type, zero included, in
    :data:`~refinery.text.pii.COUNTED_TYPES` order) and rows per rule."""
    if not details:
        return {}, {}, []
    read = CleanDetails.from_map(details)
    pii = {name: read.pii.get(name, 0) for name in COUNTED_TYPES}
    rules = [RuleCount(name, tally.kind, tally.rows) for name, tally in read.rules.items()]
    return read.languages, pii, sorted(rules, key=lambda r: r.name)


def quality_counts(details: dict[str, str]) -> tuple[list[QualityRuleCount], dict[str, int]]:
    """From the clean run's details (:class:`~refinery.clean.details.CleanDetails`): rows
    per quality rule with its severity (every active rule, zero included), by name, and the
    totals ``flagged_rows`` / ``dropped_rows`` present."""
    read = CleanDetails.from_map(details)
    rules = [QualityRuleCount(name, tally.kind, tally.rows) for name, tally in read.quality.items()]
    totals = {"flagged_rows": read.quality_flagged_rows, "dropped_rows": read.quality_dropped_rows}
    return sorted(rules, key=lambda r: r.name), {key: n for key, n in totals.items() if n is not None}


def collect_quality_examples(
    silver: DataFrame, counts: list[QualityRuleCount], per_rule: int, clean_run: str | None
) -> tuple[dict[str, list[QualityExample]], str]:
    """The examples of the rules that flagged rows, or none and why."""
    if per_rule == 0:
        return {}, "Examples are turned off (report.quality_examples: 0)."
    if "quality_flags" not in silver.columns:
        return {}, "No examples: silver has no quality_flags column."
    names = [c.name for c in counts if c.rows]
    if not names:
        return {}, ""
    return quality_examples(silver, names, per_rule, EXAMPLE_CHARS, clean_run), ""


def quality_examples(
    silver: DataFrame,
    rules: Iterable[str] | None = None,
    per_rule: int = 2,
    max_chars: int = EXAMPLE_CHARS,
    clean_run: str | None = None,
) -> dict[str, list[QualityExample]]:
    """Up to ``per_rule`` silver rows per quality rule in their ``quality_flags`` (of
    ``rules``; ``None``: every rule found), picked deterministically (by ``xxhash64(id)``,
    then ``id``), with ``text`` cut to ``max_chars`` characters (``…`` marks a cut). Only rows
    of ``clean_run`` when given and silver has ``clean_run_id``. One Spark job; only the
    picked rows, their text already shortened, reach the driver."""
    if per_rule <= 0 or "quality_flags" not in silver.columns:
        return {}
    rows = silver.where(F.size("quality_flags") > 0)  # not checked (null) or none ([]): no example
    if clean_run is not None and "clean_run_id" in silver.columns:
        rows = rows.where(F.col("clean_run_id") == clean_run)
    exploded = rows.select(
        F.explode(F.array_distinct("quality_flags")).alias("rule"),
        F.col("id").cast("string").alias("id"),
        F.col("source").cast("string").alias("source") if "source" in silver.columns else F.lit(None).alias("source"),
        F.col("lang").cast("string").alias("lang") if "lang" in silver.columns else F.lit(None).alias("lang"),
        F.substring(F.coalesce(F.col("text"), F.lit("")), 1, max_chars + 1).alias("text"),
    )
    if rules is not None:
        exploded = exploded.where(F.col("rule").isin(list(rules)))
    order = Window.partitionBy("rule").orderBy(F.xxhash64("id"), "id")
    picked = exploded.withColumn("n", F.row_number().over(order)).where(F.col("n") <= per_rule)
    examples: dict[str, list[QualityExample]] = {}
    for row in sorted(picked.collect(), key=lambda r: (r.rule, r.n)):
        examples.setdefault(row.rule, []).append(
            QualityExample(row.rule, row.id, row.source, row.lang, truncate(row.text, max_chars))
        )
    return examples


def truncate(text: str, max_chars: int) -> str:
    """``text`` if it has at most ``max_chars`` characters, else its first ``max_chars - 1``
    (trailing space dropped) and ``…``."""
    if len(text) <= max_chars:
        return text
    return text[: max(max_chars - 1, 0)].rstrip() + "…"


def class_counts(
    details: dict[str, str], grouped: bool, stratified: bool
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """group → label → rows before and after, from the rebalance run's details
    (:class:`~refinery.rebalance.details.RebalanceDetails`; cell ``[<group>/]<label>[/<lang>]``;
    languages summed)."""
    read = RebalanceDetails.from_map(details)
    before: dict[str, dict[str, int]] = {}
    after: dict[str, dict[str, int]] = {}
    for cells, target in ((read.before, before), (read.after, after)):
        for cell, rows in cells.items():
            group, label = split_cell(cell, grouped, stratified)
            target.setdefault(group, {})
            target[group][label] = target[group].get(label, 0) + rows
    return before, after


def split_cell(cell: str, grouped: bool, stratified: bool) -> tuple[str, str]:
    """``(group, label)`` of a rebalance cell key; the group is ``""`` without grouping."""
    group = ""
    if grouped and "/" in cell:
        group, cell = cell.split("/", 1)
    if stratified and "/" in cell:
        cell = cell.rsplit("/", 1)[0]
    return group, cell


def confidence_histogram(silver: DataFrame, score_run: str | None, settings: Settings) -> ConfidenceHistogram:
    """Labelled rows with a confidence (of ``score_run`` when silver records it) per bin."""
    bins = settings.report.confidence_bins
    rows = silver.where(F.col("label").isNotNull() & F.col("confidence").isNotNull())
    if score_run is not None and "score_run" in silver.columns:
        rows = rows.where(F.col("score_run") == score_run)
    bucket = F.least(F.greatest(F.floor(F.col("confidence") * bins), F.lit(0)), F.lit(bins - 1)).cast("int")
    noisy = F.coalesce(F.col("is_noisy"), F.lit(False))
    counts = rows.groupBy(bucket.alias("bucket"), noisy.alias("noisy")).count().collect()
    series = {"kept": [0] * bins, "flagged noisy": [0] * bins}
    for row in counts:
        series["flagged noisy" if row.noisy else "kept"][row.bucket] += row["count"]
    return ConfidenceHistogram([i / bins for i in range(bins + 1)], series, confidence_thresholds(settings))


def confidence_thresholds(settings: Settings) -> dict[str, float]:
    """The thresholds on ``confidence`` this config applies, by what they do."""
    thresholds = {}
    if settings.select.qc.enabled:
        thresholds["review below (select.qc.min_confidence)"] = settings.select.qc.min_confidence
    if settings.score.noise_method == "threshold":
        thresholds["noisy below (score.threshold)"] = settings.score.threshold
    if settings.rebalance.filters.noise == "confidence":
        thresholds["not in gold below (rebalance.filters.min_confidence)"] = settings.rebalance.filters.min_confidence
    return thresholds


def drift_rows(metrics: DataFrame, run_id: str) -> tuple[list[DriftWindow], list[DriftValue]]:
    """The windows and statistics of one drift run (see :mod:`refinery.drift.job`)."""
    kind = F.col("details")["kind"]
    rows = metrics.where((F.col("job") == "drift") & (F.col("run_id") == run_id) & kind.isin("window", "statistic"))
    windows, values = [], []
    for row in rows.select("details").collect():
        if row.details["kind"] == "window":
            w = DriftWindowDetails.from_map(row.details)
            windows.append(DriftWindow(w.group, w.window, w.window_start, w.rows, w.alert, ", ".join(w.alerts)))
        else:
            v = DriftStatisticDetails.from_map(row.details)
            values.append(
                DriftValue(
                    v.group, v.window, v.distribution, v.statistic, v.baseline,
                    _finite(v.value), _finite(v.threshold), v.alert,
                )
            )  # fmt: skip
    return windows, values


def _finite(number: float | None) -> float | None:
    return number if number is not None and math.isfinite(number) else None
