"""A pinned Delta snapshot, read outside Spark: its version and its Parquet files.

The ``score`` job trains on one fixed version of ``silver`` (Delta time travel), so every
score is traceable to the exact rows it saw, even while other jobs write the table. Training
runs in one Python process (the driver, or one TorchDistributor worker) that must never hold
the table: it streams the snapshot's Parquet files in Arrow record batches of bounded size,
reading only the columns it needs.

Reading the files directly is right only when the Parquet rows *are* the table's rows: a
table with deletion vectors (rows deleted without rewriting their file) or column mapping
(physical column names differ) is streamed through Spark instead
(``DataFrame.toLocalIterator``, one partition at a time), which is slower but exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs as pafs
from pyspark.sql import DataFrame, SparkSession

from refinery.spark.tables import delta_table, is_catalog_name


@dataclass(frozen=True)
class Snapshot:
    """One version of a Delta table: the version, the frame that reads it, its data files,
    and whether those files can be read as they are (see the module doc)."""

    location: str
    version: int
    frame: DataFrame
    files: tuple[str, ...]
    files_are_rows: bool


def pin_snapshot(spark: SparkSession, location: str, version: int | None = None) -> Snapshot:
    """The table at ``location`` as of ``version`` (default: its latest version now)."""
    table = delta_table(spark, location)
    if version is None:
        version = int(table.history(1).first()["version"])
    if is_catalog_name(location):
        frame = spark.sql(f"SELECT * FROM {location.split(':', 1)[1]} VERSION AS OF {int(version)}")
    else:
        frame = spark.read.format("delta").option("versionAsOf", version).load(location)
    detail = table.detail().first()
    features = set(detail["tableFeatures"] or [])
    mapping = (detail["properties"] or {}).get("delta.columnMapping.mode", "none")
    files_are_rows = "deletionVectors" not in features and mapping == "none"
    return Snapshot(location, version, frame, tuple(sorted(frame.inputFiles())), files_are_rows)


def stream_batches(snapshot: Snapshot, columns: Sequence[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The snapshot's ``columns`` in record batches of at most ``batch_rows`` rows, in a fixed
    order (file by file, sorted by path). A file written before a column was added lacks it:
    the column comes back as nulls."""
    if not snapshot.files_are_rows:
        yield from _batches_through_spark(snapshot.frame.select(*columns), batch_rows)
        return
    for uri in snapshot.files:
        filesystem, path = _filesystem(uri)
        with filesystem.open_input_file(path) as handle:
            parquet = pq.ParquetFile(handle)
            present = [c for c in columns if c in parquet.schema_arrow.names]
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=present):
                yield _with_missing(batch, columns)


def _with_missing(batch: pa.RecordBatch, columns: Sequence[str]) -> pa.RecordBatch:
    arrays = [batch.column(c) if c in batch.schema.names else pa.nulls(batch.num_rows) for c in columns]
    return pa.RecordBatch.from_arrays(arrays, names=list(columns))


def _batches_through_spark(frame: DataFrame, batch_rows: int) -> Iterator[pa.RecordBatch]:
    rows: list[dict] = []
    for row in frame.toLocalIterator(prefetchPartitions=True):
        rows.append(row.asDict())
        if len(rows) >= batch_rows:
            yield pa.RecordBatch.from_pylist(rows)
            rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows)


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and path for a Spark file URI (``file:/…``, ``s3a://…``, …)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return pafs.LocalFileSystem(), unquote(parsed.path)
    if parsed.scheme == "s3a":
        uri = "s3://" + uri[len("s3a://") :]
    return pafs.FileSystem.from_uri(uri)
