"""Writing the export's formats with Spark: size-capped shards with deterministic names, and
the counts read back from the files written.

Each split is written as ``n`` shards (:func:`refinery.export.shards.shard_count`), a row in
shard ``pmod(key, n)`` where ``key`` is a seeded hash of the row (:data:`ROW_KEY`): Spark writes
the frame partitioned by ``(split, shard)`` after a repartition on the same columns, so each
shard is one task's one file, its rows in key order. The files are then checked against the
cap: a split with a file over it, in any format, is written again in every format with more
shards (:func:`refinery.export.shards.more_shards`), so every format keeps the same rows in the
same file names. They are renamed to ``<format>/<split>-<i>-of-<n>.<ext>``. Nothing is
collected to the driver but file listings and counts; the driver moves, sizes and hashes the
files (a local or shared folder)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.config import ConfigError
from refinery.export.assign import SPLIT
from refinery.export.shards import more_shards, shard_name

#: The row's order key: a seeded hash of ``(id, copy_index)``; its shard is ``pmod(key, n)``.
ROW_KEY, SHARD = "_ex_row_key", "_ex_shard"
#: Writes of one split before the job gives up on fitting its files under the cap.
MAX_ATTEMPTS = 6
_SPARK_FORMAT = {"parquet": "parquet", "jsonl": "json"}


def write_formats(
    rows: DataFrame,
    formats: Sequence[str],
    shards: Mapping[int, int],
    names: Sequence[str],
    folder: Path,
    cap: int,
    split_rows: Mapping[int, int],
) -> tuple[dict[str, dict[str, list[Path]]], int]:
    """Write ``rows`` (the export's columns, :data:`SPLIT` and :data:`ROW_KEY`) in each of
    ``formats`` under ``folder/<format>/``, split ``i`` (named ``names[i]``) as ``shards[i]``
    files of at most ``cap`` bytes. A split with a file over the cap in any format is written
    again in every format with more shards, so all formats keep the same shards (the same rows
    in the same file names). Returns format → split name → its files in shard order, and how
    many split writes were repeated."""
    staging = folder / "_staging"
    plan = {i: n for i, n in shards.items() if n > 0}
    found: dict[str, dict[int, list[Path]]] = {fmt: {} for fmt in formats}
    rewrites = 0
    for attempt in range(MAX_ATTEMPTS):
        if not plan:
            break
        written = {fmt: _spark_write(rows, fmt, plan, staging / f"{fmt}-{attempt}") for fmt in formats}
        again: dict[int, int] = {}
        for split in plan:
            largest = max((p.stat().st_size for fmt in formats for p in written[fmt].get(split, [])), default=0)
            if largest <= cap:
                for fmt in formats:
                    found[fmt][split] = written[fmt].get(split, [])
            elif plan[split] >= split_rows.get(split, 0):  # one row per shard already
                raise ConfigError(
                    f"config key 'export.max_shard_mb': a single row of split {names[split]!r} takes up to "
                    f"{largest:,} bytes in a file, more than the cap of {cap:,}; fix: raise export.max_shard_mb"
                )
            else:
                again[split] = more_shards(plan[split], largest, cap)
        rewrites += len(again)
        plan = again
    if plan:
        over = sorted(names[i] for i in plan)
        raise RuntimeError(f"splits {over} still over the cap after {MAX_ATTEMPTS} writes")
    result: dict[str, dict[str, list[Path]]] = {}
    for fmt in formats:
        target = folder / fmt
        target.mkdir(parents=True, exist_ok=True)
        result[fmt] = {}
        for split, name in enumerate(names):
            files = found[fmt].get(split, [])
            result[fmt][name] = []
            for index, path in enumerate(files):
                final = target / shard_name(name, index, len(files), fmt)
                path.replace(final)
                result[fmt][name].append(final)
    shutil.rmtree(staging, ignore_errors=True)
    return result, rewrites


def _spark_write(rows: DataFrame, fmt: str, plan: Mapping[int, int], where: Path) -> dict[int, list[Path]]:
    """One Spark write of the splits in ``plan`` (split index → shards), partitioned by
    ``(split, shard)`` so that every shard is one file; the files of each split, in shard order."""
    counts = F.create_map(*[F.lit(x) for kv in sorted(plan.items()) for x in kv])
    frame = rows.where(F.col(SPLIT).isin(list(plan))).withColumn(SHARD, F.pmod(F.col(ROW_KEY), counts[F.col(SPLIT)]))
    ordered = (
        frame.repartition(sum(plan.values()), SPLIT, SHARD).sortWithinPartitions(SPLIT, SHARD, ROW_KEY).drop(ROW_KEY)
    )
    writer = ordered.write.mode("overwrite").partitionBy(SPLIT, SHARD).option("maxRecordsPerFile", 0)
    if fmt == "jsonl":
        writer = writer.option("ignoreNullFields", "false")  # every key on every line: one schema per shard
    writer.format(_SPARK_FORMAT[fmt]).save(str(where))
    return _listed(where, plan)


def _listed(where: Path, plan: Mapping[int, int]) -> dict[int, list[Path]]:
    """Split index → its data files under ``where``, in shard order (one file per shard
    holding rows; a shard no row hashed to has none)."""
    result: dict[int, list[Path]] = {}
    for split in plan:
        files = []
        for shard in range(plan[split]):
            folder = where / f"{SPLIT}={split}" / f"{SHARD}={shard}"
            parts = sorted(folder.glob("part-*")) if folder.is_dir() else []
            parts = [p for p in parts if not p.name.endswith(".crc")]
            if len(parts) > 1:
                raise RuntimeError(f"shard {shard} of split {split} was written as {len(parts)} files, not 1")
            files += parts
        if files:
            result[split] = files
    return result


def read_back(spark: SparkSession, fmt: str, files: Mapping[str, list[Path]]) -> dict[tuple[str, str | None], int]:
    """Rows per ``(file name, label)`` counted by reading the written files again, on their own."""
    paths = [str(p) for paths in files.values() for p in paths]
    if not paths:
        return {}
    if fmt == "parquet":
        frame = spark.read.parquet(*paths)
    else:
        frame = spark.read.schema("label string").option("mode", "FAILFAST").json(paths)
    name = F.col("_metadata.file_name")
    found = frame.groupBy(name.alias("file"), F.col("label")).agg(F.count(F.lit(1)).alias("n")).collect()
    return {(r["file"], r["label"]): int(r["n"]) for r in found}
