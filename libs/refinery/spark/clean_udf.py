"""Spark wrapper of the clean chain: bronze rows → cleaned rows, one Arrow batch at a time.

The chain itself (:func:`refinery.text.chain.clean_frame`) is pure pandas; this module only
hands it Arrow batches through ``mapInPandas``. The heavy objects behind the chain (jieba's
dictionary, spaCy tokenizers, the fastText model, compiled regexes) are module-level caches
of the text modules, so each Python worker loads them once and keeps them while Spark reuses
the worker (``spark.python.worker.reuse``, on by default).
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType, TimestampType

from refinery.spark.schemas import CLEANED, STRING_MAP
from refinery.text.chain import OUTPUT_COLUMNS, CleanOptions, clean_frame

#: Bronze columns carried through the chain (``meta`` as JSON: maps round-trip more
#: cheaply through Arrow as strings).
_CARRIED = StructType(
    [
        StructField("id", StringType(), False),
        StructField("text", StringType(), True),
        StructField("label", StringType(), True),
        StructField("source", StringType(), True),
        StructField("event_ts", TimestampType(), True),
        StructField("ingest_batch", StringType(), True),
        StructField("meta_json", StringType(), True),
        StructField("content_hash", StringType(), True),
    ]
)
#: What comes back: the carried columns without the raw ``text`` (the chain's ``clean_text``
#: replaces it; not shipping it back saves converting every document twice, and nothing
#: after the chain can leak the unmasked original).
_RETURNED = StructType([f for f in _CARRIED.fields if f.name != "text"])
_OUTPUT = StructType(_RETURNED.fields + CLEANED.fields)


def clean_records(bronze: DataFrame, options: CleanOptions) -> DataFrame:
    """Every bronze row with the chain's columns (:data:`refinery.spark.schemas.CLEANED`)
    in place of ``text``, ``meta`` kept; one output row per input row."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield clean_frame(frame, options)[[*_RETURNED.names, *OUTPUT_COLUMNS]]

    carried = bronze.select(*[c for c in _CARRIED.names if c != "meta_json"], F.to_json("meta").alias("meta_json"))
    cleaned = carried.mapInPandas(run, _OUTPUT)
    return cleaned.withColumn("meta", F.from_json("meta_json", STRING_MAP)).drop("meta_json")
