"""Spark side of reading one ingest source: files → a DataFrame of parsed records.

Line-oriented formats (JSONL, CSV, TSV, text; optionally gzip- or bzip2-compressed) are
listed with Spark's ``binaryFile`` source (paths, sizes and times only: no content is read
there), planned into byte ranges and tasks in the driver (:mod:`refinery.sources.splits`), and
parsed in the executors by :func:`refinery.sources.records.parse_range`, which reads its range
of the file in bounded chunks. So a task's memory is bounded by ``ingest.max_partition_bytes``
worth of records in flight and ``ingest.max_line_bytes``, never by a file's size, and one large
uncompressed file is parsed by every core. Files are opened where they lie (local paths, or
through ``pyarrow.fs``: HDFS, S3, GCS).

Parquet is read natively and mapped column by column with the same rules
(:mod:`refinery.ingest.table_sources`). Line formats hand records to the JVM as Arrow batches
(``mapInArrow``): about four times faster than pickled rows. UTF-8 JSONL files, and CSV/TSV
files of one record per line (by their head, in the planning pass, which also reads a CSV
file's header and field count) are parsed in the JVM instead (:mod:`refinery.ingest.jvm_lines`,
``ingest.jvm_reader``), with the same records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import pyarrow as pa
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from refinery.config import ConfigError
from refinery.ingest.jvm_lines import (
    HANDED_OVER_COLUMNS,
    HandedOverLines,
    jvm_lines_frame,
    jvm_newline_counts,
    jvm_reader_available,
    jvm_rules,
)
from refinery.ingest.settings import SourceSettings
from refinery.ingest.staging import StagedFile, decompressed_copies
from refinery.ingest.table_sources import parquet_records
from refinery.sources.file_lines import FileRange, count_newlines, is_plain_utf8, open_binary
from refinery.sources.record_formats import Layout, file_layout
from refinery.sources.record_rows import RECORD_FIELDS, Limits
from refinery.sources.records import parse_range
from refinery.sources.splits import InputFile, Split, multi_range_files, pack_tasks, plan_splits, with_newlines_before
from refinery.spark.schemas import STRING_MAP
from refinery.spark.session import job_phase

_SPARK_TYPES = {"line": LongType(), "meta": STRING_MAP}
_ARROW_TYPES = {"line": pa.int64(), "meta": pa.map_(pa.string(), pa.string())}

#: Parsed-record schema: :data:`RECORD_FIELDS` (``meta`` a string map, handed over as an Arrow
#: map so that no JSON is written and parsed again per record) plus the file's modification
#: time, the default ``event_ts``.
RECORDS = StructType(
    [StructField(name, _SPARK_TYPES.get(name, StringType()), True) for name in RECORD_FIELDS]
    + [StructField("file_mtime", TimestampType(), True)]
)
_ARROW_SCHEMA = pa.schema(
    [pa.field(name, _ARROW_TYPES.get(name, pa.string())) for name in RECORD_FIELDS]
    + [pa.field("file_mtime", pa.timestamp("us", tz="UTC"))]
)


class SourceRead(NamedTuple):
    """What reading one source gives, in :data:`RECORDS`'s columns: ``reread``, the rows that
    cost little to read again (the JVM reader's, and a Parquet source's), with
    :data:`HANDED_OVER_COLUMNS` (null but on the lines the JVM reader handed over); ``parsed``,
    the rows parsed in Python workers, which are read once and stored; and how to parse the
    handed-over lines (``None`` when the JVM reader did not read the source). Either frame is
    ``None`` when no file of the source is read that way."""

    reread: DataFrame | None
    parsed: DataFrame | None
    handed_over: HandedOverLines | None


def read_source(
    spark: SparkSession,
    name: str,
    spec: SourceSettings,
    location: list[str],
    limits: Limits,
    split_bytes: int,
    jvm_reader: str = "auto",
    files: list[InputFile] | None = None,
    staging: str | None = None,
) -> SourceRead:
    """Every record of source ``name`` found at ``location`` (files, folders or globs), with
    ``meta`` a map column; ``split_bytes`` is the input of one read task
    (``ingest.max_partition_bytes``), ``jvm_reader`` the ``ingest.jvm_reader`` setting,
    ``files`` the files at ``location`` when listed already (:func:`list_files`), ``staging``
    the run's staging folder: where the JVM reader reads a compressed file from, decompressed
    once and split like any other (:mod:`refinery.ingest.staging`; ``None``: compressed
    files are parsed in Python).

    The lines the JVM reader hands over are left unparsed here: the caller stores the rows,
    then parses those few lines (:meth:`HandedOverLines.parsed` of ``rows`` where ``_raw`` is
    set), so that no Python UDF runs over every row."""
    if spec.format == "parquet":
        return SourceRead(with_no_lines_handed_over(parquet_records(spark, name, spec, location, limits)), None, None)
    files = list_files(spark, location) if files is None else files
    return _read_lines(spark, name, spec, files, limits, split_bytes, jvm_reader, staging)


def with_no_lines_handed_over(records: DataFrame) -> DataFrame:
    """``records`` (in :data:`RECORDS`) with null :data:`HANDED_OVER_COLUMNS`, so that they
    union with the JVM reader's rows."""
    types = (BinaryType(), LongType())
    return records.withColumns({c: F.lit(None).cast(t) for c, t in zip(HANDED_OVER_COLUMNS, types, strict=True)})


#: Records per Arrow batch sent back to the JVM, and the text bytes after which a batch is sent
#: sooner: large enough to amortise the hand-over, small enough to bound a worker's memory.
BATCH_RECORDS = 8192
BATCH_TEXT_BYTES = 16 << 20


def list_files(spark: SparkSession, location: list[str]) -> list[InputFile]:
    """Every file at ``location`` (files, folders searched recursively, globs), by path; sizes
    and modification times only, the content is not read."""
    listing = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(location)
        .select("path", "length", F.unix_micros("modificationTime").alias("mtime_us"))
        .collect()
    )
    return sorted((InputFile(r.path, r.length, r.mtime_us) for r in listing), key=lambda f: f.path)


#: At most this many file heads are read in the driver by :func:`plan_reads` (a head is
#: :data:`refinery.sources.file_lines.HEAD_BYTES`, about 1 MB): there that costs milliseconds,
#: where a Spark job of Python workers costs seconds to start. More are read in the workers.
HEADS_IN_DRIVER = 16


def plan_reads(
    spark: SparkSession,
    files: list[InputFile],
    spec: SourceSettings,
    split_bytes: int,
    limits: Limits,
    sniff: bool = False,
    counted: Mapping[tuple[str, int], int] | None = None,
    count_in_jvm: bool = False,
) -> tuple[list[Split], dict[str, Layout | None]]:
    """The byte ranges of ``files``, each knowing how many newlines precede it in its file
    (counted by one parallel pass over the ranges of split files, but for the ranges whose
    count is known: ``counted``, keyed ``(path, start)``), and, with ``sniff``, the
    files read as UTF-8 from their first byte (:func:`is_plain_utf8`, on each file's head),
    which the JVM reader may read: path → the file's CSV/TSV layout (:func:`file_layout`),
    ``None`` for other formats.

    With ``count_in_jvm`` (the JVM reader reads the source) the newlines are counted by
    :func:`jvm_newline_counts` and the heads read in the driver when there are at most
    :data:`HEADS_IN_DRIVER`: so planning a few large files starts no Python worker. Otherwise
    one job of Python workers counts and reads heads in the same pass."""
    splits = plan_splits(files, spec, split_bytes)
    known = dict(counted or {})
    to_count = {(s.file.path, s.start) for s in multi_range_files(splits)} - known.keys()
    heads = {(s.file.path, s.start) for s in splits if sniff and s.start == 0}
    if count_in_jvm and to_count:
        known |= jvm_newline_counts(spark, [s for s in splits if (s.file.path, s.start) in to_count])
        to_count = set()
    if not to_count and not heads:
        return with_newlines_before(splits, known), {}
    looked_at = to_count | heads
    rows = [
        (s.file.path, s.start, s.end, (s.file.path, s.start) in to_count, (s.file.path, s.start) in heads)
        for s in splits
        if (s.file.path, s.start) in looked_at
    ]
    if count_in_jvm and len(rows) <= HEADS_IN_DRIVER:
        found = [Row(**_looked(*row, spec, limits)) for row in rows]
    else:
        found = _looked_in_workers(spark, rows, spec, limits)
    splits = with_newlines_before(splits, {(r.path, r.start): r.newlines for r in found} | known)
    layouts = {r.path: _layout(r) if spec.format in ("csv", "tsv") else None for r in found if r.plain_utf8}
    return splits, layouts


def _looked(path: str, start: int, end: int, count: bool, head: bool, spec: SourceSettings, limits: Limits) -> dict:
    """What :func:`plan_reads` finds of one range (a row of :data:`_LOOKED`): its newlines
    when ``count``, and, when ``head`` (the range starts its file), whether the file reads as
    plain UTF-8 and, for CSV/TSV, its layout."""
    plain = head and is_plain_utf8(_opener(path), path, spec.encoding)
    delimited = spec.format in ("csv", "tsv")
    layout = file_layout(_opener(path), path, "", spec, limits) if plain and delimited else Layout()
    return {
        "path": path,
        "start": start,
        "newlines": count_newlines(_opener(path), start, end) if count else 0,
        "plain_utf8": plain,
        "header": layout.header,
        "expected_fields": layout.expected_fields,
        "first_line": layout.first_line,
        "header_line": layout.header_line,
    }


def _looked_in_workers(spark: SparkSession, rows: list[tuple], spec: SourceSettings, limits: Limits) -> list[Row]:
    """:func:`_looked` of each ``(path, start, end, count, head)`` row, in Python workers."""
    ranges = spark.createDataFrame(rows, "path string, start long, end long, count boolean, sniff boolean")

    def look(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            found = [
                _looked(row["path"], row["start"], row["end"], row["count"], row["sniff"], spec, limits)
                for row in batch.to_pylist()
            ]
            yield pa.RecordBatch.from_pylist(found, schema=_LOOKED_ARROW)

    return ranges.mapInArrow(look, _LOOKED).collect()


def _layout(looked: Any) -> Layout:
    return Layout(
        header=looked.header,
        expected_fields=looked.expected_fields,
        header_line=looked.header_line,
        first_line=looked.first_line,
    )


_LOOKED = StructType(
    [
        StructField("path", StringType()),
        StructField("start", LongType()),
        StructField("newlines", LongType()),
        StructField("plain_utf8", BooleanType()),
        StructField("header", ArrayType(StringType())),
        StructField("expected_fields", LongType()),
        StructField("first_line", LongType()),
        StructField("header_line", LongType()),
    ]
)
_LOOKED_ARROW = pa.schema(
    [
        pa.field("path", pa.string()),
        pa.field("start", pa.int64()),
        pa.field("newlines", pa.int64()),
        pa.field("plain_utf8", pa.bool_()),
        pa.field("header", pa.list_(pa.string())),
        pa.field("expected_fields", pa.int64()),
        pa.field("first_line", pa.int64()),
        pa.field("header_line", pa.int64()),
    ]
)


def _opener(path: str):
    return lambda: open_binary(path)


def _read_lines(
    spark: SparkSession,
    name: str,
    spec: SourceSettings,
    files: list[InputFile],
    limits: Limits,
    split_bytes: int,
    jvm_reader: str = "auto",
    staging: str | None = None,
) -> SourceRead:
    rules = _jvm_rules_if_used(spark, name, spec, limits, files, split_bytes, jvm_reader)
    staged: dict[str, StagedFile] = {}
    if rules is not None and staging is not None:
        with job_phase(spark, "decompress to staging"):
            staged = decompressed_copies(spark, files, spec.encoding, staging, split_bytes)
    originals = {s.copy.path: path for path, s in staged.items()}
    planned = [staged[f.path].copy if f.path in staged else f for f in files]
    counted = {key: n for s in staged.values() for key, n in s.newlines.items()}
    by_jvm = rules is not None
    splits, plain = plan_reads(
        spark, planned, spec, split_bytes, limits, sniff=by_jvm, counted=counted, count_in_jvm=by_jvm
    )
    reread = parsed = handed_over = None
    in_jvm = [s for s in splits if s.file.path in plain]
    if in_jvm:
        assert rules is not None  # plain files are found only by the sniffing that rules enable
        tasks = pack_tasks(in_jvm, split_bytes)
        reread = jvm_lines_frame(spark, spec, tasks, rules, plain, originals)
        handed_over = HandedOverLines(name, spec, limits, {originals.get(p, p): v for p, v in plain.items()})
    # a copy is plain UTF-8 by its head, as plan_reads finds it: the original is read only if not
    unread = {originals[s.file.path] for s in splits if s.file.path in originals and s.file.path not in plain}
    in_python = [s for s in splits if s.file.path not in plain and s.file.path not in originals]
    in_python += plan_splits([f for f in files if f.path in unread], spec, split_bytes)
    if in_python or reread is None:
        parsed = _parsed_in_python(spark, name, spec, limits, pack_tasks(in_python, split_bytes))
    return SourceRead(reread, parsed, handed_over)


def _jvm_rules_if_used(
    spark: SparkSession,
    name: str,
    spec: SourceSettings,
    limits: Limits,
    files: list[InputFile],
    split_bytes: int,
    mode: str,
) -> dict | None:
    """The JVM reader's rules for this source when it reads it (``ingest.jvm_reader``), else
    ``None``. ``auto`` leaves sources under one read task to Python: there the reader's fixed
    costs (a head read per file, one more Spark job) outweigh what it saves."""
    rules = jvm_rules(name, spec, limits) if mode != "never" else None
    if rules is None or (mode == "auto" and sum(f.size for f in files) < split_bytes):
        return None
    if not jvm_reader_available(spark):
        if mode == "always":
            raise ConfigError(
                "config key 'ingest.jvm_reader': 'always' but refinery-jvm.jar is not on the classpath; "
                "fix: run `make jars` (it builds the jar into spark.jars_dir), or set ingest.jvm_reader=auto"
            )
        return None
    return rules


def _parsed_in_python(
    spark: SparkSession, name: str, spec: SourceSettings, limits: Limits, splits: list[Split]
) -> DataFrame:
    """The records of ``splits`` (packed into tasks) parsed by :func:`parse_range` in Python
    workers, one Spark partition per task."""
    if not splits:
        return spark.createDataFrame([], RECORDS)
    ranges: dict[int, list[tuple]] = {}
    for s in splits:
        span = FileRange(s.file.path, s.start, None if s.reads_to_end else s.end, s.newlines_before)
        ranges.setdefault(s.task, []).append((span, s.file.mtime))
    tasks = splits[-1].task + 1
    # one partition per task id; the function carries each task's ranges (a path and four
    # numbers each: PySpark broadcasts a large function), so no frame of ranges is joined to
    # the ids, which would cost a broadcast job per source
    plan = spark.range(tasks, numPartitions=tasks)

    def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for task in batch.column("id").to_pylist():
                for span, mtime in ranges.get(task, []):
                    records = parse_range(_opener(span.path), span, name, spec, limits)
                    yield from _record_batches(records, mtime)

    return plan.mapInArrow(parse, RECORDS)


def _record_batches(records: Iterable[dict[str, Any]], mtime: Any) -> Iterator[pa.RecordBatch]:
    """``records`` as Arrow batches in :data:`RECORDS`, of at most :data:`BATCH_RECORDS` rows
    or about :data:`BATCH_TEXT_BYTES` of text and payload."""
    pending: list[dict[str, Any]] = []
    size = 0
    for record in records:
        pending.append(record)
        size += len(record.get("text") or "") + len(record.get("payload") or "")
        if len(pending) >= BATCH_RECORDS or size >= BATCH_TEXT_BYTES:
            yield _record_batch(pending, mtime)
            pending, size = [], 0
    if pending:
        yield _record_batch(pending, mtime)


def _record_batch(records: list[dict[str, Any]], mtime: Any) -> pa.RecordBatch:
    # column by column: a comprehension per field is faster than appending row by row
    columns: dict[str, list] = {field: [record.get(field) for record in records] for field in RECORD_FIELDS}
    columns["meta"] = [list((record.get("meta") or {}).items()) for record in records]
    columns["file_mtime"] = [mtime] * len(records)
    return pa.RecordBatch.from_pydict(columns, schema=_ARROW_SCHEMA)
