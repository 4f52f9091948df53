"""Airflow DAG ``refinery``: one Refinery batch per logical date, one ``SparkSubmitOperator`` per
job, in pipeline order (ingest → clean → dedup → score → rebalance → drift → select → export →
report).

**One logical date is one idempotent batch.** The date ``ds`` names the batch and its input:

* ingest reads ``<landing>/<ds>/`` (the sources of the config, with their relative paths) into
  the bronze partition ``ingest_batch = <ds>``; clean and dedup process that batch alone;
* a Delta source of the config (``format: delta``; give it an absolute path or
  ``catalog:db.table``, since relative paths start in the dated landing folder) contributes
  "what is new since the last run": the table versions after the last one that an earlier
  date's batch ingested (``tables.ingest_state``). A retry or rerun of a date reads the
  versions that date recorded, not newer ones, so it rewrites the same rows; a date that
  finds nothing new ingests 0 rows of that source and succeeds; a rewritten source fails
  ingest with exit 2 until a run with ``--set ingest.sources.<name>.full_refresh=true``;
* every job gets ``--run-id refinery-<ds_nodash>-<job>``, so a retry, a cleared task or a rerun of
  the date rewrites the same batch, the same metrics rows and the same review-queue rows instead
  of adding new ones (each job replaces its own slice in one Delta commit).

**Failure.** Each job commits its tables atomically (Delta), so a task that fails or is killed
leaves every table at its last committed version; its retry (``REFINERY_DAG_RETRIES``, default 2,
five minutes apart) starts from there, and the jobs after it do not run (``upstream_failed``)
rather than work on a half-finished batch. ``report`` runs whatever happened before it
(``all_done``), so a failed date still gets its HTML report of the tables as they stand; and
because a succeeding last task would mark the whole run a success, ``fail_if_a_job_failed``
(``one_failed``) fails the run whenever a job did. Runs of the DAG go one at a time
(``max_active_runs=1``): later jobs read all of silver, so two dates at once would race.

**Deployment** (read when the scheduler parses this file):

* ``REFINERY_HOME``: the project checkout or install (``jobs/``, ``conf/``, ``dist/``, ``.jars/``);
  default: two folders above this file.
* ``REFINERY_PYTHON``: the interpreter of the driver and the executors (a venv, or
  ``./environment/bin/python`` with the packed env of ``make dist`` in ``--archives``); default
  ``$REFINERY_HOME/.venv/bin/python``. Its folder is put first on ``PATH``, so ``spark-submit``
  is the one that comes with that interpreter's pyspark.
* ``REFINERY_SPARK_CONN``: the Airflow connection naming the master (default ``spark_default``),
  e.g. ``AIRFLOW_CONN_SPARK_DEFAULT='{"conn_type": "spark", "host": "local[2]"}'``.
* The Delta jars: ``$REFINERY_HOME/.jars/*.jar`` (``make jars``), else ``--packages`` from Maven.

**Parameters** of a run (trigger with ``{"conf": ..., "landing": ...}`` to override):
``conf``, the YAML config (extend ``conf/cluster.yaml`` or ``conf/local.yaml`` with your tables),
and ``landing``, the folder whose ``<ds>/`` subfolders hold each day's input.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG, Param, TriggerRule, chain, task

#: (job, entry script) in pipeline order; a test checks it against ``refinery.runtime.runner``.
PIPELINE: tuple[tuple[str, str], ...] = (
    ("ingest", "jobs/ingest.py"),
    ("clean", "jobs/clean.py"),
    ("dedup", "jobs/dedup.py"),
    ("score", "jobs/score.py"),
    ("rebalance", "jobs/rebalance.py"),
    ("drift", "jobs/drift.py"),
    ("select", "jobs/select_for_review.py"),
    ("export", "jobs/export.py"),
    ("report", "jobs/report.py"),
)
#: Jobs that run even when a job before them failed: the report describes the failed run too.
ALWAYS_RUN = frozenset({"report"})
#: Jobs that take the logical date's batch: ``--set <job>.batch=<ds>``.
BATCH_JOBS = frozenset({"ingest", "clean", "dedup"})
DELTA_PACKAGE = "io.delta:delta-spark_4.1_2.13:4.4.0"

HOME = Path(os.environ.get("REFINERY_HOME", Path(__file__).resolve().parents[2]))
PYTHON = os.environ.get("REFINERY_PYTHON", str(HOME / ".venv" / "bin" / "python"))
SPARK_CONN = os.environ.get("REFINERY_SPARK_CONN", "spark_default")
RETRIES = int(os.environ.get("REFINERY_DAG_RETRIES", "2"))
JARS = ",".join(sorted(str(jar) for jar in (HOME / ".jars").glob("*.jar")))


def job_arguments(job: str) -> list[str]:
    """The job's command line after its entry script, as Jinja templates of the run."""
    args = ["--conf", "{{ params.conf }}", "--run-id", "refinery-{{ ds_nodash }}-" + job]
    if job in BATCH_JOBS:
        args += ["--set", job + ".batch={{ ds }}"]
    if job == "ingest":
        args += ["--set", "ingest.input_root={{ params.landing }}/{{ ds }}"]
    return args


def submit_task(job: str, script: str) -> SparkSubmitOperator:
    """``spark-submit [jars] --py-files dist/refinery.zip <script> <job_arguments>``."""
    return SparkSubmitOperator(
        task_id=job,
        trigger_rule=TriggerRule.ALL_DONE if job in ALWAYS_RUN else TriggerRule.ALL_SUCCESS,
        conn_id=SPARK_CONN,
        application=str(HOME / script),
        application_args=job_arguments(job),
        py_files=str(HOME / "dist" / "refinery.zip"),
        jars=JARS or None,
        packages=None if JARS else DELTA_PACKAGE,
        conf={"spark.pyspark.python": PYTHON, "spark.pyspark.driver.python": PYTHON},
        env_vars={
            "REFINERY_HOME": str(HOME),
            "PYSPARK_PYTHON": PYTHON,
            "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        name=f"refinery-{job}",
    )


with DAG(
    dag_id="refinery",
    description="Refinery: raw corpora to clean, balanced, label-verified training data, one batch a day",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": RETRIES, "retry_delay": timedelta(minutes=5), "owner": "refinery"},
    params={
        "conf": Param(str(HOME / "conf" / "local.yaml"), type="string", description="Refinery YAML config"),
        "landing": Param(str(HOME / "landing"), type="string", description="folder of <ds>/ input folders"),
    },
    tags=["refinery", "spark", "delta"],
) as dag:
    tasks = [submit_task(job, script) for job, script in PIPELINE]
    chain(*tasks)

    @task(task_id="fail_if_a_job_failed", trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def fail_if_a_job_failed() -> None:
        """Runs only when a job failed: fails the run, which the report's success would hide."""
        raise RuntimeError("a Refinery job of this batch failed; its tables stay at their last commit")

    [t for t in tasks if t.task_id not in ALWAYS_RUN] >> fail_if_a_job_failed()
