"""The table contract (:mod:`refinery.spark.schemas`) on its own, no Spark session: each
column declared once, every table named, owners that are jobs, and the module free of job
code."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from refinery.config import TABLE_NAMES
from refinery.spark import schemas

JOBS = {"ingest", "clean", "dedup", "score", "select", "import_reviews", "rebalance", "runner"}


def test_every_table_is_declared_once_under_its_config_key():
    assert set(schemas.TABLES) == set(TABLE_NAMES)
    assert all(table.name == name for name, table in schemas.TABLES.items())


def test_no_column_is_declared_twice_across_a_tables_groups():
    for table in schemas.TABLES.values():
        counts = Counter(name for group in table.groups for name in group.names)
        assert [name for name, n in counts.items() if n > 1] == [], table.name


def test_silver_groups_have_one_owner_each_and_every_owner_is_a_job():
    assert [g.owners for g in schemas.SILVER.groups] == [("clean",), ("dedup",), ("score",), ("import_reviews",)]
    owners = {owner for table in schemas.TABLES.values() for group in table.groups for owner in group.owners}
    assert owners <= JOBS
    assert schemas.SILVER.group("dedup") is schemas.SILVER_DEDUP


def test_later_columns_belong_to_their_group_and_get_its_sql_types():
    for table in schemas.TABLES.values():
        for group in table.groups:
            assert set(group.later) <= set(group.names), table.name
            assert list(group.later_columns()) == list(group.later)
    assert schemas.SILVER_CLEAN.later_columns() == {
        "rule_violations": "array<string>",
        "quality": schemas.QUALITY.simpleString(),
        "quality_flags": "array<string>",
    }
    assert schemas.SILVER_SCORE.sql_types()["score_version"] == "bigint"


def test_gold_and_the_review_queue_take_silvers_types_for_silvers_columns():
    silver = {f.name: f.dataType for f in schemas.SILVER.schema.fields}
    for schema in (schemas.GOLD, schemas.REVIEW_QUEUE):
        shared = [f for f in schema.fields if f.name in silver]
        assert all(f.dataType == silver[f.name] for f in shared)
    assert set(schemas.GOLD_FROM_SILVER) <= set(schemas.SILVER_CLEAN.names)
    assert set(schemas.REVIEWED_QUEUE_COLUMNS) <= set(schemas.REVIEW_QUEUE.names)


def test_the_contract_imports_no_job_module():
    code = (
        "import sys, refinery.spark.schemas; "
        "print(sorted(m for m in sys.modules if m.startswith('refinery.') and m.rsplit('.', 1)[-1] in "
        "('job', 'udf', 'session', 'tables')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
