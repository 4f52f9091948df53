"""Helpers for the tests that run Refinery as a separate process (spark-submit, the console
script, a standalone cluster, Airflow): its environment, its table arguments, its log lines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from refinery.config import TABLE_NAMES


def subprocess_env(**extra: str) -> dict[str, str]:
    """This environment, with the project root and this interpreter for driver and workers."""
    from tests.support.paths import ROOT

    env = dict(os.environ)
    env.update(REFINERY_HOME=str(ROOT), PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    env.update(extra)
    return env


def submit_command(master: str, job: str, *args: str, spark_options: Sequence[str] = ()) -> list[str]:
    """``bash scripts/submit.sh --master MASTER SPARK_OPTIONS <job's entry script> ARGS``: the
    job as a user spark-submits it, with the Delta jars and the ``--py-files`` bundle."""
    from refinery.runtime.runner import ENTRY_SCRIPTS
    from tests.support.paths import ROOT

    script = ROOT / ENTRY_SCRIPTS[job]
    return ["bash", str(ROOT / "scripts" / "submit.sh"), "--master", master, *spark_options, str(script), *args]


def sample_overrides(tables: Path, source: str = "sms_spam", input_root: Path | None = None) -> list[str]:
    """``--set`` arguments: every table under ``tables``, one source read from ``input_root``
    (default: the shared corpora), few shuffle partitions, select's exports, the training exports and the run
    reports beside the tables."""
    from tests.support.paths import corpora_dir

    pairs = [f"tables.{name}={tables / name}" for name in TABLE_NAMES]
    pairs += [f"ingest.input_root={input_root or corpora_dir()}", f"ingest.only=[{source}]"]
    pairs += ["spark.shuffle_partitions=2"]
    pairs += [f"select.export_dir={tables.parent / 'exports'}", f"report.dir={tables.parent / 'reports'}"]
    pairs += [f"export.dir={tables.parent / 'training_exports'}"]
    return [arg for pair in pairs for arg in ("--set", pair)]


def json_lines(output: str) -> list[dict]:
    """Refinery's JSON log lines in a process's output (Spark's progress bar ends in ``\\r``,
    which ``splitlines`` also splits on)."""
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def write_sms_sample(input_root: Path, messages: int) -> Path:
    """The first ``messages`` rows of the SMS Spam Collection (with its header) at the path the
    ``sms_spam`` source expects under ``input_root``; returns ``input_root``. Jobs that start a
    JVM per job (a cluster, Airflow) run on this slice to keep the suite's time in bounds."""
    from tests.support.paths import corpora_dir

    source = corpora_dir() / "sms_spam_collection" / "SMSSpamCollection"
    lines = source.read_text(encoding="utf-8").splitlines()[: messages + 1]
    target = input_root / "sms_spam_collection" / "SMSSpamCollection"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return input_root
