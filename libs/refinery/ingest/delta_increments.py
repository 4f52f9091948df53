"""Incremental ingest of Delta sources: which table versions a batch reads, and the record of
what each batch read (``tables.ingest_state``).

**State.** ``tables.ingest_state`` is a small Delta table, one row per (source, batch): the
table's identity (Delta table id and location) and the versions the batch read,
``(from_version, to_version]`` (``from_version = -1``: the whole snapshot at ``to_version``).
The job writes it after ``bronze`` and ``quarantine`` are committed.

**Which versions.** A batch that already has a row reads the same versions again, so a
rerun of a batch (an Airflow retry, a cleared task) replaces its bronze slice with the same
rows. A new batch reads ``(last, current]``: ``last`` the highest ``to_version`` that earlier
batches recorded for this table, ``current`` the table's latest version when the run starts.
The first batch of a table, and every batch with ``full_refresh``, reads the whole current
snapshot. Nothing new (``last == current``) reads no row and succeeds.

**Appends only.** Incremental reading takes rows that versions *added*. The commits of the
range are read from the table's ``_delta_log``: a commit that removes data files with
``dataChange: true`` (an overwrite, DELETE, UPDATE, a MERGE that updates or deletes rows,
RESTORE) rewrote rows that earlier batches ingested, and the run stops with a
:class:`ConfigError` naming the version, its operation and the switch,
``ingest.sources.<name>.full_refresh``. Commits that only rearrange files (OPTIMIZE, with
``dataChange: false``) are skipped: their rows were ingested when they were appended.

**How the rows are read.** When the table records its change data feed
(``delta.enableChangeDataFeed``) over the whole range, its ``insert`` rows are read
(``readChangeFeed``); otherwise the data files that the range's commits added are read
directly as Parquet, with the table's schema (partition values from the folder names).
A table with column mapping must use the change data feed for increments (its files'
column names are not the table's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StringType, StructField, StructType

from refinery.config import CATALOG_PREFIX, ConfigError
from refinery.spark.schemas import INGEST_STATE
from refinery.spark.tables import delta_table, is_catalog_name, read_table, replace_slice, sql_string, table_exists

Mode = Literal["snapshot", "cdf", "appends", "none"]

#: The ``ingest_state`` table's rows: :data:`refinery.spark.schemas.INGEST_STATE`.
STATE = INGEST_STATE

#: The fields of a ``_delta_log`` commit file that planning needs.
_LOG = StructType(
    [
        StructField("add", StructType([StructField("path", StringType()), StructField("dataChange", BooleanType())])),
        StructField(
            "remove", StructType([StructField("path", StringType()), StructField("dataChange", BooleanType())])
        ),
        StructField("commitInfo", StructType([StructField("operation", StringType())])),
    ]
)


@dataclass(frozen=True)
class Increment:
    """What one batch reads of one Delta source: versions ``(start, end]`` (``start = -1``:
    the snapshot at ``end``), how (``mode``), and for direct reads the data ``files`` with
    the table's ``schema``."""

    source: str
    location: str
    table_path: str
    table_id: str
    start: int
    end: int
    mode: Mode
    files: tuple[str, ...] | None = None
    schema: StructType | None = None

    def describe(self) -> str:
        """``(start, end]`` as people read it: ``snapshot@5`` or ``versions 3..5``."""
        if self.start < 0:
            return f"snapshot@{self.end}"
        return f"versions {self.start + 1}..{self.end}" if self.end > self.start else f"none after {self.start}"


@dataclass(frozen=True)
class _Table:
    location: str
    path: str
    id: str
    version: int
    properties: dict[str, str]
    features: tuple[str, ...]


def plan_increment(
    spark: SparkSession,
    name: str,
    location: str,
    state_location: str,
    batch: str | None,
    full_refresh: bool = False,
) -> Increment:
    """The versions of the Delta source ``name`` at ``location`` that ``batch`` reads
    (``batch=None``: a batch not named yet, ``ingest.batch: auto``)."""
    table = _describe(spark, name, location)
    rows = _recorded(spark, state_location, name)
    mine = [r for r in rows if batch is not None and r.batch == batch]
    if full_refresh:
        start, end = -1, table.version
    elif mine:
        start, end = mine[0].from_version, mine[0].to_version
        if mine[0].table_id != table.id:
            raise _rewritten(name, table, end, "the table was recreated (its Delta table id changed)")
    else:
        earlier = [r for r in rows if r.table_id == table.id]
        if not earlier and any(r.location == location for r in rows):
            raise _rewritten(name, table, None, "the table was recreated (its Delta table id changed)")
        start, end = (max(r.to_version for r in earlier), table.version) if earlier else (-1, table.version)
        if start > end:
            raise _rewritten(name, table, start, f"the table is at version {end}, older than the last one ingested")
    return _increment(spark, name, table, start, end)


def _increment(spark: SparkSession, name: str, table: _Table, start: int, end: int) -> Increment:
    base: dict[str, Any] = {"source": name, "location": table.location, "table_path": table.path, "table_id": table.id}
    column_mapping = table.properties.get("delta.columnMapping.mode", "none") != "none"
    direct = not column_mapping and "deletionVectors" not in table.features
    if start < 0:
        if not direct:
            return Increment(**base, start=start, end=end, mode="snapshot")
        snapshot = spark.read.format("delta").option("versionAsOf", end).load(table.path)
        files = tuple(snapshot.inputFiles())  # file system paths (the log's are URL-encoded)
        return Increment(**base, start=start, end=end, mode="snapshot", files=files, schema=snapshot.schema)
    if start == end:
        return Increment(**base, start=start, end=end, mode="none")
    added = _appended_files(spark, name, table, start, end)
    if table.properties.get("delta.enableChangeDataFeed") == "true" and _feed_covers(spark, table.path, start, end):
        return Increment(**base, start=start, end=end, mode="cdf")
    if column_mapping:
        raise ConfigError(
            f"config key 'ingest.sources.{name}.path': the Delta table {table.location} uses column mapping, so "
            "its data files cannot be read directly; fix: enable its change data feed (ALTER TABLE ... SET "
            f"TBLPROPERTIES (delta.enableChangeDataFeed = true)) or --set ingest.sources.{name}.full_refresh=true"
        )
    schema = spark.read.format("delta").option("versionAsOf", end).load(table.path).schema
    return Increment(**base, start=start, end=end, mode="appends", files=added, schema=schema)


def _appended_files(spark: SparkSession, name: str, table: _Table, start: int, end: int) -> tuple[str, ...]:
    """Absolute paths of the data files that versions ``(start, end]`` added; a
    :class:`ConfigError` at the first version that removed data (a rewrite)."""
    log = table.path.rstrip("/") + "/_delta_log/"
    paths = [f"{log}{version:020d}.json" for version in range(start + 1, end + 1)]
    try:
        actions = spark.read.schema(_LOG).json(paths).withColumn("_file", F.col("_metadata.file_name"))
        commits = (
            actions.groupBy("_file")
            .agg(
                F.max("commitInfo.operation").alias("operation"),
                F.count_if(F.col("remove.dataChange")).alias("removed"),
                F.collect_list(F.when(F.col("add.dataChange"), F.col("add.path"))).alias("added"),
            )
            .collect()
        )
    except AnalysisException as exc:
        raise ConfigError(
            f"config key 'ingest.sources.{name}.full_refresh': the commits of versions {start + 1}..{end} of "
            f"{table.location} cannot be read ({exc.getCondition() or 'missing'}: the log was cleaned up?); "
            f"fix: --set ingest.sources.{name}.full_refresh=true re-ingests the current version"
        ) from None
    by_version = sorted((int(row._file.split(".")[0]), row) for row in commits)
    for version, row in by_version:
        if row.removed:
            raise _rewritten(name, table, version, f"{row.operation or 'a commit'} removed or changed rows")
    root = table.path.rstrip("/") + "/"
    return tuple(unquote(root + path) for _, row in by_version for path in row.added)


def _feed_covers(spark: SparkSession, path: str, start: int, end: int) -> bool:
    """True when the change data feed was recorded for every version in ``(start, end]``.
    Delta refuses such a read when planning it (not when building the DataFrame) if the feed
    was enabled later, so one tiny job (a constant of at most one row) is planned and run."""
    try:
        reader = spark.read.format("delta").option("readChangeFeed", "true")
        changes = reader.option("startingVersion", start + 1).option("endingVersion", end).load(path)
        changes.select(F.lit(1)).limit(1).collect()
    except AnalysisException as exc:
        if exc.getCondition() == "DELTA_MISSING_CHANGE_DATA":
            return False
        raise
    return True


def _describe(spark: SparkSession, name: str, location: str) -> _Table:
    """Identity, storage path and latest version of the Delta table at ``location``; a
    :class:`ConfigError` naming the source's ``path`` when there is none."""
    key = f"config key 'ingest.sources.{name}.path'"
    if is_catalog_name(location):
        if not spark.catalog.tableExists(location[len(CATALOG_PREFIX) :]):
            raise ConfigError(f"{key}: no catalog table {location}; fix: name an existing table as catalog:db.table")
    elif not table_exists(spark, location):
        raise ConfigError(
            f"{key}: no Delta table at {location}; fix: point it at a Delta table's folder (the one holding "
            "_delta_log) or catalog:db.table; plain Parquet files are format: parquet"
        )
    try:
        handle = delta_table(spark, location)
        detail = handle.detail().first()
    except AnalysisException:
        raise ConfigError(f"{key}: {location} is not a Delta table; fix: name a Delta table") from None
    version = handle.history(1).first().version
    features = tuple(detail.asDict().get("tableFeatures") or ())
    return _Table(location, detail.location, detail.id, int(version), dict(detail.properties or {}), features)


def _rewritten(name: str, table: _Table, version: int | None, what: str) -> ConfigError:
    where = f" at version {version}" if version is not None else ""
    return ConfigError(
        f"config key 'ingest.sources.{name}.full_refresh': the Delta source {table.location} was rewritten{where}: "
        f"{what}, after rows were ingested from it; incremental ingest takes only appended rows; fix: re-ingest "
        f"its current version (version {table.version}) with --set ingest.sources.{name}.full_refresh=true"
    )


def _recorded(spark: SparkSession, state_location: str, source: str) -> list[Row]:
    if not table_exists(spark, state_location):
        return []
    return read_table(spark, state_location).where(F.col("source") == source).collect()


def record_increment(spark: SparkSession, state_location: str, increment: Increment, batch: str, run_id: str) -> None:
    """Record that ``batch`` read ``increment`` (replacing that batch's earlier row)."""
    row = (
        increment.source,
        batch,
        increment.location,
        increment.table_id,
        increment.start,
        increment.end,
        increment.mode,
        run_id,
        datetime.now(UTC),
    )
    frame: DataFrame = spark.createDataFrame([row], STATE)
    predicate = f"source = {sql_string(increment.source)} AND batch = {sql_string(batch)}"
    replace_slice(frame, state_location, predicate)
