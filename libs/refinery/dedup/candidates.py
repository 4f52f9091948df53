"""The ``dedup`` candidate-pair search and text joins: the pairs of representatives that share an
LSH bucket (:func:`candidate_pairs`), each pair's texts picked out of silver (:func:`with_texts`),
and the checkpoint and broadcast helpers the job's frames go through (:func:`_held`, :func:`_small`)."""

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from refinery.spark.checkpoint import checkpointed


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
