"""``refinery inspect``'s guess: the ingest source stanza (``SourceSettings`` keys and values)
that reads a file, glob, folder or Delta table, from a bounded sample of it, and why each key
has its value. Pure Python: the bytes come from :mod:`refinery.sources.sniff_head` (or
:mod:`refinery.sources.sniff_parquet`), the encoding, format and columns from the
``sniff_*`` modules; only keys that differ from ``SourceSettings``' defaults are proposed.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from refinery.ingest.settings import ColumnRef
from refinery.sources import strict_json
from refinery.sources.file_lines import open_binary
from refinery.sources.sniff_columns import ColumnGuess, guess_columns
from refinery.sources.sniff_encoding import EncodingGuess, guess_encoding
from refinery.sources.sniff_format import FormatGuess, guess_format, parse_records
from refinery.sources.sniff_head import HEAD_LINES, MAX_FILES, FileHead, input_files, read_heads
from refinery.sources.sniff_names import label_from_names
from refinery.sources.sniff_parquet import delta_data_files, is_delta_table, is_parquet, parquet_sample
from refinery.text.encoding import decode_lines, is_wide_encoding, resolve_encoding

#: One sampled record: column name (or 0-based index) → value.
Row = dict[Any, Any]


class SniffError(Exception):
    """The input cannot be inspected (nothing there, unreadable); the message says which."""


@dataclass
class Proposal:
    """A proposed source: ``settings`` (``SourceSettings`` keys, ``columns`` a plain dict),
    ``why`` (a reason per key; ``columns.text`` etc. for the columns), the files read and
    how many records the sample held."""

    settings: dict[str, Any] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    records: int = 0

    def put(self, key: str, value: Any, why: str) -> None:
        """Propose ``key: value`` because of ``why``."""
        self.settings[key] = value
        self.why[key] = why


def sniff(paths: Sequence[str], lines: int = HEAD_LINES) -> Proposal:
    """The stanza that reads ``paths`` (files, globs, folders; or one Delta table's folder),
    from about ``lines`` lines (or Parquet rows) of heads, shared among the files read."""
    proposal = Proposal()
    proposal.put("path", paths[0] if len(paths) == 1 else list(paths), "")
    if len(paths) == 1 and is_delta_table(paths[0]):
        proposal.files = delta_data_files(paths[0])[:MAX_FILES]
        return _tabular(proposal, proposal.files, "delta", "the folder holds a _delta_log", lines)
    files = input_files(paths)
    if not files:
        raise SniffError(f"nothing at {', '.join(paths)}: name an existing file, folder or glob")
    proposal.files = files[:MAX_FILES]
    try:
        with open_binary(files[0]) as raw:
            magic = raw.read(4)
        if is_parquet(files[0], magic):
            return _tabular(proposal, proposal.files, "parquet", "Parquet file (name or magic bytes)", lines)
        heads = read_heads(files, lines)
    except (OSError, EOFError, zlib.error) as exc:
        raise SniffError(f"cannot read {files[0]}: {exc}") from None
    return _lines(proposal, heads)


def _tabular(proposal: Proposal, files: Sequence[str], form: str, why: str, lines: int) -> Proposal:
    """A Parquet file or a Delta table: named columns, sampled from the first files."""
    proposal.put("format", form, why)
    rows: list[Row] = []
    names: list[ColumnRef] = []
    for path in files[:MAX_FILES]:
        columns, sample = parquet_sample(path, max(lines // max(len(files[:MAX_FILES]), 1), 50))
        names += [c for c in columns if c not in names]
        rows += sample
    if not names:
        raise SniffError(f"no Parquet data file to sample in {proposal.settings['path']}")
    proposal.records = len(rows)
    _put_columns(proposal, guess_columns(rows, names, named=True))
    return proposal


def _lines(proposal: Proposal, heads: Sequence[FileHead]) -> Proposal:
    """JSONL, CSV/TSV or text: the encoding, the format and the columns."""
    encoding = guess_encoding([h.head for h in heads])
    if (binary := _binary_file(heads)) is not None:
        raise SniffError(f"{binary} holds NUL bytes: not a text file (a Parquet file is read by its name *.parquet)")
    decoded = [(_decoded(h.head, encoding), [_decoded(p, encoding) for p in _narrow_probes(h)]) for h in heads]
    form = guess_format(decoded[0][0])
    proposal.put("format", form.format, form.why_format)
    if encoding.encoding is not None:
        proposal.put("encoding", encoding.encoding, encoding.why)
    else:
        proposal.why["encoding"] = encoding.why
    if encoding.fallback is not None:
        why = "a line that is not UTF-8 is read byte for byte (clean repairs it), not quarantined"
        proposal.put("fallback_encoding", encoding.fallback, why)
    if form.format == "text":
        return _text_labels(proposal, heads)
    _put_dialect(proposal, form)
    rows, columns = _rows(form, decoded)
    proposal.records = len(rows)
    _put_columns(proposal, guess_columns(rows, columns, named=form.format == "jsonl" or form.header))
    return proposal


def _binary_file(heads: Sequence[FileHead]) -> str | None:
    """The first file whose head holds a NUL byte and is not UTF-16/32."""
    return next((head.path for head in heads if b"\x00" in head.head and not _is_wide(head)), None)


def _is_wide(head: FileHead) -> bool:
    """UTF-16/32, as ``encoding: auto`` decides (by a byte-order mark, or NULs in one byte of
    each code unit)."""
    return is_wide_encoding(resolve_encoding(head.head)[0])


def _narrow_probes(head: FileHead) -> tuple[bytes, ...]:
    """The probes of a file whose newline is one byte: a probe of UTF-16/32 may start between
    the two bytes of a code unit."""
    return () if b"\x00" in head.head and _is_wide(head) else head.probes


def _decoded(data: bytes, encoding: EncodingGuess) -> list[str]:
    """The lines of ``data`` that decode with the proposed encoding and fallback."""
    lines = decode_lines(data, encoding.encoding or "auto", encoding.fallback)
    return [line.text for line in lines if line.text is not None]


def _put_dialect(proposal: Proposal, form: FormatGuess) -> None:
    if form.header:
        proposal.put("header", True, form.why_header)
    else:
        proposal.why["header"] = form.why_header
    if form.delimiter not in ("\t", ",", None):
        proposal.put("delimiter", form.delimiter, "")
    if form.quoting == "none":
        proposal.put("quoting", "none", form.why_quoting)
    else:
        proposal.why["quoting"] = form.why_quoting


def _rows(form: FormatGuess, decoded: Sequence[tuple[list[str], list[list[str]]]]) -> tuple[list[Row], list[ColumnRef]]:
    """The sampled records (heads, then probes) as column → value, and the columns in order."""
    rows: list[Row] = []
    columns: dict[ColumnRef, None] = {}
    for head, probes in decoded:
        if form.format == "jsonl":
            for line in [*head, *(line for probe in probes for line in probe)]:
                value = _json_object(line)
                if value is not None:
                    rows.append(value)
                    columns.update(dict.fromkeys(value))
            continue
        records = parse_records(head, form.delimiter or ",", form.quoting)
        width = len(records[0]) if records else 0
        names: list[ColumnRef] = list(records[0]) if form.header and records else list(range(width))
        body = records[1:] if form.header else records
        for probe in probes:  # a probe may start inside a quoted field: keep whole-looking records
            body += [r for r in parse_records(probe, form.delimiter or ",", form.quoting) if r != records[0]]
        rows += [dict(zip(names, r, strict=True)) for r in body if len(r) == len(names)]
        columns.update(dict.fromkeys(names))
    return rows, list(columns)


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = strict_json.loads(line)
    except strict_json.JsonError:
        return None
    return value if isinstance(value, dict) else None


def _put_columns(proposal: Proposal, guess: ColumnGuess) -> None:
    columns: dict[str, Any] = {}
    for role in ("text", "label", "id", "event_ts"):
        pick = getattr(guess, role)
        if pick is not None:
            columns[role] = pick.value
            proposal.why[f"columns.{role}"] = pick.why
    proposal.put("columns", columns, "")
    if isinstance(columns["text"], list):
        proposal.why["text_join"] = "the default text_join joins them with a newline"
    if guess.labels is not None:
        proposal.put("labels", guess.labels.value, guess.labels.why)
    if guess.label_required is not None:
        proposal.put("label_required", guess.label_required.value, guess.label_required.why)


def _text_labels(proposal: Proposal, heads: Sequence[FileHead]) -> Proposal:
    """A text file: one record per line; the label, if any, in the file names."""
    proposal.records = sum(h.head.count(b"\n") for h in heads)
    found = label_from_names(proposal.files)
    if found is None:
        proposal.put("label_required", False, "one record per line, no label in the file names")
        return proposal
    pattern, labels = found
    proposal.put("label_from_path", pattern, f"{len(labels)} files differ only by a suffix")
    proposal.put("labels", labels, f"{len(labels)} distinct file-name suffixes")
    return proposal


def source_name(paths: Sequence[str]) -> str:
    """A source name from the first path: its file or folder name without extensions, in
    lower case, runs of other characters than letters and digits as ``_``."""
    base = os.path.basename(os.path.normpath(paths[0])) or "source"
    stem = base.split(".")[0] or base
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "source"
