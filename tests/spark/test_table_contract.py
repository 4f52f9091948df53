"""The table contract (:mod:`refinery.spark.schemas`) against what the writers produce: every
job that writes a table runs once, on a handful of rows, and each table on disk has exactly
the declared columns and types (Delta stores every column nullable: nullability is not
compared). Score is not trained: its writer's frame (:func:`refinery.score.predictions.prediction_columns`
plus the run's columns) is built from made-up probabilities and merged the way the job does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from refinery.config import TABLE_NAMES, load_settings
from refinery.ingest.delta_increments import Increment, record_increment
from refinery.runtime.runner import new_run_id, run_one
from refinery.score.job import DECIDED_COLUMNS, SCORE_COLUMNS
from refinery.score.predictions import class_names, prediction_columns
from refinery.spark import schemas
from refinery.spark.tables import add_missing_columns, read_table, update_rows

ROOT = Path(__file__).resolve().parents[2]
HOTEL = "房间很大，服务很好，早餐也很丰富，下次还会再来。"
RECORDS = [
    {"id": "a", "text": HOTEL, "label": "positive"},
    {"id": "b", "text": HOTEL, "label": "negative"},  # an exact duplicate with another label
    {"id": "c", "text": "Write to zhang.san@example.com or call us today, the room was fine.", "label": "positive"},
    {"id": "d", "text": "酒店位置不好，隔音很差，晚上很吵，不推荐。", "label": "negative"},
    {"id": "e", "text": "前台服务态度一般，房间还算干净，价格偏贵。"},
    {"id": "f", "text": "The breakfast was cold and the staff did not care at all about it."},
    {"id": "g", "text": "\u200b\u200b\u2060", "label": "positive"},  # nothing left after cleaning
    {"id": "h", "text": "", "label": "positive"},  # refused by ingest
]


def columns(schema: StructType) -> list[tuple[str, str]]:
    """Names and types, in order; nullability left out."""
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


@pytest.fixture(scope="module")
def tables(spark, tmp_path_factory):
    """Every table, written by its jobs on :data:`RECORDS`: ingest, clean, dedup, score's
    MERGE, select, import_reviews, rebalance, and one ``ingest_state`` row."""
    tmp = tmp_path_factory.mktemp("contract")
    source = tmp / "tiny.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    spec = "ingest.sources.tiny."
    settings = load_settings(
        [ROOT / "conf" / "local.yaml"],
        [f"tables.{name}={tmp / 'tables' / name}" for name in TABLE_NAMES]
        + [
            f"ingest.input_root={tmp}",
            "ingest.only=[tiny]",
            f"{spec}path={source}",
            f"{spec}format=jsonl",
            f"{spec}columns={{text: text, label: label, id: id}}",
            "spark.shuffle_partitions=2",
            f"select.export_dir={tmp / 'exports'}",
            "select.budget=2",
        ],
    )
    for job in ("ingest", "clean", "dedup"):
        assert run_one(job, settings, spark, new_run_id(job)) == 0, job

    silver = read_table(spark, settings.tables.silver)
    probs = silver.select(
        "id",
        F.when(F.col("label").isNotNull(), F.lit(0.4)).cast("double").alias("confidence"),
        F.when(F.col("label").isNotNull(), F.lit(0.3)).cast("double").alias("label_quality"),
        F.when(F.col("label").isNotNull(), F.lit(False)).cast("boolean").alias("is_noisy"),
        F.array(F.lit(0.7), F.lit(0.3)).alias("probs"),
    )
    scored = (
        prediction_columns(probs, class_names(["positive", "negative"]))
        .withColumn("score_version", F.lit(3).cast("long"))
        .withColumn("score_run", F.lit(new_run_id("score")))
    )  # as the score job builds the frame it merges
    add_missing_columns(spark, settings.tables.silver, SCORE_COLUMNS)
    update_rows(spark, scored, settings.tables.silver, changed=DECIDED_COLUMNS)

    assert run_one("select", settings, spark, new_run_id("select")) == 0
    reviews = tmp / "reviews.jsonl"
    reviews.write_text(
        json.dumps({"id": "tiny:d", "label": "positive"}) + "\n" + json.dumps({"id": "tiny:zz", "label": "x"}) + "\n"
    )
    reviewed = settings.model_copy(
        update={"import_reviews": settings.import_reviews.model_copy(update={"path": str(reviews)})}
    )
    assert run_one("import_reviews", reviewed, spark, new_run_id("import_reviews")) == 0
    assert run_one("rebalance", settings, spark, new_run_id("rebalance")) == 0

    increment = Increment("tiny", str(source), str(source), "table-id", -1, 0, "snapshot")
    record_increment(spark, settings.tables.ingest_state, increment, "batch-1", new_run_id("ingest"))
    return settings, scored


def on_disk(spark, settings, name: str) -> list[tuple[str, str]]:
    return columns(read_table(spark, getattr(settings.tables, name)).schema)


@pytest.mark.parametrize("name", ["bronze", "quarantine", "metrics", "signatures", "ingest_state"])
def test_each_table_has_its_declared_columns(spark, tables, name):
    settings, _ = tables
    assert on_disk(spark, settings, name) == columns(schemas.TABLES[name].schema)


def test_silver_is_its_groups_in_the_order_the_jobs_add_them(spark, tables):
    settings, _ = tables
    silver = read_table(spark, settings.tables.silver)
    rows = {r.id: r for r in silver.collect()}
    assert columns(silver.schema) == columns(schemas.SILVER.schema), sorted(rows)
    assert rows["tiny:d"].label_before == "negative" and rows["tiny:d"].label == "positive"  # import_reviews wrote
    assert rows["tiny:b"].dup_of == "tiny:a" and rows["tiny:a"].rule_violations is not None  # dedup and clean wrote


def test_the_score_writers_frame_is_the_score_group(tables):
    _, scored = tables
    assert set(columns(scored.schema)) == {("id", "string"), *columns(schemas.SILVER_SCORE.schema)}


def test_review_queue_has_its_declared_columns_and_reviews_update_them(spark, tables):
    settings, _ = tables
    queue = read_table(spark, settings.tables.review_queue)
    assert columns(queue.schema) == columns(schemas.REVIEW_QUEUE)
    statuses = {r.id: r.status for r in queue.collect()}
    assert statuses and statuses.get("tiny:d", "reviewed") == "reviewed", statuses


def test_gold_has_its_declared_columns(spark, tables):
    settings, _ = tables
    assert on_disk(spark, settings, "gold") == columns(schemas.GOLD)
    assert read_table(spark, settings.tables.gold).count() > 0
