"""The reconcile failure's log line and the fault hook's switch, without Spark; the injected faults
themselves are ``tests/spark/test_reconcile_faults.py``."""

from __future__ import annotations

import io
import json
import logging

from refinery.logs import JsonFormatter, job_logger, refinery_logger
from refinery.runtime.faults import FAULT_ENV, drop_one, fault_on
from refinery.runtime.metrics import StageMetrics
from refinery.runtime.runner import unreconciled_fields


def test_the_reconcile_failure_line_names_the_stage_and_the_difference():
    lost = StageMetrics("clean", 10, 6, {"empty_text": 2}, {"duplicate": 1})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = refinery_logger()
    logger.addHandler(handler)
    try:
        job_logger("clean", "run-9").error("counts do not reconcile", extra=unreconciled_fields(lost))
    finally:
        logger.removeHandler(handler)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["event"] == "counts do not reconcile" and (line["job"], line["stage"]) == ("clean", "clean")
    assert (line["rows_in"], line["rows_out"], line["rows_quarantined"], line["rows_filtered"]) == (10, 6, 2, 1)
    assert (line["rows_accounted"], line["difference"]) == (9, 1)
    invented = unreconciled_fields(StageMetrics("select", 3, 4))
    assert (invented["rows_accounted"], invented["difference"]) == (4, -1)


def test_the_fault_hook_is_off_unless_the_variable_names_the_job(monkeypatch):
    monkeypatch.delenv(FAULT_ENV, raising=False)
    assert not fault_on("clean") and drop_one([1, 2, 3], "clean") == [1, 2, 3]
    monkeypatch.setenv(FAULT_ENV, "dedup, clean")
    assert fault_on("clean") and fault_on("dedup") and not fault_on("score")
    assert drop_one([1, 2, 3], "clean") == [2, 3] and drop_one([1, 2, 3], "score") == [1, 2, 3]
