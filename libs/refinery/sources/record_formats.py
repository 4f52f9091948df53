"""One generator per input format: decoded lines → rows (text, JSON lines, CSV/TSV with its
:class:`Layout`). A row that needs its columns mapped comes out with its parsed ``__mapping__``,
for :func:`refinery.sources.record_rules._finish` to map and judge."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from refinery.ingest.settings import SourceSettings
from refinery.sources import reasons, strict_json
from refinery.sources.file_lines import FileRange, Opener, file_lines
from refinery.sources.record_rows import Limits, _filtered, _line_too_long, _rejected, _row, _undecodable
from refinery.text.encoding import DecodedLine


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
    dialect: dict[str, Any] = {
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
        rows.close()  # type: ignore[attr-defined]  # generators: close them now, not at collection
        lines.close()  # type: ignore[attr-defined]
    return layout


def _drain(side_rows: list[dict]) -> Iterator[dict]:
    while side_rows:
        yield side_rows.pop(0)
