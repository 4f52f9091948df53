"""The ``select`` job: rows for human review → ``review_queue`` (and files annotators open).

read (one pinned ``silver`` version, and the ids already in ``review_queue``) → choose
(:func:`choose_rows`) → write (this run's rows of ``review_queue`` replaced; the exports
under ``select.export_dir/<run_id>/``; one ``metrics`` row).

Two routes into the queue:

* **active learning** (unlabelled rows the ``score`` job predicted): the ``select.budget`` most
  uncertain rows by ``select.strategy`` (:mod:`refinery.labels.active_learning`:
  ``least_confidence`` = 1 − ``pred_prob``, ``margin`` = 1 − ``margin``, ``entropy``, or a
  seeded ``random`` baseline), at most ``select.quotas[c]`` per predicted class, and at most one
  row per dedup cluster (``dup_cluster``): the most uncertain one. With ``select.group_by``
  (e.g. ``source``) every value of that column is ranked on its own and gets its own budget
  and quotas: uncertainties of label sets of different sizes are not comparable (entropy
  reaches ln C, least confidence 1 − 1/C), and one budget over all sources would go to the
  source with the most classes;
* **quality control** (labelled rows, the seed's automated check): ``confidence`` below
  ``select.qc.min_confidence`` (τ, default 0.85), ``label_conflict`` (dedup found the same text
  with another label) or a flagged annotation-rule violation (``rule_violations``); at most
  ``select.qc.max_rows``, lowest confidence first.

A row already in the queue (any status, from an earlier run), or whose dedup cluster is, is not
selected again. Every silver row is counted once (the stage reconciles): in = the pinned
version's rows, counted before choosing; out = the rows the ``review_queue`` commit wrote (its
``numOutputRows``); filtered by reason (:data:`FILTER_REASONS`). The exports are the queue rows
of this run as JSONL and CSV, and a Label Studio import file whose tasks carry the text and the
current (or predicted) label as a pre-annotation. Texts in silver are PII-masked already; logs
and metrics carry counts only.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from refinery.runtime.context import JobContext, JobResult, check_group_by, pinned_silver
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.select.settings import SelectSettings
from refinery.spark.tables import read_table, replace_slice, sql_string, table_exists
from refinery.spark.top_k import IN_FIRST_K, mark_first_k

STAGE = "select"
ACTIVE_LEARNING, LOW_CONFIDENCE, LABEL_CONFLICT, RULE_VIOLATION = (
    "active_learning",
    "low_confidence",
    "label_conflict",
    "rule_violation",
)
#: Why a silver row was not queued.
LABELLED_OK, NOT_SCORED, ALREADY_QUEUED = "labelled_ok", "not_scored", "already_queued"
DUPLICATE_IN_BATCH, OVER_QUOTA, OVER_BUDGET, QC_OVER_CAP = (
    "duplicate_in_batch",
    "over_quota",
    "over_budget",
    "qc_over_cap",
)
FILTER_REASONS = (LABELLED_OK, NOT_SCORED, ALREADY_QUEUED, DUPLICATE_IN_BATCH, OVER_QUOTA, OVER_BUDGET, QC_OVER_CAP)
PENDING = "pending"
#: Score → top-k bucket: ``floor(key · SCALE)`` is monotone in the key.
BUCKET_SCALE = 4096.0
#: The group of every row without ``select.group_by``, and of a row whose group is null.
ALL_ROWS, NULL_GROUP = "all", "null"
GROUP = "_sel_group"


def run(ctx: JobContext) -> JobResult:
    """Queue this run's review rows from the latest silver version."""
    settings, spark, cfg = ctx.settings, ctx.spark, ctx.settings.select
    with stage(ctx, STAGE) as s:
        snapshot = pinned_silver(ctx)
        silver = snapshot.frame
        check_group_by(silver.columns, "select.group_by", cfg.group_by)
        if cfg.budget > 0 and "pred_prob" not in silver.columns:
            ctx.log.warning("silver has no scores yet: active learning selects nothing (run score first)")
        queued = None
        if table_exists(spark, settings.tables.review_queue):
            queued = read_table(spark, settings.tables.review_queue).where(
                F.col("select_run") != F.lit(ctx.run_id)
            )  # a rerun of this run replaces its own rows, so they must not exclude themselves
        s.count_input(silver)  # the input, counted before choosing
        chosen = choose_rows(silver, queued, cfg)
        by_group: Counter[tuple] = Counter()
        counts: Counter[tuple[str | None, str | None]] = Counter()
        for r in chosen.groupBy("_sel_route", "_sel_reason", GROUP).agg(F.count(F.lit(1)).alias("n")).collect():
            counts[(r["_sel_route"], r["_sel_reason"])] += int(r["n"])
            if r["_sel_route"] == ACTIVE_LEARNING:
                by_group[r[GROUP]] += int(r["n"])
        rows = queue_rows(chosen.where(F.col("_sel_route").isNotNull()), ctx.run_id, snapshot.version)
        commit = replace_slice(
            drop_one_row(rows, STAGE), settings.tables.review_queue, f"select_run = {sql_string(ctx.run_id)}"
        )
        exported = None
        if cfg.export_dir is not None:
            this_run = read_table(spark, settings.tables.review_queue).where(F.col("select_run") == ctx.run_id)
            exported = export_queue(this_run, Path(cfg.export_dir) / ctx.run_id)

        # out: the rows the queue commit wrote; filtered (written nowhere) as chosen
        s.out(commit.rows_written)
        s.outcomes(("filter", reason, n) for (route, reason), n in counts.items() if not route)
    by_reason: Counter[str | None] = Counter()
    for (route, reason), n in counts.items():
        if route:
            by_reason[reason] += n
    details = {
        "silver_version": str(snapshot.version),
        "strategy": cfg.strategy,
        "group_by": cfg.group_by or "null",
        **{f"queued.{reason}": str(n) for reason, n in sorted(by_reason.items())},
    }
    if cfg.group_by is not None:  # group values are column values such as source names, never text
        details.update({f"queued.active_learning.{g}": str(n) for g, n in sorted(by_group.items())})
    if exported is not None:
        details["export_dir"] = str(exported)
    s.details = details
    ctx.log.info("select finished", extra={"queued": commit.rows_written, **{str(r): n for r, n in by_reason.items()}})
    return JobResult(batch=None, stages=s.stages)


def uncertainty(strategy: str, seed: int) -> Column:
    """A row's uncertainty from the score job's columns (larger = ask first); the same
    definitions as :func:`refinery.labels.active_learning.uncertainty`."""
    if strategy == "least_confidence":
        return F.lit(1.0) - F.col("pred_prob")
    if strategy == "margin":
        return F.lit(1.0) - F.col("margin")
    if strategy == "entropy":
        return F.col("entropy")
    # random: the top 53 bits of a seeded hash of the id, as a double in [0, 1)
    return F.shiftrightunsigned(F.xxhash64(F.lit(seed), F.col("id")), 11).cast("double") / F.lit(float(1 << 53))


def choose_rows(silver: DataFrame, queued: DataFrame | None, cfg: SelectSettings) -> DataFrame:
    """Every silver row with ``_sel_route`` (``active_learning`` / ``qc``, null when not
    queued), ``_sel_reason`` (the queue reason, or the filter reason), ``score`` (uncertainty,
    or confidence for QC rows), ``reasons`` (every QC reason that applies), ``_cluster`` and
    :data:`GROUP` (the ``select.group_by`` value as a string, :data:`NULL_GROUP` for a null one,
    :data:`ALL_ROWS` without grouping).

    Missing score, dedup or rule columns (their job has not run) count as absent values."""
    frame = silver
    for name, kind in (
        ("pred_prob", "double"),
        ("pred_label", "string"),
        ("margin", "double"),
        ("entropy", "double"),
        ("confidence", "double"),
        ("dup_cluster", "string"),
        ("label_conflict", "boolean"),
        ("rule_violations", "array<string>"),
    ):
        if name not in frame.columns:
            frame = frame.withColumn(name, F.lit(None).cast(kind))
    frame = frame.withColumn("_cluster", F.coalesce(F.col("dup_cluster"), F.col("id")))
    group = F.coalesce(F.col(cfg.group_by).cast("string"), F.lit(NULL_GROUP)) if cfg.group_by else F.lit(ALL_ROWS)
    frame = frame.withColumn(GROUP, group)
    if queued is not None:
        ids = queued.select("id").distinct().withColumn("_in_queue", F.lit(True))
        clusters = (
            queued.select(F.coalesce("dup_cluster", "id").alias("_cluster"))
            .distinct()
            .withColumn("_cluster_in_queue", F.lit(True))
        )
        frame = frame.join(ids, "id", "left").join(clusters, "_cluster", "left")
        already = F.coalesce(F.col("_in_queue"), F.lit(False)) | F.coalesce(F.col("_cluster_in_queue"), F.lit(False))
    else:
        already = F.lit(False)
    frame = frame.withColumn("_already", already)
    labelled = F.col("label").isNotNull()
    qc = cfg.qc
    checks = []
    if qc.enabled:
        checks = [
            F.when(F.col("confidence") < F.lit(qc.min_confidence), F.lit(LOW_CONFIDENCE)),
            F.when(F.coalesce(F.col("label_conflict"), F.lit(False)) & F.lit(qc.label_conflict), F.lit(LABEL_CONFLICT)),
            F.when(
                F.coalesce(F.size("rule_violations") > 0, F.lit(False)) & F.lit(qc.rule_violations),
                F.lit(RULE_VIOLATION),
            ),
        ]
    reasons = F.filter(F.array(*checks), lambda r: r.isNotNull()) if checks else F.array().cast("array<string>")
    frame = frame.withColumn("reasons", F.when(labelled, reasons).otherwise(F.array().cast("array<string>")))

    qc_rows = quality_control(frame.where(labelled), qc.max_rows)
    al_rows = active_learning(frame.where(~labelled), cfg)
    return qc_rows.unionByName(al_rows)


def quality_control(labelled: DataFrame, max_rows: int | None) -> DataFrame:
    """Labelled rows: queued for their first QC reason unless already queued, lowest
    confidence first up to ``max_rows``."""
    flagged = F.size("reasons") > 0
    base = labelled.withColumn("score", F.col("confidence")).withColumn(
        "_sel_reason",
        F.when(~flagged, F.lit(LABELLED_OK)).when(F.col("_already"), F.lit(ALREADY_QUEUED)),
    )
    candidates = base.where(F.col("_sel_reason").isNull())
    rest = base.where(F.col("_sel_reason").isNotNull()).withColumn("_sel_route", F.lit(None).cast("string"))
    if max_rows is not None:
        marked = first_k(candidates, F.coalesce(F.col("confidence"), F.lit(-1.0)), F.lit(max_rows))
        candidates = marked.withColumn("_sel_reason", F.when(~F.col(IN_FIRST_K), F.lit(QC_OVER_CAP))).drop(IN_FIRST_K)
    queued = F.col("_sel_reason").isNull()
    candidates = candidates.withColumn("_sel_route", F.when(queued, F.lit("qc"))).withColumn(
        "_sel_reason", F.coalesce(F.col("_sel_reason"), F.element_at("reasons", 1))
    )
    return candidates.unionByName(rest)


def active_learning(unlabelled: DataFrame, cfg: SelectSettings) -> DataFrame:
    """Unlabelled rows: the most uncertain row of each cluster, within the class quotas, up to
    the budget (:func:`refinery.spark.top_k.mark_first_k` twice: per class, then overall), the
    quotas and the budget applied per :data:`GROUP` (one group without ``select.group_by``)."""
    base = unlabelled.withColumn("score", uncertainty(cfg.strategy, cfg.seed)).withColumn(
        "_sel_reason",
        F.when(F.col("pred_label").isNull() | F.col("score").isNull(), F.lit(NOT_SCORED)).when(
            F.col("_already"), F.lit(ALREADY_QUEUED)
        ),
    )
    rest = base.where(F.col("_sel_reason").isNotNull())
    candidates = base.where(F.col("_sel_reason").isNull())
    if cfg.skip_duplicates:
        best = Window.partitionBy("_cluster").orderBy(F.col("score").desc(), F.col("id"))
        candidates = candidates.withColumn(
            "_sel_reason", F.when(F.row_number().over(best) > 1, F.lit(DUPLICATE_IN_BATCH))
        )
        rest = rest.unionByName(candidates.where(F.col("_sel_reason").isNotNull()))
        candidates = candidates.where(F.col("_sel_reason").isNull())
    most_uncertain = F.lit(0.0) - F.col("score")
    if cfg.quotas:
        quotas = F.create_map(*[F.lit(x) for kv in cfg.quotas.items() for x in kv])
        quota = F.coalesce(quotas[F.col("pred_label")], F.lit(cfg.budget))
        marked = first_k(candidates, most_uncertain, quota, cells=[GROUP, "pred_label"])
        over = marked.where(~F.col(IN_FIRST_K)).withColumn("_sel_reason", F.lit(OVER_QUOTA))
        rest = rest.unionByName(over.drop(IN_FIRST_K))
        candidates = marked.where(F.col(IN_FIRST_K)).drop(IN_FIRST_K)
    marked = first_k(candidates, most_uncertain, F.lit(cfg.budget), cells=[GROUP])
    chosen = marked.withColumn(
        "_sel_reason", F.when(F.col(IN_FIRST_K), F.lit(ACTIVE_LEARNING)).otherwise(F.lit(OVER_BUDGET))
    ).withColumn("_sel_route", F.when(F.col(IN_FIRST_K), F.lit(ACTIVE_LEARNING)))
    rest = rest.withColumn("_sel_route", F.lit(None).cast("string"))
    return chosen.drop(IN_FIRST_K).unionByName(rest)


def first_k(frame: DataFrame, key: Column, quota: Column, cells: list[str] | None = None) -> DataFrame:
    """``frame`` with :data:`~refinery.spark.top_k.IN_FIRST_K`: the row is among the first
    ``quota`` rows of its cell (the values of ``cells``; all rows one cell when empty) by ``key``
    ascending, then ``id`` (:func:`refinery.spark.top_k.mark_first_k`, bucketed on
    ``floor(key · BUCKET_SCALE)``)."""
    scratch = ["_sel_key", "_sel_bucket", "_sel_quota"]
    keyed = (
        frame.withColumn("_sel_key", key)
        .withColumn("_sel_bucket", F.floor(F.col("_sel_key") * BUCKET_SCALE))
        .withColumn("_sel_quota", quota.cast("long"))
    )
    if not cells:
        keyed, cells, scratch = keyed.withColumn("_sel_cell", F.lit(0)), ["_sel_cell"], [*scratch, "_sel_cell"]
    marked = mark_first_k(keyed, cells, key="_sel_key", tiebreak="id", quota="_sel_quota", bucket="_sel_bucket")
    return marked.drop(*scratch)


def queue_rows(chosen: DataFrame, run_id: str, version: int) -> DataFrame:
    """The queued rows in review_queue's columns, status ``pending``."""
    return chosen.select(
        "id",
        "source",
        "text",
        "label",
        "pred_label",
        F.col("_sel_reason").alias("reason"),
        F.when(F.col("_sel_route") == ACTIVE_LEARNING, F.array(F.lit(ACTIVE_LEARNING)))
        .otherwise(F.col("reasons"))
        .alias("reasons"),
        F.col("score").cast("double").alias("score"),
        "confidence",
        "dup_cluster",
        F.lit(PENDING).alias("status"),
        F.lit(None).cast("string").alias("reviewed_label"),
        F.lit(None).cast("string").alias("review_run"),
        F.lit(None).cast("timestamp").alias("reviewed_at"),
        F.lit(run_id).alias("select_run"),
        F.lit(version).cast("long").alias("silver_version"),
        F.current_timestamp().alias("selected_at"),
    )


#: The Label Studio control and object names the exported pre-annotations refer to; a project
#: whose labelling config uses ``<Choices name="label" toName="text">`` and ``<Text
#: name="text" value="$text"/>`` imports them as they are.
LS_FROM_NAME, LS_TO_NAME = "label", "text"


def export_queue(queue: DataFrame, folder: Path) -> Path:
    """Write ``queue`` (this run's review rows) as ``review_queue.jsonl``, ``review_queue.csv``
    and ``label_studio_tasks.json`` in ``folder``: streamed from the executors one partition at
    a time, never all in the driver's memory. Returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    fields = ["id", "source", "text", "label", "pred_label", "reason", "score", "confidence", "select_run"]
    rows = queue.select(*fields).orderBy(F.col("reason"), F.col("score").desc_nulls_last(), "id")
    with (
        (folder / "review_queue.jsonl").open("w", encoding="utf-8") as jsonl,
        (folder / "review_queue.csv").open("w", encoding="utf-8", newline="") as table,
        (folder / "label_studio_tasks.json").open("w", encoding="utf-8") as tasks,
    ):
        writer = csv.DictWriter(table, fieldnames=fields)
        writer.writeheader()
        tasks.write("[")
        for n, row in enumerate(rows.toLocalIterator()):
            record = row.asDict()
            jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
            writer.writerow(record)
            tasks.write(("," if n else "") + "\n" + json.dumps(label_studio_task(record), ensure_ascii=False))
        tasks.write("\n]\n")
    return folder


def label_studio_task(record: dict) -> dict:
    """One Label Studio import task: the text and ids as ``data``, the current label (or the
    model's prediction for an unlabelled row) as a pre-annotation to accept or correct."""
    task: dict = {"data": {k: record[k] for k in ("id", "source", "text", "reason")}}
    guess = record["label"] if record["label"] is not None else record["pred_label"]
    if guess is not None:
        task["predictions"] = [
            {
                "model_version": record["select_run"],
                "score": record["score"],
                "result": [
                    {
                        "from_name": LS_FROM_NAME,
                        "to_name": LS_TO_NAME,
                        "type": "choices",
                        "value": {"choices": [guess]},
                    }
                ],
            }
        ]
    return task
