"""Schemas of the Delta tables that several jobs write (``quarantine``, ``metrics``) and of
``bronze``. A job that writes a table selects exactly these columns, in this order."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
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
