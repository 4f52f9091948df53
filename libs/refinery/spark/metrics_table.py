"""Writing a run's :class:`~refinery.runtime.metrics.StageMetrics` to the ``metrics`` table."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import SparkSession

from refinery.runtime.metrics import StageMetrics
from refinery.spark import schemas
from refinery.spark.tables import replace_slice, sql_string


def write_metrics(
    spark: SparkSession,
    location: str,
    run_id: str,
    job: str,
    batch: str | None,
    started_at: datetime,
    finished_at: datetime,
    stages: list[StageMetrics],
) -> None:
    """Replace this run's rows in ``metrics`` with one row per stage (idempotent per run_id)."""
    rows = [
        (
            run_id,
            job,
            m.stage,
            batch,
            started_at,
            finished_at,
            m.seconds,
            m.rows_in,
            m.rows_out,
            m.rows_quarantined,
            m.rows_filtered,
            dict(m.quarantined_by_reason),
            dict(m.filtered_by_reason),
            m.reconciled,
            dict(m.details),
        )
        for m in stages
    ]
    frame = spark.createDataFrame(rows, schemas.METRICS)
    replace_slice(frame, location, f"run_id = {sql_string(run_id)} AND job = {sql_string(job)}")
