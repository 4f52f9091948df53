"""The job contract from outside: real ``spark-submit jobs/ingest.py`` (local mode) and the
``refinery`` console script, as subprocesses, writing real Delta tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import functions as F

from refinery.config import load_settings
from refinery.spark.tables import read_table
from refinery.text.quality import drop_rule_names
from tests.support.jvm_options import JIT_OPTIONS
from tests.support.subprocess_helpers import json_lines, sample_overrides, submit_command, subprocess_env


def test_spark_submit_ingest_writes_a_delta_table(spark, tmp_path):
    from tests.support.paths import ROOT

    tables = tmp_path / "tables"
    command = submit_command("local[2]", "ingest", "--conf", str(ROOT / "conf" / "local.yaml"))
    command += [*sample_overrides(tables), "--run-id", "submit-test-1"]
    done = subprocess.run(command, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    bronze = str(tables / "bronze")
    assert DeltaTable.isDeltaTable(spark, bronze)
    history = DeltaTable.forPath(spark, bronze).history().collect()
    assert [h.operation for h in history] == ["WRITE"]
    assert read_table(spark, bronze).count() == 5_574
    metrics = read_table(spark, str(tables / "metrics")).where("run_id = 'submit-test-1'").collect()
    assert {m.stage for m in metrics} == {"ingest", "ingest/sms_spam"} and all(m.reconciled for m in metrics)
    # spark-submit's PythonRunner merges the driver's stderr into its stdout.
    logged = json_lines(done.stdout + done.stderr)
    assert logged and all(entry["run_id"] == "submit-test-1" for entry in logged)
    assert any(entry["event"] == "stage finished" and entry.get("rows_out") == 5_574 for entry in logged)


def test_refinery_pipeline_runs_every_job_in_local_mode(spark, tmp_path):
    from tests.support.paths import ROOT

    tables = tmp_path / "tables"
    script = Path(sys.executable).with_name("refinery")
    command = [str(script), "pipeline", "--conf", str(ROOT / "conf" / "local.yaml"), *sample_overrides(tables)]
    # as shipped: Spark's generated code (the rest of the suite evaluates SQL interpreted)
    env = subprocess_env(JAVA_TOOL_OPTIONS=JIT_OPTIONS)
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    assert read_table(spark, str(tables / "bronze")).count() == 5_574
    silver = read_table(spark, str(tables / "silver"))
    quarantined = read_table(spark, str(tables / "quarantine")).where("stage = 'clean'").count()
    assert silver.count() + quarantined == 5_574 and silver.where("lang = 'en'").count() > 5_000
    metrics = read_table(spark, str(tables / "metrics")).collect()
    jobs = {"ingest", "clean", "dedup", "score", "rebalance", "drift", "select", "export", "report"}
    assert {row.job for row in metrics} == jobs
    assert silver.where("confidence IS NOT NULL AND pred_label IN ('ham', 'spam')").count() == silver.count()
    # SMS Spam Collection repeats about 400 messages verbatim: dedup flags them, deletes none
    assert 300 < silver.where("dup_kind = 'exact'").count() < 1_000
    # gold: silver's kept rows (no drop quality rule among their quality_flags), smoothed per class
    # (local.yaml: alpha 0.5), weights of mean 1
    gold = read_table(spark, str(tables / "gold"))
    drops = sorted(drop_rule_names(load_settings([ROOT / "conf" / "local.yaml"]).clean.quality.active_rules()))
    low_quality = F.exists("quality_flags", lambda name: name.isin(*drops))
    kept = silver.where("lang_allowed AND dup_of IS NULL AND NOT is_noisy").where(~low_quality)
    assert silver.where(low_quality).count() > 0  # SMS holds digit-only and repeated messages
    assert gold.count() == kept.count() and gold.select("label").distinct().count() == 2
    assert gold.where(F.exists("quality_flags", lambda name: name.isin(*drops))).count() == 0
    assert abs(gold.agg({"sample_weight": "avg"}).first()[0] - 1.0) < 1e-9
    # drift (local.yaml: windows by ingest batch): one batch, so one window and nothing to compare
    drift = {row.stage: row for row in metrics if row.job == "drift"}
    assert drift["drift"].reconciled and drift["drift"].rows_out == silver.count()
    windows = [row for row in drift.values() if row.details["kind"] == "window"]
    assert len(windows) == 1 and windows[0].details["group"] == "sms_spam" and windows[0].details["alert"] == "false"
    assert "nothing to compare" in drift["drift"].details["note"] and drift["drift"].details["comparisons"] == "0"
    # select: every row is labelled, so the queue holds QC rows only (local.yaml caps them at 1,000)
    queue = read_table(spark, str(tables / "review_queue"))
    low = silver.where("confidence < 0.85").count()
    assert 0 < queue.count() <= 1_000 and queue.where("reason = 'active_learning'").count() == 0
    assert queue.where("reason = 'low_confidence'").count() == min(low, queue.count())
    (run_dir,) = (tmp_path / "exports").iterdir()
    assert len((run_dir / "review_queue.jsonl").read_text(encoding="utf-8").splitlines()) == queue.count()
    # report: the last job, one page naming every other job's run, its path in the metrics
    (report,) = [row for row in metrics if row.job == "report"]
    assert report.reconciled and Path(report.details["path"]).parent.parent == tmp_path / "reports"
    assert "<h2>Drift timeline</h2>" in Path(report.details["path"]).read_text(encoding="utf-8")
    assert {key[4:] for key in report.details if key.startswith("run.")} == jobs - {"report"}
    assert not (tmp_path / "data").exists()  # tables went where the config said
