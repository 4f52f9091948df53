"""The ``export`` job: one pinned ``gold`` version → training-ready shards and ``manifest.json``.

read (one pinned ``gold`` version, ``export.gold_version`` or the latest; silver's
``dup_cluster`` as of the silver version gold was built from) → split
(:mod:`refinery.export.assign`: every row's split, stratified by ``(source, label)`` and
deterministic) → write (:mod:`refinery.export.write`: each format's shards under
``export.dir/<run_id>/<format>/``, each file at most ``export.max_shard_mb`` MiB) → count
(the files read back) → ``manifest.json`` (:mod:`refinery.export.manifest`), written last and
atomically; one ``metrics`` row.

**Splits.** A row's unit is its dedup cluster (silver's ``dup_cluster``, looked up by ``id`` in
the silver version gold records in its ``silver_version`` column; with ``export.group_duplicates``)
or else its ``id``, so a cluster's near-duplicates, and rebalance's over-sampled copies of a
row, never straddle two splits. Units are ranked within their ``(source, label)`` stratum by
``xxhash64(seed, unit)`` and cut by the shares (:mod:`refinery.export.splits`): each stratum's
split counts are within one unit of its shares, and a rerun gives the same splits however gold
is partitioned. Over-sampled copies (``copy_index > 0``) stay in the first (training) split
only, unless ``export.eval_copies``; elsewhere they are filtered as ``eval_copy``.

**Files.** ``<format>/<split>-<i>-of-<n>.<ext>`` (Parquet and/or JSONL), columns
``export.columns`` (``label_id`` is the label's index in the manifest's ``label_ids``, the
sorted distinct labels). Hugging Face ``datasets`` loads them as they are:
``load_dataset("parquet", data_files={"train": [...], ...})`` with the manifest's paths.
A rerun of the same run id replaces ``<run_id>/`` (its old manifest is removed first).

**Versions.** The manifest and the metrics record gold's version and the silver version gold
was built from (gold's ``silver_version`` column, written by ``rebalance``); a gold without
that column records silver's latest version at export time instead (``silver.recorded_from``
is then ``latest`` rather than ``gold``).

Counts (the stage reconciles): rows in = the pinned gold version's rows, counted on their own;
out = the rows in the written files, read back from them (the first format; every other format
must hold the same rows per file and label, or the job fails); filtered: ``eval_copy``.
Logs and metrics carry counts, names and paths only, never row text.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from refinery.config import ConfigError
from refinery.export.assign import CLUSTER, SPLIT, assign_splits
from refinery.export.details import ExportDetails
from refinery.export.manifest import (
    MANIFEST,
    ShardFile,
    build_manifest,
    label_ids,
    rows_per_file,
    sha256_of,
    split_summary,
    write_atomically,
)
from refinery.export.settings import ExportSettings
from refinery.export.shards import EXTENSIONS, cap_bytes, shard_count
from refinery.export.write import ROW_KEY, read_back, write_formats
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.spark.snapshot import Snapshot, pin_snapshot
from refinery.spark.tables import delta_table, table_exists

STAGE = "export"
#: An over-sampled copy (``copy_index > 0``) kept out of an evaluation split.
EVAL_COPY = "eval_copy"
#: Columns the job computes; every other name in ``export.columns`` must be a gold column.
COMPUTED = ("label_id",)
#: Whether a row is written (false: an over-sampled copy filtered from an evaluation split).
KEEP = "_ex_keep"


def run(ctx: JobContext) -> JobResult:
    """Export the pinned gold version as shards and a manifest under ``export.dir/<run_id>/``."""
    spark, cfg = ctx.spark, ctx.settings.export
    names = list(cfg.splits)
    with stage(ctx, STAGE) as s:
        with s.phase("read"):
            snapshot = pinned_gold(ctx, cfg.gold_version)
            gold = snapshot.frame
            check_columns(gold.columns, cfg.columns)
            s.count_input(gold)  # the input, counted on its own
            silver_version, recorded_from = built_from(ctx, gold)
            clusters = silver_clusters(ctx, silver_version) if cfg.group_duplicates else None
        with s.phase("split"):
            assigned, strata = assign_splits(gold, clusters, cfg.splits, cfg.seed, spark)
            labels = label_ids(label for _, label in strata if label != "")
            rows = with_label_id(assigned, labels)
            # computed once (the splits' joins and ranking), then counted, sized and written
            held = s.hold(drop_one_row(export_rows(rows, kept(rows, cfg), cfg), STAGE))
            kept_rows, copies, row_bytes = split_stats(held, cfg.columns)
            out = held.where(F.col(KEEP)).drop(KEEP)

        folder = Path(cfg.dir) / ctx.run_id
        fresh_folder(folder)
        cap = cap_bytes(cfg.max_shard_mb)
        shards = {i: shard_count(row_bytes.get(i, 0), cap) for i in range(len(names))}
        with s.phase("write"):
            files, rewrites = write_formats(out, cfg.formats, shards, names, folder, cap, kept_rows)

        with s.phase("read back"):
            counted: dict[str, dict[tuple[str, str | None], int]] = {
                fmt: read_back(spark, fmt, files[fmt]) for fmt in cfg.formats
            }
        first = cfg.formats[0]
        for fmt in cfg.formats[1:]:
            if counted[fmt] != {(_other_name(f, fmt, first), label): n for (f, label), n in counted[first].items()}:
                raise RuntimeError(f"the {fmt} files do not hold the rows of the {first} files (per file and label)")
        written = sum(counted[first].values())
        with s.phase("manifest"):
            manifest = manifest_for(ctx, snapshot, silver_version, recorded_from, labels, files, counted, folder)
            write_atomically(folder / MANIFEST, manifest)

        s.out(written)  # out: the rows read back from the written files
        if copies:
            s.filtered(EVAL_COPY, copies)
    s.details = ExportDetails(
        gold_version=snapshot.version,
        silver_version=silver_version,
        dir=str(folder),
        formats=list(cfg.formats),
        rows={name: int(manifest["splits"][name]["rows"]) for name in names},
        files={fmt: {name: len(paths) for name, paths in by_split.items()} for fmt, by_split in files.items()},
        rewrites=rewrites,
        labels=len(labels),
    )
    ctx.log.info("export finished", extra={"rows": written, "eval_copies_filtered": copies, "dir": str(folder)})
    return JobResult(batch=None, stages=s.stages)


def pinned_gold(ctx: JobContext, version: int | None) -> Snapshot:
    """Gold as of ``version`` (default: its latest version now); a :class:`ConfigError` naming
    the key when there is no gold yet or no such version."""
    location = ctx.settings.tables.gold
    if not table_exists(ctx.spark, location):
        raise ConfigError(f"config key 'tables.gold': no Delta table at {location}; fix: run rebalance first")
    latest = int(delta_table(ctx.spark, location).history(1).first()["version"])
    if version is not None and version > latest:
        raise ConfigError(
            f"config key 'export.gold_version': gold has no version {version} (latest {latest}); "
            f"fix: null or at most {latest}"
        )
    return pin_snapshot(ctx.spark, location, latest if version is None else version)


def check_columns(gold_columns: list[str], wanted: list[str]) -> None:
    """A :class:`ConfigError` naming ``export.columns`` when it lists a column gold lacks."""
    missing = [c for c in wanted if c not in gold_columns and c not in COMPUTED]
    if missing:
        raise ConfigError(
            f"config key 'export.columns': gold has no column(s) {missing}; fix: list gold columns "
            f"({', '.join(gold_columns)}) or {', '.join(COMPUTED)}"
        )


def built_from(ctx: JobContext, gold: DataFrame) -> tuple[int | None, str]:
    """The silver version gold was built from and where that came from: gold's
    ``silver_version`` column (``gold``); without it, silver's latest version now (``latest``;
    ``None`` without a silver table)."""
    if "silver_version" in gold.columns:
        found = gold.agg(F.max("silver_version").alias("v")).first()
        if found is not None and found["v"] is not None:
            return int(found["v"]), "gold"
    location = ctx.settings.tables.silver
    if not table_exists(ctx.spark, location):
        return None, "latest"
    return int(delta_table(ctx.spark, location).history(1).first()["version"]), "latest"


def silver_clusters(ctx: JobContext, version: int | None) -> DataFrame | None:
    """``id`` and :data:`~refinery.export.assign.CLUSTER` of the silver rows in a dedup
    cluster, as of silver ``version``; ``None`` (each row its own unit, with a warning) when
    silver, that version or its ``dup_cluster`` column is not there."""
    location = ctx.settings.tables.silver
    if version is None or not table_exists(ctx.spark, location):
        ctx.log.warning("no silver table: rows are split one by one, not by dedup cluster")
        return None
    try:
        silver = pin_snapshot(ctx.spark, location, version).frame
        columns = silver.columns
    except AnalysisException:
        ctx.log.warning("silver version gone (vacuumed?): rows are split one by one", extra={"version": version})
        return None
    if "dup_cluster" not in columns:
        return None  # dedup has not run: no clusters
    return silver.where(F.col("dup_cluster").isNotNull()).select("id", F.col("dup_cluster").alias(CLUSTER))


def with_label_id(rows: DataFrame, labels: dict[str, int]) -> DataFrame:
    """``rows`` with ``label_id``: the label's index in ``labels`` (null for a null label)."""
    ids = F.create_map(*[F.lit(x) for kv in sorted(labels.items()) for x in kv])
    return rows.withColumn("label_id", ids[F.col("label")].cast("int"))


def kept(rows: DataFrame, cfg: ExportSettings) -> Column:
    """Rows written: all, except over-sampled copies in a split other than the first (unless
    ``eval_copies``)."""
    if cfg.eval_copies or "copy_index" not in rows.columns:
        return F.lit(True)
    return (F.col(SPLIT) == 0) | (F.coalesce(F.col("copy_index"), F.lit(0)) == 0)


def split_stats(rows: DataFrame, columns: list[str]) -> tuple[dict[int, int], int, dict[int, int]]:
    """One aggregation of :func:`export_rows`: rows kept per split, copies filtered, and the
    kept rows' JSON bytes per split (the shard plan's size estimate: a JSON line per row)."""
    size = F.octet_length(F.to_json(F.struct(*[F.col(c) for c in columns]))) + F.lit(1)
    found = rows.groupBy(SPLIT, KEEP).agg(F.count(F.lit(1)).alias("n"), F.sum(size).alias("b")).collect()
    kept_rows = {int(r[SPLIT]): int(r["n"]) for r in found if r[KEEP]}
    row_bytes = {int(r[SPLIT]): int(r["b"] or 0) for r in found if r[KEEP]}
    copies = sum(int(r["n"]) for r in found if not r[KEEP])
    return kept_rows, copies, row_bytes


def export_rows(rows: DataFrame, keep: Column, cfg: ExportSettings) -> DataFrame:
    """The columns written, the split, :data:`KEEP` and the row's order key (its shard's hash)."""
    copy = F.coalesce(F.col("copy_index"), F.lit(0)) if "copy_index" in rows.columns else F.lit(0)
    key = F.xxhash64(F.lit(cfg.seed), F.col("id"), copy).alias(ROW_KEY)
    return rows.select(*[F.col(c) for c in cfg.columns], F.col(SPLIT), keep.alias(KEEP), key)


def fresh_folder(folder: Path) -> None:
    """An empty ``folder``: a previous export of the same run id is removed, its manifest first
    (a reader never finds a manifest whose files are going)."""
    if folder.exists():
        (folder / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _other_name(name: str, fmt: str, first: str) -> str:
    """The name of ``first``'s file ``name`` in format ``fmt`` (same split, shard and count)."""
    return name[: -len(EXTENSIONS[first])] + EXTENSIONS[fmt]


def manifest_for(
    ctx: JobContext,
    snapshot: Snapshot,
    silver_version: int | None,
    recorded_from: str,
    labels: dict[str, int],
    files: dict[str, dict[str, list[Path]]],
    counted: dict[str, dict[tuple[str, str | None], int]],
    folder: Path,
) -> dict:
    """The manifest: every file with its bytes, rows (read back) and SHA-256, rows per split
    and per split × label (from the first format's files)."""
    cfg = ctx.settings.export
    entries: dict[str, dict[str, list[ShardFile]]] = {}
    for fmt, by_split in files.items():
        per_file = rows_per_file(counted[fmt])
        entries[fmt] = {
            split: [
                ShardFile(str(p.relative_to(folder)), p.stat().st_size, per_file.get(p.name, 0), sha256_of(p))
                for p in paths
            ]
            for split, paths in by_split.items()
        }
    first = cfg.formats[0]
    splits = split_summary({split: [p.name for p in paths] for split, paths in files[first].items()}, counted[first])
    return build_manifest(
        run_id=ctx.run_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        gold={"location": snapshot.location, "version": snapshot.version},
        silver={"location": ctx.settings.tables.silver, "version": silver_version, "recorded_from": recorded_from},
        config=cfg.model_dump(mode="json"),
        columns=list(cfg.columns),
        labels=labels,
        splits=splits,
        files=entries,
    )
