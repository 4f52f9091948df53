"""Connected components of an undirected graph given as a Spark edge list.

Min-label propagation: every vertex starts labelled with its own id; each round, a vertex takes
the smallest label among itself and its neighbours; when no label shrinks, each component is
labelled by its smallest vertex id. The result depends only on the edge set, never on
partitioning or row order (a minimum is order-free), so two runs give identical components.

Rounds needed: the largest component's diameter + 1 (label propagation moves one hop per
round). Duplicate clusters are small and dense (a handful of near-identical texts), so this
is a few rounds; ``max_rounds`` bounds pathological chains and raises rather than returning
an unconverged labelling. Each round truncates the plan's lineage with ``localCheckpoint`` so
the query plan does not grow with the rounds.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from refinery.spark.checkpoint import checkpointed, release


class ComponentsNotConvergedError(RuntimeError):
    """Label propagation needed more than ``max_rounds`` rounds."""


def connected_components(edges: DataFrame, src: str = "a", dst: str = "b", max_rounds: int = 64) -> DataFrame:
    """``(id, component)`` for every vertex that appears in ``edges``; ``component`` is the
    smallest id of its connected component (ids compared as strings).

    The result is checkpointed (:mod:`refinery.spark.checkpoint`): ``release`` it once whatever
    was computed from it has been materialised."""
    both = (
        edges.select(F.col(src).alias("u"), F.col(dst).alias("v"))
        .union(edges.select(F.col(dst).alias("u"), F.col(src).alias("v")))
        .where(F.col("u") != F.col("v"))
        .distinct()
    )
    both = checkpointed(both)
    labels = checkpointed(both.select(F.col("u").alias("id")).distinct().withColumn("component", F.col("id")))
    for _ in range(max_rounds):
        offered = both.join(labels.withColumnRenamed("id", "u"), "u").select(F.col("v").alias("id"), "component")
        updated = checkpointed(labels.unionByName(offered).groupBy("id").agg(F.min("component").alias("component")))
        changed = (
            updated.alias("n")
            .join(labels.alias("o"), "id")
            .where(F.col("n.component") < F.col("o.component"))
            .limit(1)
            .count()
        )
        release(labels)  # the previous round: nothing refers to it any more
        labels = updated
        if changed == 0:
            release(both)
            return labels
    release(both, labels)
    raise ComponentsNotConvergedError(
        f"connected components did not converge in {max_rounds} rounds: a duplicate chain that long "
        "means the threshold is too low (raise dedup.near.threshold)"
    )
