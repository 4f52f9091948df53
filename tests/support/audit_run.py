"""One ``refinery pipeline`` process at DEBUG log level shared by the two whole-pipeline audits
of issue 9 (``tests/e2e/reliability/test_bad_input.py`` and ``test_pii_leak.py``): its input is
the union of theirs, each source its own, so each audit asserts on the same run:

* 300 labelled SMS messages (so score, rebalance and select have work);
* the bad-input corpus (:mod:`tests.support.bad_inputs`, one ingest source per kind);
* the PII test corpora (Presidio's recogniser cases, the Chinese cases), labelled;
* ``pii_bad``: broken records carrying PII (ingest quarantines every one).

The settings are the union of the two audits' as well: ``ingest.max_text_chars`` and a fixed batch
name (bad input), ``ingest.payload_mask`` and the Presidio cases' phone regions (PII leak), and a
lighter score model (the corpus is small). Everything lives under one folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.pii_bench import PRESIDIO_PHONE_REGIONS
from refinery.config import TABLE_NAMES
from tests.support.bad_inputs import MAX_TEXT_CHARS, BadKind, byte_lines, write_bad_corpus
from tests.support.paths import ROOT, corpora_dir
from tests.support.subprocess_helpers import write_sms_sample

SMS_MESSAGES = 300
PRESIDIO = "presidio_recognizer_testcases/presidio_analyzer_testcases.jsonl"
CN = "cn_pii_recognizer_testcases/cn_pii_testcases.jsonl"
#: Broken records with PII: ingest quarantines every one (bad JSON, unknown label, no label).
BAD_RECORDS = [
    '{"text": "call me on 13912345678 or mail zhang.wei@example.com", "label": ',
    '{"text": "身份证110101199001011237，卡号6222 0202 0000 1234 562", "label": "nope"}',
    '{"text": "from 203.0.113.77 token https://u:hunter22@h.example.com/x"}',
    '{"text": "passport E12345678 and +44 20 7946 0958", "label": "secret"}',
]
#: The PII audit's sources besides ``sms_spam``.
PII_SOURCES = ("cn_pii_cases", "presidio_cases", "pii_bad")


@dataclass
class AuditRun:
    """The finished run: its folder (``tables/``, ``reports/``, ``exports/`` under it), the bad
    kinds written, the records of the PII audit's sources (physical lines of their JSONL files,
    counted as ingest counts them) and the process (exit code, stdout and stderr)."""

    folder: Path
    kinds: list[BadKind]
    pii_records: int
    done: subprocess.CompletedProcess

    @property
    def tables(self) -> Path:
        return self.folder / "tables"

    @property
    def logs(self) -> str:
        return self.done.stdout + self.done.stderr


def write_inputs(inputs: Path) -> tuple[list[BadKind], int]:
    """Every source's files under ``inputs``; returns the bad kinds and the PII sources' records."""
    write_sms_sample(inputs, SMS_MESSAGES)
    kinds = write_bad_corpus(inputs)
    for relative in (PRESIDIO, CN):
        (inputs / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpora_dir() / relative, inputs / relative)
    (inputs / "pii_bad").mkdir()
    (inputs / "pii_bad" / "bad.jsonl").write_text("\n".join(BAD_RECORDS) + "\n", encoding="utf-8")
    files = [inputs / PRESIDIO, inputs / CN, inputs / "pii_bad" / "bad.jsonl"]
    return kinds, sum(byte_lines(path.read_bytes()) for path in files)


def overlay(folder: Path, inputs: Path, kinds: list[BadKind]) -> dict:
    """conf/local.yaml with every table and scratch folder under ``folder`` and every source."""
    tables = folder / "tables"
    return {
        "extends": str(ROOT / "conf" / "local.yaml"),
        # Spark's scratch under this run's folder: other processes on the machine clean /tmp
        "spark": {"progress_bar": False, "shuffle_partitions": 2, "conf": {"spark.local.dir": str(folder / "spark")}},
        "tables": {name: str(tables / name) for name in TABLE_NAMES},
        "ingest": {
            "input_root": str(inputs),
            "batch": "bad-corpus",  # not auto: that lists every source's files once more
            "max_text_chars": MAX_TEXT_CHARS,
            "payload_mask": True,
            "only": ["sms_spam", *PII_SOURCES, *(kind.source for kind in kinds)],
            "sources": {
                # labels, so the cases also reach score, gold and the review queue
                "cn_pii_cases": {"columns": {"text": "text", "label": "kind"}},
                "presidio_cases": {"columns": {"text": "text", "label": "test_function"}},
                "pii_bad": {
                    "path": "pii_bad/bad.jsonl",
                    "format": "jsonl",
                    "columns": {"text": "text", "label": "label"},
                    "labels": ["ok"],
                },
                **{kind.source: kind.settings for kind in kinds},
            },
        },
        # the Presidio cases' Israeli, Turkish and Philippine national phone numbers are in
        # scope with the regions the bench scores them with
        "clean": {"pii": {"phone_regions": list(PRESIDIO_PHONE_REGIONS)}},
        "score": {"work_dir": str(folder / "score_work"), "folds": 3, "model": {"epochs": 2}},
        "select": {"export_dir": str(folder / "exports")},
        "export": {"dir": str(folder / "training_exports")},
        "report": {"dir": str(folder / "reports")},
    }


def run_audit_pipeline(folder: Path) -> AuditRun:
    """Write the inputs and the overlay under ``folder`` and run the whole pipeline once, at
    DEBUG log level, in its own process (``python -m refinery.cli pipeline``)."""
    kinds, pii_records = write_inputs(folder / "input")
    conf = folder / "audit.yaml"
    conf.write_text(yaml.safe_dump(overlay(folder, folder / "input", kinds), allow_unicode=True), encoding="utf-8")
    (folder / "scratch").mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "libs"), os.environ.get("PYTHONPATH", "")]))
    env.update(
        TMPDIR=str(folder / "scratch"),
        REFINERY_HOME=str(ROOT),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    command = [sys.executable, "-m", "refinery.cli", "pipeline", "--conf", str(conf), "--log-level", "DEBUG"]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    return AuditRun(folder=folder, kinds=kinds, pii_records=pii_records, done=done)
