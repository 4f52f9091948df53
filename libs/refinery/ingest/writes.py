"""The rows the ``ingest`` job writes, in the schemas of ``bronze`` (:func:`bronze_rows`) and
``quarantine`` (:func:`quarantine_rows`), and the rows their commits hold
(:func:`committed_per_source`, :func:`committed_per_reason`)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.sources.records import OK, QUARANTINE
from refinery.spark.committed import Commit, added_rows_per_value, committed_rows, grouped_counts
from refinery.spark.quarantine import quarantine_frame

#: Bronze columns Delta keeps min/max statistics of (for data skipping; ``ingest_batch`` is the
#: partition column, skipped by its value). Not ``text``, ``meta`` or ``content_hash``: long or
#: random values that no reader filters on, whose statistics cost the write per row.
BRONZE_STATS_COLUMNS = (
    "id",
    "label",
    "source",
    "event_ts",
    "source_path",
    "source_line",
    "source_encoding",
    "run_id",
)
BRONZE_PROPERTIES = {"delta.dataSkippingStatsColumns": ",".join(BRONZE_STATS_COLUMNS)}


def committed_per_source(spark: SparkSession, commit: Commit, where: str, sources: list[str]) -> dict[tuple, int]:
    """Rows the bronze ``commit`` holds per source, in the slice ``where``: from the commit's
    own row count when the batch has one source, else from the statistics of the files it
    added when each holds one source (:func:`added_rows_per_value`; no read-back either way),
    else read back from the slice at the committed version."""
    held = commit.recorded_rows
    if len(sources) == 1 and held is not None:
        return {(sources[0],): held}
    per_file = added_rows_per_value(commit, "source")
    if per_file is not None:
        return {(source,): n for source, n in per_file.items()}
    return grouped_counts(committed_rows(spark, commit), where, ["source"])


def committed_per_reason(
    spark: SparkSession, commit: Commit, where: str, classified: dict[tuple, int]
) -> dict[tuple, int]:
    """Rows the quarantine ``commit`` holds per (source, reason), in the slice ``where``: the
    ``classified`` counts when the commit's own row count equals their total (nothing was
    lost or added on the way, so no read-back is needed), else read back from the slice at
    the committed version, which then tells what the table really holds."""
    if commit.recorded_rows == sum(classified.values()):
        return classified
    return grouped_counts(committed_rows(spark, commit), where, ["source", "reason"])


def bronze_rows(classified: DataFrame) -> DataFrame:
    """The rows that go to ``bronze``, in its schema."""
    return classified.where(F.col("outcome") == OK).select(
        "id",
        "text",
        "label",
        "source",
        "event_ts",
        "ingest_batch",
        "meta",
        "content_hash",
        F.col("path").alias("source_path"),
        F.col("line").alias("source_line"),
        F.col("encoding").alias("source_encoding"),
        "run_id",
    )


def quarantine_rows(classified: DataFrame, stage: str, batch: str, run_id: str) -> DataFrame:
    """The rows that go to ``quarantine``, in its schema."""
    refused = classified.where(F.col("outcome") == QUARANTINE)
    where = {"source_path": F.col("path"), "source_line": F.col("line")}
    return quarantine_frame(refused, run_id=run_id, stage=stage, batch=batch, record_id=F.col("id"), **where)
