"""The table contract: every Delta table's columns and types, declared once (:data:`TABLES`).

A table is a list of column groups, each tagged with the job that writes it: ``silver`` is
written by ``clean`` (the row), then ``dedup``, ``score`` and ``import_reviews`` each add and
update their own group; ``quarantine`` and ``metrics`` rows come from several jobs, each
writing whole rows of its slice. A job that writes a table selects exactly its columns, in
this order, and a job that owns columns of a table written before them adds them first
(:meth:`ColumnGroup.sql_types`, :func:`refinery.spark.tables.add_missing_columns`).
Nullability matters where a frame is built from a schema here (``createDataFrame``,
``mapInPandas``); Delta stores every column nullable, so the contract is names and types.

Pure declarations: ``pyspark.sql.types`` and pure modules only, never a job module."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from refinery.text.quality.signals import BOOL_SIGNALS, INT_SIGNALS, SIGNAL_COLUMNS

STRING_MAP = MapType(StringType(), StringType())
COUNT_MAP = MapType(StringType(), LongType())

BRONZE = StructType(
    [
        StructField("id", StringType(), False),
        StructField("text", StringType(), False),
        StructField("label", StringType(), True),
        StructField("source", StringType(), False),
        StructField("event_ts", TimestampType(), True),
        StructField("ingest_batch", StringType(), False),
        StructField("meta", STRING_MAP, True),
        StructField("content_hash", StringType(), False),
        StructField("source_path", StringType(), True),
        StructField("source_line", LongType(), True),
        StructField("source_encoding", StringType(), True),
        StructField("run_id", StringType(), False),
    ]
)

QUARANTINE = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("stage", StringType(), False),
        StructField("batch", StringType(), False),
        StructField("source", StringType(), True),
        StructField("reason", StringType(), False),
        StructField("detail", StringType(), True),
        StructField("record_id", StringType(), True),
        StructField("payload", StringType(), True),
        StructField("source_path", StringType(), True),
        StructField("source_line", LongType(), True),
        StructField("quarantined_at", TimestampType(), False),
    ]
)

METRICS = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("job", StringType(), False),
        StructField("stage", StringType(), False),
        StructField("batch", StringType(), True),
        StructField("started_at", TimestampType(), False),
        StructField("finished_at", TimestampType(), False),
        StructField("seconds", DoubleType(), True),
        StructField("rows_in", LongType(), False),
        StructField("rows_out", LongType(), False),
        StructField("rows_quarantined", LongType(), False),
        StructField("rows_filtered", LongType(), False),
        StructField("quarantined_by_reason", COUNT_MAP, True),
        StructField("filtered_by_reason", COUNT_MAP, True),
        StructField("reconciled", BooleanType(), False),
        StructField("details", STRING_MAP, True),
    ]
)

#: What the clean step adds per document: the chain's :data:`refinery.text.chain.OUTPUT_COLUMNS`,
#: then ``rule_violations`` from the annotation rules (:func:`refinery.clean.udf.apply_rules`).
#: Silver's ``quality`` struct: one field per quality signal (:data:`refinery.text.quality.SIGNAL_COLUMNS`),
#: counts as INT, flags as BOOLEAN, shares and means as DOUBLE (null where undefined, e.g. the
#: English letter-pair share of a text without Latin words).
QUALITY = StructType(
    [
        StructField(
            name,
            IntegerType() if name in INT_SIGNALS else BooleanType() if name in BOOL_SIGNALS else DoubleType(),
            True,
        )
        for name in SIGNAL_COLUMNS
    ]
)

CLEANED = StructType(
    [
        StructField("clean_text", StringType(), True),
        StructField("norm_steps", ArrayType(StringType()), True),
        StructField("lang", StringType(), True),
        StructField("lang_score", DoubleType(), True),
        StructField("mixed", BooleanType(), True),
        StructField("lang_shares", MapType(StringType(), DoubleType()), True),
        StructField("pii_counts", MapType(StringType(), IntegerType()), True),
        StructField("tokens", ArrayType(StringType()), True),
        StructField("n_tokens", IntegerType(), True),
        StructField("quality", QUALITY, True),
        StructField("quality_flags", ArrayType(StringType()), True),
        StructField("outcome", StringType(), False),
        StructField("reason", StringType(), True),
        StructField("detail", StringType(), True),
        StructField("rule_violations", ArrayType(StringType()), True),
    ]
)


@dataclass(frozen=True)
class ColumnGroup:
    """Columns of a table that the same jobs write: ``owners`` (stage names). Silver's groups
    have one owner each; a table whose rows come from several jobs has one group they share."""

    owners: tuple[str, ...]
    schema: StructType
    #: Columns added after the table's first release: a job adds them (null) to a table
    #: written before them, before its write (a MERGE cannot add columns by itself).
    later: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return self.schema.names

    def sql_types(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Column name → SQL type (all columns, or ``names``), for
        :func:`refinery.spark.tables.add_missing_columns`."""
        return {name: self.schema[name].dataType.simpleString() for name in (self.names if names is None else names)}

    def later_columns(self) -> dict[str, str]:
        """:meth:`sql_types` of the :attr:`later` columns."""
        return self.sql_types(self.later)


@dataclass(frozen=True)
class Table:
    """One Delta table: its column groups, in the order its first writer lays them out."""

    name: str
    groups: tuple[ColumnGroup, ...]

    @property
    def schema(self) -> StructType:
        return StructType([f for group in self.groups for f in group.schema.fields])

    def group(self, owner: str) -> ColumnGroup:
        """The one group ``owner`` writes."""
        (found,) = [g for g in self.groups if owner in g.owners]
        return found


def _pick(schema: StructType, *names: str) -> list[StructField]:
    return [schema[name] for name in names]


def _as(field: StructField, name: str) -> StructField:
    return StructField(name, field.dataType, field.nullable)


#: ``silver``, the ``clean`` job's part: every accepted bronze row's carried columns, the clean
#: text in ``text`` (``clean_text`` of :data:`CLEANED`; the raw text stays in bronze) and what
#: the chain found, typed as :data:`CLEANED` types them (:func:`refinery.clean.job.silver_rows`).
SILVER_CLEAN = ColumnGroup(
    ("clean",),
    StructType(
        [
            BRONZE["id"],
            _as(CLEANED["clean_text"], "text"),
            *_pick(BRONZE, "label", "source", "event_ts", "ingest_batch", "meta", "content_hash"),
            *_pick(CLEANED, "lang", "lang_score", "mixed", "lang_shares"),
            StructField("lang_allowed", BooleanType(), True),
            *_pick(CLEANED, "tokens", "n_tokens", "pii_counts", "norm_steps"),
            *_pick(CLEANED, "rule_violations", "quality", "quality_flags"),
            StructField("clean_run_id", StringType(), False),
            StructField("cleaned_at", TimestampType(), False),
        ]
    ),
    later=("rule_violations", "quality", "quality_flags"),
)
#: ``silver``, the ``dedup`` job's flags (:mod:`refinery.dedup.job`).
SILVER_DEDUP = ColumnGroup(
    ("dedup",),
    StructType(
        [
            StructField("dup_cluster", StringType(), True),
            StructField("dup_of", StringType(), True),
            StructField("dup_kind", StringType(), True),
            StructField("dup_score", DoubleType(), True),
            StructField("label_conflict", BooleanType(), True),
            StructField("dedup_run_id", StringType(), True),
        ]
    ),
)
#: ``silver``, the ``score`` job's filter columns (:mod:`refinery.score.job`).
SILVER_SCORE = ColumnGroup(
    ("score",),
    StructType(
        [
            StructField("confidence", DoubleType(), True),
            StructField("label_quality", DoubleType(), True),
            StructField("pred_label", StringType(), True),
            StructField("pred_prob", DoubleType(), True),
            StructField("margin", DoubleType(), True),
            StructField("entropy", DoubleType(), True),
            StructField("is_noisy", BooleanType(), True),
            StructField("score_run", StringType(), True),
            StructField("score_version", LongType(), True),
        ]
    ),
)
#: ``silver``, the ``import_reviews`` job's provenance of a reviewed label (the job also
#: rewrites ``label``, which stays :data:`SILVER_CLEAN`'s column).
SILVER_REVIEWS = ColumnGroup(
    ("import_reviews",),
    StructType(
        [
            StructField("label_before", StringType(), True),
            StructField("label_source", StringType(), True),
            StructField("review_run", StringType(), True),
            StructField("reviewed_at", TimestampType(), True),
        ]
    ),
)
SILVER = Table("silver", (SILVER_CLEAN, SILVER_DEDUP, SILVER_SCORE, SILVER_REVIEWS))

#: The silver columns ``rebalance`` copies to gold when silver has them (``quality_flags`` goes
#: along so training can weight or audit the rows a ``flag`` rule kept).
GOLD_FROM_SILVER = (
    "id",
    "text",
    "label",
    "source",
    "lang",
    "tokens",
    "n_tokens",
    "event_ts",
    "ingest_batch",
    "meta",
    "quality_flags",
)
#: ``gold`` (:func:`refinery.rebalance.job.gold_rows`): :data:`GOLD_FROM_SILVER`, ``confidence``
#: (null before ``score``), then the draw's columns.
GOLD = StructType(
    [
        *_pick(SILVER.schema, *GOLD_FROM_SILVER, "confidence"),
        StructField("copy_index", IntegerType(), True),
        StructField("sample_weight", DoubleType(), True),
        StructField("rebalance_run", StringType(), False),
        StructField("silver_version", LongType(), False),
    ]
)
#: The ``review_queue`` columns ``import_reviews`` updates on a reviewed row; ``select`` writes
#: them as ``pending`` and nulls.
REVIEWED_QUEUE_COLUMNS = ("status", "reviewed_label", "review_run", "reviewed_at")
#: ``review_queue`` (:func:`refinery.select.job.queue_rows`).
REVIEW_QUEUE = StructType(
    [
        *_pick(SILVER.schema, "id", "source", "text", "label", "pred_label"),
        StructField("reason", StringType(), True),
        StructField("reasons", ArrayType(StringType()), True),
        StructField("score", DoubleType(), True),
        *_pick(SILVER.schema, "confidence", "dup_cluster"),
        StructField("status", StringType(), False),
        StructField("reviewed_label", StringType(), True),
        StructField("review_run", StringType(), True),
        StructField("reviewed_at", TimestampType(), True),
        StructField("select_run", StringType(), False),
        StructField("silver_version", LongType(), False),
        StructField("selected_at", TimestampType(), False),
    ]
)
#: ``signatures``: one row per silver row (partitioned by batch), written by ``dedup``
#: (:func:`refinery.dedup.udf.signature_rows`).
SIGNATURES = StructType(
    [
        StructField("id", StringType(), False),
        StructField("ingest_batch", StringType(), True),
        StructField("canonical_hash", StringType(), True),
        StructField("n_shingles", IntegerType(), False),
        #: One 64-bit key per LSH band; null when the document has no shingles.
        StructField("bands", ArrayType(LongType(), False), True),
        #: The low byte of each MinHash value (:func:`refinery.text.minhash.sketches`); null
        #: when the document has no shingles (and in rows written before it existed).
        StructField("sketch", BinaryType(), True),
    ]
)
#: ``ingest_state``: the table versions each ingest batch read of each Delta source
#: (:func:`refinery.ingest.delta_increments.record_increment`).
INGEST_STATE = StructType(
    [
        StructField("source", StringType(), False),
        StructField("batch", StringType(), False),
        StructField("location", StringType(), False),
        StructField("table_id", StringType(), False),
        StructField("from_version", LongType(), False),
        StructField("to_version", LongType(), False),
        StructField("read_mode", StringType(), False),
        StructField("run_id", StringType(), False),
        StructField("recorded_at", TimestampType(), False),
    ]
)

#: Every table, by its ``tables.<name>`` config key, with the jobs that write it.
TABLES = {
    table.name: table
    for table in (
        Table("bronze", (ColumnGroup(("ingest",), BRONZE),)),
        SILVER,
        Table("quarantine", (ColumnGroup(("ingest", "clean", "import_reviews"), QUARANTINE),)),
        Table("gold", (ColumnGroup(("rebalance",), GOLD),)),
        Table("metrics", (ColumnGroup(("runner",), METRICS),)),
        Table("review_queue", (ColumnGroup(("select",), REVIEW_QUEUE),)),
        Table("signatures", (ColumnGroup(("dedup",), SIGNATURES, later=("sketch",)),)),
        Table("ingest_state", (ColumnGroup(("ingest",), INGEST_STATE),)),
    )
}
