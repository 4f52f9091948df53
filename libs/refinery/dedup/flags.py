"""The ``dedup`` transform: the duplicate flags of every row a run decides (:func:`duplicate_flags`:
exact groups, near pairs verified, connected components and each cluster's keeper) and the near
members' scores against their keeper (:func:`keeper_scores`)."""

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from refinery.dedup.candidates import _held, candidate_pairs, with_texts
from refinery.dedup.components import connected_components
from refinery.dedup.settings import DedupSettings
from refinery.dedup.udf import (
    DedupOptions,
    scored_pairs,
    sketch_filtered,
)
from refinery.spark.session import timed_phase

EXACT, NEAR = "exact", "near"


def dedup_options(cfg: DedupSettings) -> DedupOptions:
    """The workers' options from the validated config."""
    canonical = cfg.exact.options()
    return DedupOptions(canonical=canonical, shingles=cfg.near.shingles(canonical), minhash=cfg.near.minhash())


def duplicate_flags(
    spark: SparkSession,
    silver: DataFrame,
    stored: DataFrame,
    cfg: DedupSettings,
    run_id: str,
    held: list[DataFrame],
    phases: dict[str, float],
) -> tuple[DataFrame, dict[str, int]]:
    """The transform: the :data:`refinery.dedup.job.DUP_COLUMNS` of every row whose flags this
    run decides (the batch's rows and every member of a cluster they touch), and the pair counts.

    ``silver`` is the whole table (with the dup columns of earlier runs) or a batch's
    :func:`refinery.dedup.job.batch_neighbourhood`, ``stored`` the matching ``signatures`` rows
    with this batch's fresh rows already in them. Frames checkpointed on the
    way are appended to ``held`` for the caller to release after its writes; each phase's wall
    seconds are added to ``phases``."""
    batch = cfg.batch
    options = dedup_options(cfg)
    texts = silver.select("id", "text", "lang", "tokens")
    is_new = F.lit(True) if batch is None else (F.col("ingest_batch") == batch)
    # read by every step below: joined once
    with timed_phase(spark, "join rows", phases):
        rows = _held(
            stored.select("id", "canonical_hash", "bands", "n_shingles").join(
                silver.select("id", "event_ts", "label", "ingest_batch", "dup_kind", is_new.alias("is_new")), "id"
            ),
            held,
        )
    order = [F.col("event_ts").asc_nulls_last(), F.col("id")]

    # 2. exact groups touched by a new row: each non-first member links to the group's first
    touched = rows.where("is_new AND canonical_hash IS NOT NULL").select("canonical_hash").distinct()
    grouped = rows.join(touched, "canonical_hash")
    first = Window.partitionBy("canonical_hash").orderBy(*order)
    with timed_phase(spark, "exact groups", phases):  # read for the edges and the representatives
        grouped = _held(grouped.withColumn("group_first", F.first("id").over(first)), held)
    exact_edges = grouped.where(F.col("id") != F.col("group_first")).select(
        F.col("id").alias("a"), F.col("group_first").alias("b")
    )

    # 3. representatives: first of a touched group, or an untouched row not flagged exact before
    untouched = rows.join(touched, "canonical_hash", "left_anti").where(
        "is_new OR dup_kind IS NULL OR dup_kind != 'exact'"
    )
    reps = (
        grouped.where(F.col("id") == F.col("group_first"))
        .select("id", "bands", "n_shingles", "is_new")
        .unionByName(untouched.select("id", "bands", "n_shingles", "is_new"))
    )

    # 4. verification
    near_edges = spark.createDataFrame([], "a string, b string, jaccard double")
    n_candidates = n_sketched = 0
    if cfg.near.enabled:
        with timed_phase(spark, "candidates", phases):
            candidates = _held(candidate_pairs(reps, cfg.near.max_bucket, held, cfg.near.threshold), held)
            n_candidates = candidates.count()
        with timed_phase(spark, "sketch filter", phases):
            sketched = stored.select("id", "sketch")
            candidates = _held(sketch_filtered(candidates, sketched, options, cfg.near.threshold), held)
            n_sketched = candidates.count()
        with timed_phase(spark, "verify", phases):
            scored = scored_pairs(with_texts(candidates, texts, held, cfg.broadcast_max_rows), options)
            near_edges = _held(scored.where(F.col("jaccard") >= cfg.near.threshold), held)
    n_verified = near_edges.count()

    # 5. clusters over this run's edges and the links stored by earlier runs (none when the
    # whole table is recomputed)
    new_ids = rows.where("is_new").select("id")
    edges = exact_edges.unionByName(near_edges.select("a", "b"))
    if batch is not None:
        stored_links = (
            silver.where(F.col("dup_of").isNotNull())
            .select(F.col("id").alias("a"), F.col("dup_of").alias("b"))
            .join(new_ids.withColumnRenamed("id", "a"), "a", "left_anti")
            .join(new_ids.withColumnRenamed("id", "b"), "b", "left_anti")
        )
        edges = edges.unionByName(stored_links)
    with timed_phase(spark, "components", phases):
        components = connected_components(edges)
    held.append(components)
    affected = components.join(new_ids, "id").select("component").distinct()
    with timed_phase(spark, "members", phases):
        members = _held(
            components.join(affected, "component").join(rows.select("id", "canonical_hash", "event_ts", "label"), "id"),
            held,
        )
    everyone = (
        Window.partitionBy("component")
        .orderBy(*order)
        .rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    )
    members = members.withColumn("keeper", F.first("id").over(everyone)).withColumn(
        "keeper_hash", F.first("canonical_hash").over(everyone)
    )
    conflicts = (
        members.where(F.col("label").isNotNull())
        .groupBy("component")
        .agg((F.countDistinct("label") > 1).alias("label_conflict"))
    )
    is_keeper = F.col("id") == F.col("keeper")
    same_text = F.col("canonical_hash").eqNullSafe(F.col("keeper_hash"))
    near_members = members.where(~is_keeper & ~same_text)
    with timed_phase(spark, "keeper scores", phases):
        near_scores = keeper_scores(near_members, near_edges, texts, options, held, cfg.broadcast_max_rows)
    clustered = (
        members.join(conflicts, "component", "left")
        .join(near_scores, "id", "left")
        .select(
            "id",
            F.col("keeper").alias("dup_cluster"),
            F.when(~is_keeper, F.col("keeper")).alias("dup_of"),
            F.when(is_keeper, F.lit(None)).when(same_text, F.lit(EXACT)).otherwise(F.lit(NEAR)).alias("dup_kind"),
            F.when(is_keeper, F.lit(None).cast("double"))
            .when(same_text, F.lit(1.0))
            .otherwise(F.col("near_score"))
            .alias("dup_score"),
            F.coalesce(F.col("label_conflict"), F.lit(False)).alias("label_conflict"),
        )
    )
    # new rows in no cluster, and old rows whose keeper was a new row but are in no cluster
    # now: flags cleared (a rerun may have split a cluster)
    linked = silver.join(new_ids.withColumnRenamed("id", "dup_of"), "dup_of").select("id")
    singles = (
        new_ids.unionByName(linked)
        .distinct()
        .join(clustered.select("id"), "id", "left_anti")
        .select(
            "id",
            F.lit(None).cast("string").alias("dup_cluster"),
            F.lit(None).cast("string").alias("dup_of"),
            F.lit(None).cast("string").alias("dup_kind"),
            F.lit(None).cast("double").alias("dup_score"),
            F.lit(False).alias("label_conflict"),
        )
    )
    flags = clustered.unionByName(singles).withColumn("dedup_run_id", F.lit(run_id))
    return flags, {"candidate_pairs": n_candidates, "sketch_kept_pairs": n_sketched, "verified_pairs": n_verified}


def keeper_scores(
    near_members: DataFrame,
    near_edges: DataFrame,
    texts: DataFrame,
    options: DedupOptions,
    held: list[DataFrame],
    broadcast_max_rows: int,
) -> DataFrame:
    """``(id, near_score)``: each near member's exact Jaccard with its cluster's ``keeper``.

    A member whose pair with the keeper was verified in this run (an edge of ``near_edges``,
    in either order) takes that score; only the other pairs fetch their texts and are scored
    (:func:`with_texts`). The result is checkpointed (appended to ``held``): the flags' plan
    reads it more than once, and would otherwise run the workers again."""
    lo, hi = F.least("a", "b"), F.greatest("a", "b")
    verified = near_edges.select(lo.alias("lo"), hi.alias("hi"), "jaccard")
    pairs = _held(
        near_members.select(F.col("id").alias("a"), F.col("keeper").alias("b"))
        .select("a", "b", lo.alias("lo"), hi.alias("hi"))
        .join(verified, ["lo", "hi"], "left"),
        held,
    )
    known = pairs.where(F.col("jaccard").isNotNull()).select(
        F.col("a").alias("id"), F.col("jaccard").alias("near_score")
    )
    unknown = pairs.where(F.col("jaccard").isNull()).select("a", "b")
    scored = scored_pairs(with_texts(unknown, texts, held, broadcast_max_rows), options).select(
        F.col("a").alias("id"), F.col("jaccard").alias("near_score")
    )
    return _held(known.unionByName(scored), held)
