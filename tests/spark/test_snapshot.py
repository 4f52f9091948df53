"""A pinned Delta snapshot reads its version, not the table's later writes, and honours
deletion vectors."""

from __future__ import annotations

from refinery.spark.snapshot import pin_snapshot


def test_the_frame_reads_the_pinned_version(spark, tmp_path):
    path = str(tmp_path / "t")
    spark.range(0, 250).selectExpr("cast(id as string) id", "id % 3 as label").write.format("delta").save(path)
    pinned = pin_snapshot(spark, path)
    spark.range(250, 300).selectExpr("cast(id as string) id", "id % 3 as label").write.format("delta").mode(
        "append"
    ).save(path)
    assert pinned.frame.count() == 250  # the later append is not in the pinned version
    assert pin_snapshot(spark, path).version == pinned.version + 1
    assert pin_snapshot(spark, path, pinned.version).frame.count() == 250


def test_a_table_with_deletion_vectors_keeps_its_deleted_rows_deleted(spark, tmp_path):
    path = str(tmp_path / "dv")
    spark.range(0, 100).selectExpr("cast(id as string) id").coalesce(1).write.format("delta").option(
        "delta.enableDeletionVectors", "true"
    ).save(path)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE cast(id as int) < 10")
    ids = {r.id for r in pin_snapshot(spark, path).frame.collect()}
    assert len(ids) == 90 and "5" not in ids
