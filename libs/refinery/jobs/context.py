"""What a job receives from the runner and what it hands back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from refinery.config import Settings
from refinery.report.metrics import StageMetrics


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
    """A job's outcome: the batch it processed and the counts of each of its stages."""

    batch: str | None
    stages: list[StageMetrics] = field(default_factory=list)
