"""Why a record was quarantined or filtered: the closed vocabulary used in ``quarantine.reason``
and in the ``metrics`` maps. Every record that does not reach the output table carries one.

Quarantined records are kept (with their payload) for a person to inspect and replay;
filtered records are counted only, because the output already holds an identical row.
"""

from __future__ import annotations

# --- quarantined by ingest -----------------------------------------------------------------
#: bytes that no configured encoding decodes, or a decoded value holding a lone surrogate (a
#: JSON ``"\ud800"`` escape of half a UTF-16 pair): a string with no UTF-8 form either way
UNDECODABLE = "undecodable"
#: a JSONL line that is not one JSON object: syntax, nesting deeper than the parser follows,
#: an integer literal over Python's digit limit, or a duplicate key
MALFORMED_JSON = "malformed_json"
MALFORMED_RECORD = "malformed_record"  #: CSV/TSV with the wrong field count or broken quoting
MISSING_COLUMN = "missing_column"  #: a record without the column(s) mapped to text
EMPTY_TEXT = "empty_text"  #: text null, empty or whitespace only
TEXT_TOO_LONG = "text_too_long"  #: text over ``ingest.max_text_chars``
#: a physical line over ``ingest.max_line_bytes``: read through but not kept, so that a
#: parser's memory stays bounded (its head is the payload)
LINE_TOO_LONG = "line_too_long"
MISSING_ID = "missing_id"  #: an empty value in the configured id column
MISSING_LABEL = "missing_label"  #: no label where ``label_required``
LABEL_NOT_IN_SET = "label_not_in_set"  #: label outside the source's ``labels``
BAD_EVENT_TS = "bad_event_ts"  #: an ``event_ts`` value that does not parse
DUPLICATE_ID_CONFLICT = "duplicate_id_conflict"  #: an id already used by a different record
UNREADABLE_FILE = "unreadable_file"  #: a file that cannot be read or decompressed at all

# --- filtered (counted, not kept) by ingest ------------------------------------------------
BLANK_LINE = "blank_line"  #: an empty physical line in a line-per-record file
DUPLICATE_RECORD = "duplicate_record"  #: same id and same content twice in one batch
ALREADY_INGESTED = "already_ingested"  #: same id and same content already in another batch
