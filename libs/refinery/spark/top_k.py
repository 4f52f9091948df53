"""Exact "first k rows of each cell" over a Spark frame, without sorting whole cells.

Confident learning flags the ``F[k, j]`` worst rows of each cell and the ``rebalance`` job
keeps the first ``t_c`` rows of each class in a seeded hash order: both need an exact per-group
top-k, where ``k`` differs per group. A window ``row_number() OVER (PARTITION BY cell ORDER BY
key)`` gives that, but sorts each whole cell in one task: with few cells (classes) and many
rows, one task would sort a whole class.

Here rows carry a ``bucket``: an integer that never decreases as the sort key grows (equal keys
share a bucket), e.g. the top bits of a hash or an equal-width bin of a probability. Then:

1. one aggregation counts rows per ``(cell, bucket)``, and a window over those counts (at most
   ``cells × buckets`` rows) gives the rows in lower buckets, ``below``;
2. a bucket with ``below + n ≤ k`` is taken whole and one with ``below ≥ k`` not at all, with no
   sorting; only the one boundary bucket per cell (``below < k < below + n``) is sorted, and
   its rows are in the first ``k`` when ``below + row_number ≤ k``.

Because the bucket is monotone in the key, a row's rank is ``below`` plus its rank inside its
bucket, so the result is exactly the window's. The boundary buckets hold about
``rows / buckets`` rows per cell, which bounds the work of any one sort.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

#: The boolean column :func:`mark_first_k` adds.
IN_FIRST_K = "in_first_k"


def mark_first_k(
    frame: DataFrame,
    cell: Sequence[str],
    *,
    key: str,
    tiebreak: str,
    quota: str,
    bucket: str,
) -> DataFrame:
    """``frame`` with :data:`IN_FIRST_K`: whether the row is among the first ``quota`` rows of
    its ``cell`` ordered by ``key`` then ``tiebreak`` (both ascending).

    ``quota`` (a column, constant within a cell) is the cell's ``k``; ``bucket`` an integer
    column, non-decreasing in ``key``; ``(cell, key, tiebreak)`` should be unique for the
    result to be deterministic. ``frame`` is read twice (counts, then rows): checkpoint it first
    when it is expensive."""
    cell = list(cell)
    below = Window.partitionBy(*cell).orderBy(bucket).rowsBetween(Window.unboundedPreceding, -1)
    counts = (
        frame.groupBy(*cell, bucket)
        .agg(F.count(F.lit(1)).alias("_tk_n"), F.max(quota).alias("_tk_k"))
        .withColumn("_tk_below", F.coalesce(F.sum("_tk_n").over(below), F.lit(0)))
        .select(
            *cell,
            bucket,
            "_tk_below",
            F.when(F.col("_tk_below") + F.col("_tk_n") <= F.col("_tk_k"), F.lit("all"))
            .when(F.col("_tk_below") >= F.col("_tk_k"), F.lit("none"))
            .otherwise(F.lit("some"))
            .alias("_tk_take"),
        )
    )
    joined = frame.join(counts, [*cell, bucket])
    whole = joined.where(F.col("_tk_take") != "some").withColumn(IN_FIRST_K, F.col("_tk_take") == "all")
    ranking = Window.partitionBy(*cell).orderBy(F.col(key).asc(), F.col(tiebreak).asc())
    boundary = joined.where(F.col("_tk_take") == "some").withColumn(
        IN_FIRST_K, F.col("_tk_below") + F.row_number().over(ranking) <= F.col(quota)
    )
    return whole.unionByName(boundary).drop("_tk_below", "_tk_take")
