"""What a job receives from the runner and what it hands back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import SparkSession

from refinery.config import ConfigError, Settings
from refinery.runtime.metrics import StageMetrics

if TYPE_CHECKING:
    from refinery.spark.snapshot import Snapshot


@dataclass
class JobContext:
    """A job's inputs: validated settings, the session, this run's id and its logger."""

    job: str
    settings: Settings
    spark: SparkSession
    run_id: str
    log: logging.LoggerAdapter


@dataclass
class JobResult:
    """A job's outcome: the batch it processed, the counts of each of its stages, and
    ``alert``: the job finished but raised an alert its config asks to fail on (the runner
    writes the metrics, then exits with :data:`refinery.runtime.runner.EXIT_ALERT`)."""

    batch: str | None
    stages: list[StageMetrics] = field(default_factory=list)
    alert: bool = False


def silver_location(ctx: JobContext) -> str:
    """Where ``silver`` is, for a job that reads it; a :class:`ConfigError` naming
    ``tables.silver`` when no silver exists yet."""
    from refinery.spark.tables import table_exists

    location = ctx.settings.tables.silver
    if not table_exists(ctx.spark, location):
        raise ConfigError(f"config key 'tables.silver': no Delta table at {location}; fix: run clean first")
    return location


def pinned_silver(ctx: JobContext) -> Snapshot:
    """The latest ``silver`` version, pinned (time travel): :func:`silver_location`, then
    :func:`refinery.spark.snapshot.pin_snapshot`."""
    from refinery.spark.snapshot import pin_snapshot

    return pin_snapshot(ctx.spark, silver_location(ctx))


def check_group_by(columns: list[str], key: str, column: str | None) -> None:
    """Raise a :class:`ConfigError` naming config ``key`` when ``column`` (a ``group_by``
    setting) is not one of silver's ``columns``."""
    if column is not None and column not in columns:
        raise ConfigError(f"config key '{key}': silver has no column {column!r}; fix: name a silver column or null")
