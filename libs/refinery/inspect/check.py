"""``refinery inspect --check``: the proposed stanza tried for real. The first records of the
input are copied into a temporary folder (:mod:`refinery.inspect.sample`), a temporary config
extends the user's (every table in that folder, only the proposed source, its ``path`` the
sample), the real ``ingest`` job runs on it in Spark, and what it did is counted: rows read,
bronze rows, quarantined rows by reason with a few record ids (never a payload or a text: the
input may hold personal data), filtered rows and the labels bronze got."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from refinery.config import TABLE_NAMES, Settings, load_settings
from refinery.inspect.sample import write_sample
from refinery.runtime.runner import EXIT_FAILED, EXIT_OK, new_run_id, run_one

#: Example ids shown per quarantine reason.
EXAMPLES = 3


@dataclass
class CheckResult:
    """What ingest did with the sample; ``exit_code`` 0 when it ran, 1 when it failed."""

    exit_code: int
    rows_read: int = 0
    bronze_rows: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    filtered: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)


def check_settings(
    files: Sequence[str], stanza: dict[str, Any], name: str, base_conf: str, folder: str, records: int
) -> Settings:
    """Write the sample of ``files`` and a config extending ``base_conf`` under ``folder``, and
    load it. The source is set whole (an override, not a merge), so that a source of the same
    name in ``base_conf`` adds none of its keys to the one checked."""
    source = dict(stanza)
    source["path"] = write_sample(files, source, os.path.join(folder, "sample"), records)
    if source["format"] == "delta":  # its data files were sampled as Parquet rows
        source["format"] = "parquet"
    config = {
        "extends": os.path.abspath(base_conf),
        "tables": {table: os.path.join(folder, "tables", table) for table in TABLE_NAMES},
        "ingest": {"input_root": folder, "only": [name]},
        "spark": {"progress_bar": False},
    }
    path = os.path.join(folder, "check.yaml")
    with open(path, "w", encoding="utf-8") as out:
        yaml.safe_dump(config, out, allow_unicode=True, sort_keys=False)
    return load_settings([path], [f"ingest.sources.{name}={json.dumps(source, ensure_ascii=False)}"])


def run_check(settings: Settings, name: str, spark: Any = None) -> CheckResult:
    """Run ``ingest`` with ``settings`` (in ``spark``, or a session of its own, stopped after)
    and count what it did with the source ``name``."""
    from refinery.spark.session import build_spark

    own = spark is None
    session = build_spark(settings.spark, f"{settings.app_name}-inspect") if own else spark
    try:
        run_id = new_run_id("ingest")
        if run_one("ingest", settings, session, run_id) != EXIT_OK:
            return CheckResult(EXIT_FAILED)
        return _counts(session, settings, name, run_id)
    finally:
        if own:
            session.stop()


def _counts(spark: Any, settings: Settings, name: str, run_id: str) -> CheckResult:
    from pyspark.sql import functions as F

    from refinery.spark.tables import read_table

    stage = (
        read_table(spark, settings.tables.metrics)
        .where((F.col("run_id") == run_id) & (F.col("stage") == f"ingest/{name}"))
        .first()
    )
    if stage is None:
        return CheckResult(EXIT_FAILED)
    refused = read_table(spark, settings.tables.quarantine).where(F.col("run_id") == run_id)
    examples: dict[str, list[str]] = {}
    where = refused.select("reason", "record_id", "source_path", "source_line").orderBy("source_path", "source_line")
    for row in where.collect():
        found = examples.setdefault(row.reason, [])
        if len(found) < EXAMPLES:
            found.append(row.record_id or f"{os.path.basename(row.source_path or '')}:{row.source_line}")
    bronze = read_table(spark, settings.tables.bronze).where(F.col("run_id") == run_id)
    labels = {row.label or "(none)": row["count"] for row in bronze.groupBy("label").count().collect()}
    return CheckResult(
        EXIT_OK,
        rows_read=stage.rows_in,
        bronze_rows=stage.rows_out,
        quarantined=dict(stage.quarantined_by_reason or {}),
        examples=examples,
        filtered=dict(stage.filtered_by_reason or {}),
        labels=dict(sorted(labels.items())),
    )


def report_lines(result: CheckResult) -> list[str]:
    """The counts as ``#`` lines, to follow the YAML on stdout and leave it valid YAML."""
    if result.exit_code != EXIT_OK:
        return ["# check: ingest failed on the sample (see the log lines above); fix the stanza and rerun"]
    lines = [f"# check: ingest read {result.rows_read:,} rows of the sample: {result.bronze_rows:,} to bronze"]
    for reason, count in sorted(result.quarantined.items()):
        lines.append(f"#   quarantined {reason}: {count:,} (e.g. {', '.join(result.examples.get(reason, []))})")
    for reason, count in sorted(result.filtered.items()):
        lines.append(f"#   filtered {reason}: {count:,}")
    labels = ", ".join(f"{label}: {count:,}" for label, count in result.labels.items())
    lines.append(f"#   labels in bronze: {labels or 'none'}")
    return lines
