"""The split of every gold row, in Spark: the algorithm of :mod:`refinery.export.splits` over a
whole table, with no sort of a whole stratum and nothing collected but counts per stratum.

1. :func:`with_units`: each row's unit, ``coalesce(dup_cluster, id)`` (the cluster looked up
   in silver), and its stratum columns;
2. :func:`unit_strata`: one row per unit, in the stratum of its smallest ``id``;
3. :func:`ranked_units`: each unit's exact 1-based rank in its stratum by
   ``(xxhash64(seed, unit), unit)``: units are bucketed by the hash's top 12 bits, a window
   over the per-bucket counts (at most ``strata × 4096`` rows) gives the units in lower
   buckets, and a ``row_number`` within each bucket adds the rest, so no task sorts more than
   one bucket of one stratum (the scheme of :mod:`refinery.spark.top_k`);
4. :func:`split_units`: the split index, the number of the stratum's bounds
   (:func:`refinery.export.splits.split_bounds`) below the rank, from a broadcast plan.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from refinery.export.splits import split_bounds

UNIT, SOURCE, LABEL = "_ex_unit", "_ex_source", "_ex_label"
KEY, BUCKET, RANK, SPLIT = "_ex_key", "_ex_bucket", "_ex_rank", "_ex_split"
CLUSTER = "_ex_cluster"
#: Bits of ``xxhash64`` shifted away to make the bucket: 2**12 buckets per stratum.
BUCKET_SHIFT = 52
STRATUM = [SOURCE, LABEL]


def with_units(gold: DataFrame, clusters: DataFrame | None) -> DataFrame:
    """``gold`` with :data:`UNIT` (the row's dedup cluster from ``clusters``, a frame of
    ``id`` and :data:`CLUSTER`, else its ``id``) and the stratum columns (``source`` and
    ``label``, null as ``""``)."""
    frame = gold.join(clusters, "id", "left") if clusters is not None else gold.withColumn(CLUSTER, F.lit(None))
    return (
        frame.withColumn(UNIT, F.coalesce(F.col(CLUSTER).cast("string"), F.col("id")))
        .withColumn(SOURCE, F.coalesce(F.col("source").cast("string"), F.lit("")))
        .withColumn(LABEL, F.coalesce(F.col("label").cast("string"), F.lit("")))
        .drop(CLUSTER)
    )


def unit_strata(rows: DataFrame) -> DataFrame:
    """One row per unit: :data:`UNIT` and the stratum of the unit's row with the smallest ``id``."""
    first = F.min(F.struct(F.col("id"), F.col(SOURCE), F.col(LABEL))).alias("_ex_first")
    return rows.groupBy(UNIT).agg(first).select(UNIT, f"_ex_first.{SOURCE}", f"_ex_first.{LABEL}")


def stratum_counts(units: DataFrame) -> dict[tuple[str, str], int]:
    """Units per ``(source, label)`` stratum: one row per stratum reaches the driver."""
    found = units.groupBy(*STRATUM).agg(F.count(F.lit(1)).alias("n")).collect()
    return {(r[SOURCE], r[LABEL]): int(r["n"]) for r in found}


def ranked_units(units: DataFrame, seed: int) -> DataFrame:
    """``units`` with :data:`RANK`: the unit's 1-based place in its stratum ordered by
    ``(xxhash64(seed, unit), unit)``; see the module docstring."""
    keyed = units.withColumn(KEY, F.xxhash64(F.lit(seed), F.col(UNIT))).withColumn(
        BUCKET, F.shiftright(F.col(KEY), BUCKET_SHIFT)
    )
    lower = Window.partitionBy(*STRATUM).orderBy(BUCKET).rowsBetween(Window.unboundedPreceding, -1)
    below = (
        keyed.groupBy(*STRATUM, BUCKET)
        .agg(F.count(F.lit(1)).alias("_ex_n"))
        .withColumn("_ex_below", F.coalesce(F.sum("_ex_n").over(lower), F.lit(0)))
        .drop("_ex_n")
    )
    inside = Window.partitionBy(*STRATUM, BUCKET).orderBy(F.col(KEY), F.col(UNIT))
    return (
        keyed.join(below, [*STRATUM, BUCKET])
        .withColumn(RANK, F.col("_ex_below") + F.row_number().over(inside))
        .drop("_ex_below", BUCKET)
    )


_PLAN = T.StructType(
    [
        T.StructField(SOURCE, T.StringType(), False),
        T.StructField(LABEL, T.StringType(), False),
        T.StructField("_ex_bounds", T.ArrayType(T.LongType(), False), False),
    ]
)


def split_units(
    units: DataFrame, counts: Mapping[tuple[str, str], int], shares: Mapping[str, float], seed: int, spark: SparkSession
) -> DataFrame:
    """One row per unit: :data:`UNIT` and :data:`SPLIT`, the index of its split in ``shares``."""
    plan = spark.createDataFrame(
        [(source, label, split_bounds(n, shares)) for (source, label), n in sorted(counts.items())], _PLAN
    )
    ranked = ranked_units(units, seed).join(F.broadcast(plan), STRATUM)
    below = F.filter(F.col("_ex_bounds"), lambda bound: bound < F.col(RANK))
    return ranked.select(UNIT, F.size(below).alias(SPLIT))


def assign_splits(
    gold: DataFrame,
    clusters: DataFrame | None,
    shares: Mapping[str, float],
    seed: int,
    spark: SparkSession,
) -> tuple[DataFrame, dict[tuple[str, str], int]]:
    """Every gold row with :data:`SPLIT` (the index of its split in ``shares``), and the units
    per stratum."""
    rows = with_units(gold, clusters)
    units = unit_strata(rows)
    counts = stratum_counts(units)
    splits = split_units(units, counts, shares, seed, spark)
    return rows.join(splits, UNIT).drop(SOURCE, LABEL), counts
