"""The Airflow DAG ``jobs/dags/refinery_dag.py`` under real Apache Airflow, from its own
virtualenv (``make airflow``: Airflow's pins clash with ours): it imports without errors, its
task graph is the pipeline, and ``airflow dags test`` runs one logical date end to end against
local Spark — then a date whose input is missing fails at ingest, leaves the data tables alone,
still gets its report, and the run is marked failed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from delta.tables import DeltaTable

from refinery.config import TABLE_NAMES
from refinery.runtime.runner import ENTRY_SCRIPTS, JOBS
from refinery.spark.tables import read_table
from tests.support.subprocess_helpers import subprocess_env, write_sms_sample

#: The tables the data jobs write (metrics is also the report's; signatures is dedup's own).
DATA_TABLES = ("bronze", "silver", "quarantine", "gold", "review_queue")


def _airflow_bin() -> Path:
    from tests.support.paths import ROOT

    folder = ROOT / ".venv-airflow" / "bin"
    if not (folder / "airflow").exists():
        raise RuntimeError(f"no Airflow at {folder}; run `make airflow` (make test does it first)")
    return folder


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    """An Airflow home of this test's own (SQLite metadata), the repo's DAG folder, local Spark."""
    from tests.support.paths import ROOT

    return subprocess_env(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "jobs" / "dags"),
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps({"conn_type": "spark", "host": "local[2]"}),
        REFINERY_DAG_RETRIES="0",
    )


def test_the_dag_imports_and_its_tasks_are_the_pipeline_in_order(airflow_env):
    from tests.support.paths import ROOT

    probe = [str(_airflow_bin() / "python"), str(ROOT / "tests" / "support" / "dag_probe.py")]
    probe.append(str(ROOT / "jobs" / "dags"))
    done = subprocess.run(probe, env=airflow_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    described = json.loads(done.stdout.strip().splitlines()[-1])
    assert described["import_errors"] == {}
    dag = described["dags"]["refinery"]
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False and dag["params"] == ["conf", "landing"]

    tasks = dag["tasks"]
    assert list(tasks) == [*JOBS, "fail_if_a_job_failed"]
    for previous, job in zip([None, *JOBS], JOBS, strict=False):
        task = tasks[job]
        assert task["operator"] == "SparkSubmitOperator" and task["retries"] == 0  # REFINERY_DAG_RETRIES
        assert task["upstream"] == ([previous] if previous else [])
        # the report describes a failed batch too; every other job needs its predecessor's success
        assert task["trigger_rule"] == ("all_done" if job == "report" else "all_success")
        assert task["application"] == str(ROOT / ENTRY_SCRIPTS[job])
        assert task["py_files"] == str(ROOT / "dist" / "refinery.zip")
        args = task["application_args"]
        # the logical date names the run ids (a retry reuses them) and the batch
        assert args[args.index("--run-id") + 1] == "refinery-{{ ds_nodash }}-" + job
        assert (f"{job}.batch={{{{ ds }}}}" in args) == (job in {"ingest", "clean", "dedup"})
    # ... and a run whose report succeeded still fails when any job failed
    watcher = tasks["fail_if_a_job_failed"]
    assert watcher["trigger_rule"] == "one_failed" and watcher["upstream"] == sorted(set(JOBS) - {"report"})


def _dag_test(airflow_env: dict[str, str], day: str, conf: Path, landing: Path) -> subprocess.CompletedProcess:
    run_conf = json.dumps({"conf": str(conf), "landing": str(landing)})
    command = [str(_airflow_bin() / "airflow"), "dags", "test", "refinery", day, "-c", run_conf]
    return subprocess.run(command, env=airflow_env, capture_output=True, text=True, timeout=1200)


def test_dags_test_runs_one_logical_date_end_to_end(airflow_env, spark, tmp_path):
    from tests.support.paths import ROOT

    # the day's input: the first 400 messages of the SMS corpus, in the landing folder of 2024-01-29
    write_sms_sample(tmp_path / "landing" / "2024-01-29", 400)
    tables = tmp_path / "tables"
    conf = tmp_path / "refinery.yaml"
    conf.write_text(
        f"extends: {ROOT / 'conf' / 'local.yaml'}\n"
        "spark: {shuffle_partitions: 2, progress_bar: false}\n"
        "tables:\n" + "".join(f"  {name}: {tables / name}\n" for name in TABLE_NAMES) + "ingest: {only: [sms_spam]}\n"
        f"select: {{export_dir: {tmp_path / 'exports'}}}\nreport: {{dir: {tmp_path / 'reports'}}}\n",
        encoding="utf-8",
    )
    migrated = subprocess.run(
        [str(_airflow_bin() / "airflow"), "db", "migrate"], env=airflow_env, capture_output=True, text=True, timeout=300
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_bundle.py")], check=True)  # the DAG's --py-files

    done = _dag_test(airflow_env, "2024-01-29", conf, tmp_path / "landing")
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "state=success" in output, output[-4000:]

    bronze = read_table(spark, str(tables / "bronze"))
    assert bronze.count() == 400 and {r.ingest_batch for r in bronze.select("ingest_batch").distinct().collect()} == {
        "2024-01-29"
    }
    metrics = read_table(spark, str(tables / "metrics")).where("stage NOT LIKE '%/%'").collect()
    assert {(m.job, m.run_id) for m in metrics} == {(job, f"refinery-20240129-{job}") for job in JOBS}
    assert all(m.reconciled for m in metrics)
    silver = read_table(spark, str(tables / "silver"))
    assert silver.count() == 400 - read_table(spark, str(tables / "quarantine")).where("stage = 'clean'").count()
    assert read_table(spark, str(tables / "gold")).count() > 0
    assert read_table(spark, str(tables / "review_queue")).count() > 0

    (page,) = (tmp_path / "reports" / "refinery-20240129-report").glob("*.html")
    assert "refinery-20240129-select" in page.read_text(encoding="utf-8")

    # failure path: the next date has no input. ingest exits 2, the jobs after it do not run and
    # no data table moves; the report still describes the tables, and the run is marked failed.
    versions = {name: DeltaTable.forPath(spark, str(tables / name)).history(1).first().version for name in DATA_TABLES}
    failed = _dag_test(airflow_env, "2024-01-30", conf, tmp_path / "landing")
    assert failed.returncode != 0 and "state=failed" in failed.stdout + failed.stderr
    after = {name: DeltaTable.forPath(spark, str(tables / name)).history(1).first().version for name in DATA_TABLES}
    assert after == versions
    next_day = read_table(spark, str(tables / "metrics")).where("run_id LIKE 'refinery-20240130-%'").collect()
    assert [row.job for row in next_day] == ["report"]
    assert (tmp_path / "reports" / "refinery-20240130-report").is_dir()
