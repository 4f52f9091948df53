"""Helpers for the Spark tests: run a job in-process and read what it wrote."""

from __future__ import annotations

from collections import Counter

from pyspark.sql import SparkSession

from refinery.config import Settings
from refinery.runtime.runner import new_run_id, run_one
from refinery.spark.tables import read_table


def ingest(spark: SparkSession, settings: Settings, run_id: str | None = None) -> str:
    """Run the ingest job in this session; fail the test unless it exits 0. Returns the run id."""
    run_id = run_id or new_run_id("ingest")
    code = run_one("ingest", settings, spark, run_id)
    assert code == 0, f"ingest exited {code}"
    return run_id


def metrics_by_stage(spark: SparkSession, settings: Settings, run_id: str) -> dict[str, object]:
    """The metrics rows of one run, keyed by stage."""
    rows = read_table(spark, settings.tables.metrics).where(f"run_id = '{run_id}'").collect()
    return {row.stage: row for row in rows}


def quarantine_reasons(spark: SparkSession, settings: Settings, run_id: str) -> Counter:
    """reason → count of the quarantine rows written by one run."""
    rows = read_table(spark, settings.tables.quarantine).where(f"run_id = '{run_id}'").collect()
    return Counter(row.reason for row in rows)
