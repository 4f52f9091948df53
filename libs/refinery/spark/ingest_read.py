"""Spark side of reading one ingest source: files → a DataFrame of parsed records.

Line-oriented formats (JSONL, CSV, TSV, text; optionally gzip-compressed) are read with
Spark's ``binaryFile`` source, so any Hadoop filesystem works and the bytes reach Python
undecoded; :func:`refinery.sources.records.parse_file` then decodes and parses each file in
the executors. One file is one task's unit of work (a file must stay under 2 GiB, the limit of
one binary cell): shard large inputs, as JSONL/CSV exports usually are.

Parquet is read natively and mapped column by column with the same rules
(:mod:`refinery.spark.ingest_tables`). Line formats hand records to the JVM as Arrow batches
(``mapInArrow``): about four times faster than pickled rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from refinery.config import SourceSettings
from refinery.sources.records import RECORD_FIELDS, Limits, parse_file
from refinery.spark.ingest_tables import parquet_records
from refinery.spark.schemas import STRING_MAP

#: Parsed-record schema: :data:`RECORD_FIELDS` (``meta`` as a JSON string) plus the file's
#: modification time, the default ``event_ts``.
RECORDS = StructType(
    [StructField(name, LongType() if name == "line" else StringType(), True) for name in RECORD_FIELDS]
    + [StructField("file_mtime", TimestampType(), True)]
)
_ARROW_SCHEMA = pa.schema(
    [pa.field(name, pa.int64() if name == "line" else pa.string()) for name in RECORD_FIELDS]
    + [pa.field("file_mtime", pa.timestamp("us", tz="UTC"))]
)


def read_source(spark: SparkSession, name: str, spec: SourceSettings, location: list[str], limits: Limits) -> DataFrame:
    """Every record of source ``name`` found at ``location`` (files, folders or globs), with
    ``meta`` as a map column."""
    if spec.format == "parquet":
        records = parquet_records(spark, name, spec, location, limits)
    else:
        records = _read_lines(spark, name, spec, location, limits)
    return records.withColumn("meta", F.from_json("meta", STRING_MAP))


#: Records per Arrow batch sent back to the JVM: large enough to amortise the hand-over,
#: small enough to bound an executor's Python memory.
BATCH_RECORDS = 8192


def _read_lines(spark: SparkSession, name: str, spec: SourceSettings, location: list[str], limits: Limits) -> DataFrame:
    files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(location)

    def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            paths, mtimes, contents = (batch.column(c) for c in ("path", "modificationTime", "content"))
            for i in range(batch.num_rows):
                records = parse_file(contents[i].as_py(), paths[i].as_py(), name, spec, limits)
                yield from _record_batches(records, mtimes[i].as_py())

    return files.select("path", "modificationTime", "content").mapInArrow(parse, RECORDS)


def _record_batches(records: Iterable[dict[str, Any]], mtime: Any) -> Iterator[pa.RecordBatch]:
    """``records`` as Arrow batches of at most :data:`BATCH_RECORDS` rows in :data:`RECORDS`."""
    columns: dict[str, list] = {name: [] for name in _ARROW_SCHEMA.names}
    for record in records:
        for field in RECORD_FIELDS:
            columns[field].append(record.get(field))
        columns["meta"][-1] = json.dumps(record.get("meta") or {}, ensure_ascii=False)
        columns["file_mtime"].append(mtime)
        if len(columns["file_mtime"]) >= BATCH_RECORDS:
            yield pa.RecordBatch.from_pydict(columns, schema=_ARROW_SCHEMA)
            columns = {name: [] for name in _ARROW_SCHEMA.names}
    if columns["file_mtime"]:
        yield pa.RecordBatch.from_pydict(columns, schema=_ARROW_SCHEMA)
