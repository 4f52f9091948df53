"""The cluster parity bench's comparison: two versions of a table, told apart column by column."""

from __future__ import annotations

import pytest

from bench.cluster_parity import table_differences


def test_differences_count_rows_and_name_the_columns_that_differ(spark):
    schema = "id string, label string, quality double, meta map<string,string>, run_id string"
    local = spark.createDataFrame(
        [("a", "x", 0.5, {"k": "1", "j": "2"}, "r1"), ("b", "y", 0.25, None, "r1"), ("c", "z", 1.0, {}, "r1")],
        schema,
    )
    cluster = spark.createDataFrame(
        # same maps in another entry order, another run id, one float off, one row missing
        [("a", "x", 0.5, {"j": "2", "k": "1"}, "r2"), ("b", "y", 0.2500001, None, "r2")],
        schema,
    )
    found = table_differences(local, cluster, ("id",))
    assert found["rows"] == {"local": 3, "cluster": 2}
    assert (found["only_local"], found["only_cluster"], found["joined_rows"]) == (2, 1, 2)
    assert set(found["columns"]) == {"quality"} and found["columns"]["quality"]["differ"] == 1
    assert found["columns"]["quality"]["max_abs"] == pytest.approx(1e-7)


def test_identical_tables_differ_nowhere(spark):
    rows = spark.createDataFrame([("a", ["t", "u"]), ("a", ["t", "u"])], "id string, tokens array<string>")
    found = table_differences(rows, rows.select("*"), None)
    assert (found["only_local"], found["only_cluster"]) == (0, 0) and "columns" not in found
