"""What a Delta write committed: its version, operation and row counts, found in the log.

The reconciliation invariant counts ``rows_out`` and quarantined rows from what was
*committed*, not from the frame a job meant to write, so a row lost between the transform and
the table makes the counts fail. Every write helper of :mod:`refinery.spark.tables` returns a
:class:`Commit` for this.

**Which commit is ours.** Another writer may commit to the same table between our write and
our look at its history, so "the latest version" is not necessarily ours. Each write tags its
commit with a fresh random token in the commit's ``userMetadata`` (:func:`tagged`; the
DataFrame writer's ``userMetadata`` option, or for a MERGE, whose builder takes no options,
the session property :data:`USER_METADATA_PROPERTY` set around it), notes the table's latest version before it
starts, and afterwards reads only the history entries newer than that, picking the one that
carries the token (:func:`find_commit`). A write retried after a lost commit race
(:mod:`refinery.spark.commit_retry`) keeps its token: the losing tries committed nothing, so
exactly one entry carries it and the write is counted once.

**A write that commits nothing.** Delta skips the commit of a write that changes nothing (an
empty frame replacing an empty slice, a MERGE that matches and inserts no row). Then no entry
carries the token, :attr:`Commit.version` is ``None``, the write wrote 0 rows, and what it
"left" is the version it started from (:attr:`Commit.state_version`).

**Row counts.** From the entry's ``operationMetrics`` (:attr:`Commit.rows_written`):
``numOutputRows`` for a WRITE / CREATE / REPLACE (``replaceWhere`` included), and for a MERGE
``numTargetRowsInserted + numTargetRowsMatchedUpdated`` (the rows the source put in the
table; rows a scoped MERGE deleted are a rerun's stale rows, not this run's output). A count
per value of a column the table keeps statistics of comes from the statistics of the files the
commit added, when each file holds one value (:func:`added_rows_per_value`). Where that cannot
tell, a count per reason or per source is needed otherwise, or a MERGE only rewrites rows that
change, the written slice is read back at the committed version instead (:func:`table_at`,
:func:`grouped_counts`, :func:`rows_holding`).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.config import CATALOG_PREFIX
from refinery.sources.file_lines import open_binary

#: The session property Delta copies into the ``userMetadata`` of every commit (used for MERGE,
#: whose builder takes no options).
USER_METADATA_PROPERTY = "spark.databricks.delta.commitInfo.userMetadata"
#: The Delta setting without which commits carry no ``operationMetrics``.
METRICS_PROPERTY = "spark.databricks.delta.history.metricsEnabled"
#: MERGEs inside :func:`merge_metadata` now, and the property's value before the first of them.
_lock = threading.Lock()
_merging = 0
_saved: str | None = None


class CommitCountError(RuntimeError):
    """A commit's history entry lacks the row counts the reconciliation needs."""


@dataclass(frozen=True)
class Commit:
    """One write's outcome in the table's log: ``version`` it committed (``None``: nothing),
    ``before`` (the latest version when the write started; -1 when there was no table), the
    entry's ``operation`` and ``metrics`` (``operationMetrics``, as integers)."""

    location: str
    before: int
    version: int | None = None
    operation: str | None = None
    metrics: Mapping[str, int] = field(default_factory=dict)

    @property
    def state_version(self) -> int:
        """The version holding what the write left: its own, or the one it started from."""
        return self.before if self.version is None else self.version

    @property
    def rows_written(self) -> int:
        """Rows the commit put in the table (see the module doc); 0 when nothing was committed."""
        if self.version is None:
            return 0
        if "numTargetRowsInserted" in self.metrics:
            updated = self.metrics.get("numTargetRowsMatchedUpdated", self.metrics.get("numTargetRowsUpdated"))
            return self.metrics["numTargetRowsInserted"] + self._needed("numTargetRowsUpdated", updated)
        return self._needed("numOutputRows", self.metrics.get("numOutputRows"))

    @property
    def recorded_rows(self) -> int | None:
        """:attr:`rows_written`, or ``None`` where the entry records no row count (Delta
        records no ``numOutputRows`` for a commit that creates a table with no rows): for a
        caller that can read the rows back instead."""
        try:
            return self.rows_written
        except CommitCountError:
            return None

    @property
    def rows_updated(self) -> int:
        """Target rows a MERGE updated (0 when nothing was committed)."""
        if self.version is None:
            return 0
        updated = self.metrics.get("numTargetRowsMatchedUpdated", self.metrics.get("numTargetRowsUpdated"))
        return self._needed("numTargetRowsUpdated", updated)

    def _needed(self, name: str, value: int | None) -> int:
        if value is None:
            raise CommitCountError(
                f"version {self.version} of {self.location} ({self.operation}) records no {name}; "
                f"fix: leave the Spark property {METRICS_PROPERTY} at true"
            )
        return value


def new_token() -> str:
    """A fresh commit token (128 random bits, hex)."""
    return uuid.uuid4().hex


def user_metadata(token: str, metadata: Mapping[str, object] | None = None) -> str:
    """The ``userMetadata`` of a tagged commit: compact JSON of ``metadata`` plus ``commit``
    = ``token``, so ``DESCRIBE HISTORY`` still shows what produced each version."""
    return json.dumps({**(metadata or {}), "commit": token}, sort_keys=True, separators=(",", ":"), default=str)


@contextmanager
def merge_metadata(spark: SparkSession, value: str) -> Iterator[None]:
    """Set :data:`USER_METADATA_PROPERTY` to ``value`` for one MERGE, then restore it. Only
    the MERGE may run inside: any other commit of the session in the block carries the token
    too. The property belongs to the session, so MERGEs that threads of one session run at the
    same time share it and may tag each other's commits (the jobs write one table at a time,
    never two at once); the value the session had before the first of them is restored when
    the last one ends."""
    global _merging, _saved
    with _lock:
        if _merging == 0:
            _saved = spark.conf.get(USER_METADATA_PROPERTY, None)
        _merging += 1
        spark.conf.set(USER_METADATA_PROPERTY, value)
    try:
        yield
    finally:
        with _lock:
            _merging -= 1
            if _merging == 0:
                if _saved is None:
                    spark.conf.unset(USER_METADATA_PROPERTY)
                else:
                    spark.conf.set(USER_METADATA_PROPERTY, _saved)


def latest_version(table: DeltaTable | None) -> int:
    """The latest version of ``table``; -1 for no table."""
    if table is None:
        return -1
    return int(table.history(1).first()["version"])


def find_commit(table: DeltaTable, location: str, token: str, before: int) -> Commit:
    """The entry newer than ``before`` whose ``userMetadata`` carries ``token``, as a
    :class:`Commit`; one with ``version=None`` when no entry does (the write committed
    nothing). Only the entries after ``before`` are read: the latest alone when it is ours,
    as it is unless another writer committed since."""
    columns = ("version", "operation", "operationMetrics", "userMetadata")
    entry = table.history(1).select(*columns).first()
    latest = int(entry.version)
    if latest <= before:
        return Commit(location, before)
    if token not in (entry.userMetadata or ""):
        entries = (
            table.history(latest - before)
            .where(F.col("version") > before)
            .where(F.col("userMetadata").contains(token))
            .select(*columns)
            .orderBy(F.col("version").desc())
            .collect()
        )
        if not entries:
            return Commit(location, before)
        entry = entries[0]  # a token is committed at most once (see the module doc)
    metrics = {name: int(value) for name, value in (entry.operationMetrics or {}).items() if value.isdigit()}
    return Commit(location, before, int(entry.version), entry.operation, metrics)


def tagged(table_now: Callable[[], DeltaTable | None], location: str, write: Callable[[str], object]) -> Commit:
    """Run ``write(token)`` (which must put ``token`` in its commit's ``userMetadata``) and
    find its commit. ``table_now`` returns the table's handle, or ``None`` while it does not
    exist; it is called before and after the write."""
    token = new_token()
    before = latest_version(table_now())
    write(token)
    table = table_now()
    return find_commit(table, location, token, before) if table is not None else Commit(location, before)


def table_at(spark: SparkSession, location: str, version: int) -> DataFrame:
    """The Delta table at ``location`` as of ``version`` (time travel)."""
    if location.startswith(CATALOG_PREFIX):
        return spark.sql(f"SELECT * FROM {location[len(CATALOG_PREFIX) :]} VERSION AS OF {int(version)}")
    return spark.read.format("delta").option("versionAsOf", int(version)).load(location)


def committed_rows(spark: SparkSession, commit: Commit) -> DataFrame | None:
    """The table as the write left it (:attr:`Commit.state_version`); ``None`` when there
    is still no table."""
    if commit.state_version < 0:
        return None
    return table_at(spark, commit.location, commit.state_version)


def grouped_counts(frame: DataFrame | None, where: str, by: Sequence[str]) -> dict[tuple, int]:
    """Rows of ``frame`` matching the SQL predicate ``where``, counted per value of the ``by``
    columns (a few rows to the driver); empty for no frame."""
    if frame is None:
        return {}
    rows = frame.where(where).groupBy(*by).agg(F.count(F.lit(1)).alias("_n")).collect()
    return {tuple(row[c] for c in by): int(row["_n"]) for row in rows}


def added_rows_per_value(commit: Commit, column: str) -> dict[str, int] | None:
    """Rows of the files the commit added, per value of the string ``column``, from the
    statistics Delta wrote into the commit's log entry with each file (``numRecords``, and
    the column's ``minValues`` = ``maxValues`` with no null: a file of one value); no row is
    read. ``None`` when the entry cannot tell: a file of several values (or of a value longer
    than the statistics keep), a file without statistics or with a deletion vector, a catalog
    table, a log entry that cannot be read, or a total other than :attr:`Commit.recorded_rows`.
    Then the caller reads the rows back (:func:`grouped_counts`).

    For a ``replaceWhere`` commit the added files are the whole slice it replaced, so this is
    the slice's count at the committed version, as reading it back would give."""
    if commit.version is None or commit.location.startswith(CATALOG_PREFIX):
        return None
    entry = f"{commit.location.rstrip('/')}/_delta_log/{commit.version:020d}.json"
    try:
        with open_binary(entry) as log:
            actions = [json.loads(line) for line in log.read().decode("utf-8").splitlines() if line.strip()]
    except (OSError, ValueError):
        return None
    counts: dict[str, int] = {}
    for add in (a["add"] for a in actions if "add" in a):
        stats = json.loads(add.get("stats") or "{}")
        low = stats.get("minValues", {}).get(column)
        high = stats.get("maxValues", {}).get(column)
        if add.get("deletionVector") or "numRecords" not in stats or low is None or low != high:
            return None
        if stats.get("nullCount", {}).get(column) != 0:
            return None
        counts[low] = counts.get(low, 0) + int(stats["numRecords"])
    return counts if sum(counts.values()) == commit.recorded_rows else None


def rows_holding(table: DataFrame | None, written: DataFrame, key: str, columns: Sequence[str]) -> int:
    """How many rows of ``written`` (unique ``key``) the ``table`` holds with the same
    values in ``columns`` (compared null-safely, ``<=>``): the committed count of a MERGE
    that rewrites only the rows whose values change."""
    if table is None:
        return 0
    held = table.select(key, *[F.col(c).alias(f"_held_{c}") for c in columns])
    same = reduce(lambda a, b: a & b, [F.col(c).eqNullSafe(F.col(f"_held_{c}")) for c in columns], F.lit(True))
    return written.select(key, *columns).join(held, key).where(same).count()
