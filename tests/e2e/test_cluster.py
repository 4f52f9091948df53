"""The pipeline on a real Spark standalone cluster: ``scripts/local_cluster.sh`` starts a master
and a worker on 127.0.0.1, each job is spark-submitted to it with the Delta jars and the
``--py-files`` bundle (``scripts/submit.sh``), and the tables are checked afterwards. The
cluster is stopped when the module's tests end, whether they passed or not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.cluster_parity import free_port
from refinery.runtime.runner import ENTRY_SCRIPTS, JOBS
from refinery.spark.tables import read_table
from tests.support.subprocess_helpers import json_lines, sample_overrides, subprocess_env, write_sms_sample


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


#: Messages of the SMS corpus each cluster test ingests (one JVM per job makes every row dear).
MESSAGES = 600


def _submit(job: str, master: str, env: dict[str, str], tables: Path, *extra: str) -> subprocess.CompletedProcess:
    from tests.support.paths import ROOT

    landing = write_sms_sample(tables.parent / "landing", MESSAGES)
    command = ["bash", str(ROOT / "scripts" / "submit.sh"), "--master", master, "--driver-memory", "2g"]
    command += ["--executor-memory", "2g", "--conf", f"spark.pyspark.python={env['PYSPARK_PYTHON']}"]
    command += [str(ROOT / ENTRY_SCRIPTS[job]), "--conf", str(ROOT / "conf" / "corpora.yaml")]
    command += ["--conf", str(ROOT / "conf" / "cluster.yaml"), *sample_overrides(tables, input_root=landing), *extra]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_pipeline_runs_on_a_standalone_cluster(cluster, spark, tmp_path):
    master, env, cluster_dir = cluster
    tables = tmp_path / "tables"
    for job in JOBS:
        done = _submit(job, master, env, tables, "--run-id", f"cluster-{job}")
        assert done.returncode == 0, f"{job}: {(done.stdout + done.stderr)[-3000:]}"
        logged = json_lines(done.stdout + done.stderr)
        assert any(e["event"] == "job finished" and e["run_id"] == f"cluster-{job}" for e in logged), job

    # every job ran as an application of this master, with executors on its worker
    applications = sorted((cluster_dir / "work").glob("app-*"))
    assert len(applications) == len(JOBS)
    assert all(any(app.glob("*/stderr")) for app in applications)

    assert read_table(spark, str(tables / "bronze")).count() == MESSAGES
    silver = read_table(spark, str(tables / "silver"))
    quarantined = read_table(spark, str(tables / "quarantine")).where("stage = 'clean'").count()
    assert silver.count() + quarantined == MESSAGES
    assert silver.where("confidence IS NOT NULL").count() == silver.count()
    metrics = read_table(spark, str(tables / "metrics"))
    runs = {row.job: row for row in metrics.where("stage NOT LIKE '%/%'").collect()}
    assert set(runs) == set(JOBS) and all(row.reconciled for row in runs.values())
    assert runs["ingest"].rows_out == MESSAGES and runs["clean"].rows_in == MESSAGES
    gold = read_table(spark, str(tables / "gold"))
    assert gold.count() > 0 and gold.select("label").distinct().count() == 2
    assert read_table(spark, str(tables / "review_queue")).count() == runs["select"].rows_out > 0


def test_a_job_that_cannot_run_on_the_cluster_exits_2_and_writes_nothing(cluster, tmp_path):
    master, env, _ = cluster
    tables = tmp_path / "tables"
    # clean before any ingest: there is no bronze table, a usage error (exit 2) that names the fix
    done = _submit("clean", master, env, tables, "--run-id", "cluster-fails")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-2000:]
    assert "bronze" in output and any(e["event"] == "bad configuration" for e in json_lines(output))
    assert not (tables / "silver").exists() and not (tables / "metrics").exists()
