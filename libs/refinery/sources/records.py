"""File bytes → ingest records, in pure Python (no Spark), one generator per format.

Each input record becomes exactly one output row: a good record (``outcome = "ok"``), a
quarantined one (``"quarantine"``, with ``reason``, ``detail`` and the original ``payload``) or
a filtered one (``"filter"``, counted but not kept, e.g. a blank line). So the counts of one
file always reconcile: records = ok + quarantined + filtered.

The Spark layer (:mod:`refinery.ingest.read`) calls :func:`parse_range` inside
``mapInArrow`` on byte ranges of the input files, which are read in bounded chunks
(:mod:`refinery.sources.file_lines`), and :func:`record_from_mapping` on Parquet rows, so one
set of rules covers every format.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

from refinery.config import DEFAULT_MAX_LINE_BYTES, ColumnRef, SourceSettings
from refinery.sources import reasons, strict_json
from refinery.sources.file_lines import FileRange, Opener, UnreadableFileError, bytes_opener, file_lines
from refinery.sources.splits import one_record_per_line
from refinery.text.encoding import DecodedLine, decode_raw_lines, find_lone_surrogate, printable_payload
from refinery.text.line_split import RawLine

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


def parse_file(data: bytes, path: str, source: str, spec: SourceSettings, limits: Limits) -> Iterator[dict[str, Any]]:
    """All records of one file held in memory, good and bad, as dicts with
    :data:`RECORD_FIELDS` (:func:`parse_range` over the whole file)."""
    return parse_range(bytes_opener(data), FileRange(path), source, spec, limits)


def parse_range(
    opener: Opener,
    span: FileRange,
    source: str,
    spec: SourceSettings,
    limits: Limits,
) -> Iterator[dict[str, Any]]:
    """All records that start in one byte range of one file, good and bad, as dicts with
    :data:`RECORD_FIELDS`. A range that does not start the file gets the file's CSV/TSV
    header (and expected field count) from the file's first lines."""
    path = span.path
    lines = file_lines(opener, span, spec.encoding, spec.fallback_encoding, limits.max_line_bytes)
    try:
        first = next(lines, None)
    except UnreadableFileError as exc:
        yield _rejected(source, path, 0, reasons.UNREADABLE_FILE, str(exc), "", limits)
        return
    if first is None:
        return
    lines = chain([first], lines)
    path_label = label_from_path(path, spec.label_from_path)
    if spec.format == "jsonl":
        rows = _jsonl_records(lines, path, source, limits)
    elif spec.format == "text":
        rows = _text_records(lines, path, source, limits)
    else:
        layout = Layout() if span.start == 0 else file_layout(opener, path, source, spec, limits)
        rows = _delimited_records(lines, path, source, spec, limits, layout)
    for row in rows:
        if row["outcome"] == OK:
            row = _finish(row, spec, limits, path_label)
        yield row


def parse_line(
    raw: bytes,
    length: int | None,
    line_no: int,
    path: str,
    source: str,
    spec: SourceSettings,
    limits: Limits,
    encoding: str,
    layout: Layout | None = None,
) -> dict[str, Any]:
    """The record of one physical line of a JSONL or text file, or of a CSV/TSV file read line
    by line (``multiline: false``, with the file's ``layout``; not its header line): what
    :func:`parse_range` yields for that line when the file decodes with ``encoding`` (``raw``
    without its newline; ``length`` set for a line over ``max_line_bytes``, ``raw`` then its
    head). The JVM reader (:mod:`refinery.ingest.jvm_lines`) hands the lines it is not certain
    of to this function."""
    lines = decode_raw_lines([RawLine(line_no, raw, length)], encoding, spec.fallback_encoding)
    if spec.format in ("jsonl", "text"):
        rows = (_jsonl_records if spec.format == "jsonl" else _text_records)(lines, path, source, limits)
    elif layout is not None and one_record_per_line(spec):
        rows = _delimited_records(lines, path, source, spec, limits, replace(layout))
    else:
        raise ValueError(f"parse_line reads one-line records (jsonl, text, csv/tsv with a layout), not {spec.format!r}")
    row = next(rows)
    return _finish(row, spec, limits, label_from_path(path, spec.label_from_path)) if row["outcome"] == OK else row


def record_from_mapping(
    values: Mapping[str, Any],
    path: str,
    line: int,
    source: str,
    spec: SourceSettings,
    limits: Limits,
    payload: str,
    encoding: str | None = None,
) -> dict[str, Any]:
    """Map one already-structured record (JSON object, Parquet row, CSV row with header)
    to a validated ingest row."""
    row = _mapped(values, path, line, source, spec, limits, payload, encoding)
    if row["outcome"] == OK:
        row = _finish(row, spec, limits, label_from_path(path, spec.label_from_path))
    return row


def label_from_path(path: str, pattern: str | None) -> str | None:
    """The label that ``pattern`` (one regex group) finds in the file name, if any."""
    if not pattern:
        return None
    match = re.search(pattern, path.rsplit("/", 1)[-1])
    return match.group(1) if match else None


# --------------------------------------------------------------------------------------------
# Formats


def _text_records(lines: Iterable[DecodedLine], path: str, source: str, limits: Limits) -> Iterator[dict]:
    for line in lines:
        if line.length is not None:
            yield _line_too_long(source, path, line, limits)
        elif line.text is None:
            yield _undecodable(source, path, line, limits)
        elif not line.text.strip():
            yield _filtered(source, path, line.line_no, reasons.BLANK_LINE)
        else:
            yield _row(source, path, line.line_no, text=line.text, encoding=line.encoding)


def _jsonl_records(lines: Iterable[DecodedLine], path: str, source: str, limits: Limits) -> Iterator[dict]:
    for line in lines:
        if line.length is not None:
            yield _line_too_long(source, path, line, limits)
            continue
        if line.text is None:
            yield _undecodable(source, path, line, limits)
            continue
        if not line.text.strip():
            yield _filtered(source, path, line.line_no, reasons.BLANK_LINE)
            continue
        try:
            value = strict_json.loads(line.text)
        except strict_json.JsonError as exc:
            yield _rejected(source, path, line.line_no, reasons.MALFORMED_JSON, str(exc), line.text, limits)
            continue
        if not isinstance(value, dict):
            detail = f"a JSON {type(value).__name__}, not an object"
            yield _rejected(source, path, line.line_no, reasons.MALFORMED_JSON, detail, line.text, limits)
            continue
        yield _row(source, path, line.line_no, __mapping__=value, payload=line.text, encoding=line.encoding)


@dataclass
class Layout:
    """What a CSV/TSV file's first record fixes for all the others: the header (when
    ``header``), the number of fields every record must have, the line the header is on, and
    the line of that first record (the header's, when there is one)."""

    header: list[str] | None = None
    expected_fields: int | None = None
    header_line: int | None = None
    first_line: int | None = None


def _delimited_records(
    lines: Iterable[DecodedLine],
    path: str,
    source: str,
    spec: SourceSettings,
    limits: Limits,
    layout: Layout,
) -> Iterator[dict]:
    """CSV/TSV: quoted fields may span lines, so the csv module reads a stream of decoded
    lines; undecodable and over-long lines are reported and left out of that stream.
    ``layout`` is filled from the first record, or comes filled from the start of the file
    for a later byte range (whose lines then skip the header line if they hold it)."""
    position: dict[str, Any] = {"first": 0, "last": 0, "raw": [], "encoding": None}
    side_rows: list[dict] = []

    def stream() -> Iterator[str]:
        for line in lines:
            if line.length is not None:
                side_rows.append(_line_too_long(source, path, line, limits))
                continue
            if line.text is None:
                side_rows.append(_undecodable(source, path, line, limits))
                continue
            if not position["first"]:
                position["first"], position["encoding"] = line.line_no, line.encoding
            position["last"] = line.line_no
            position["raw"].append(line.text)
            yield line.text + "\n"

    # The csv module refuses fields over 128 KiB by default; lift that so an over-long text
    # is judged by ingest.max_text_chars (text_too_long), not reported as a broken row.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    reader = _csv_fields(stream(), spec)
    while True:
        position["first"], position["raw"] = 0, []
        fields = next(reader, None)
        if fields is None:
            break
        if isinstance(fields, csv.Error):
            yield from _drain(side_rows)
            payload = "\n".join(position["raw"])
            yield _rejected(source, path, position["first"], reasons.MALFORMED_RECORD, str(fields), payload, limits)
            continue
        yield from _drain(side_rows)
        line_no = position["first"] or position["last"]
        payload = "\n".join(position["raw"])
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            yield _filtered(source, path, line_no, reasons.BLANK_LINE)
            continue
        if spec.header and layout.header is None:
            layout.header, layout.expected_fields, layout.header_line = fields, len(fields), line_no
            layout.first_line = line_no
            continue
        if line_no == layout.header_line:  # a later range that holds the header line
            continue
        if layout.expected_fields is None:
            layout.expected_fields, layout.first_line = len(fields), line_no
        if len(fields) != layout.expected_fields:
            detail = f"{len(fields)} fields, expected {layout.expected_fields}"
            yield _rejected(source, path, line_no, reasons.MALFORMED_RECORD, detail, payload, limits)
            continue
        header = layout.header
        mapping: dict[str | int, Any] = dict(zip(header, fields, strict=False)) if header else dict(enumerate(fields))
        yield _row(source, path, line_no, __mapping__=mapping, payload=payload, encoding=position["encoding"])
    yield from _drain(side_rows)


def _csv_fields(lines: Iterator[str], spec: SourceSettings) -> Iterator[list[str] | csv.Error]:
    """The fields of each CSV/TSV record of ``lines`` (each ending in a newline), or the
    ``csv.Error`` a malformed one raises. With ``multiline: false`` each line is parsed on its
    own, so a quoted field that runs past its line's end is an error there (``unexpected end of
    data``), wherever the file is cut into ranges; else a quoted field may span lines."""
    dialect = {
        "delimiter": spec.delimiter or ",",
        "quoting": csv.QUOTE_NONE if spec.quoting == "none" else csv.QUOTE_MINIMAL,
        "strict": True,
    }
    if not spec.multiline:
        for line in lines:
            try:
                yield next(csv.reader((line,), **dialect), [])
            except csv.Error as exc:
                yield exc
        return
    reader = csv.reader(lines, **dialect)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def file_layout(opener: Opener, path: str, source: str, spec: SourceSettings, limits: Limits) -> Layout:
    """The layout the first records of a CSV/TSV file fix (read from its start, as the range
    that starts the file reads them), for a later range of the file or for the JVM reader."""
    layout = Layout()
    lines = file_lines(opener, FileRange(path), spec.encoding, spec.fallback_encoding, limits.max_line_bytes)
    rows = _delimited_records(lines, path, source, spec, limits, layout)
    try:
        for _ in rows:
            if layout.expected_fields is not None:
                break
    finally:
        rows.close()
        lines.close()
    return layout


def _drain(side_rows: list[dict]) -> Iterator[dict]:
    while side_rows:
        yield side_rows.pop(0)


# --------------------------------------------------------------------------------------------
# Column mapping and validation


def _mapped(values, path, line, source, spec, limits, payload, encoding) -> dict[str, Any]:
    columns = spec.columns
    refs = columns.text if isinstance(columns.text, list) else [columns.text]
    # The text columns must exist; an absent label, id or event_ts value reads as null
    # (JSON objects simply leave keys out) and is judged by the rules below.
    missing = [ref for ref in refs if ref not in values]
    if missing:
        detail = "no column " + ", ".join(repr(m) for m in missing)
        return _rejected(source, path, line, reasons.MISSING_COLUMN, detail, payload, limits)
    parts = [_as_text(values[ref]) for ref in refs]
    text = spec.text_join.join(p for p in parts if p) if len(parts) > 1 else parts[0]
    used = set(refs) | {getattr(columns, n) for n in ("label", "id", "event_ts")}
    meta = {_meta_key(key): _as_text(value) for key, value in values.items() if key not in used}
    row = _row(
        source,
        path,
        line,
        text=text,
        label=_pick(values, columns.label),
        raw_id=_pick(values, columns.id),
        raw_event_ts=_pick(values, columns.event_ts),
        meta={k: v for k, v in meta.items() if v is not None},
        encoding=encoding,
    )
    row["payload"] = payload
    return row


def _finish(row: dict[str, Any], spec: SourceSettings, limits: Limits, path_label: str | None) -> dict[str, Any]:
    """Resolve a structured row (from a format parser) and apply the record rules."""
    if "__mapping__" in row:
        mapping = row["__mapping__"]
        row = _mapped(mapping, row["path"], row["line"], row["source"], spec, limits, row["payload"], row["encoding"])
        if row["outcome"] != OK:
            return row
    # decoding bytes never yields a surrogate: only a JSON "\\u" escape can, so the fields
    # are searched only when the record's text has one
    if "\\u" in (row.get("payload") or "") and (where := _lone_surrogate_field(row)) is not None:
        payload = (row.get("payload") or row["text"] or "").encode("utf-8", "backslashreplace").decode("utf-8")
        detail = f"lone surrogate in {where}: half a UTF-16 pair (a JSON \\u escape), not encodable as UTF-8"
        return _rejected(row["source"], row["path"], row["line"], reasons.UNDECODABLE, detail, payload, limits)
    if path_label is not None and row["label"] is None:
        row["label"] = path_label
    if row["label"] is not None:
        row["label"] = spec.label_map.get(row["label"].strip(), row["label"].strip())
        if row["label"] == "":
            row["label"] = None
    payload = row.get("payload") or row["text"] or ""
    text = row["text"]
    if text is None or not text.strip():
        return _rejected(row["source"], row["path"], row["line"], reasons.EMPTY_TEXT, "", payload, limits)
    if len(text) > limits.max_text_chars:
        detail = f"{len(text)} chars > max_text_chars {limits.max_text_chars}"
        return _rejected(row["source"], row["path"], row["line"], reasons.TEXT_TOO_LONG, detail, payload, limits)
    if spec.columns.id is not None and not (row["raw_id"] or "").strip():
        return _rejected(row["source"], row["path"], row["line"], reasons.MISSING_ID, "", payload, limits)
    if row["label"] is None and spec.label_required:
        return _rejected(row["source"], row["path"], row["line"], reasons.MISSING_LABEL, "", payload, limits)
    if row["label"] is not None and spec.labels is not None and row["label"] not in spec.labels:
        detail = f"label {row['label'][:64]!r} not in {len(spec.labels)} allowed labels"
        return _rejected(row["source"], row["path"], row["line"], reasons.LABEL_NOT_IN_SET, detail, payload, limits)
    row["payload"] = None  # good rows carry their content in the typed columns
    row["content_hash"] = content_hash(text, row["label"], row["meta"])
    return row


def _lone_surrogate_field(row: Mapping[str, Any]) -> str | None:
    """The first field of a parsed row holding a lone surrogate (``"\\ud800"`` decoded from a
    JSON escape): such a ``str`` has no UTF-8 form, so Arrow, Spark and the content hash would
    all fail on it. ``None`` when every field is encodable."""
    for name in ("text", "label", "raw_id", "raw_event_ts"):
        value = row[name]
        if value is not None and find_lone_surrogate(value) is not None:
            return name
    for key, value in (row["meta"] or {}).items():
        if find_lone_surrogate(key) is not None or (value is not None and find_lone_surrogate(value) is not None):
            return "meta"
    return None


def content_hash(text: str, label: str | None, meta: Mapping[str, str]) -> str:
    """SHA-256 (hex) of a record's content: text, label and meta, independent of where in
    which file it was found. Equal content gives equal hashes across runs and machines."""
    # the compact JSON of [text, label, sorted meta], written out by hand: the encoder's own
    # setup on each call cost more than escaping a web-sized text (the same bytes: tests/test_records.py)
    meta_json = _HASH_JSON.encode(dict(sorted(meta.items()))) if meta else "{}"
    label_json = "null" if label is None else _json_string(label)
    canonical = f"[{_json_string(text)},{label_json},{meta_json}]"
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``, built once.
_HASH_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: A ``str`` as a JSON string literal, as ``_HASH_JSON`` writes it (the same C function).
_json_string = json.encoder.encode_basestring


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


def _pick(values: Mapping[Any, Any], ref: ColumnRef | None) -> str | None:
    return None if ref is None else _as_text(values.get(ref))


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float) and value != value:  # NaN from pandas/Parquet
        return None
    return str(value)


def _meta_key(key: Any) -> str:
    return f"col{key}" if isinstance(key, int) else str(key)
