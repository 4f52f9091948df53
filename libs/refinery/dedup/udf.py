"""Spark wrappers of the dedup maths (:mod:`refinery.text.canonical`, :mod:`refinery.text.shingles`,
:mod:`refinery.text.shingle_hashes`, :mod:`refinery.text.minhash`): per-row signatures and
exact Jaccard of candidate pairs, a whole Arrow batch at a time through ``mapInPandas``.
Nothing here collects data to the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from refinery.spark.schemas import TABLES
from refinery.text.canonical import CanonicalOptions, canonical_hash
from refinery.text.minhash import (
    MinHashOptions,
    band_keys,
    flat_signatures,
    min_sketch_matches,
    sketch_agreements,
    sketches,
)
from refinery.text.shingle_hashes import pair_jaccards, shingle_hash_sets
from refinery.text.shingles import ShingleOptions

#: One stored signature row per silver row (the ``signatures`` table, partitioned by batch):
#: :data:`refinery.spark.schemas.SIGNATURES`.
SIGNATURE = TABLES["signatures"].group("dedup").schema
#: The :data:`SIGNATURE` columns added after the ``signatures`` table was first released.
LATER_SIGNATURE_COLUMNS = TABLES["signatures"].group("dedup").later_columns()
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
    rows = flat_signatures(values, sizes, options.minhash)
    keys = band_keys(rows, options.minhash)
    return pd.DataFrame(
        {
            "id": frame["id"].to_numpy(),
            "ingest_batch": frame["ingest_batch"].to_numpy(),
            "canonical_hash": [
                canonical_hash(text, options.canonical) if isinstance(text, str) else None for text in frame["text"]
            ],
            "n_shingles": sizes.astype(np.int32),
            "bands": [list(row) if size else None for row, size in zip(keys, sizes, strict=True)],
            "sketch": [row.tobytes() if size else None for row, size in zip(sketches(rows), sizes, strict=True)],
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


def sketch_kept(frame: pd.DataFrame, options: DedupOptions, threshold: float) -> pd.DataFrame:
    """The pairs (``a``, ``b``) of a batch whose sketches (``sketch_a``, ``sketch_b``) agree
    at :func:`~refinery.text.minhash.min_sketch_matches` positions or more, or that lack a
    sketch on either side (rows stored before sketches existed: verified regardless)."""
    need = min_sketch_matches(threshold, options.minhash.num_perm)
    both = (frame["sketch_a"].notna() & frame["sketch_b"].notna()).to_numpy()
    keep = ~both
    if both.any():
        width = options.minhash.num_perm
        a = np.frombuffer(b"".join(frame["sketch_a"][both]), dtype=np.uint8).reshape(-1, width)
        b = np.frombuffer(b"".join(frame["sketch_b"][both]), dtype=np.uint8).reshape(-1, width)
        keep[both] = sketch_agreements(a, b) >= need
    return frame.loc[keep, ["a", "b"]]


def sketch_filtered(pairs: DataFrame, sketches_by_id: DataFrame, options: DedupOptions, threshold: float) -> DataFrame:
    """``pairs`` (``a``, ``b``) less those whose sketches rule out ``threshold``
    (:func:`sketch_kept`); ``sketches_by_id`` has ``id`` and ``sketch``."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield sketch_kept(frame, options, threshold)

    side_a = sketches_by_id.select(F.col("id").alias("a"), F.col("sketch").alias("sketch_a"))
    side_b = sketches_by_id.select(F.col("id").alias("b"), F.col("sketch").alias("sketch_b"))
    joined = pairs.join(side_a, "a", "left").join(side_b, "b", "left").select("a", "b", "sketch_a", "sketch_b")
    return joined.mapInPandas(run, "a string, b string")


def scored_pairs(pairs: DataFrame, options: DedupOptions) -> DataFrame:
    """:data:`PAIR_SCORE` for candidate pairs carrying both sides' text, lang and tokens."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield pair_frame(frame, options)

    columns = ["a", "b", "text_a", "lang_a", "tokens_a", "text_b", "lang_b", "tokens_b"]
    return pairs.select(*columns).mapInPandas(run, PAIR_SCORE)
