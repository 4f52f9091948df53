"""Spark side of ingest's staging folder: compressed line files decompressed in parallel, once
per run, for the JVM reader to split (:mod:`refinery.sources.decompressed_copy`).

The folder is ``ingest.staging_dir`` (default: ``_ingest_staging`` beside the bronze table,
storage every executor reads) plus the run's id; it holds each copy for the run's two reads
and is removed when the run ends, whether it succeeds or fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

from refinery.config import CATALOG_PREFIX
from refinery.sources.decompressed_copy import write_decompressed_copy
from refinery.sources.file_lines import is_compressed_name, open_binary
from refinery.sources.splits import InputFile


@dataclass(frozen=True)
class StagedFile:
    """A compressed input file's decompressed copy: the copy as a file to plan (its path and
    size, the original's modification time) and its newline count per block of the read size,
    keyed ``(copy path, block start)`` as :func:`refinery.ingest.read.plan_reads` counts
    ranges."""

    copy: InputFile
    newlines: dict[tuple[str, int], int]


_COPIES = StructType(
    [
        StructField("path", StringType()),
        StructField("size", LongType()),
        StructField("newlines", ArrayType(LongType())),
    ]
)
_COPIES_ARROW = pa.schema(
    [pa.field("path", pa.string()), pa.field("size", pa.int64()), pa.field("newlines", pa.list_(pa.int64()))]
)


def decompressed_copies(
    spark: SparkSession, files: Sequence[InputFile], encoding: str, folder: str, block_bytes: int
) -> dict[str, StagedFile]:
    """The files of ``files`` named compressed (``.gz``, ``.bz2``) that are read as UTF-8
    (``encoding``: the source's setting) and decompress to their end, decompressed into
    ``folder`` by one task per file: original path → :class:`StagedFile`. The others are not
    copied (the Python reader reads them as before)."""
    compressed = [f for f in files if is_compressed_name(f.path)]
    if not compressed:
        return {}
    targets = {f.path: f"{folder.rstrip('/')}/{_copy_name(f.path)}" for f in compressed}
    paths = [f.path for f in compressed]
    # one partition per file (its index), so that the copies are made in parallel
    plan = spark.range(len(paths), numPartitions=len(paths))

    def copy(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for path in (paths[i] for i in batch.column("id").to_pylist()):
                made = write_decompressed_copy(partial(open_binary, path), path, encoding, targets[path], block_bytes)
                if made is not None:
                    yield pa.RecordBatch.from_pylist(
                        [{"path": path, "size": made.size, "newlines": list(made.newlines)}], schema=_COPIES_ARROW
                    )

    by_path = {f.path: f for f in compressed}
    staged = {}
    for r in plan.mapInArrow(copy, _COPIES).collect():
        target = targets[r.path]
        newlines = {(target, k * block_bytes): n for k, n in enumerate(r.newlines)}
        staged[r.path] = StagedFile(InputFile(target, r.size, by_path[r.path].mtime), newlines)
    return staged


def _copy_name(path: str) -> str:
    # not the original's name: a copy must never look compressed, whatever it was called
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:20] + ".staged"


def staging_root(staging_dir: str | None, bronze: str) -> str | None:
    """Where a run's folder goes: ``staging_dir`` when set, else ``_ingest_staging`` beside
    the bronze table's folder; ``None`` (no staging) for a catalog bronze table without a
    ``staging_dir``."""
    if staging_dir is not None:
        return staging_dir
    if bronze.startswith(CATALOG_PREFIX):
        return None
    return f"{bronze.rstrip('/').rsplit('/', 1)[0]}/_ingest_staging"


@contextmanager
def staging_folder(spark: SparkSession, root: str | None, run_id: str) -> Iterator[str | None]:
    """The run's staging folder under ``root`` (``None`` when ``root`` is), removed with all it
    holds when the block ends, through Hadoop's filesystem (any storage Spark writes)."""
    if root is None:
        yield None
        return
    folder = f"{root.rstrip('/')}/{run_id}"
    try:
        yield folder
    finally:
        jvm = spark._jvm
        path = jvm.org.apache.hadoop.fs.Path(folder)
        path.getFileSystem(spark._jsc.hadoopConfiguration()).delete(path, True)
