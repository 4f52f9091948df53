"""The bucketed exact first-k (:mod:`refinery.spark.top_k`) equals a plain window's ranks."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F

from refinery.spark.top_k import IN_FIRST_K, mark_first_k


@pytest.mark.parametrize("buckets", [1, 3, 64])
def test_first_k_equals_the_window_ranks_with_ties_and_odd_quotas(spark, buckets):
    rng = np.random.default_rng(buckets)
    n = 3000
    cells = rng.integers(0, 5, n)
    keys = rng.integers(0, 40, n)  # many exact ties, broken by the id
    quotas = {0: 0, 1: 1, 2: 250, 3: 10_000, 4: 599}  # none, one, some, more than the cell, near all
    rows = [
        (int(i), int(c), float(k), quotas[int(c)], int(k) * buckets // 40)
        for i, c, k in zip(range(n), cells, keys, strict=True)
    ]
    frame = spark.createDataFrame(rows, "id long, cell int, key double, quota long, bucket int").repartition(3)

    marked = mark_first_k(frame, ["cell"], key="key", tiebreak="id", quota="quota", bucket="bucket")
    ours = {r.id for r in marked.where(F.col(IN_FIRST_K)).select("id").collect()}
    assert marked.count() == n  # every row comes back once, marked or not

    rank = F.row_number().over(Window.partitionBy("cell").orderBy("key", "id"))
    window = {r.id for r in frame.withColumn("rank", rank).where(F.col("rank") <= F.col("quota")).collect()}
    assert ours == window
    per_cell = np.bincount(cells, minlength=5)
    assert len(ours) == sum(min(quotas[c], per_cell[c]) for c in range(5))
