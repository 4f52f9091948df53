"""The sample ``refinery inspect --check`` ingests: the first records of each inspected file,
copied byte for byte into a folder of its own under the same file name (``label_from_path``
reads the name; a ``.gz``/``.bz2`` name is compressed again), so that ingest reads them as it
would read the input. A CSV/TSV sample ends at a record's end, not inside a quoted field;
Parquet (and a Delta table's data files) are sampled as Parquet rows."""

from __future__ import annotations

import bz2
import csv
import gzip
import os
from collections.abc import Sequence
from typing import Any

from refinery.sources.sniff_head import HEAD_BYTES, MAX_FILES, read_head
from refinery.sources.sniff_parquet import parquet_sample
from refinery.text.encoding import decode_lines


def write_sample(files: Sequence[str], settings: dict[str, Any], folder: str, records: int) -> list[str]:
    """Copy about ``records`` records (shared among the first :data:`MAX_FILES` of ``files``,
    at least one each) of a source read with ``settings`` into ``folder``; the copies' paths."""
    chosen = list(files)[:MAX_FILES]
    each = max(records // max(len(chosen), 1), 1)
    written = []
    for k, path in enumerate(chosen):
        target = os.path.join(folder, str(k), os.path.basename(path))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if settings["format"] in ("parquet", "delta"):
            target = _write_parquet_rows(path, target, each)
        else:
            _write_lines(path, target, settings, each)
        written.append(target)
    return written


def _write_lines(path: str, target: str, settings: dict[str, Any], records: int) -> None:
    header = 1 if settings.get("header") else 0
    head = read_head(path, HEAD_BYTES * 8, records + header).head
    if settings["format"] in ("csv", "tsv") and settings.get("quoting", "minimal") == "minimal":
        head = _whole_records(head, settings, records + header)
    with open(target, "wb") as out:
        out.write(_compressed_as(path, head))


def _compressed_as(path: str, data: bytes) -> bytes:
    """``data`` compressed as ``path``'s name says (``.gz``, ``.bz2``), else as it is."""
    extension = os.path.splitext(path)[1].lower()
    if extension == ".gz":
        return gzip.compress(data)
    return bz2.compress(data) if extension == ".bz2" else data


def _whole_records(head: bytes, settings: dict[str, Any], records: int) -> bytes:
    """The lines of ``head`` that hold its first ``records`` whole CSV/TSV records (a quoted
    field may span lines; the head may end inside one)."""
    decoded = decode_lines(head, settings.get("encoding", "auto"), settings.get("fallback_encoding"))
    texts = [(line.text or "") + "\n" for line in decoded]
    delimiter = settings.get("delimiter") or ("\t" if settings["format"] == "tsv" else ",")
    reader = csv.reader(texts, delimiter=delimiter, strict=True)
    kept = 0
    try:
        for _ in range(records):
            if next(reader, None) is None:
                break
            kept = reader.line_num
    except csv.Error:
        pass
    lines = head.split(b"\n")
    return b"\n".join(lines[:kept]) + b"\n" if kept else b""


def _write_parquet_rows(path: str, target: str, rows: int) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _, sample = parquet_sample(path, rows)
    target = target if target.endswith(".parquet") else target + ".parquet"
    pq.write_table(pa.Table.from_pylist(sample), target)
    return target
