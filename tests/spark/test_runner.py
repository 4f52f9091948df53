"""The runner's own failure paths, in-process on real Delta tables."""

from __future__ import annotations

import logging
from pathlib import Path

from refinery.runtime.runner import EXIT_FAILED, run_one
from refinery.spark.tables import read_table
from tests.support.subprocess_helpers import write_sms_sample


class Events(logging.Handler):
    """The messages the ``refinery`` logger emits."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.events: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(record.getMessage())


def test_a_metrics_row_that_cannot_be_written_fails_the_job_with_a_log_line(spark, make_settings, tmp_path: Path):
    blocked = tmp_path / "metrics-is-a-file"
    blocked.write_text("not a Delta table\n", encoding="utf-8")
    settings = make_settings(
        f"ingest.input_root={write_sms_sample(tmp_path / 'input', 20)}",
        "ingest.only=[sms_spam]",
        f"tables.metrics={blocked}",
    )
    events = Events()
    logging.getLogger("refinery").addHandler(events)
    try:
        code = run_one("ingest", settings, spark, "ingest-metrics-blocked")
    finally:
        logging.getLogger("refinery").removeHandler(events)
    assert code == EXIT_FAILED
    assert "writing the metrics row failed" in events.events and "job finished" not in events.events
    assert read_table(spark, settings.tables.bronze).count() == 20  # the job's own table was written
