"""What the record parser tests share: the limits, the reasons each outcome may carry, a source
spec builder, ``parse`` over bytes and the contract every output row must satisfy."""

from __future__ import annotations

import re
from typing import Any

from refinery.ingest.settings import SourceSettings
from refinery.sources import reasons
from refinery.sources.record_rows import RECORD_FIELDS, Limits
from refinery.sources.records import parse_file

LIMITS = Limits(max_text_chars=200, payload_max_chars=40)

QUARANTINE_REASONS = {
    reasons.UNDECODABLE,
    reasons.MALFORMED_JSON,
    reasons.MALFORMED_RECORD,
    reasons.MISSING_COLUMN,
    reasons.EMPTY_TEXT,
    reasons.TEXT_TOO_LONG,
    reasons.MISSING_ID,
    reasons.MISSING_LABEL,
    reasons.LABEL_NOT_IN_SET,
    reasons.BAD_EVENT_TS,
    reasons.DUPLICATE_ID_CONFLICT,
    reasons.UNREADABLE_FILE,
}
FILTER_REASONS = {reasons.BLANK_LINE, reasons.DUPLICATE_RECORD, reasons.ALREADY_INGESTED}


def spec(**values: Any) -> SourceSettings:
    """A validated source spec; ``path`` defaults to a placeholder."""
    values.setdefault("path", "input")
    return SourceSettings.model_validate(values)


def parse(data: bytes, source_spec: SourceSettings, path: str = "in/file", limits: Limits = LIMITS) -> list[dict]:
    return list(parse_file(data, path, "src", source_spec, limits))


def only(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


def assert_row_contract(rows: list[dict], limits: Limits = LIMITS) -> None:
    """Invariants every parser output row must satisfy."""
    for row in rows:
        assert tuple(row) == RECORD_FIELDS
        assert row["outcome"] in {"ok", "quarantine", "filter"}, row
        if row["outcome"] == "ok":
            assert row["reason"] is None
            assert row["payload"] is None
            assert row["text"] and row["text"].strip()
            assert re.fullmatch(r"[0-9a-f]{64}", row["content_hash"])
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in row["meta"].items())
        elif row["outcome"] == "quarantine":
            assert row["reason"] in QUARANTINE_REASONS, row
            assert row["payload"], row
            assert len(row["payload"]) <= limits.payload_max_chars
            assert row["content_hash"] is None
        else:
            assert row["reason"] in FILTER_REASONS, row


JSONL = spec(format="jsonl", columns={"text": "text", "label": "label"}, label_required=False)
