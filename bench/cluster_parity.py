"""Does the pipeline decide the same on a cluster as in local mode?

One input file (``short`` documents of :mod:`bench.scale`, :data:`DEFAULT_MB` MB unless
``REFINERY_PARITY_MB`` says otherwise) goes through every job twice, on separate tables:

* **local**: ``refinery <job>`` processes, local[2], as :mod:`bench.scale` runs them;
* **cluster**: each job ``spark-submit``-ted (``scripts/submit.sh``) to a real standalone
  cluster on 127.0.0.1 (``scripts/local_cluster.sh``) of :data:`WORKERS` workers with one core
  each, ``spark.mode=cluster`` and :data:`CLUSTER_SHUFFLE_PARTITIONS` shuffle partitions (local
  mode has 4), so rows meet in other tasks, in another order, in other Python workers.

Then every table both runs wrote is compared column by column (:func:`table_differences`):
rows in each, rows in one and not the other (over the columns a run decides, that is, without
run ids and timestamps), and per column, on rows joined by their key, how many differ and the
largest absolute difference of a numeric column. The same settings as :mod:`bench.scale`
(score as two folds of one epoch). Results: ``bench/results/cluster_parity.json``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scale import JOBS, ROOT, job_settings, run_job, write_input

DEFAULT_MB = 300
WORKERS = 2
CLUSTER_SHUFFLE_PARTITIONS = 8
#: The tables compared, with the columns that identify a row (``None``: no key; only the
#: row-level difference is reported).
TABLE_KEYS: dict[str, tuple[str, ...] | None] = {
    "bronze": ("id",),
    "quarantine": None,
    "silver": ("id",),
    "signatures": ("id",),
    "gold": ("id", "copy_index"),
    "review_queue": ("id",),
}


def free_port(preferred: int) -> int:
    """``preferred`` when nothing listens there, else a port the kernel picks."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def decided_columns(names: list[str]) -> list[str]:
    """The columns a run decides: all but run ids (``run_id``, ``*_run_id``, ``*_run``) and
    times (``*_at``)."""
    return [n for n in names if n != "run_id" and not n.endswith(("_run_id", "_run", "_at"))]


def tables_identical(tables: dict[str, dict[str, Any]]) -> bool:
    """Whether every compared table (:func:`table_differences`) is the same in both runs: a
    keyed table when every row of each joins one of the other and no decided column
    (:func:`decided_columns`) differs on a joined row; a table without a key when no row is
    in one run only."""
    for found in tables.values():
        if "columns" not in found:
            if found["only_local"] or found["only_cluster"]:
                return False
            continue
        rows = found["rows"]
        if not rows["local"] == rows["cluster"] == found["joined_rows"]:
            return False
        if decided_columns(list(found["columns"])):
            return False
    return True


def comparable(frame, names: list[str]):
    """``frame``'s ``names`` with each map column as its sorted entries in JSON (maps are not
    comparable in Spark, and their entry order is not part of their value)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import MapType

    types = {f.name: f.dataType for f in frame.schema.fields}
    return frame.select(
        *[
            F.to_json(F.array_sort(F.map_entries(F.col(n)))).alias(n) if isinstance(types[n], MapType) else F.col(n)
            for n in names
        ]
    )


def table_differences(local, cluster, key: tuple[str, ...] | None) -> dict[str, Any]:
    """How two versions of one table differ: ``rows`` of each, ``only_local`` and
    ``only_cluster`` (rows of one that the other lacks, counted with multiplicity, over the
    decided columns both have), and with a ``key``, ``columns``: for each decided column that
    differs on some row joined by ``key``, the rows where it differs (null-safe) and, for a
    numeric column, ``max_abs`` (the largest absolute difference)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType

    names = [n for n in decided_columns(local.columns) if n in cluster.columns]
    left, right = comparable(local, names), comparable(cluster, names)
    result: dict[str, Any] = {
        "rows": {"local": local.count(), "cluster": cluster.count()},
        "only_local": left.exceptAll(right).count(),
        "only_cluster": right.exceptAll(left).count(),
    }
    if key is None:
        return result
    values = [n for n in names if n not in key]
    joined = left.alias("l").join(right.alias("r"), list(key), "inner")
    numeric = {f.name for f in left.schema.fields if isinstance(f.dataType, NumericType)}
    aggregates = [
        F.sum((~F.col(f"l.{n}").eqNullSafe(F.col(f"r.{n}"))).cast("long")).alias(f"differ:{n}") for n in values
    ]
    gaps = [F.max(F.abs(F.col(f"l.{n}") - F.col(f"r.{n}"))).alias(f"max_abs:{n}") for n in values if n in numeric]
    totals = joined.agg(F.count(F.lit(1)).alias("joined"), *aggregates, *gaps).first().asDict()
    result["joined_rows"] = totals["joined"]
    result["columns"] = {
        n: {"differ": totals[f"differ:{n}"]} | ({"max_abs": totals[f"max_abs:{n}"]} if n in numeric else {})
        for n in values
        if totals[f"differ:{n}"]
    }
    return result


def _cluster(command: str, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "local_cluster.sh"), command], env=env, timeout=180)
    if done.returncode and command != "stop":
        raise SystemExit(f"local_cluster.sh {command} failed ({done.returncode})")


def submit_job(job: str, master: str, work: Path, source: Path, env: dict[str, str]) -> dict[str, Any]:
    """spark-submit one job to ``master`` with the bench's settings; its wall seconds."""
    from refinery.runtime.runner import ENTRY_SCRIPTS

    command = ["bash", str(ROOT / "scripts" / "submit.sh"), "--master", master, "--driver-memory", "2g"]
    command += ["--executor-memory", "3g", "--conf", f"spark.pyspark.python={ROOT / '.venv' / 'bin' / 'python'}"]
    command += [str(ROOT / ENTRY_SCRIPTS[job]), "--conf", str(ROOT / "conf" / "local.yaml")]
    sets = [*job_settings(work, source), "spark.mode=cluster", f"spark.shuffle_partitions={CLUSTER_SHUFFLE_PARTITIONS}"]
    for item in sets:
        command += ["--set", item]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"cluster {job} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return {"seconds": round(time.monotonic() - started, 1)}


def compare_tables(local: Path, cluster: Path) -> dict[str, Any]:
    """:func:`table_differences` of every table in :data:`TABLE_KEYS` under the two folders."""
    from refinery.config import load_settings
    from refinery.spark.session import build_spark

    settings = load_settings([ROOT / "conf" / "local.yaml"], ["spark.progress_bar=false"])
    spark = build_spark(settings.spark, "refinery-cluster-parity")
    try:
        read = spark.read.format("delta").load
        return {
            table: table_differences(read(str(local / table)), read(str(cluster / table)), key)
            for table, key in TABLE_KEYS.items()
            if (local / table).exists() and (cluster / table).exists()
        }
    finally:
        spark.stop()


def run() -> dict:
    megabytes = int(os.environ.get("REFINERY_PARITY_MB", DEFAULT_MB))
    work = Path(tempfile.mkdtemp(prefix="refinery-parity-", dir=os.environ.get("REFINERY_BENCH_TMP")))
    env = {**os.environ, "REFINERY_HOME": str(ROOT), "PYTHONPATH": str(ROOT / "libs")}
    ports = {"MASTER_PORT": 7077, "MASTER_UI_PORT": 8080, "WORKER_UI_PORT": 8081}
    cluster_env = {**env, "CLUSTER_DIR": str(work / "daemons"), "WORKERS": str(WORKERS), "WORKER_CORES": "1"}
    cluster_env |= {"WORKER_MEMORY": "4g"} | {name: str(free_port(port)) for name, port in ports.items()}
    master = f"spark://127.0.0.1:{cluster_env['MASTER_PORT']}"
    try:
        source = work / "input" / "corpus.jsonl"
        data = write_input(source, "short", megabytes)
        local = {job: run_job(job, work / "local", source, env)["seconds"] for job in JOBS}
        _cluster("start", cluster_env)
        try:
            cluster = {job: submit_job(job, master, work / "cluster", source, cluster_env)["seconds"] for job in JOBS}
        finally:
            _cluster("stop", cluster_env)
        tables = compare_tables(work / "local" / "tables", work / "cluster" / "tables")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    same = tables_identical(tables)
    return {
        "input": {"shape": "short", **data, "jobs": list(JOBS)},
        "cluster": {"workers": WORKERS, "cores_per_worker": 1, "shuffle_partitions": CLUSTER_SHUFFLE_PARTITIONS},
        "seconds": {"local": local, "cluster": cluster},
        "identical": same,
        "tables": tables,
    }
