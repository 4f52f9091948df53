"""Checkpointed frames on a real Delta table: they keep their rows through a write to the table
they were read from (a cached frame does not), and ``release`` frees their storage; a columnar
cache is computed once, read column by column, and freed the same way."""

from __future__ import annotations

from pyspark.sql import functions as F

from refinery.spark.checkpoint import checkpointed, columnar_cached, release


def stored_rdds(spark) -> set[int]:
    """Ids of the RDDs holding blocks in executor storage now."""
    return {info.id() for info in spark.sparkContext._jsc.sc().getRDDStorageInfo()}


def test_a_checkpoint_survives_a_write_to_its_source_table(spark, tmp_path):
    path = str(tmp_path / "table")
    spark.range(100).withColumn("part", F.lit("a")).write.format("delta").save(path)
    source = spark.read.format("delta").load(path).where("id % 2 = 0")

    held = checkpointed(source)
    cached = source.persist()
    assert held.count() == cached.count() == 50
    spark.range(100, 300).withColumn("part", F.lit("a")).write.format("delta").mode("append").save(path)

    assert held.count() == 50  # the rows computed before the write
    assert cached.count() == 150  # why jobs do not cache frames read from a table they write
    release(held, cached)


def test_release_frees_the_checkpoint_storage(spark):
    before = stored_rdds(spark)
    held = checkpointed(spark.range(1000).withColumn("square", F.col("id") * F.col("id")))
    assert held.agg(F.sum("square")).first()[0] == sum(i * i for i in range(1000))
    assert len(stored_rdds(spark) - before) == 1

    release(held)
    assert stored_rdds(spark) - before == set()


def test_a_columnar_cache_is_computed_once_and_released(spark):
    calls = spark.sparkContext.accumulator(0)

    def counted(value: int) -> int:
        calls.add(1)
        return value

    before = stored_rdds(spark)
    wide = spark.range(500).withColumn("text", F.repeat(F.lit("x"), 1000))
    wide = wide.withColumn("key", F.udf(counted, "long")(F.col("id") % 7))
    held = columnar_cached(wide)
    assert calls.value == 500  # computed now, every row once
    assert held.groupBy("key").count().count() == 7
    assert held.where(F.col("key") == 3).agg(F.sum(F.length("text"))).first()[0] == 71 * 1000
    assert calls.value == 500  # the narrow and the wide read both came from the cache
    assert len(stored_rdds(spark) - before) == 1

    release(held)
    assert stored_rdds(spark) - before == set()


def test_a_lazy_columnar_cache_is_filled_by_its_first_action(spark):
    calls = spark.sparkContext.accumulator(0)

    def counted(value: int) -> int:
        calls.add(1)
        return value

    held = columnar_cached(spark.range(300).withColumn("key", F.udf(counted, "long")(F.col("id") % 3)), eager=False)
    assert calls.value == 0  # nothing computed yet
    assert sorted(r["count"] for r in held.groupBy("key").count().collect()) == [100, 100, 100]
    assert calls.value == 300
    assert held.where(F.col("key") == 1).count() == 100
    assert calls.value == 300  # the second read came from the cache
    release(held)
