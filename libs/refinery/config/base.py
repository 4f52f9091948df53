"""The strict base model of every settings section, and the sections that are no feature:
``spark`` (the session), ``tables`` (where each Delta table lives) and ``delta`` (which Delta
table features a table is written with)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from refinery.config.paths import resolve_path

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TABLE_NAMES = ("bronze", "silver", "quarantine", "gold", "metrics", "review_queue", "signatures", "ingest_state")


class Strict(BaseModel):
    """A settings section: unknown keys are refused and defaults are validated too."""

    # YAML reads `1` as an int where a label or name is meant: accept it as the string "1".
    model_config = ConfigDict(extra="forbid", validate_default=True, coerce_numbers_to_str=True)


class SparkSettings(Strict):
    """How the SparkSession is built (see :mod:`refinery.spark.session`)."""

    mode: Literal["local", "cluster"] = "local"
    #: Spark master URL. ``None`` means ``local[local_cores]`` in local mode, and in cluster
    #: mode whatever ``spark-submit --master`` said.
    master: str | None = None
    local_cores: int = Field(default=2, ge=1)
    #: Shuffle partitions; Spark's default of 200 is far too many for local mode.
    shuffle_partitions: int = Field(default=4, ge=1)
    driver_memory: str | None = "2g"
    #: Most bytes of one Arrow batch Spark hands a Python worker
    #: (``spark.sql.execution.arrow.maxBytesPerBatch``, MiB). A batch's Python objects
    #: (token lists, pandas columns, spaCy docs) take many times its Arrow bytes, so this,
    #: not a row count, is what bounds a worker's memory on long documents
    #: (``bench/results/scale.json``, ``python_worker``).
    python_batch_mb: int = Field(default=4, ge=1, le=1024)
    #: Folder holding the Delta jars resolved by ``make jars`` (relative to the project root).
    jars_dir: str = ".jars"
    ui_enabled: bool = False
    #: Spark's console progress bar (``[Stage 3:====>   (2 + 2) / 4]`` on stderr) for stages
    #: that run longer than half a second; off for tests and log collectors that dislike ``\r``.
    progress_bar: bool = True
    #: Log level of Spark's own (log4j) logging; Refinery's JSON lines follow ``--log-level``.
    log_level: Literal["ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"] = "WARN"
    #: How often a Delta write that lost its commit to a concurrent writer is run again
    #: (see :mod:`refinery.spark.commit_retry`); 0 fails at the first conflict.
    commit_retries: int = Field(default=4, ge=0, le=20)
    #: Wait before the first retry, doubled for each further one, with ±50 % jitter (seconds).
    commit_retry_wait_seconds: float = Field(default=1.0, ge=0, le=300)
    #: Extra Spark properties passed through as they are (``--set spark.conf.KEY=VALUE``,
    #: where KEY is the whole dotted Spark property name).
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("conf", mode="before")
    @classmethod
    def _scalars_as_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: str(v).lower() if isinstance(v, bool) else v for k, v in value.items()}
        return value


class TablesSettings(Strict):
    """Where each Delta table lives: a path (local, ``hdfs://``, ``s3a://`` …) or
    ``catalog:db.name`` for a metastore table."""

    bronze: str
    silver: str
    quarantine: str
    gold: str
    metrics: str
    review_queue: str
    #: The dedup job's stored canonical hashes and MinHash band keys, one row per silver row.
    signatures: str
    #: The table versions each ingest batch read of each Delta source (incremental ingest).
    ingest_state: str

    @field_validator(*TABLE_NAMES)
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty path or catalog:db.name; fix: e.g. data/<table>")
        return resolve_path(value)


class TableFeatures(Strict):
    """The Delta table features one table is written with (``delta.<table>``). Each is set when
    the table is created and, on an existing table, by the next job that writes its properties
    (``clean`` for silver): one ``ALTER TABLE`` commit when a value changed, none otherwise.
    Each raises the table's Delta protocol, so readers need Delta 3.1 or newer (liquid
    clustering 3.2). What each costs and saves is measured in ``bench/results/delta_features.json``."""

    #: Liquid clustering columns (``CLUSTER BY``); ``[]``: none. ``OPTIMIZE`` lays the files out
    #: by them, so a reader that filters on them (``WHERE source = …``) skips the other files.
    #: Clustering columns need Delta statistics: silver keeps them on these columns too.
    cluster_by: list[str] = Field(default_factory=list)
    #: ``delta.enableDeletionVectors``: a MERGE, UPDATE or DELETE marks the rows it replaces in a
    #: small side file instead of rewriting every file that holds one of them.
    deletion_vectors: bool = False
    #: ``delta.enableRowTracking``: every row keeps a stable ``_metadata.row_id`` and the version
    #: that last changed it (``_metadata.row_commit_version``), for consumers that track rows.
    row_tracking: bool = False
    #: ``delta.enableChangeDataFeed``: each commit also records the rows it inserted, updated or
    #: deleted, so a consumer reads only what changed since the version it last read
    #: (``spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", v)``).
    change_data_feed: bool = False

    @field_validator("cluster_by")
    @classmethod
    def _column_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not _COLUMN.match(name)]
        if bad:
            raise ValueError(f"{bad} are not column names; fix: e.g. [source] or [] for no clustering")
        if len(value) > 4:
            raise ValueError("Delta clusters by at most 4 columns; fix: list 1 to 4, e.g. [source]")
        return value

    def properties(self) -> dict[str, str]:
        """The table properties these features set (``"true"`` or ``"false"``)."""
        flags = {
            "delta.enableDeletionVectors": self.deletion_vectors,
            "delta.enableRowTracking": self.row_tracking,
            "delta.enableChangeDataFeed": self.change_data_feed,
        }
        return {key: str(on).lower() for key, on in flags.items()}


class DeltaSettings(Strict):
    """``delta``: the table features of the tables that have a choice (see :class:`TableFeatures`)."""

    silver: TableFeatures = Field(default_factory=TableFeatures)
