"""Refinery's JSON log lines and the ``--log-level`` option (no Spark)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from refinery.logs import JsonFormatter, job_logger, refinery_logger, set_log_level
from refinery.runtime.runner import argument_parser


@pytest.fixture
def captured():
    """The JSON lines the ``refinery`` logger emits during the test; the level is restored."""
    logger = refinery_logger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    level = logger.level
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_every_line_carries_the_job_and_run_id_and_the_call_fields(captured):
    set_log_level("INFO")
    job_logger("clean", "run-1").info("stage finished", extra={"rows_in": 3, "seconds": 0.5})
    (line,) = captured()
    assert line["event"] == "stage finished" and line["level"] == "INFO"
    assert (line["job"], line["run_id"], line["rows_in"], line["seconds"]) == ("clean", "run-1", 3, 0.5)


@pytest.mark.parametrize(
    ("level", "shown"),
    [("DEBUG", ["d", "i", "w"]), ("INFO", ["i", "w"]), ("WARNING", ["w"]), ("ERROR", [])],
)
def test_the_log_level_hides_the_lines_below_it(captured, level, shown):
    set_log_level(level)
    log = job_logger("score", "run-2")
    log.debug("d")
    log.info("i")
    log.warning("w")
    assert [line["event"] for line in captured()] == shown


def test_the_log_level_option_defaults_to_info_and_refuses_others():
    parser = argument_parser("refinery clean")
    assert parser.parse_args([]).log_level == "INFO"
    assert parser.parse_args(["--log-level", "DEBUG"]).log_level == "DEBUG"
    with pytest.raises(SystemExit) as refused:
        parser.parse_args(["--log-level", "LOUD"])
    assert refused.value.code == 2
    with pytest.raises(ValueError, match="LOUD"):
        set_log_level("LOUD")
