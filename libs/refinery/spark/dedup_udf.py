"""Spark wrappers of the dedup maths (:mod:`refinery.text.canonical`, :mod:`refinery.text.shingles`,
:mod:`refinery.text.minhash`): per-row signatures and exact Jaccard of candidate pairs, one
Arrow batch at a time through ``mapInPandas``. Nothing here collects data to the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from refinery.text.canonical import CanonicalOptions, canonical_hash
from refinery.text.minhash import MinHashOptions, band_keys, flat_signatures
from refinery.text.shingle_hashes import pair_jaccards, shingle_hash_sets
from refinery.text.shingles import ShingleOptions

#: One stored signature row per silver row (the ``signatures`` table, partitioned by batch).
SIGNATURE = StructType(
    [
        StructField("id", StringType(), False),
        StructField("ingest_batch", StringType(), True),
        StructField("canonical_hash", StringType(), True),
        StructField("n_shingles", IntegerType(), False),
        #: One 64-bit key per LSH band; null when the document has no shingles.
        StructField("bands", ArrayType(LongType(), False), True),
    ]
)
PAIR_SCORE = StructType(
    [
        StructField("a", StringType(), False),
        StructField("b", StringType(), False),
        StructField("jaccard", DoubleType(), False),
    ]
)


@dataclass(frozen=True)
class DedupOptions:
    """Everything the workers need; frozen and picklable."""

    canonical: CanonicalOptions = field(default_factory=CanonicalOptions)
    shingles: ShingleOptions = field(default_factory=ShingleOptions)
    minhash: MinHashOptions = field(default_factory=MinHashOptions)


def signature_frame(frame: pd.DataFrame, options: DedupOptions) -> pd.DataFrame:
    """:data:`SIGNATURE` columns for a pandas batch with ``id``, ``ingest_batch``, ``text``,
    ``lang``, ``tokens``: the whole batch's shingle hashes and signatures at once
    (:func:`~refinery.text.shingle_hashes.shingle_hash_sets`, :func:`~refinery.text.minhash.
    flat_signatures`)."""
    values, sizes = shingle_hash_sets(frame["text"], frame["lang"], frame["tokens"], options.shingles)
    keys = band_keys(flat_signatures(values, sizes, options.minhash), options.minhash)
    return pd.DataFrame(
        {
            "id": frame["id"].to_numpy(),
            "ingest_batch": frame["ingest_batch"].to_numpy(),
            "canonical_hash": [
                canonical_hash(text, options.canonical) if isinstance(text, str) else None for text in frame["text"]
            ],
            "n_shingles": sizes.astype(np.int32),
            "bands": [list(row) if size else None for row, size in zip(keys, sizes, strict=True)],
        }
    )


def signature_rows(rows: DataFrame, options: DedupOptions) -> DataFrame:
    """One :data:`SIGNATURE` row per input row (silver's ``id``, ``ingest_batch``, ``text``,
    ``lang``, ``tokens``)."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield signature_frame(frame, options)

    return rows.select("id", "ingest_batch", "text", "lang", "tokens").mapInPandas(run, SIGNATURE)


def pair_frame(frame: pd.DataFrame, options: DedupOptions) -> pd.DataFrame:
    """Exact Jaccard of each candidate pair in a batch with columns ``a``, ``b`` and each
    side's ``text_*``, ``lang_*``, ``tokens_*`` (:func:`~refinery.text.shingle_hashes.pair_jaccards`)."""
    scores = pair_jaccards(
        frame["text_a"],
        frame["lang_a"],
        frame["tokens_a"],
        frame["text_b"],
        frame["lang_b"],
        frame["tokens_b"],
        options.shingles,
    )
    return pd.DataFrame({"a": frame["a"].to_numpy(), "b": frame["b"].to_numpy(), "jaccard": scores})


def scored_pairs(pairs: DataFrame, options: DedupOptions) -> DataFrame:
    """:data:`PAIR_SCORE` for candidate pairs carrying both sides' text, lang and tokens."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield pair_frame(frame, options)

    columns = ["a", "b", "text_a", "lang_a", "tokens_a", "text_b", "lang_b", "tokens_b"]
    return pairs.select(*columns).mapInPandas(run, PAIR_SCORE)
