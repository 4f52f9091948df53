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
3. **Near candidates** (:func:`refinery.dedup.candidates.candidate_pairs`): group representatives sharing a band-key
   bucket with a new representative, unless their shingle counts alone rule out the
   threshold. Buckets up to ``near.max_bucket`` members give every pair; larger ones pair each
   member with the bucket's smallest id only.
4. **Verification**: candidates whose MinHash sketches agree too rarely for the threshold
   are dropped (:func:`refinery.dedup.udf.sketch_filtered`: a pair at the threshold is
   lost with probability at most 10^-6, :func:`refinery.text.minhash.min_sketch_matches`);
   each remaining pair's exact Jaccard on its shingle sets (the texts of the pairs' ids only:
   :func:`refinery.dedup.candidates.with_texts`); pairs at or above ``near.threshold`` become ``near`` edges.
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

This module holds the job's entry (:func:`run`), the batch's neighbourhood
(:func:`batch_neighbourhood`) and the counts (:func:`duplicate_counts`, :func:`decided_rows`); the
transform is :func:`refinery.dedup.flags.duplicate_flags`, the candidate-pair search and text
joins are in :mod:`refinery.dedup.candidates`.

A rerun of the same batch recomputes exactly the same flags (every choice above is a minimum
or an order on ids, independent of partitioning).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from refinery.config import ConfigError
from refinery.dedup.candidates import _broadcast_when_small, _held, _small
from refinery.dedup.flags import EXACT, NEAR, dedup_options, duplicate_flags
from refinery.dedup.udf import (
    LATER_SIGNATURE_COLUMNS,
    signature_rows,
)
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.spark.committed import committed_rows, rows_holding
from refinery.spark.schemas import SILVER_DEDUP
from refinery.spark.tables import (
    add_missing_columns,
    read_table,
    replace_slice,
    sql_string,
    table_exists,
    update_rows,
)

STAGE = "dedup"
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

    :func:`refinery.dedup.flags.duplicate_flags` on the neighbourhood alone decides exactly what it decides on all of
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
