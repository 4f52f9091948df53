"""The ``import_reviews`` job: annotators' labels back into ``silver``, with their provenance.

read (the review file, :func:`refinery.sources.reviews.read_reviews`, on the driver) → check
(the id exists in silver; the label is in its source's label set when ``ingest.sources`` names
one; the last review of an id wins) → write (MERGE on ``id`` into silver: ``label``,
``label_before``, ``label_source``, ``review_run``, ``reviewed_at``; the matching
``review_queue`` rows become ``reviewed``; refused records to ``quarantine``; one ``metrics``
row).

Counts (the stage reconciles): in = review records read from the file; out = labels applied
(changed or confirmed, in the details): the valid reviews whose id holds the new label and
its source in the silver version the MERGE committed (read back: the MERGE rewrites only rows
that change); quarantined by reason, read back from this run's quarantine slice at the version
its write committed (``malformed``, ``no_id``, ``no_label``,
``ambiguous_label``, ``unknown_id``, ``label_not_allowed``); filtered ``superseded`` (an
earlier review of an id the file reviews again). Rerunning the same file rewrites no row: the
MERGE only updates rows whose label or its source differ. Not part of ``refinery pipeline``: run it when a review
file comes back (``refinery import_reviews --set import_reviews.path=FILE``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from refinery.config import ConfigError, Settings
from refinery.runtime.context import JobContext, JobResult, pinned_silver
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.sources.reviews import Review, read_reviews
from refinery.spark.committed import committed_rows, grouped_counts, rows_holding
from refinery.spark.quarantine import quarantine_frame
from refinery.spark.schemas import SILVER_REVIEWS
from refinery.spark.tables import add_missing_columns, replace_slice, sql_string, table_exists, update_rows

STAGE = "import_reviews"
UNKNOWN_ID, LABEL_NOT_ALLOWED, SUPERSEDED = "unknown_id", "label_not_allowed", "superseded"
#: The columns this job owns in silver (:data:`refinery.spark.schemas.SILVER_REVIEWS`): name → SQL type.
REVIEW_COLUMNS = SILVER_REVIEWS.sql_types()
_REVIEWS = T.StructType(
    [
        T.StructField("line", T.LongType(), False),
        T.StructField("id", T.StringType(), True),
        T.StructField("new_label", T.StringType(), True),
        T.StructField("problem", T.StringType(), True),
    ]
)


def run(ctx: JobContext) -> JobResult:
    """Apply ``import_reviews.path`` to silver and the review queue."""
    settings, spark, cfg = ctx.settings, ctx.spark, ctx.settings.import_reviews
    with stage(ctx, STAGE) as s:
        if cfg.path is None:
            raise ConfigError("config key 'import_reviews.path': not set; fix: --set import_reviews.path=FILE")
        path = Path(cfg.path)
        if not path.is_file():
            raise ConfigError(
                f"config key 'import_reviews.path': no file at {path}; fix: name the exported review file"
            )
        silver = pinned_silver(ctx).frame
        try:
            reviews = latest_per_id(read_reviews(path, cfg.format))
        except ValueError as exc:
            raise ConfigError(f"config key 'import_reviews.path': {exc}") from None

        frame = spark.createDataFrame([(r.line, r.id, r.label, r.problem) for r in reviews], _REVIEWS)
        # read several times, around writes to silver: a checkpoint, not a cache that a write to
        # silver would invalidate (refinery.spark.checkpoint)
        checked = s.hold(drop_one_row(checked_reviews(frame, silver, allowed_labels(settings)), STAGE))
        relabels = ~F.col("label").eqNullSafe(F.col("new_label"))
        found = (
            checked.groupBy("problem")
            .agg(F.count(F.lit(1)).alias("n"), F.sum(relabels.cast("long")).alias("changed"))
            .collect()
        )
        counts = Counter({r["problem"]: int(r["n"]) for r in found})
        changed = sum(int(r["changed"]) for r in found if r["problem"] is None)
        valid = checked.where(F.col("problem").isNull())
        applied = labelled = 0
        if counts.get(None):
            add_missing_columns(spark, settings.tables.silver, REVIEW_COLUMNS)
            labels = valid.select(
                "id",
                F.col("new_label").alias("label"),
                F.col("label").alias("label_before"),
                F.lit(cfg.reviewer).alias("label_source"),
                F.lit(ctx.run_id).alias("review_run"),
                F.current_timestamp().alias("reviewed_at"),
            )
            decided = ["label", "label_source"]  # a rerun of the same file rewrites nothing
            commit = update_rows(spark, labels, settings.tables.silver, changed=decided)
            applied = commit.rows_updated
            labelled = rows_holding(committed_rows(spark, commit), labels, "id", decided)
            if table_exists(spark, settings.tables.review_queue):
                update_rows(
                    spark,
                    valid.select(
                        "id",
                        F.lit("reviewed").alias("status"),
                        F.col("new_label").alias("reviewed_label"),
                        F.lit(ctx.run_id).alias("review_run"),
                        F.current_timestamp().alias("reviewed_at"),
                    ),
                    settings.tables.review_queue,
                    changed=["status", "reviewed_label"],
                )
        this_run = f"stage = {sql_string(STAGE)} AND run_id = {sql_string(ctx.run_id)}"
        refused = replace_slice(
            quarantine_rows(checked, ctx.run_id, str(path)), settings.tables.quarantine, this_run, ["stage"]
        )
        quarantined = grouped_counts(committed_rows(spark, refused), this_run, ["reason"])
        s.release()
        s.rows_in = len(reviews)
        superseded = counts.get(SUPERSEDED, 0)
        s.out(labelled)
        s.outcomes(("quarantine", reason, n) for (reason,), n in quarantined.items())
        s.outcomes([("filter", SUPERSEDED, superseded)] if superseded else [])
    s.details = {
        "file": path.name,
        "changed": str(changed),
        "confirmed": str(counts.get(None, 0) - changed),
        "rows_updated": str(applied),
    }
    return JobResult(batch=None, stages=s.stages)


def latest_per_id(reviews: list[Review]) -> list[Review]:
    """``reviews`` with every review of an id but its last marked ``superseded``."""
    last = {r.id: r.line for r in reviews if r.problem is None}
    return [
        Review(r.line, r.id, r.label, SUPERSEDED) if r.problem is None and last[r.id] != r.line else r for r in reviews
    ]


def allowed_labels(settings: Settings) -> dict[str, list[str]]:
    """Source name → its configured label set (only sources that declare one)."""
    return {name: list(s.labels) for name, s in settings.ingest.sources.items() if s.labels is not None}


def checked_reviews(reviews: DataFrame, silver: DataFrame, labels: dict[str, list[str]]) -> DataFrame:
    """``reviews`` (``line, id, new_label, problem``) joined to silver's ``label`` and
    ``source``, with ``problem`` set to ``unknown_id`` or ``label_not_allowed`` where it applies
    (earlier problems are kept)."""
    known = silver.select("id", "label", "source")
    joined = reviews.join(known, "id", "left").withColumn("_known", F.col("source").isNotNull())
    allowed = F.lit(True)
    if labels:
        pairs = [(F.lit(name), F.array(*map(F.lit, values))) for name, values in labels.items()]
        sets = F.create_map(*[part for pair in pairs for part in pair])
        allowed = F.coalesce(F.array_contains(sets[F.col("source")], F.col("new_label")), F.lit(True))
    problem = (
        F.when(F.col("problem").isNotNull(), F.col("problem"))
        .when(~F.col("_known"), F.lit(UNKNOWN_ID))
        .when(~allowed, F.lit(LABEL_NOT_ALLOWED))
    )
    return joined.withColumn("problem", problem).drop("_known")


def quarantine_rows(checked: DataFrame, run_id: str, file_name: str) -> DataFrame:
    """The refused review records in quarantine's columns (the payload: the id and label)."""
    refused = checked.where(F.col("problem").isNotNull() & (F.col("problem") != SUPERSEDED))
    payload = F.to_json(F.struct(F.col("id"), F.col("new_label").alias("label")))
    return quarantine_frame(
        refused,
        run_id=run_id,
        stage=STAGE,
        batch=run_id,
        reason=F.col("problem"),
        detail=None,
        record_id=F.col("id"),
        payload=payload,
        source_path=file_name,
        source_line=F.col("line"),
    )
