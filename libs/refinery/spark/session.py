"""The one place a SparkSession is built, for jobs and tests alike.

Every session gets Delta Lake's SQL extension and catalog, the UTC session time zone, Arrow
for pandas conversion and pandas UDFs, and a shuffle-partition count that suits its mode.

Where the Delta jars come from depends on who starts the JVM:

* **Python starts it** (``refinery <job>``, pytest, a notebook): the jars resolved by
  ``make jars`` into ``spark.jars_dir`` are put on ``spark.jars`` before the JVM starts; no
  network is touched. The master is ``spark.master`` or ``local[spark.local_cores]``.
* **spark-submit starts it** (``PYSPARK_GATEWAY_PORT`` is set): the JVM's classpath is already
  fixed, so the jars must come with ``--jars`` (``scripts/submit.sh`` adds them) and the master
  with ``--master``; the builder only adds the SQL settings.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from refinery.config import ConfigError, SparkSettings
from refinery.spark.commit_retry import RETRIES_PROPERTY, WAIT_PROPERTY

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def under_spark_submit() -> bool:
    """True when this Python process is a driver launched by ``spark-submit``."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def delta_jars(jars_dir: str | os.PathLike[str]) -> list[str]:
    """Absolute paths of the jars in ``jars_dir``; fail with the fix when Delta is missing."""
    folder = Path(jars_dir)
    if not folder.is_absolute():
        folder = Path(os.environ.get("REFINERY_HOME", Path.cwd())) / folder
    jars = sorted(str(p.resolve()) for p in folder.glob("*.jar"))
    if not any(Path(j).name.startswith("delta-spark_") for j in jars):
        raise ConfigError(
            f"config key 'spark.jars_dir': no delta-spark jar in {folder}; "
            "fix: run `make jars` (resolves io.delta:delta-spark_4.1_2.13 from Maven Central) "
            "or point spark.jars_dir at a folder holding the Delta jars"
        )
    return jars


def session_conf(settings: SparkSettings) -> dict[str, str]:
    """The Spark properties a Refinery session sets, without starting anything."""
    conf = {
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.sql.execution.arrow.maxBytesPerBatch": str(settings.python_batch_mb << 20),
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.ui.enabled": str(settings.ui_enabled).lower(),
        "spark.ui.showConsoleProgress": str(settings.progress_bar).lower(),
        # Delta's own defaults favour clusters; these keep local runs quick and quiet.
        "spark.databricks.delta.snapshotPartitions": str(max(1, settings.shuffle_partitions)),
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        RETRIES_PROPERTY: str(settings.commit_retries),
        WAIT_PROPERTY: str(settings.commit_retry_wait_seconds),
    }
    if not under_spark_submit():
        if settings.mode == "cluster" and not settings.master:
            raise ConfigError(
                "config key 'spark.master': cluster mode started from Python needs a master URL; "
                "fix: --set spark.master=spark://HOST:7077 (or yarn, k8s://...), or launch with spark-submit --master"
            )
        conf["spark.master"] = settings.master or f"local[{settings.local_cores}]"
        conf["spark.jars"] = ",".join(delta_jars(settings.jars_dir))
        if settings.driver_memory:
            conf["spark.driver.memory"] = settings.driver_memory
        # Python workers must run this interpreter (the venv), not `python3` on PATH; the
        # JVM started below inherits the environment and passes it to the workers it forks.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf["spark.sql.warehouse.dir"] = str(Path(os.environ.get("REFINERY_HOME", Path.cwd())) / "spark-warehouse")
    elif settings.master:
        conf["spark.master"] = settings.master
    conf.update(settings.conf)
    return conf


def build_spark(settings: SparkSettings, app_name: str = "refinery") -> SparkSession:
    """Build (or return the running) SparkSession configured for Refinery and Delta."""
    builder = SparkSession.builder.appName(app_name)
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.log_level)
    return spark


@contextmanager
def session_settings(spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
    """Set runtime SQL properties for the duration of a block, then restore the old values."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


#: The Spark local property that names a job in the Spark UI and the event log.
JOB_DESCRIPTION = "spark.job.description"


@contextmanager
def job_phase(spark: SparkSession, phase: str) -> Iterator[None]:
    """Name the Spark jobs run inside the block ``"<current description>: <phase>"`` (in the
    Spark UI and the event log, so a job's time can be told by phase), then restore the old
    description."""
    context = spark.sparkContext
    previous = context.getLocalProperty(JOB_DESCRIPTION)
    context.setJobDescription(f"{previous}: {phase}" if previous else phase)
    try:
        yield
    finally:
        context.setLocalProperty(JOB_DESCRIPTION, previous)  # None unsets it


@contextmanager
def timed_phase(spark: SparkSession, phase: str, seconds: dict[str, float]) -> Iterator[None]:
    """:func:`job_phase`, and the block's wall seconds added to ``seconds[phase]``: a job
    reports where its time went in its metrics (Spark runs lazily, so a phase's time is that
    of the actions inside the block, including whatever they compute upstream)."""
    started = time.monotonic()
    try:
        with job_phase(spark, phase):
            yield
    finally:
        seconds[phase] = seconds.get(phase, 0.0) + time.monotonic() - started


def phase_details(phases: dict[str, float]) -> dict[str, str]:
    """``phase.<name>.ms``: each phase's wall milliseconds (:func:`timed_phase`), in order."""
    return {f"phase.{name.replace(' ', '_')}.ms": str(round(seconds * 1000)) for name, seconds in phases.items()}
