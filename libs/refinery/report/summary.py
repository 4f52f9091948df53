"""A short, human-readable account of the tables after a run: rows per table, quarantine
reasons, drift alerts per group, the latest run's reconciliation, where the tables are and,
last, the latest run report's path. Counts only, no text. The aggregations here are shared
with the HTML run report (:mod:`refinery.report.job`)."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from refinery.config import TABLE_NAMES, Settings
from refinery.dedup.job import duplicate_counts
from refinery.export.details import ExportDetails
from refinery.spark.tables import read_table, table_exists
from refinery.text.quality import drop_rule_names


def summary_lines(spark: SparkSession, settings: Settings) -> list[str]:
    """The summary, one line per fact."""
    tables = settings.tables
    lines = ["Refinery tables (Delta Lake):"]
    for name, rows, location in table_counts(spark, settings):
        if rows is not None:
            lines.append(f"  {name:<13} {rows:>9,} rows  {location}")
        else:
            lines.append(f"  {name:<13} {'-':>9}       {location} (not written yet)")
    if table_exists(spark, tables.bronze):
        lines.append("bronze rows by source:")
        for row in read_table(spark, tables.bronze).groupBy("source").count().orderBy("source").collect():
            lines.append(f"  {row.source:<24} {row['count']:>9,}")
    if table_exists(spark, tables.quarantine):
        lines.append("quarantine by stage and reason:")
        grouped = read_table(spark, tables.quarantine).groupBy("stage", "reason").count().orderBy("stage", "reason")
        for row in grouped.collect():
            lines.append(f"  {row.stage:<10} {row.reason:<24} {row['count']:>9,}")
    if table_exists(spark, tables.silver) and "dup_kind" in read_table(spark, tables.silver).columns:
        dups = duplicate_counts(read_table(spark, tables.silver))
        lines.append(
            f"silver duplicates (flagged, kept): exact {dups['exact_duplicates']:,}, near "
            f"{dups['near_duplicates']:,} in {dups['clusters']:,} clusters; rows with a label conflict "
            f"{dups['label_conflict_rows']:,}"
        )
    if table_exists(spark, tables.silver) and "rule_violations" in read_table(spark, tables.silver).columns:
        flags = rule_flag_counts(read_table(spark, tables.silver))
        if flags:
            lines.append("silver rows flagged by annotation rules (kept; blocked rows are quarantined):")
            for row in flags:
                lines.append(f"  {row.rule:<32} {row['count']:>9,}")
    if table_exists(spark, tables.silver) and "quality_flags" in read_table(spark, tables.silver).columns:
        flags = rule_flag_counts(read_table(spark, tables.silver), "quality_flags")
        if flags:
            drops = drop_rule_names(settings.clean.quality.active_rules())
            lines.append("silver rows flagged by quality rules (kept in silver; drop rules keep them out of gold):")
            for row in flags:
                severity = "drop" if row.rule in drops else "flag"
                lines.append(f"  {row.rule:<32} {severity:<5} {row['count']:>9,}")
    if table_exists(spark, tables.silver) and "is_noisy" in read_table(spark, tables.silver).columns:
        lines.append("silver label scores by source (score job): scored, flagged noisy, mean confidence, accuracy")
        for r in score_counts(read_table(spark, tables.silver)):
            lines.append(
                f"  {r.source:<24} {r.scored:>9,} {r.noisy:>7,} ({r.noisy / max(r.scored, 1):6.1%})"
                f"  conf {r.confidence or 0:.3f}  acc {r.accuracy or 0:.3f}"
            )
    if table_exists(spark, tables.gold):
        lines.append("gold by source (rebalance): rows, of which copies, classes, smallest and largest class, weights")
        for r in gold_counts(read_table(spark, tables.gold)):
            lines.append(
                f"  {r.source:<24} {r.rows:>9,} {r.copies:>7,}  {r.classes} classes  {r.smallest:,}..{r.largest:,}"
                f"  w {r.w_min:.3f}..{r.w_max:.3f}"
            )
    if table_exists(spark, tables.metrics) and (drift := drift_counts(read_table(spark, tables.metrics))):
        lines.append("drift by group (latest drift run): windows, windows with an alert, statistics over threshold")
        for r in drift:
            lines.append(f"  {r.group:<24} {r.windows:>9,} {r.alerting:>7,}  {r.alerts:,} statistics")
    if table_exists(spark, tables.review_queue):
        lines.append("review_queue by status and reason (select):")
        for reason, status, rows in review_queue_counts(read_table(spark, tables.review_queue)):
            lines.append(f"  {status:<10} {reason:<24} {rows:>9,}")
    if table_exists(spark, tables.metrics) and (export := latest_export(read_table(spark, tables.metrics))):
        order = {name: i for i, name in enumerate(settings.export.splits)}  # a map column keeps no order
        splits = sorted(export.rows.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        per_split = ", ".join(f"{split} {n:,}" for split, n in splits)
        lines.append(f"training export (gold version {export.gold_version}): {per_split} rows  {export.dir}")
    if table_exists(spark, tables.metrics):
        metrics = read_table(spark, tables.metrics)
        latest = metrics.groupBy("job").agg(F.max("finished_at").alias("finished_at"))
        rows = metrics.join(latest, ["job", "finished_at"]).where(~F.col("stage").contains("/")).orderBy("finished_at")
        lines.append("latest run of each job (in = out + quarantined + filtered):")
        for r in rows.collect():
            verdict = "reconciled" if r.reconciled else "NOT RECONCILED"
            lines.append(
                f"  {r.job:<10} {r.run_id}: in {r.rows_in:,} = out {r.rows_out:,} + quarantined "
                f"{r.rows_quarantined:,} + filtered {r.rows_filtered:,}  [{verdict}]"
            )
        if (path := report_path(metrics)) is not None:
            lines.append(f"run report: {path}")
    return lines


def table_counts(spark: SparkSession, settings: Settings) -> list[tuple[str, int | None, str]]:
    """``(table, rows, location)`` of every table; rows ``None`` when it is not written yet."""
    counts = []
    for name in TABLE_NAMES:
        location = getattr(settings.tables, name)
        rows = read_table(spark, location).count() if table_exists(spark, location) else None
        counts.append((name, rows, location))
    return counts


def review_queue_counts(queue) -> list[tuple[str, str, int]]:
    """``(reason, status, rows)`` of ``review_queue``, ordered by status then reason."""
    grouped = queue.groupBy("status", "reason").count().orderBy("status", "reason").collect()
    return [(row.reason, row.status, row["count"]) for row in grouped]


def latest_export(metrics) -> ExportDetails | None:
    """The details of the latest ``export`` run (rows per split, its folder), if any."""
    latest = (
        metrics.where((F.col("job") == "export") & (F.col("stage") == "export"))
        .orderBy(F.col("finished_at").desc())
        .select("details")
        .first()
    )
    return None if latest is None else ExportDetails.from_map(dict(latest.details or {}))


def report_path(metrics) -> str | None:
    """The HTML file the latest ``report`` run wrote (its metrics ``details['path']``)."""
    latest = (
        metrics.where((F.col("job") == "report") & (F.col("stage") == "report"))
        .orderBy(F.col("finished_at").desc())
        .select(F.col("details")["path"].alias("path"))
        .first()
    )
    return None if latest is None else latest.path


def rule_flag_counts(silver, column: str = "rule_violations") -> list:
    """Silver rows per rule named in ``column`` (``rule_violations``: the annotation rules'
    ``flag`` rules; ``quality_flags``: the quality rules), by rule name."""
    return silver.select(F.explode(column).alias("rule")).groupBy("rule").count().orderBy("rule").collect()


def score_counts(silver) -> list:
    """Per source: rows with a confidence, rows flagged noisy, mean confidence and the share
    whose predicted label is the given one (out-of-sample accuracy against given labels)."""
    return (
        silver.where(F.col("confidence").isNotNull())
        .groupBy("source")
        .agg(
            F.count("*").alias("scored"),
            F.sum(F.col("is_noisy").cast("long")).alias("noisy"),
            F.avg("confidence").alias("confidence"),
            F.avg((F.col("pred_label") == F.col("label")).cast("double")).alias("accuracy"),
        )
        .orderBy("source")
        .collect()
    )


def gold_counts(gold) -> list:
    """Per source: gold rows, over-sampled copies (``copy_index > 0``), classes, the smallest
    and largest class and the range of ``sample_weight``."""
    per_class = gold.groupBy("source", "label").agg(
        F.count("*").alias("n"),
        F.sum((F.col("copy_index") > 0).cast("long")).alias("copies"),
        F.min("sample_weight").alias("w_min"),
        F.max("sample_weight").alias("w_max"),
    )
    return (
        per_class.groupBy("source")
        .agg(
            F.sum("n").alias("rows"),
            F.sum("copies").alias("copies"),
            F.count("*").alias("classes"),
            F.min("n").alias("smallest"),
            F.max("n").alias("largest"),
            F.min("w_min").alias("w_min"),
            F.max("w_max").alias("w_max"),
        )
        .orderBy("source")
        .collect()
    )


def drift_counts(metrics) -> list:
    """Per group of the latest drift run: windows, windows with an alert, and statistic rows
    over their threshold (the ``drift/...`` rows' details, see :mod:`refinery.drift.job`)."""
    latest = metrics.where(F.col("job") == "drift").orderBy(F.col("finished_at").desc()).select("run_id").first()
    if latest is None:
        return []
    kind, alert = F.col("details")["kind"], F.col("details")["alert"] == "true"
    return (
        metrics.where((F.col("job") == "drift") & (F.col("run_id") == latest.run_id) & kind.isin("window", "statistic"))
        .groupBy(F.col("details")["group"].alias("group"))
        .agg(
            F.sum((kind == "window").cast("long")).alias("windows"),
            F.sum(((kind == "window") & alert).cast("long")).alias("alerting"),
            F.sum(((kind == "statistic") & alert).cast("long")).alias("alerts"),
        )
        .orderBy("group")
        .collect()
    )
