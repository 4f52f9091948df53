"""The ingest record row: its columns (:data:`RECORD_FIELDS`), its three outcomes, the size
:class:`Limits`, and the constructors of good, quarantined and filtered rows that every format
parser and record rule builds its rows with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from refinery.ingest.settings import DEFAULT_MAX_LINE_BYTES
from refinery.sources import reasons
from refinery.text.encoding import DecodedLine, printable_payload

OK, QUARANTINE, FILTER = "ok", "quarantine", "filter"

#: Output columns of every parser, in order (the Spark schema mirrors this).
RECORD_FIELDS = (
    "source",
    "path",
    "line",
    "outcome",
    "reason",
    "detail",
    "payload",
    "text",
    "label",
    "raw_id",
    "raw_event_ts",
    "meta",
    "encoding",
    "content_hash",
)


@dataclass(frozen=True)
class Limits:
    """Size limits from ``ingest``: longest text and longest quarantine payload (characters),
    longest physical line read whole (bytes; the bound on a parser's memory per line)."""

    max_text_chars: int
    payload_max_chars: int
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES


def _row(source: str, path: str, line: int, **values: Any) -> dict[str, Any]:
    row = dict.fromkeys(RECORD_FIELDS)
    row.update(source=source, path=path, line=line, outcome=OK, meta={})
    row.update(values)
    return row


def _rejected(source: str, path: str, line: int, reason: str, detail: str, payload: str, limits: Limits) -> dict:
    return _row(
        source,
        path,
        line,
        outcome=QUARANTINE,
        reason=reason,
        detail=detail[:500],
        payload=payload[: limits.payload_max_chars],
    )


def _line_too_long(source: str, path: str, line: DecodedLine, limits: Limits) -> dict:
    payload = printable_payload(line.raw, limits.payload_max_chars)
    detail = f"line of {line.length} bytes > max_line_bytes {limits.max_line_bytes}"
    return _rejected(source, path, line.line_no, reasons.LINE_TOO_LONG, detail, payload, limits)


def _undecodable(source: str, path: str, line: DecodedLine, limits: Limits) -> dict:
    payload = printable_payload(line.raw, limits.payload_max_chars)
    return _rejected(source, path, line.line_no, reasons.UNDECODABLE, line.error or "", payload, limits)


def _filtered(source: str, path: str, line: int, reason: str) -> dict:
    return _row(source, path, line, outcome=FILTER, reason=reason)
