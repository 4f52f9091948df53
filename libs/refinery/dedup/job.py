"""The ``dedup`` job: flag exact and near duplicates in ``silver``, within and across batches.

read (silver; the batch's rows are *new*) → transform → write (the batch's signatures to the
``signatures`` table; the duplicate columns of every affected silver row by MERGE on ``id``;
one ``metrics`` row). Nothing is deleted: downstream jobs filter on the flags.

Transform, step by step (all Spark joins and aggregations, no ``collect`` of data):

1. **Signatures** of the new rows (:func:`refinery.dedup.udf.signature_rows`): the
   canonical hash (exact duplicates) and one LSH key per MinHash band (near duplicates).
   Older batches' signatures are read back from the ``signatures`` table, never recomputed.
2. **Exact groups**: rows sharing a canonical hash with a new row; within a group the first
   row by (``event_ts``, ``id``) represents it, the others link to it (``exact`` edges).
3. **Near candidates** (:func:`candidate_pairs`): group representatives sharing a band-key
   bucket with a new representative, unless their shingle counts alone rule out the
   threshold. Buckets up to ``near.max_bucket`` members give every pair; larger ones pair each
   member with the bucket's smallest id only.
4. **Verification**: candidates whose MinHash sketches agree too rarely for the threshold
   are dropped (:func:`refinery.dedup.udf.sketch_filtered`: a pair at the threshold is
   lost with probability at most 10^-6, :func:`refinery.text.minhash.min_sketch_matches`);
   each remaining pair's exact Jaccard on its shingle sets (the texts of the pairs' ids only:
   :func:`with_texts`); pairs at or above ``near.threshold`` become ``near`` edges.
5. **Clusters**: connected components (:mod:`refinery.dedup.components`) over this run's
   edges plus the links stored in silver from earlier runs (``dup_of``), so a new row joins
   an existing cluster instead of starting a second one. Every component with a new row or
   a new edge is recomputed: its **keeper** is the first member by (``event_ts`` nulls last,
   ``id``), and names the cluster (``dup_cluster``: stable across batches while the keeper
   is, which it stays when new rows arrive later in time); every other member gets ``dup_of``
   = keeper, ``dup_kind`` = ``exact`` (same canonical hash as the keeper) or ``near``, and
   ``dup_score`` = 1.0 or its exact Jaccard with the keeper. ``label_conflict`` marks every
   member of a cluster whose labels differ.

With ``dedup.batch`` set, the steps run on the batch's neighbourhood only
(:func:`batch_neighbourhood`: the rows sharing a hash, a bucket or an earlier cluster with a
new row), which decides the same flags as all of silver would at a fraction of the cost; and
the MERGE rewrites only rows whose flags change.

Counts: ``rows_in`` = the batch's silver rows (all of silver without ``dedup.batch``), counted
before the transform; ``rows_out`` = those of them that hold this run's decision in the silver
version the flags' MERGE committed (read back: :func:`decided_rows`). Every new row gets a
decision (a cluster's flags or cleared ones), so a row lost on the way fails the run.

Each phase's wall seconds are in the metrics ``details`` as ``phase.<name>.ms``
(:func:`refinery.spark.session.timed_phase`).

A rerun of the same batch recomputes exactly the same flags (every choice above is a minimum
or an order on ids, independent of partitioning).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from refinery.config import ConfigError
from refinery.dedup.components import connected_components
from refinery.dedup.settings import DedupSettings
from refinery.dedup.udf import (
    LATER_SIGNATURE_COLUMNS,
    DedupOptions,
    scored_pairs,
    signature_rows,
    sketch_filtered,
)
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.spark.checkpoint import checkpointed
from refinery.spark.committed import committed_rows, rows_holding
from refinery.spark.schemas import SILVER_DEDUP
from refinery.spark.session import timed_phase
from refinery.spark.tables import (
    add_missing_columns,
    read_table,
    replace_slice,
    sql_string,
    table_exists,
    update_rows,
)

STAGE = "dedup"
EXACT, NEAR = "exact", "near"
#: The columns this job owns in silver (:data:`refinery.spark.schemas.SILVER_DEDUP`): name → SQL type.
DUP_COLUMNS = SILVER_DEDUP.sql_types()
#: The columns that carry a decision; a row is rewritten only when one of them changes, so
#: ``dedup_run_id`` names the run that last changed the row's flags.
DECIDED_COLUMNS = [name for name in DUP_COLUMNS if name != "dedup_run_id"]


def run(ctx: JobContext) -> JobResult:
    """Deduplicate ``dedup.batch`` (or all of silver) against itself and the rest of silver."""
    settings, spark, cfg = ctx.settings, ctx.spark, ctx.settings.dedup
    with stage(ctx, STAGE) as s:
        if not table_exists(spark, settings.tables.silver):
            raise ConfigError(
                f"config key 'tables.silver': no Delta table at {settings.tables.silver}; fix: run clean first"
            )
        add_missing_columns(spark, settings.tables.silver, DUP_COLUMNS)
        silver = read_table(spark, settings.tables.silver)
        batch = cfg.batch
        new = silver if batch is None else silver.where(F.col("ingest_batch") == batch)
        ctx.log.info("dedup started", extra={"batch": batch or "*"})

        with s.phase("count input"):
            s.count_input(new)  # the input slice (the batch's silver rows), counted before the transform
        fresh = signature_rows(new, dedup_options(cfg))
        predicate = "true" if batch is None else f"ingest_batch = {sql_string(batch)}"
        if table_exists(spark, settings.tables.signatures):
            add_missing_columns(spark, settings.tables.signatures, LATER_SIGNATURE_COLUMNS)
        with s.phase("signatures"):
            replace_slice(fresh, settings.tables.signatures, predicate, ["ingest_batch"])

        stored = read_table(spark, settings.tables.signatures)
        details: dict[str, int] = {}
        if batch is not None:
            with s.phase("neighbourhood"):
                silver, stored, details["neighbourhood_rows"] = batch_neighbourhood(
                    silver, stored, batch, s.held, cfg.broadcast_max_rows
                )
        flags, counts = duplicate_flags(spark, silver, stored, cfg, ctx.run_id, s.held, s.phases)
        with s.phase("flags"):
            flags = s.hold(drop_one_row(flags, STAGE))
            decided = duplicate_counts(flags)
        details |= {"rows_flagged_or_cleared": decided.pop("rows"), **decided, **counts}
        if batch is not None:  # a small batch's flags find their rows in silver without shuffling it
            flags = _broadcast_when_small(flags, details["rows_flagged_or_cleared"], cfg.broadcast_max_rows)
        with s.phase("merge"):
            commit = update_rows(spark, flags, settings.tables.silver, changed=DECIDED_COLUMNS)
        details["rows_updated"] = commit.rows_updated
        with s.phase("count committed"):
            s.out(decided_rows(committed_rows(spark, commit), flags, predicate))
        s.details = {key: str(value) for key, value in details.items()}
    return JobResult(batch=batch or "*", stages=s.stages)


def decided_rows(committed: DataFrame | None, flags: DataFrame, predicate: str) -> int:
    """The batch's rows (silver rows matching ``predicate``) that hold this run's decision in
    the committed silver version: the ``flags`` row of their id, every :data:`DECIDED_COLUMNS`
    value equal. The MERGE rewrites only rows whose flags change, so its own row count is no
    measure of the rows decided."""
    batch_rows = committed.where(predicate) if committed is not None else None
    return rows_holding(batch_rows, flags, "id", DECIDED_COLUMNS)


def dedup_options(cfg: DedupSettings) -> DedupOptions:
    """The workers' options from the validated config."""
    canonical = cfg.exact.options()
    return DedupOptions(canonical=canonical, shingles=cfg.near.shingles(canonical), minhash=cfg.near.minhash())


def batch_neighbourhood(
    silver: DataFrame, stored: DataFrame, batch: str, held: list[DataFrame], broadcast_max_rows: int
) -> tuple[DataFrame, DataFrame, int]:
    """``silver`` and ``stored`` cut down to the rows a batch's flags depend on, and their count.

    The neighbourhood of the batch is

    1. the batch's rows;
    2. every row sharing a canonical hash with one (an exact group is decided whole);
    3. every row sharing an LSH band key with one (a bucket's size and smallest id are the
       whole bucket's);
    4. every member of an earlier cluster (``dup_cluster``) of any row above: its stored links
       join the clusters, and its keeper, kind and score may change.

    :func:`duplicate_flags` on the neighbourhood alone decides exactly what it decides on all of
    silver: every group, bucket and component that holds a new row lies inside it (a row
    reaches a new row only through a shared hash, a shared bucket, or a stored link, and stored
    links never leave their cluster). A row outside it is read once, as a hash, its band keys
    and its cluster id, and never shuffled while the batch's hashes, keys and ids number at
    most ``broadcast_max_rows`` each: those are broadcast to the scans.

    Frames checkpointed on the way are appended to ``held``."""
    new = stored.where(F.col("ingest_batch") == batch)
    hashes = _small(
        new.where("canonical_hash IS NOT NULL").select("canonical_hash").distinct(), held, broadcast_max_rows
    )
    keys = _small(new.select(F.explode("bands").alias("key")).distinct(), held, broadcast_max_rows)
    seeds = _small(
        new.select("id")
        .unionByName(stored.join(hashes, "canonical_hash", "left_semi").select("id"))
        .unionByName(stored.select("id", F.explode("bands").alias("key")).join(keys, "key", "left_semi").select("id"))
        .distinct(),
        held,
        broadcast_max_rows,
    )
    links = silver.select("id", "dup_cluster")
    clusters = _small(
        links.join(seeds, "id", "left_semi").where("dup_cluster IS NOT NULL").select("dup_cluster").distinct(),
        held,
        broadcast_max_rows,
    )
    ids = _small(
        seeds.unionByName(links.join(clusters, "dup_cluster", "left_semi").select("id")).distinct(),
        held,
        broadcast_max_rows,
    )
    part = _held(silver.join(ids, "id", "left_semi"), held)
    return part, _held(stored.join(ids, "id", "left_semi"), held), part.count()


def _small(frame: DataFrame, held: list[DataFrame], broadcast_max_rows: int) -> DataFrame:
    """``frame`` held (:func:`_held`), with a broadcast hint when it has at most
    ``broadcast_max_rows`` rows: a checkpoint's size estimate is its whole upstream plan's, so
    Spark would not broadcast it on its own."""
    frame = _held(frame, held)
    return _broadcast_when_small(frame, frame.count(), broadcast_max_rows)


def _broadcast_when_small(frame: DataFrame, rows: int, broadcast_max_rows: int) -> DataFrame:
    """``frame`` with a broadcast hint when its ``rows`` are at most ``broadcast_max_rows``."""
    return F.broadcast(frame) if rows <= broadcast_max_rows else frame


def _held(frame: DataFrame, held: list[DataFrame]) -> DataFrame:
    """``frame`` checkpointed (:mod:`refinery.spark.checkpoint`) and listed in ``held`` for release."""
    frame = checkpointed(frame)
    held.append(frame)
    return frame


def duplicate_flags(
    spark: SparkSession,
    silver: DataFrame,
    stored: DataFrame,
    cfg: DedupSettings,
    run_id: str,
    held: list[DataFrame],
    phases: dict[str, float],
) -> tuple[DataFrame, dict[str, int]]:
    """The transform: the :data:`DUP_COLUMNS` of every row whose flags this run decides (the
    batch's rows and every member of a cluster they touch), and the pair counts.

    ``silver`` is the whole table (with the dup columns of earlier runs) or a batch's
    :func:`batch_neighbourhood`, ``stored`` the matching ``signatures`` rows with this batch's
    fresh rows already in them. Frames checkpointed on the
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


def candidate_pairs(reps: DataFrame, max_bucket: int, held: list[DataFrame], threshold: float = 0.0) -> DataFrame:
    """``(a, b)`` with ``a < b``: representatives sharing an LSH bucket, at least one of them
    new, whose shingle counts allow a Jaccard of ``threshold``. Buckets larger than
    ``max_bucket`` give star pairs around their smallest id.

    **Size bound.** ``J(A, B) = |A ∩ B| / |A ∪ B| ≤ min(|A|, |B|) / max(|A|, |B|)``, so a pair
    whose sizes differ by more than that cannot reach the threshold, whatever the texts: it is
    dropped here, exactly, before its texts are fetched and scored (a text and the same text
    with a long addition share buckets, but not a verdict). The sizes are ``n_shingles``, the
    distinct CRC-32 hashes; a hash collision can make a count one short, so the smaller count
    gets one of slack: a pair is kept when ``min + 1 ≥ threshold · max``.

    A bucket is one band key (:func:`refinery.text.minhash.band_keys` mixes the band's index
    into its key, so keys of different bands collide with probability 2^-64, and a collision
    only adds candidates). Each representative gives ``bands`` rows, so this is the job's
    largest shuffle: the rows are partitioned by key once, and one window gives every row its
    bucket's size and whether the bucket holds a new row (an aggregation joined back would
    shuffle them twice). The rows of shared buckets, a small share, are
    checkpointed (appended to ``held``) for the self-join and the star pairs."""
    exploded = reps.where(F.col("bands").isNotNull()).select(
        "id", "is_new", F.col("n_shingles").alias("n"), F.explode("bands").alias("key")
    )
    bucket = Window.partitionBy("key")
    members = _held(
        exploded.select(
            "id",
            "is_new",
            "n",
            "key",
            F.count(F.lit(1)).over(bucket).alias("size"),
            F.max(F.col("is_new").cast("int")).over(bucket).alias("has_new"),
        ).where((F.col("size") >= 2) & (F.col("has_new") == 1)),
        held,
    )
    small = members.where(F.col("size") <= max_bucket)
    x, y = small.alias("x"), small.alias("y")
    within = (
        x.join(y, F.col("x.key") == F.col("y.key"))
        .where((F.col("x.id") < F.col("y.id")) & (F.col("x.is_new") | F.col("y.is_new")))
        .where(F.least("x.n", "y.n") + 1 >= F.lit(threshold) * F.greatest("x.n", "y.n"))
        .select(F.col("x.id").alias("a"), F.col("y.id").alias("b"))
    )
    large = members.where(F.col("size") > max_bucket)
    centres = large.groupBy("key").agg(F.min_by("n", "id").alias("min_n"), F.min("id").alias("min_id"))
    star = (
        large.join(centres, "key")
        .where(F.col("id") != F.col("min_id"))
        .where(F.least("n", "min_n") + 1 >= F.lit(threshold) * F.greatest("n", "min_n"))
        .select(F.col("min_id").alias("a"), F.col("id").alias("b"))
    )
    return within.unionByName(star).distinct()


def with_texts(pairs: DataFrame, texts: DataFrame, held: list[DataFrame], broadcast_max_rows: int) -> DataFrame:
    """``pairs`` (``a``, ``b``) with each side's ``text``, ``lang`` and ``tokens``.

    Pairs are few next to silver's rows, so the texts of the ids they name are picked out
    first, by a semi-join whose id list is broadcast while it has at most
    ``broadcast_max_rows`` rows: silver's texts are then scanned once and filtered in place,
    never shuffled, and only the picked texts (checkpointed, appended to ``held``) meet the
    pairs."""
    pairs = _held(pairs, held)
    ids = _small(
        pairs.select(F.col("a").alias("id")).unionByName(pairs.select(F.col("b").alias("id"))).distinct(),
        held,
        broadcast_max_rows,
    )
    picked = _held(texts.join(ids, "id", "left_semi"), held)
    side_a = picked.select(F.col("id").alias("a"), *[F.col(c).alias(f"{c}_a") for c in ("text", "lang", "tokens")])
    side_b = picked.select(F.col("id").alias("b"), *[F.col(c).alias(f"{c}_b") for c in ("text", "lang", "tokens")])
    return pairs.join(side_a, "a").join(side_b, "b")


def duplicate_counts(frame: DataFrame) -> dict[str, int]:
    """Rows, exact and near duplicates, clusters and label-conflict rows of ``frame`` (which
    carries :data:`DUP_COLUMNS`), in one aggregation: the metrics details and the run summary."""
    row = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum((F.col("dup_kind") == EXACT).cast("long")).alias("exact_duplicates"),
        F.sum((F.col("dup_kind") == NEAR).cast("long")).alias("near_duplicates"),
        F.countDistinct("dup_cluster").alias("clusters"),
        F.sum(F.col("label_conflict").cast("long")).alias("label_conflict_rows"),
    ).first()
    return {key: int(value or 0) for key, value in row.asDict().items()}
