"""What an ``ingest`` batch reads: every selected source's records (:func:`read_records`), counted
(:func:`count_read`), the lines the JVM reader handed over parsed (:func:`parse_handed_over`),
and the records' keys and whole rows put together (:func:`keys_of`, :func:`records_of`)."""

from __future__ import annotations

from functools import reduce
from typing import NamedTuple

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.ingest.classify import mark, record_json
from refinery.ingest.delta_increments import Increment
from refinery.ingest.jvm_lines import HANDED_OVER_COLUMNS, HANDED_OVER_INPUT, HandedOverLines
from refinery.ingest.read import SourceRead, read_source, with_no_lines_handed_over
from refinery.ingest.settings import IngestSettings, SourceSettings
from refinery.ingest.table_sources import delta_records
from refinery.sources import reasons
from refinery.sources.records import OK, QUARANTINE, Limits
from refinery.sources.splits import InputFile
from refinery.spark.checkpoint import checkpointed

#: The columns of a parsed record that settle its outcome and id: what is stored of the rows
#: read again for the write (:func:`refinery.ingest.job.write_batch`). ``payload`` is set on refused rows only.
KEY_COLUMNS = ("source", "path", "line", "outcome", "reason", "detail", "payload", "raw_id", "content_hash")
#: At most this many lines handed over by the JVM reader, of at most this many bytes in all,
#: are parsed in the driver (:func:`parse_handed_over`); more are parsed in Python workers.
HANDED_OVER_IN_DRIVER_ROWS = 20_000
HANDED_OVER_IN_DRIVER_BYTES = 64 << 20


class ReadRecords(NamedTuple):
    """The rows of every selected source, ``event_ts`` resolved, in two parts
    (:class:`refinery.ingest.read.SourceRead`): ``reread``, the rows that cost little to
    read again (JVM reader, Parquet, Delta), with the lines the JVM reader handed over still
    unparsed, and ``parsed``, the rows parsed in Python workers (each ``None`` when no source
    gives any); and how to parse the handed-over lines, per source."""

    reread: DataFrame | None
    parsed: DataFrame | None
    handed_over: dict[str, HandedOverLines]


def read_records(
    spark: SparkSession,
    cfg: IngestSettings,
    locations: dict[str, list[str]],
    increments: dict[str, Increment] | None = None,
    files: dict[str, list[InputFile]] | None = None,
    staging: str | None = None,
) -> ReadRecords:
    """The records of all selected sources (see :class:`ReadRecords`); a Delta source
    contributes the rows of its increment (from :func:`refinery.ingest.locations.plan_increments`). ``files`` holds the
    files of file sources when they are listed already (else they are listed here);
    ``staging`` is the run's staging folder (:mod:`refinery.ingest.staging`), which
    must outlive the returned frames' last read."""
    limits = Limits(cfg.max_text_chars, cfg.payload_max_chars, cfg.max_line_bytes)
    reread, parsed, handed_over = [], [], {}
    for name, location in locations.items():
        spec = cfg.sources[name]
        if spec.format == "delta":
            if increments is None or name not in increments:
                raise ValueError(f"Delta source {name!r} has no planned increment; call plan_increments first")
            read = SourceRead(
                with_no_lines_handed_over(delta_records(spark, name, spec, increments[name], limits)), None, None
            )
        else:
            listed = (files or {}).get(name)
            read = read_source(
                spark, name, spec, location, limits, cfg.max_partition_bytes, cfg.jvm_reader, listed, staging
            )
        if read.reread is not None:
            reread.append(with_event_ts(read.reread, spec))
        if read.parsed is not None:
            parsed.append(with_event_ts(read.parsed, spec))
        if read.handed_over is not None:
            handed_over[name] = read.handed_over
    return ReadRecords(_union(reread), _union(parsed), handed_over)


def _union(frames: list[DataFrame]) -> DataFrame | None:
    return reduce(DataFrame.unionByName, frames) if frames else None


class ReadCounts(NamedTuple):
    """What :func:`count_read` counts: records read per source, and the lines the JVM reader
    handed over (their number and bytes)."""

    rows: dict[str, int]
    handed_over_rows: int
    handed_over_bytes: int


def count_read(reread_keys: DataFrame | None, parsed: DataFrame | None) -> ReadCounts:
    """The records read per source, counted on the stored rows (``reread_keys``, the keys of
    :attr:`ReadRecords.reread`, and ``parsed``), by the pass that fills them: the input of the
    reconciliation. Each handed-over line is one record, parsed later."""
    rows: dict[str, int] = {}
    handed_rows = handed_bytes = 0
    if reread_keys is not None:
        raw = F.col("_raw")
        found = reread_keys.groupBy("source").agg(
            F.count(F.lit(1)).alias("n"), F.count(raw).alias("handed"), F.sum(F.length(raw)).alias("bytes")
        )
        for r in found.collect():
            rows[r.source] = int(r.n)
            handed_rows += int(r.handed)
            handed_bytes += int(r.bytes or 0)
    if parsed is not None:
        for r in parsed.groupBy("source").count().collect():
            rows[r.source] = rows.get(r.source, 0) + int(r["count"])
    return ReadCounts(rows, handed_rows, handed_bytes)


def parse_handed_over(
    spark: SparkSession, stored: DataFrame | None, handed_over: dict[str, HandedOverLines], counted: ReadCounts
) -> DataFrame | None:
    """The rows of ``stored`` (the stored keys of :attr:`ReadRecords.reread`) whose lines the
    JVM reader handed over, parsed in Python and ``event_ts`` resolved, computed now and kept;
    ``None`` when there are none (``counted``, from :func:`count_read`).

    Up to :data:`HANDED_OVER_IN_DRIVER_ROWS` of those lines (and
    :data:`HANDED_OVER_IN_DRIVER_BYTES`) are collected and parsed in the driver, which costs
    far less than starting a Python worker per read task;
    more are parsed in Python workers (:meth:`HandedOverLines.parsed`)."""
    if not handed_over or stored is None or counted.handed_over_rows == 0:
        return None
    lines = stored.where(F.col("_raw").isNotNull())
    here = (
        counted.handed_over_rows <= HANDED_OVER_IN_DRIVER_ROWS
        and counted.handed_over_bytes <= HANDED_OVER_IN_DRIVER_BYTES
    )
    rows = lines.select(*HANDED_OVER_INPUT).collect() if here else []
    parsed = []
    for name, handed in handed_over.items():
        if here:
            records = handed.parsed_here(spark, [row for row in rows if row["source"] == name])
        else:
            records = handed.parsed(lines.where(F.col("source") == name))
        parsed.append(with_event_ts(records, handed.spec))
    return checkpointed(reduce(DataFrame.unionByName, parsed))


def keys_of(reread_keys: DataFrame | None, handed: DataFrame | None, parsed: DataFrame | None) -> DataFrame:
    """The :data:`KEY_COLUMNS` of every parsed record: of the stored keys of the rows read
    again (``reread_keys``) but the handed-over lines, of those lines parsed (``handed``, from
    :func:`parse_handed_over`), and of the stored rows parsed in Python (``parsed``)."""
    frames = []
    if reread_keys is not None:
        frames.append(reread_keys.where(F.col("_raw").isNull()).select(*KEY_COLUMNS))
    frames += [frame.select(*KEY_COLUMNS) for frame in (handed, parsed) if frame is not None]
    return reduce(DataFrame.unionByName, frames)


def records_of(reread: DataFrame | None, handed: DataFrame | None, parsed: DataFrame | None) -> DataFrame:
    """Every parsed record, whole: the rows read again (``reread``, read once more here) but
    the lines the JVM reader handed over, those lines parsed (``handed``), and the stored
    rows parsed in Python (``parsed``)."""
    frames = []
    if reread is not None:
        frames.append(reread.where(F.col("_raw").isNull()).drop(*HANDED_OVER_COLUMNS))
    frames += [frame for frame in (handed, parsed) if frame is not None]
    return reduce(DataFrame.unionByName, frames)


def with_event_ts(records: DataFrame, spec: SourceSettings) -> DataFrame:
    """``event_ts`` from the source's column (format ``event_ts_format``), else the file's
    modification time. A value that does not parse is quarantined as ``bad_event_ts``, with
    the record as its payload (as JSON, as for a refusal decided after the read)."""
    raw = F.col("raw_event_ts")
    fmt = spec.event_ts_format
    parsed = F.try_to_timestamp(raw, F.lit(fmt)) if fmt else F.try_to_timestamp(raw)
    records = records.withColumn("event_ts", F.when(raw.isNull(), F.col("file_mtime")).otherwise(parsed))
    unparsed = (F.col("outcome") == OK) & raw.isNotNull() & F.col("event_ts").isNull()
    records = mark(records, unparsed, QUARANTINE, reasons.BAD_EVENT_TS, F.lit("event_ts does not parse"))
    # every row a reader refused has its payload already
    return records.withColumn(
        "payload", F.coalesce(F.col("payload"), F.when(F.col("outcome") == QUARANTINE, record_json()))
    )
