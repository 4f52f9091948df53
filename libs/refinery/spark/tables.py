"""Reading and writing the Delta tables named in ``tables.*``.

A location is a path (local, ``hdfs://``, ``s3a://`` …) or ``catalog:db.name``. Writes are
idempotent by construction: a job replaces exactly the slice it owns (``replaceWhere`` on the
batch, the stage or the run), so rerunning it leaves the table as one run would. For the same
reason a write that loses its commit to a concurrent writer is simply run again on the new
snapshot (:func:`refinery.spark.commit_retry.retry_on_conflict`, ``spark.commit_retries``).

Every write returns the :class:`~refinery.spark.committed.Commit` it made (version and row
counts, found by a token in its ``userMetadata``), from which jobs count what they committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from refinery.config import CATALOG_PREFIX
from refinery.spark.commit_retry import retry_on_conflict, session_retry_policy
from refinery.spark.committed import Commit, merge_metadata, tagged, user_metadata

T = TypeVar("T")
#: Table properties Delta reads as ``false`` when a table does not set them: setting one to
#: ``false`` on such a table changes nothing and makes no commit.
FALSE_WHEN_ABSENT = frozenset({"delta.enableDeletionVectors", "delta.enableRowTracking", "delta.enableChangeDataFeed"})
#: Error conditions of creating a table (save mode ``errorifexists``) that already exists.
_ALREADY_EXISTS = {"DELTA_PATH_EXISTS", "TABLE_OR_VIEW_ALREADY_EXISTS"}


def is_catalog_name(location: str) -> bool:
    """True when ``location`` names a metastore table (``catalog:db.name``)."""
    return location.startswith(CATALOG_PREFIX)


def table_exists(spark: SparkSession, location: str) -> bool:
    """True when a Delta table exists at ``location``."""
    if is_catalog_name(location):
        return spark.catalog.tableExists(location[len(CATALOG_PREFIX) :])
    return DeltaTable.isDeltaTable(spark, location)


def read_table(spark: SparkSession, location: str) -> DataFrame:
    """The current snapshot of the Delta table at ``location``."""
    if is_catalog_name(location):
        return spark.read.table(location[len(CATALOG_PREFIX) :])
    return spark.read.format("delta").load(location)


def delta_table(spark: SparkSession, location: str) -> DeltaTable:
    """The :class:`DeltaTable` handle (history, merge, vacuum) for ``location``."""
    if is_catalog_name(location):
        return DeltaTable.forName(spark, location[len(CATALOG_PREFIX) :])
    return DeltaTable.forPath(spark, location)


def replace_slice(
    df: DataFrame,
    location: str,
    predicate: str,
    partition_by: list[str] | None = None,
    properties: dict[str, str] | None = None,
) -> Commit:
    """Atomically replace the rows matching ``predicate`` with ``df`` (Delta ``replaceWhere``);
    the commit made.

    Creates the table on first write, with the Delta table ``properties``; an existing table
    whose values differ gets them first. Every row of ``df`` must satisfy ``predicate``; Delta
    checks that and fails the commit otherwise, so a job can never overwrite another slice.
    """
    spark = df.sparkSession

    def write(token: str) -> None:
        options = {"replaceWhere": predicate, "userMetadata": user_metadata(token)}
        if properties:
            if table_exists(spark, location):
                set_properties(spark, location, properties)
            else:
                options.update(properties)
        _retried(spark, location, lambda: _overwrite(df, location, partition_by, **options))

    return _tagged(spark, location, write)


def overwrite_table(df: DataFrame, location: str, metadata: Mapping[str, object] | None = None) -> Commit:
    """Replace the whole table at ``location`` with ``df`` in one Delta commit (readers see the
    old or the new table, never a mix; time travel keeps the old one), schema included; the
    commit made. ``metadata`` is stored in the commit's ``userMetadata`` (compact JSON), so
    ``DESCRIBE HISTORY`` shows what produced each version."""

    def write(token: str) -> None:
        options = {"overwriteSchema": "true", "userMetadata": user_metadata(token, metadata)}
        _retried(df.sparkSession, location, lambda: _overwrite(df, location, None, **options))

    return _tagged(df.sparkSession, location, write)


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def merge_rows(
    spark: SparkSession,
    df: DataFrame,
    location: str,
    key: str = "id",
    scope: str | None = None,
    partition_by: list[str] | None = None,
    properties: dict[str, str] | None = None,
    cluster_by: Sequence[str] | None = None,
) -> Commit:
    """Upsert ``df`` into the Delta table at ``location`` on ``key`` (MERGE), creating it on
    first write; the commit made (the MERGE, or the first write).

    ``scope`` is the SQL predicate (on the target, alias ``t``) of the slice that ``df``
    fully describes: target rows in that slice with no source row are deleted, so a rerun
    that now drops a row leaves the table as a single run would. Rows outside ``scope`` and
    columns not in ``df`` (e.g. ones another job merged in) are left alone.

    ``properties`` (Delta table properties) are set when the table is created, and on an
    existing table whose values differ, before the MERGE. So are the liquid clustering
    columns ``cluster_by`` (``[]``: none; ``None``: leave the table's as they are).

    The first write creates the table only if it is still absent when the write starts (and
    Delta refuses a second creator's commit): a table another writer created since the check
    is MERGEd into, never overwritten with ``df`` alone.
    """

    def write(token: str) -> None:
        if not table_exists(spark, location):
            try:
                _create(df, location, partition_by, userMetadata=user_metadata(token), **(properties or {}))
                if cluster_by:  # a path write's clusterBy is not recorded: clustering is its own commit
                    set_clustering(spark, location, cluster_by)
                return
            except AnalysisException as error:
                if error.getCondition() not in _ALREADY_EXISTS:
                    raise
        if properties:
            set_properties(spark, location, properties)
        if cluster_by is not None:
            set_clustering(spark, location, cluster_by)
        columns = {name: f"s.`{name}`" for name in df.columns}
        merge = (
            delta_table(spark, location)
            .alias("t")
            .merge(df.alias("s"), f"t.`{key}` = s.`{key}`")
            .whenMatchedUpdate(set=columns)
            .whenNotMatchedInsert(values=columns)
        )
        if scope is not None:
            merge = merge.whenNotMatchedBySourceDelete(condition=scope)
        with merge_metadata(spark, user_metadata(token)):
            merge.execute()

    return _tagged(spark, location, lambda token: _retried(spark, location, lambda: write(token)))


def table_properties(spark: SparkSession, location: str) -> dict[str, str]:
    """The Delta table properties (``TBLPROPERTIES``) of the table at ``location``."""
    return dict(delta_table(spark, location).detail().first().properties or {})


def clustering_columns(spark: SparkSession, location: str) -> list[str]:
    """The liquid clustering columns of the table at ``location`` (``[]``: not clustered)."""
    return list(delta_table(spark, location).detail().first().clusteringColumns or [])


def set_clustering(spark: SparkSession, location: str, columns: Sequence[str]) -> None:
    """Cluster the existing table at ``location`` by ``columns`` (``ALTER TABLE … CLUSTER BY``;
    ``[]``: ``CLUSTER BY NONE``); a no-op (no commit) when it already is. Files already written
    keep their layout until ``OPTIMIZE`` rewrites them."""
    if clustering_columns(spark, location) == list(columns):
        return
    by = "(" + ", ".join(f"`{c}`" for c in columns) + ")" if columns else "NONE"
    statement = f"ALTER TABLE {_sql_target(location)} CLUSTER BY {by}"
    _retried(spark, location, lambda: spark.sql(statement))


def set_properties(spark: SparkSession, location: str, properties: dict[str, str]) -> None:
    """Set Delta table properties on an existing table; a no-op (no commit) when they
    already hold these values (a :data:`FALSE_WHEN_ABSENT` property that is absent holds
    ``false``)."""
    current = table_properties(spark, location)
    for key in FALSE_WHEN_ABSENT - current.keys():
        current[key] = "false"
    changed = {key: value for key, value in properties.items() if current.get(key) != value}
    if not changed:
        return
    assignments = ", ".join(f"{sql_string(key)} = {sql_string(value)}" for key, value in sorted(changed.items()))
    statement = f"ALTER TABLE {_sql_target(location)} SET TBLPROPERTIES ({assignments})"
    _retried(spark, location, lambda: spark.sql(statement))


def add_missing_columns(spark: SparkSession, location: str, columns: dict[str, str]) -> None:
    """Add the ``columns`` (name → SQL type) that the table at ``location`` lacks, as nullable
    columns (one ``ALTER TABLE … ADD COLUMNS`` commit; none when nothing is missing). A job
    that owns columns of a shared table (dedup in silver) adds them before its first MERGE."""
    present = set(read_table(spark, location).columns)
    missing = [f"`{name}` {kind}" for name, kind in columns.items() if name not in present]
    if missing:
        statement = f"ALTER TABLE {_sql_target(location)} ADD COLUMNS ({', '.join(missing)})"
        _retried(spark, location, lambda: spark.sql(statement))


def update_rows(
    spark: SparkSession,
    df: DataFrame,
    location: str,
    key: str = "id",
    changed: Sequence[str] = (),
) -> Commit:
    """Set ``df``'s columns on the rows of the table at ``location`` with the same ``key``
    (a MERGE with only an update clause: never inserts, never deletes, leaves other columns
    alone). Rows of ``df`` without a match are ignored. Returns the commit made (its
    :attr:`~refinery.spark.committed.Commit.rows_updated`: the rows updated; no version
    when no row changed).

    With ``changed``, a row is updated only when at least one of those columns differs from
    ``df``'s value (compared null-safely, ``<=>``). Delta finds the files a matched-only MERGE
    must rewrite with the clause's condition, so rows that would not change cost a read of
    the key and those columns, never a file rewrite."""
    columns = {name: f"s.`{name}`" for name in df.columns if name != key}
    condition = " OR ".join(f"NOT (t.`{name}` <=> s.`{name}`)" for name in changed) or None

    def write(token: str) -> None:
        merge = (
            delta_table(spark, location)
            .alias("t")
            .merge(df.alias("s"), f"t.`{key}` = s.`{key}`")
            .whenMatchedUpdate(condition=condition, set=columns)
        )
        with merge_metadata(spark, user_metadata(token)):
            merge.execute()

    return _tagged(spark, location, lambda token: _retried(spark, location, lambda: write(token)))


def _retried(spark: SparkSession, location: str, write: Callable[[], T]) -> T:
    """``write`` run again after a lost commit race, as often as the session allows."""
    retries, wait_seconds = session_retry_policy(spark)
    return retry_on_conflict(write, location, retries, wait_seconds)


def _tagged(spark: SparkSession, location: str, write: Callable[[str], None]) -> Commit:
    """``write(token)`` (tagging its commit with ``token``) and the commit it made."""

    def table_now() -> DeltaTable | None:
        return delta_table(spark, location) if table_exists(spark, location) else None

    return tagged(table_now, location, write)


def _sql_target(location: str) -> str:
    """The table in SQL: its catalog name, or ``delta.`path``` for a path."""
    if is_catalog_name(location):
        return location[len(CATALOG_PREFIX) :]
    return f"delta.`{location.replace('`', '``')}`"


def _create(df: DataFrame, location: str, partition_by: list[str] | None, **options: str) -> None:
    _overwrite(df, location, partition_by, mode="errorifexists", **options)


def _overwrite(
    df: DataFrame, location: str, partition_by: list[str] | None, mode: str = "overwrite", **options: str
) -> None:
    writer = df.write.format("delta").mode(mode).options(**options)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if is_catalog_name(location):
        writer.saveAsTable(location[len(CATALOG_PREFIX) :])
    else:
        writer.save(location)
