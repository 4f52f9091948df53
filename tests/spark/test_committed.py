"""Finding the commit a write made (:mod:`refinery.spark.committed`) on real Delta tables: the
tagged entry even when another writer committed after it, none for a write that changed
nothing, MERGE and WRITE row counts, and a clear error without operation metrics."""

from __future__ import annotations

from pyspark.sql import functions as F

from refinery.spark.committed import (
    Commit,
    added_rows_per_value,
    committed_rows,
    grouped_counts,
    rows_holding,
)
from refinery.spark.tables import merge_rows, replace_slice, update_rows


def frame(spark, ids, part="a", value=1):
    return spark.createDataFrame([(i, part, value) for i in ids], "id long, part string, value long")


def test_the_commit_found_is_the_writes_own_even_after_a_later_commit(spark, tmp_path):
    location = str(tmp_path / "t")
    first = replace_slice(frame(spark, range(5)), location, "part = 'a'", ["part"])
    assert (first.before, first.version, first.rows_written) == (-1, 0, 5)
    ours = replace_slice(frame(spark, range(3), "b"), location, "part = 'b'", ["part"])
    replace_slice(frame(spark, range(7), "c"), location, "part = 'c'", ["part"])  # a later writer
    assert (ours.version, ours.rows_written) == (1, 3)
    assert committed_rows(spark, ours).count() == 8  # the table as our write left it: a 5 + b 3


def test_a_write_that_changes_nothing_committed_nothing_and_wrote_no_row(spark, tmp_path):
    location = str(tmp_path / "t")
    replace_slice(frame(spark, range(4)), location, "part = 'a'", ["part"])
    empty = replace_slice(frame(spark, []), location, "part = 'b'", ["part"])
    assert (empty.version, empty.state_version, empty.rows_written) == (None, 0, 0)
    same = update_rows(spark, frame(spark, range(4)), location, changed=["value"])
    assert same.version is None and same.rows_updated == 0


def test_merge_counts_inserted_and_updated_rows_and_read_back_counts_unchanged_ones(spark, tmp_path):
    location = str(tmp_path / "t")
    merge_rows(spark, frame(spark, range(4)), location)
    merged = merge_rows(spark, frame(spark, range(2, 7), value=2), location, scope="t.part = 'a'")
    assert merged.operation == "MERGE" and merged.rows_written == 5  # 3 inserted + 2 updated, 2 deleted
    assert merged.metrics["numTargetRowsDeleted"] == 2
    written = frame(spark, range(2, 7), value=2)
    changed = update_rows(spark, written.withColumn("value", F.when(F.col("id") == 2, 3).otherwise(2)), location)
    assert changed.rows_updated == 5
    decided = written.withColumn("value", F.when(F.col("id") == 2, 3).otherwise(2))
    assert rows_holding(committed_rows(spark, changed), decided, "id", ["value"]) == 5
    assert rows_holding(committed_rows(spark, changed), written, "id", ["value"]) == 4


def sources(spark, counts: dict[str, int]):
    """One partition per source (range-partitioned on it), so each written file holds one source.
    (A union of single-partition frames is no longer that: Spark 4.1 merges it into one partition.)"""
    rows = [(i, name) for name, n in counts.items() for i in range(n)]
    return spark.createDataFrame(rows, "id long, source string").repartitionByRange(len(counts), "source")


def test_rows_per_value_come_from_the_added_files_statistics_when_each_file_holds_one_value(spark, tmp_path):
    location = str(tmp_path / "t")
    one_each = replace_slice(sources(spark, {"news": 5, "reviews": 3}), location, "true")
    assert added_rows_per_value(one_each, "source") == {"news": 5, "reviews": 3}
    assert grouped_counts(committed_rows(spark, one_each), "true", ["source"]) == {("news",): 5, ("reviews",): 3}
    # a file holding two sources: the statistics cannot tell, the caller reads the rows back
    mixed = replace_slice(sources(spark, {"news": 4, "reviews": 2}).coalesce(1), location, "true")
    assert mixed.rows_written == 6 and added_rows_per_value(mixed, "source") is None
    # a value longer than the statistics keep of a string is cut in them: not trusted either
    long_name = replace_slice(sources(spark, {"n" * 40: 2}), location, "true")
    assert added_rows_per_value(long_name, "source") is None
    assert added_rows_per_value(Commit(location, before=2), "source") is None  # nothing committed
