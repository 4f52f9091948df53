"""Spark side of reading one ingest source: files → a DataFrame of parsed records.

Line-oriented formats (JSONL, CSV, TSV, text; optionally gzip-compressed) are read with
Spark's ``binaryFile`` source, so any Hadoop filesystem works and the bytes reach Python
undecoded; :func:`refinery.sources.records.parse_file` then decodes and parses each file in
the executors. One file is one task's unit of work (a file must stay under 2 GiB, the limit of
one binary cell): shard large inputs, as JSONL/CSV exports usually are.

Parquet is read natively and each row mapped by the same column rules.
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from refinery.config import SourceSettings
from refinery.sources.records import RECORD_FIELDS, Limits, parse_file, record_from_mapping
from refinery.spark.schemas import STRING_MAP

#: Parsed-record schema: :data:`RECORD_FIELDS` (``meta`` as a JSON string) plus the file's
#: modification time, the default ``event_ts``.
RECORDS = StructType(
    [StructField(name, LongType() if name == "line" else StringType(), True) for name in RECORD_FIELDS]
    + [StructField("file_mtime", TimestampType(), True)]
)


def read_source(spark: SparkSession, name: str, spec: SourceSettings, location: list[str], limits: Limits) -> DataFrame:
    """Every record of source ``name`` found at ``location`` (files, folders or globs), with
    ``meta`` as a map column."""
    if spec.format == "parquet":
        records = _read_parquet(spark, name, spec, location, limits)
    else:
        records = _read_lines(spark, name, spec, location, limits)
    return records.withColumn("meta", F.from_json("meta", STRING_MAP))


def _read_lines(spark: SparkSession, name: str, spec: SourceSettings, location: list[str], limits: Limits) -> DataFrame:
    files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(location)

    def parse(row: Any):
        for record in parse_file(bytes(row.content), row.path, name, spec, limits):
            yield _as_tuple(record, row.modificationTime)

    return spark.createDataFrame(files.rdd.flatMap(parse), RECORDS)


def _read_parquet(
    spark: SparkSession, name: str, spec: SourceSettings, location: list[str], limits: Limits
) -> DataFrame:
    frame = spark.read.option("recursiveFileLookup", "true").parquet(*location)
    frame = frame.select(
        F.struct(*frame.columns).alias("values"),
        F.col("_metadata.file_path").alias("path"),
        (F.col("_metadata.row_index") + 1).alias("line"),
        F.col("_metadata.file_modification_time").alias("mtime"),
    )

    def convert(row: Any):
        values = row["values"].asDict(recursive=True)
        payload = json.dumps(values, ensure_ascii=False, default=str)
        record = record_from_mapping(values, row.path, row.line, name, spec, limits, payload)
        return _as_tuple(record, row.mtime)

    return spark.createDataFrame(frame.rdd.map(convert), RECORDS)


def _as_tuple(record: dict[str, Any], mtime: Any) -> tuple:
    values = [record.get(field) for field in RECORD_FIELDS]
    values[RECORD_FIELDS.index("meta")] = json.dumps(record.get("meta") or {}, ensure_ascii=False)
    return (*values, mtime)
