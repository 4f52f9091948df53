"""Structured logs: one JSON object per line on stderr, each carrying the job and run_id.

Log counts and identifiers only: text, labels of single records and PII never go here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """Render a record as ``{"ts", "level", "logger", "event", ...extra fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _JobAdapter(logging.LoggerAdapter):
    """Adds the job's fields to every record while keeping the call's own ``extra``."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


#: The levels ``--log-level`` accepts, most verbose first.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def refinery_logger() -> logging.Logger:
    """The ``refinery`` logger, writing JSON lines to stderr (set up once, INFO by default)."""
    logger = logging.getLogger("refinery")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def set_log_level(level: str) -> None:
    """Set the level of every Refinery log line (one of :data:`LOG_LEVELS`)."""
    if level not in LOG_LEVELS:
        raise ValueError(f"log level {level!r}: use one of {', '.join(LOG_LEVELS)}")
    refinery_logger().setLevel(level)


def job_logger(job: str, run_id: str) -> logging.LoggerAdapter:
    """A logger whose lines all carry ``job`` and ``run_id``."""
    return _JobAdapter(refinery_logger(), {"job": job, "run_id": run_id})
