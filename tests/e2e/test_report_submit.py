"""``spark-submit jobs/report.py`` on empty tables, in its own process: a page of no-data notes
and a reconciled metrics row that read no table."""

from __future__ import annotations

import subprocess

from pyspark.sql import functions as F

from refinery.config import TABLE_NAMES, load_settings
from refinery.report.html import PLOT_IDS
from refinery.spark.tables import read_table
from tests.support.paths import ROOT
from tests.support.report_page import parse_report
from tests.support.subprocess_helpers import submit_command, subprocess_env


def report_row(spark, settings, run_id):
    (row,) = read_table(spark, settings.tables.metrics).where(F.col("run_id") == run_id).collect()
    return row


def test_spark_submit_report_on_empty_tables_writes_no_data_notes(spark, tmp_path):
    tables = tmp_path / "tables"
    overrides = [f"tables.{name}={tables / name}" for name in TABLE_NAMES] + [f"report.dir={tmp_path / 'reports'}"]
    command = submit_command("local[2]", "report", "--conf", str(ROOT / "conf" / "local.yaml"))
    command += ["--run-id", "report-empty"] + [arg for pair in overrides for arg in ("--set", pair)]
    done = subprocess.run(command, cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    page = (tmp_path / "reports" / "report-empty" / "report.html").read_text(encoding="utf-8")
    parsed = parse_report(page)
    for plot in PLOT_IDS:
        assert parsed.figures[plot].images == [] and len(parsed.figures[plot].no_data) == 1, plot
    row = report_row(spark, load_settings([ROOT / "conf" / "local.yaml"], overrides), "report-empty")
    assert row.rows_in == row.rows_out == 0 and row.reconciled
    assert row.details["no_data"] == ",".join(p[5:] for p in PLOT_IDS) and row.details["tables_read"] == ""
