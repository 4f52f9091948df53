"""The job contract shared by ``spark-submit jobs/<job>.py`` and ``refinery <job>``.

Arguments: ``--conf FILE`` (repeatable, later files win), ``--set dotted.key=value``
(repeatable), ``--run-id ID`` (default: a new one), ``--log-level LEVEL`` (Refinery's JSON
lines: DEBUG, INFO (default), WARNING or ERROR; Spark's own level is ``spark.log_level``).

Exit codes: 0 success, 1 the job failed (or its counts did not reconcile), 2 bad configuration
or arguments, reported before Spark starts whenever the problem is in the config itself, 3 the
job finished and wrote its metrics but raised an alert its config asks to fail on
(``drift.fail_on_alert``: drift detected). Like 1 and 2, a 3 stops ``refinery pipeline`` after
that job.

Counts reconcile when ``rows_in = rows_out + rows_quarantined + rows_filtered`` for every stage,
``rows_in`` counted from the input a job read and the rest from what it committed; a stage that
does not reconcile logs ``counts do not reconcile`` with its ``stage``, ``rows_in``,
``rows_accounted`` and their ``difference``, and the job exits 1.

Each run writes one ``metrics`` row per stage and logs JSON lines carrying its run_id: one
``job started``, one ``stage finished`` per stage with its counts and seconds, one ``job
finished``. Spark's console progress bar (``spark.progress_bar``) shows the running stage, and
every Spark job of a run is in the job group named by its run_id (the Spark UI groups them).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from refinery.config import ConfigError, Settings, check_writable, load_settings
from refinery.logs import LOG_LEVELS, job_logger, set_log_level
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.metrics import StageMetrics

#: Job name → module with ``run(ctx: JobContext) -> JobResult``, in pipeline order.
JOBS: dict[str, str] = {
    "ingest": "refinery.ingest.job",
    "clean": "refinery.clean.job",
    "dedup": "refinery.dedup.job",
    "score": "refinery.score.job",
    "rebalance": "refinery.rebalance.job",
    "drift": "refinery.drift.job",
    "select": "refinery.select.job",
    "export": "refinery.export.job",
    "report": "refinery.report.job",
}
#: Jobs run by name only, not by ``refinery pipeline``: they need an input of their own.
ON_DEMAND_JOBS: dict[str, str] = {
    "import_reviews": "refinery.reviews.job",
}
ALL_JOBS: dict[str, str] = {**JOBS, **ON_DEMAND_JOBS}
#: Job name → its spark-submit entry script, relative to the project root. ``select`` is the
#: one exception to ``jobs/<job>.py``: spark-submit puts ``jobs/`` first on ``sys.path``, where
#: a ``select.py`` would shadow the standard library's ``select`` module.
ENTRY_SCRIPTS: dict[str, str] = {job: f"jobs/{'select_for_review' if job == 'select' else job}.py" for job in ALL_JOBS}

#: Job name → the config keys of the locations it writes (checked before Spark starts).
JOB_OUTPUTS: dict[str, tuple[str, ...]] = {
    "ingest": ("tables.bronze", "tables.quarantine", "tables.metrics", "tables.ingest_state"),
    "clean": ("tables.silver", "tables.quarantine", "tables.metrics"),
    "dedup": ("tables.silver", "tables.signatures", "tables.metrics"),
    "score": ("tables.silver", "tables.metrics", "score.work_dir"),
    "rebalance": ("tables.gold", "tables.metrics"),
    "drift": ("tables.metrics",),
    "select": ("tables.review_queue", "tables.metrics", "select.export_dir"),
    "export": ("tables.metrics", "export.dir"),
    "report": ("tables.metrics", "report.dir"),
    "import_reviews": ("tables.silver", "tables.review_queue", "tables.quarantine", "tables.metrics"),
}

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_ALERT = 0, 1, 2, 3
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:+-]{1,128}$")


def argument_parser(prog: str) -> argparse.ArgumentParser:
    """The options every job accepts."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--conf", action="append", default=[], metavar="FILE", help="YAML config; repeatable")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides")
    parser.add_argument("--run-id", default=None, help="reuse an id to rerun a run idempotently")
    parser.add_argument("--log-level", default="INFO", choices=LOG_LEVELS, help="level of Refinery's log lines")
    return parser


def new_run_id(job: str) -> str:
    """``<job>-<UTC time>-<8 hex>``: sortable by time, unique across machines."""
    return f"{job}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def main_for(job: str, argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jobs/<job>.py`` and ``refinery <job>``: parse, configure, run."""
    parser = argument_parser(f"refinery {job}")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    set_log_level(args.log_level)
    try:
        settings = load_settings(args.conf, args.overrides)
        if args.run_id is not None and not _RUN_ID.match(args.run_id):
            raise ConfigError("--run-id: use 1-128 characters from A-Z a-z 0-9 _ . : + -")
    except ConfigError as exc:
        print(f"refinery {job}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return run_jobs([job], settings, args.run_id)


def run_jobs(jobs: Sequence[str], settings: Settings, run_id: str | None = None) -> int:
    """Run ``jobs`` in order in one SparkSession; stop at the first non-zero exit code. Every
    location the jobs write, and every local input ``ingest`` reads, is checked first: one that
    cannot be written or is not there is a configuration error (exit 2) found before Spark
    starts."""
    from refinery.spark.session import build_spark

    try:
        check_writable(settings, dict.fromkeys(key for job in jobs for key in JOB_OUTPUTS[job]))
        for job in jobs:  # a job's own checks of its inputs (ingest: a local input that is not there)
            preflight = getattr(importlib.import_module(ALL_JOBS[job]), "preflight", None)
            if preflight is not None:
                preflight(settings)
        spark = build_spark(settings.spark, settings.app_name)
    except ConfigError as exc:
        print(f"refinery {jobs[0] if len(jobs) == 1 else 'pipeline'}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        for job in jobs:
            code = run_one(job, settings, spark, run_id or new_run_id(job))
            if code != EXIT_OK:
                return code
        return EXIT_OK
    finally:
        spark.stop()


def unreconciled_fields(stage: StageMetrics) -> dict[str, object]:
    """The fields of a stage's "counts do not reconcile" line: the stage, ``rows_in``, the
    counts accounted for (``rows_accounted`` = out + quarantined + filtered, each given too)
    and ``difference`` = ``rows_in - rows_accounted`` (positive: rows lost; negative: rows invented)."""
    return {
        "stage": stage.stage,
        "rows_in": stage.rows_in,
        "rows_out": stage.rows_out,
        "rows_quarantined": stage.rows_quarantined,
        "rows_filtered": stage.rows_filtered,
        "rows_accounted": stage.rows_accounted,
        "difference": stage.rows_in - stage.rows_accounted,
    }


def run_one(job: str, settings: Settings, spark, run_id: str) -> int:
    """Run one job, write its metrics, check that its counts reconcile; its exit code (a
    failure to reconcile, 1, wins over an alert, 3)."""
    from refinery.spark.metrics_table import write_metrics

    log = job_logger(job, run_id)
    ctx = JobContext(job=job, settings=settings, spark=spark, run_id=run_id, log=log)
    started = datetime.now(UTC)
    log.info("job started")
    spark.sparkContext.setJobGroup(run_id, f"refinery {job} {run_id}")
    try:
        result: JobResult = importlib.import_module(ALL_JOBS[job]).run(ctx)
    except ConfigError as exc:
        log.error("bad configuration", extra={"error": str(exc)})
        print(f"refinery {job}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception:
        log.exception("job failed")
        return EXIT_FAILED
    finished = datetime.now(UTC)
    try:
        write_metrics(spark, settings.tables.metrics, run_id, job, result.batch, started, finished, result.stages)
    except Exception:  # the job's tables are written; without its metrics row the run is not done
        log.exception("writing the metrics row failed")
        return EXIT_FAILED
    failed = False
    for stage in result.stages:
        counts = {
            "stage": stage.stage,
            "rows_in": stage.rows_in,
            "rows_out": stage.rows_out,
            "rows_quarantined": stage.rows_quarantined,
            "rows_filtered": stage.rows_filtered,
            "quarantined_by_reason": stage.quarantined_by_reason,
            "filtered_by_reason": stage.filtered_by_reason,
            "seconds": stage.seconds,
        }
        if not stage.quiet:
            log.info("stage finished", extra=counts)
        if not stage.reconciled:
            log.error("counts do not reconcile", extra=unreconciled_fields(stage))
            failed = True
    log.info("job finished", extra={"batch": result.batch, "seconds": (finished - started).total_seconds()})
    if failed:
        return EXIT_FAILED
    if result.alert:
        log.warning("alert raised, exiting with code 3", extra={"exit_code": EXIT_ALERT})
        return EXIT_ALERT
    return EXIT_OK
