"""The cluster-parity bench's column rules without Spark; its table comparison is
``tests/spark/test_bench_cluster_parity.py``."""

from __future__ import annotations

from bench.cluster_parity import decided_columns, tables_identical


def test_run_ids_and_times_are_not_decided_columns():
    names = ["id", "run_id", "clean_run_id", "score_run", "selected_at", "label_quality", "silver_version"]
    assert decided_columns(names) == ["id", "label_quality", "silver_version"]


def test_tables_are_identical_when_only_run_ids_differ():
    same = {"rows": {"local": 3, "cluster": 3}, "joined_rows": 3, "only_local": 3, "only_cluster": 3}
    assert tables_identical({"silver": same | {"columns": {"clean_run_id": {"differ": 3}}}})
    assert not tables_identical({"silver": same | {"columns": {"label_quality": {"differ": 1, "max_abs": 1e-7}}}})
    assert not tables_identical({"gold": same | {"joined_rows": 2, "columns": {}}})
    lost = {"rows": {"local": 1, "cluster": 0}, "only_local": 1, "only_cluster": 0}
    assert not tables_identical({"quarantine": lost})
