"""Reading a pinned Delta snapshot outside Spark: straight from its Parquet files, or through
Spark when the files are not the rows (deletion vectors)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from refinery.spark.snapshot import pin_snapshot, stream_batches

pytestmark = pytest.mark.slow


def rows_of(batches) -> list[tuple]:
    table = pa.Table.from_batches(list(batches))
    return sorted(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def test_files_are_streamed_in_bounded_batches_at_the_pinned_version(spark, tmp_path):
    path = str(tmp_path / "t")
    spark.range(0, 250).selectExpr("cast(id as string) id", "id % 3 as label").repartition(3).write.format(
        "delta"
    ).save(path)
    pinned = pin_snapshot(spark, path)
    spark.range(250, 300).selectExpr("cast(id as string) id", "id % 3 as label").write.format("delta").mode(
        "append"
    ).save(path)
    assert pinned.files_are_rows and len(pinned.files) == 3
    batches = list(stream_batches(pinned, ["id", "label", "missing"], batch_rows=40))
    assert max(b.num_rows for b in batches) <= 40
    rows = rows_of(batches)
    assert len(rows) == 250  # the later append is not in the pinned version
    assert {r[2] for r in rows} == {None}  # a column the files lack comes back as nulls
    assert pin_snapshot(spark, path).version == pinned.version + 1


def test_a_table_with_deletion_vectors_is_streamed_through_spark(spark, tmp_path):
    path = str(tmp_path / "dv")
    spark.range(0, 100).selectExpr("cast(id as string) id").coalesce(1).write.format("delta").option(
        "delta.enableDeletionVectors", "true"
    ).save(path)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE cast(id as int) < 10")
    pinned = pin_snapshot(spark, path)
    assert not pinned.files_are_rows
    ids = [r[0] for r in rows_of(stream_batches(pinned, ["id"], batch_rows=30))]
    assert len(ids) == 90 and "5" not in ids  # the deleted rows stay deleted
