"""The pipeline as it is deployed: the Airflow DAG ``jobs/dags/refinery_dag.py`` under real Apache
Airflow, from its own virtualenv (``make airflow``: Airflow's pins clash with ours), submitting
every job to a real Spark standalone cluster on 127.0.0.1 (``scripts/local_cluster.sh``: a master
and a worker; each job is an application with an executor on the worker).

The DAG imports without errors and its task graph is the pipeline; ``airflow dags test`` runs one
logical date end to end on the cluster; then a date whose input is missing fails at ingest, leaves
the data tables alone, still gets its report, and the run is marked failed. A job that cannot run
exits 2 and writes nothing. The cluster is stopped when the module's tests end, whether they
passed or not.

One module proves Airflow and the cluster together: each whole-pipeline run costs a JVM per job
on two cores, so the two paths share one run instead of paying for two.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from delta.tables import DeltaTable

from bench.cluster_parity import free_port
from refinery.config import TABLE_NAMES
from refinery.runtime.runner import ENTRY_SCRIPTS, JOBS
from refinery.spark.tables import read_table
from tests.support.subprocess_helpers import (
    json_lines,
    sample_overrides,
    submit_command,
    subprocess_env,
    write_sms_sample,
)

#: The tables the data jobs write (metrics is also the report's; signatures is dedup's own).
DATA_TABLES = ("bronze", "silver", "quarantine", "gold", "review_queue")
#: Messages of the SMS corpus in the first logical date's landing folder.
MESSAGES = 400


def _airflow_bin() -> Path:
    from tests.support.paths import ROOT

    folder = ROOT / ".venv-airflow" / "bin"
    if not (folder / "airflow").exists():
        raise RuntimeError(f"no Airflow at {folder}; run `make airflow` (make test does it first)")
    return folder


def _cluster(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    from tests.support.paths import ROOT

    script = ROOT / "scripts" / "local_cluster.sh"
    return subprocess.run(["bash", str(script), command], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(master_url, env, cluster_dir)`` of a running master + worker; stopped at the end."""
    cluster_dir = tmp_path_factory.mktemp("cluster")
    ports = {"MASTER_PORT": 7077, "MASTER_UI_PORT": 8080, "WORKER_UI_PORT": 8081}
    env = subprocess_env(CLUSTER_DIR=str(cluster_dir), WORKER_CORES="2", WORKER_MEMORY="3g")
    env.update({name: str(free_port(port)) for name, port in ports.items()})
    started = _cluster("start", env)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"spark://127.0.0.1:{env['MASTER_PORT']}", env, cluster_dir
    finally:
        stopped = _cluster("stop", env)
        assert stopped.returncode == 0, stopped.stderr
        assert _cluster("status", env).returncode != 0, "the cluster still runs after stop"


def _airflow_env(home: Path, master: str) -> dict[str, str]:
    """An Airflow home of its own (SQLite metadata), the repo's DAG folder, ``master`` as Spark."""
    from tests.support.paths import ROOT

    return subprocess_env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "jobs" / "dags"),
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps({"conn_type": "spark", "host": master}),
        REFINERY_DAG_RETRIES="0",
    )


def test_the_dag_imports_and_its_tasks_are_the_pipeline_in_order(tmp_path):
    from tests.support.paths import ROOT

    airflow_env = _airflow_env(tmp_path / "airflow", "local[2]")

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


def test_dags_test_runs_one_logical_date_end_to_end_on_the_cluster(cluster, spark, tmp_path):
    from tests.support.paths import ROOT

    master, _, cluster_dir = cluster
    airflow_env = _airflow_env(tmp_path / "airflow", master)
    # the day's input: the first 400 messages of the SMS corpus, in the landing folder of 2024-01-29
    write_sms_sample(tmp_path / "landing" / "2024-01-29", MESSAGES)
    tables = tmp_path / "tables"
    conf = tmp_path / "refinery.yaml"
    # cluster mode as conf/cluster.yaml sets it (the master comes from spark-submit, the driver's
    # memory from the cluster's defaults), with local.yaml's corpora and a sample's partitions
    conf.write_text(
        f"extends: {ROOT / 'conf' / 'local.yaml'}\n"
        "spark: {mode: cluster, driver_memory: null, shuffle_partitions: 2, progress_bar: false}\n"
        "tables:\n" + "".join(f"  {name}: {tables / name}\n" for name in TABLE_NAMES) + "ingest: {only: [sms_spam]}\n"
        f"select: {{export_dir: {tmp_path / 'exports'}}}\nreport: {{dir: {tmp_path / 'reports'}}}\n"
        f"export: {{dir: {tmp_path / 'training_exports'}}}\n",
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

    # every job ran as an application of this master, with an executor on its worker
    applications = sorted((cluster_dir / "work").glob("app-*"))
    assert len(applications) == len(JOBS)
    assert all(any(app.glob("*/stderr")) for app in applications)

    bronze = read_table(spark, str(tables / "bronze"))
    assert bronze.count() == MESSAGES
    assert {r.ingest_batch for r in bronze.select("ingest_batch").distinct().collect()} == {"2024-01-29"}
    metrics = read_table(spark, str(tables / "metrics")).where("stage NOT LIKE '%/%'").collect()
    assert {(m.job, m.run_id) for m in metrics} == {(job, f"refinery-20240129-{job}") for job in JOBS}
    assert all(m.reconciled for m in metrics)
    runs = {m.job: m for m in metrics}
    assert runs["ingest"].rows_out == MESSAGES and runs["clean"].rows_in == MESSAGES
    silver = read_table(spark, str(tables / "silver"))
    assert silver.count() == MESSAGES - read_table(spark, str(tables / "quarantine")).where("stage = 'clean'").count()
    assert silver.where("confidence IS NOT NULL").count() == silver.count()
    gold = read_table(spark, str(tables / "gold"))
    assert gold.count() > 0 and gold.select("label").distinct().count() == 2
    assert read_table(spark, str(tables / "review_queue")).count() == runs["select"].rows_out > 0

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


def test_a_job_that_cannot_run_on_the_cluster_exits_2_and_writes_nothing(cluster, tmp_path):
    from tests.support.paths import ROOT

    master, env, _ = cluster
    tables = tmp_path / "tables"
    # clean before any ingest: there is no bronze table, a usage error (exit 2) that names the fix
    python = ["--conf", f"spark.pyspark.python={env['PYSPARK_PYTHON']}"]
    command = submit_command(master, "clean", "--conf", str(ROOT / "conf" / "corpora.yaml"), spark_options=python)
    command += ["--conf", str(ROOT / "conf" / "cluster.yaml"), *sample_overrides(tables), "--run-id", "cluster-fails"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-2000:]
    assert "bronze" in output and any(e["event"] == "bad configuration" for e in json_lines(output))
    assert not (tables / "silver").exists() and not (tables / "metrics").exists()
