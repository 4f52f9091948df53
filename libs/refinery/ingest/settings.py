"""``ingest``: the sources read into ``bronze`` (see :mod:`refinery.ingest.job`)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from refinery.config.base import Strict
from refinery.config.paths import CATALOG_PREFIX, resolve_path

#: ``ingest.max_line_bytes``: the longest physical line read whole, in bytes (32 MiB).
DEFAULT_MAX_LINE_BYTES = 32 << 20


ColumnRef = int | str


class SourceColumns(Strict):
    """Which input column feeds each bronze field: a 0-based index for files without a
    header, or a name (header row, JSON key, Parquet column)."""

    text: ColumnRef | list[ColumnRef]
    label: ColumnRef | None = None
    id: ColumnRef | None = None
    event_ts: ColumnRef | None = None


class SourceSettings(Strict):
    """One input: a file, folder or glob (or a Delta table), its format, encoding and column
    mapping."""

    enabled: bool = True
    #: File, folder or glob, or a list of them; relative paths start at ``ingest.input_root``.
    #: For ``format: delta``: one Delta table, its folder or ``catalog:db.table``.
    path: str | list[str]
    #: ``parquet`` and ``delta`` are mapped column by column; ``delta`` is read incrementally.
    format: Literal["jsonl", "csv", "tsv", "text", "parquet", "delta"]
    #: A Python codec name, or ``auto`` (BOM, then strict UTF-8, then charset detection).
    encoding: str = "auto"
    #: Codec tried for a line that does not decode with ``encoding``; ``None`` quarantines it.
    fallback_encoding: str | None = None
    header: bool = False
    delimiter: str | None = None
    #: ``minimal``: RFC-4180 quotes; ``none``: quotes are ordinary characters (raw TSV).
    quoting: Literal["minimal", "none"] = "minimal"
    #: CSV/TSV with ``quoting: minimal``: a quoted field may hold newlines, so each file is
    #: parsed from its first byte by one task. ``false`` (Spark's ``multiLine=false``) lets a
    #: large file be split by lines across tasks like JSONL (and parsed by the JVM reader); each
    #: line is one record, so a field that does hold a newline makes two malformed records.
    #: Files with ``quoting: none`` are always split.
    multiline: bool = True
    columns: SourceColumns = Field(default_factory=lambda: SourceColumns(text=0))
    #: Separator used when ``columns.text`` lists several columns (title + body).
    text_join: str = "\n"
    #: Regex with one group, applied to the file name, giving the label (``rt-polarity.pos``).
    label_from_path: str | None = None
    #: Raw label → label name (``"1": World``); raw labels not in the map pass unchanged.
    label_map: dict[str, str] = Field(default_factory=dict)
    #: Allowed labels after mapping; ``None`` accepts any. A label outside is quarantined.
    labels: list[str] | None = None
    #: Quarantine records without a label (after mapping).
    label_required: bool = True
    #: ``strftime``-less Spark datetime pattern for ``event_ts``; ``None`` lets Spark parse ISO.
    event_ts_format: str | None = None
    #: ``format: delta`` only: read the table's whole current version, not the versions after
    #: the last one ingested; the switch for a source that was rewritten (overwrite, MERGE).
    full_refresh: bool = False

    @field_validator("encoding", "fallback_encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        import codecs

        if value is None or value == "auto":
            return value
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; use a Python codec name or 'auto'") from None
        return value

    @model_validator(mode="after")
    def _delimiter_for_format(self) -> SourceSettings:
        if self.delimiter is None and self.format in ("csv", "tsv"):
            self.delimiter = "," if self.format == "csv" else "\t"
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError("delimiter must be exactly one character")
        self._table_path_for_format()
        if self.label_from_path is not None:
            import re

            if re.compile(self.label_from_path).groups != 1:
                raise ValueError("label_from_path must be a regex with exactly one group")
        return self

    def _table_path_for_format(self) -> None:
        paths = [self.path] if isinstance(self.path, str) else self.path
        if self.format == "delta" and not isinstance(self.path, str):
            raise ValueError("format delta reads one table: give path as one folder or catalog:db.table, not a list")
        if self.format != "delta" and any(p.startswith(CATALOG_PREFIX) for p in paths):
            raise ValueError(f"a catalog table is read with format: delta, not {self.format}")
        if self.full_refresh and self.format != "delta":
            raise ValueError("full_refresh applies to format: delta only; remove it")


class IngestSettings(Strict):
    """The ``ingest`` job: files → ``bronze``."""

    #: Relative source paths are joined to this folder (relative to the working directory).
    input_root: str = "."
    #: Batch name (the ``ingest_batch`` partition). ``auto``: derived from the input files'
    #: paths and sizes, so re-ingesting the same files replaces the same partition.
    batch: str = "auto"
    #: Names of the sources to ingest; ``None`` ingests every enabled source.
    only: list[str] | None = None
    #: Longest accepted text, in characters; longer records are quarantined.
    max_text_chars: int = Field(default=100_000, ge=1)
    #: Input bytes of one read task: a larger uncompressed line-per-record file is split into
    #: byte ranges of this size (line by line, so that every core parses a part of it), and
    #: small files are packed together up to it. Compressed files are read whole by one task.
    #: A task's memory does not grow with it (records go out in capped batches), but each task
    #: costs a fixed Python worker setup, so ranges are large.
    max_partition_bytes: int = Field(default=64 << 20, ge=1 << 20)
    #: Longest physical line read whole, in bytes: a longer one is read through, refused as
    #: ``line_too_long`` and not kept, so a parser's memory never grows with one line (or one
    #: file). Keep it above what ``max_text_chars`` allows (up to 4 bytes a character, more
    #: with JSON escapes and meta).
    max_line_bytes: int = Field(default=DEFAULT_MAX_LINE_BYTES, ge=1 << 20)
    #: Original payload kept in quarantine rows, in characters.
    payload_max_chars: int = Field(default=4_000, ge=16)
    #: Mask PII in the payload of the records ingest quarantines (with ``clean.pii``'s types and
    #: tokens, before truncation). Off by default: a refused record is kept as it came, to
    #: show what was wrong with it, so ``tables.quarantine`` is as sensitive as the input.
    payload_mask: bool = False
    #: Where UTF-8 JSONL files, and CSV/TSV files read one record per line (``multiline: false``
    #: or ``quoting: none``), are parsed. ``auto``: in the JVM (``refinery-jvm.jar``, built by
    #: ``make jars``) for a source of at least one read task's worth of bytes, when the jar is
    #: on the classpath; in Python otherwise. ``always``: in the JVM wherever it can read
    #: (fails when the jar is missing); ``never``: always in Python. Both give the same records (lines the JVM reader is
    #: not certain of are parsed in Python either way); the JVM is the cheaper by far.
    jvm_reader: Literal["auto", "always", "never"] = "auto"
    #: Where the compressed files (``.gz``, ``.bz2``) the JVM reader reads are decompressed,
    #: once per run, so that each is split across every core like an uncompressed file (a
    #: compressed file cannot be split). Needs the decompressed size free on storage every
    #: executor reads; the run's folder is removed when the run ends. ``None``:
    #: ``_ingest_staging`` beside the bronze table's folder (for a catalog bronze table, no
    #: staging: compressed files are then parsed in Python).
    staging_dir: str | None = None
    sources: dict[str, SourceSettings] = Field(default_factory=dict)

    @field_validator("staging_dir")
    @classmethod
    def _staging_resolved(cls, value: str | None) -> str | None:
        return resolve_path(value) if value is not None else None

    @field_validator("batch", mode="before")
    @classmethod
    def _date_as_string(cls, value: Any) -> Any:
        # YAML (and so --set) reads an unquoted 2026-11-28 as a date.
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("batch")
    @classmethod
    def _batch_name(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[A-Za-z0-9_.:+-]{1,128}", value):
            raise ValueError("use 1-128 characters from A-Z a-z 0-9 _ . : + - (e.g. 2026-11-28)")
        return value

    @model_validator(mode="after")
    def _only_names_sources(self) -> IngestSettings:
        for name in self.only or []:
            if name not in self.sources:
                raise ValueError(f"ingest.only names {name!r}, which is not in ingest.sources")
        return self

    def selected_sources(self) -> dict[str, SourceSettings]:
        """The sources this run ingests, in name order."""
        names = self.only if self.only is not None else [n for n, s in self.sources.items() if s.enabled]
        return {name: self.sources[name] for name in sorted(names)}
