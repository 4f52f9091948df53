"""Concurrency (issue 9, part 3): Delta's optimistic commits either serialize two writers or
refuse the later commit; Refinery then runs the losing write again on the new snapshot
(:mod:`refinery.spark.commit_retry`), and no id is ever written twice.

* Four threads of one session write disjoint slices of one unpartitioned table at the same
  moment, first creating it, then MERGEing updates: every MERGE reads the whole table, so
  Delta refuses the racing commits for real (``ConcurrentAppendException`` and kin); each
  write is retried until it lands and the table holds every slice exactly once. (Before the
  first write created tables with ``errorifexists``, a writer that found the table missing
  overwrote the rows of one that created it meanwhile: the ``clean`` race below lost half of
  silver that way.)
* Two ``clean`` processes (separate drivers, like two cluster jobs) on overlapping batches —
  one cleans batch ``b1``, the other every batch — start together; both exit 0, silver has no
  duplicate id, and silver and clean's quarantine hold exactly what the two runs leave when run
  one after the other (content hashes compared).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import yaml
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.config import TABLE_NAMES
from refinery.runtime.runner import run_one
from refinery.spark.commit_retry import RETRIES_PROPERTY, WAIT_PROPERTY
from refinery.spark.tables import delta_table, merge_rows, read_table
from tests.support.paths import ROOT, corpora_dir
from tests.support.spark_helpers import ingest
from tests.support.subprocess_helpers import json_lines

CONFLICT_EVENT = "Delta commit conflict, retrying the write"


class RetryRecorder(logging.Handler):
    """Collects the retry warnings of :mod:`refinery.spark.commit_retry` in this process."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.conflicts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == CONFLICT_EVENT:
            self.conflicts.append(record.conflict)


def race(spark: SparkSession, location: str, frames: dict[int, DataFrame]) -> list[str]:
    """MERGE each frame (slice ``s``: scope ``t.slice = s``) into ``location`` from its own
    thread, all released at once; fail on any error. Returns the conflicts retried."""
    recorder = RetryRecorder()
    logging.getLogger("refinery.commit_retry").addHandler(recorder)
    barrier, errors = threading.Barrier(len(frames)), []

    def writer(s: int) -> None:
        barrier.wait()
        try:
            merge_rows(spark, frames[s], location, scope=f"t.slice = {s}")
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            errors.append(exc)

    previous = {key: spark.conf.get(key) for key in (RETRIES_PROPERTY, WAIT_PROPERTY)}
    spark.conf.set(RETRIES_PROPERTY, "10")  # four writers: the last may lose three races in a row
    spark.conf.set(WAIT_PROPERTY, "0.2")
    try:
        threads = [threading.Thread(target=writer, args=(s,)) for s in frames]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    finally:
        logging.getLogger("refinery.commit_retry").removeHandler(recorder)
        for key, value in previous.items():
            spark.conf.set(key, value)
    assert not errors, errors
    return recorder.conflicts


def test_racing_writers_of_one_table_all_land_exactly_once(spark: SparkSession, tmp_path: Path) -> None:
    location, schema = str(tmp_path / "table"), "id string, slice int, version int"
    slices, rows = 4, 10

    # Round 1: the table does not exist yet. One writer creates it; a writer that finds it
    # created meanwhile MERGEs into it instead of overwriting the winner's rows.
    first = {s: spark.createDataFrame([(f"{s}-{i}", s, 0) for i in range(rows)], schema) for s in range(slices)}
    created = race(spark, location, first)
    table = read_table(spark, location)
    assert sorted(r.id for r in table.collect()) == sorted(f"{s}-{i}" for s in range(slices) for i in range(rows))

    # Round 2: every slice updates its rows, deletes one and adds two, all at once.
    def new_rows(s: int) -> DataFrame:
        kept = [(f"{s}-{i}", s, 1) for i in range(1, rows)]
        return spark.createDataFrame(kept + [(f"{s}-new{j}", s, 1) for j in range(2)], schema)

    second = {s: new_rows(s) for s in range(slices)}
    merged = race(spark, location, second)
    table = read_table(spark, location)
    ids = [row.id for row in table.select("id").collect()]
    assert len(ids) == len(set(ids)) == slices * (rows + 1)
    assert sorted(ids) == sorted(row.id for frame in second.values() for row in frame.select("id").collect())
    assert table.where("version != 1").count() == 0
    operations = [row.operation for row in delta_table(spark, location).history().collect()]
    assert sorted(operations) == sorted(["WRITE"] + ["MERGE"] * (2 * slices - 1))  # one commit per write
    # The writers raced for real: Delta refused commits, and the retries landed them.
    print(f"conflicts retried: creation round {created}, update round {merged}")
    assert merged, "no commit conflict: the four MERGEs did not overlap"


def write_sms_slice(root: Path, first: int, count: int) -> Path:
    """SMS Spam Collection rows ``first`` … ``first + count - 1`` (after its header) where the
    ``sms_spam`` source expects them under ``root``."""
    lines = (corpora_dir() / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    target = root / "sms_spam_collection" / "SMSSpamCollection"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join([lines[0], *lines[1 + first : 1 + first + count]]) + "\n", encoding="utf-8")
    return root


def content_hash(frame: DataFrame, run_columns: set[str]) -> str:
    """SHA-256 of a table's rows (sorted, as JSON) without the columns that name the run."""
    columns = sorted(c for c in frame.columns if c not in run_columns)
    rows = sorted(frame.select(F.to_json(F.struct(*columns)).alias("j")).toPandas()["j"])
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()


SILVER_RUN_COLUMNS = {"clean_run_id", "cleaned_at"}
QUARANTINE_RUN_COLUMNS = {"run_id", "quarantined_at"}


def test_two_clean_runs_on_overlapping_batches_converge_without_duplicate_ids(
    spark: SparkSession, make_settings, tmp_path: Path
) -> None:
    for batch, first in (("b1", 0), ("b2", 150)):
        root = write_sms_slice(tmp_path / f"input-{batch}", first, 150)
        ingest(spark, make_settings(f"ingest.input_root={root}", "ingest.only=[sms_spam]", f"ingest.batch={batch}"))
    tables = tmp_path / "tables"

    # The reference: the same two cleans one after the other, on a copy of bronze, in-process.
    reference = tmp_path / "reference"
    (reference / "bronze").parent.mkdir()
    subprocess.run(["cp", "-r", str(tables / "bronze"), str(reference / "bronze")], check=True)
    ref_settings = make_settings(*[f"tables.{name}={reference / name}" for name in TABLE_NAMES])
    for batch in ("b1", None):
        settings = ref_settings.model_copy(update={"clean": ref_settings.clean.model_copy(update={"batch": batch})})
        assert run_one("clean", settings, spark, f"reference-clean-{batch or 'all'}") == 0

    overlay = {
        "extends": str(ROOT / "conf" / "local.yaml"),
        "spark": {"progress_bar": False, "shuffle_partitions": 2},
        "tables": {name: str(tables / name) for name in TABLE_NAMES},
    }
    conf = tmp_path / "concurrent.yaml"
    conf.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "libs"), os.environ.get("PYTHONPATH", "")]))
    env.update(REFINERY_HOME=str(ROOT), PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    runs = {"b1": ["--set", "clean.batch=b1"], "all": []}
    processes = {}
    for name, extra in runs.items():
        scratch = tmp_path / f"scratch-{name}"
        scratch.mkdir()
        command = [sys.executable, "-m", "refinery.cli", "clean", "--conf", str(conf), "--run-id", f"clean-{name}"]
        command += ["--set", f"spark.conf.spark.local.dir={scratch}", *extra]
        processes[name] = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=dict(env, TMPDIR=str(scratch)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    outputs = {name: process.communicate(timeout=900)[0] for name, process in processes.items()}
    for name, process in processes.items():
        assert process.returncode == 0, outputs[name][-3000:]
    conflicts = [line for out in outputs.values() for line in json_lines(out) if line.get("event") == CONFLICT_EVENT]
    print(f"commit conflicts retried: {len(conflicts)} ({sorted({c['conflict'] for c in conflicts})})")

    silver = read_table(spark, str(tables / "silver"))
    ids = [row.id for row in silver.select("id").collect()]
    assert len(ids) == len(set(ids)), "a clean run wrote an id twice"
    bronze_ids = {row.id for row in read_table(spark, str(tables / "bronze")).select("id").collect()}
    assert set(ids) <= bronze_ids and len(ids) > 250
    expected_silver = read_table(spark, str(reference / "silver"))
    assert content_hash(silver, SILVER_RUN_COLUMNS) == content_hash(expected_silver, SILVER_RUN_COLUMNS)
    quarantine = read_table(spark, str(tables / "quarantine")).where("stage = 'clean'")
    expected_quarantine = read_table(spark, str(reference / "quarantine")).where("stage = 'clean'")
    assert content_hash(quarantine, QUARANTINE_RUN_COLUMNS) == content_hash(expected_quarantine, QUARANTINE_RUN_COLUMNS)
    metrics = read_table(spark, str(tables / "metrics")).where("job = 'clean'").collect()
    assert sorted(row.run_id for row in metrics) == ["clean-all", "clean-b1"]
    assert all(row.rows_in == row.rows_out + row.rows_quarantined + row.rows_filtered for row in metrics)
