"""File bytes → ingest records, in pure Python (no Spark), one generator per format.

Each input record becomes exactly one output row: a good record (``outcome = "ok"``), a
quarantined one (``"quarantine"``, with ``reason``, ``detail`` and the original ``payload``) or
a filtered one (``"filter"``, counted but not kept, e.g. a blank line). So the counts of one
file always reconcile: records = ok + quarantined + filtered.

The Spark layer (:mod:`refinery.ingest.read`) calls :func:`parse_range` inside
``mapInArrow`` on byte ranges of the input files, which are read in bounded chunks
(:mod:`refinery.sources.file_lines`), and :func:`record_from_mapping` on Parquet rows, so one
set of rules covers every format.

Where the parts live: the row, its outcomes and :class:`Limits` in
:mod:`refinery.sources.record_rows`; the per-format parsers in
:mod:`refinery.sources.record_formats`; column mapping and the record rules in
:mod:`refinery.sources.record_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from itertools import chain
from typing import Any

from refinery.ingest.settings import SourceSettings
from refinery.sources import reasons
from refinery.sources.file_lines import FileRange, Opener, UnreadableFileError, bytes_opener, file_lines
from refinery.sources.record_formats import (
    Layout,
    _delimited_records,
    _jsonl_records,
    _text_records,
    file_layout,
)
from refinery.sources.record_rows import FILTER, OK, QUARANTINE, Limits, _rejected
from refinery.sources.record_rules import _finish, _mapped
from refinery.sources.splits import one_record_per_line
from refinery.text.encoding import decode_raw_lines
from refinery.text.line_split import RawLine

#: The entry points; and the row's outcomes and :class:`Limits` (defined in
#: :mod:`refinery.sources.record_rows`), which the ``refinery.ingest`` modules import from here.
__all__ = [
    "FILTER",
    "OK",
    "QUARANTINE",
    "Limits",
    "label_from_path",
    "parse_file",
    "parse_line",
    "parse_range",
    "record_from_mapping",
]


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
