"""The ``select`` and ``import_reviews`` jobs on AG News rows in real Spark and Delta: the
active-learning picks equal the numpy oracle (:func:`refinery.labels.active_learning.select`),
QC routing, no re-selection, the review files, and reviewed labels merged back with provenance."""

from __future__ import annotations

import csv
import json
from collections import Counter

import numpy as np
import pytest
from pyspark.sql import functions as F

from refinery.labels.active_learning import select, uncertainty
from refinery.runtime.runner import new_run_id, run_one
from refinery.spark.tables import read_table
from tests.support.paths import corpora_dir
from tests.support.spark_helpers import metrics_by_stage

CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
N_LABELLED, N_UNLABELLED = 600, 400
CLUSTER = [f"ag_news:u{i}" for i in range(10)]  # ten near-duplicate unlabelled rows
CONFLICT, VIOLATION = "ag_news:l5", "ag_news:l7"


@pytest.fixture(scope="module")
def rows():
    """AG News texts with scorer-like columns: labelled rows with a confidence, unlabelled rows
    with Dirichlet probabilities (kept for the oracle)."""
    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        news = [(f"{r[1]}\n{r[2]}", CLASSES[int(r[0]) - 1]) for r in csv.reader(f)]
    rng = np.random.default_rng(4)
    probs = rng.dirichlet([0.6] * 4, N_UNLABELLED)
    confidence = rng.random(N_LABELLED)
    out = []
    for i in range(N_LABELLED):
        text, label = news[i]
        out.append(
            dict(id=f"ag_news:l{i}", text=text, label=label, confidence=float(confidence[i]), pred_label=label,
                 pred_prob=None, margin=None, entropy=None, dup_cluster=None,
                 label_conflict=f"ag_news:l{i}" == CONFLICT,
                 rule_violations=["too_short"] if f"ag_news:l{i}" == VIOLATION else [])
        )  # fmt: skip
    for i in range(N_UNLABELLED):
        p = probs[i]
        top = np.sort(p)[::-1]
        rid = f"ag_news:u{i}"
        out.append(
            dict(id=rid, text=news[N_LABELLED + i][0], label=None, confidence=None, pred_label=CLASSES[int(p.argmax())],
                 pred_prob=float(top[0]), margin=float(top[0] - top[1]),
                 entropy=float(uncertainty(p[None, :], "entropy")[0]),
                 dup_cluster=CLUSTER[0] if rid in CLUSTER else None, label_conflict=False, rule_violations=[])
        )  # fmt: skip
    return out, probs


SCHEMA = (
    "id string, text string, label string, confidence double, pred_label string, pred_prob double, margin double, "
    "entropy double, dup_cluster string, label_conflict boolean, rule_violations array<string>"
)


@pytest.fixture
def silver(spark, rows, make_settings, tmp_path):
    data, _ = rows
    frame = spark.createDataFrame([tuple(r[k] for k in SCHEMA_NAMES) for r in data], SCHEMA)
    settings = make_settings(f"select.export_dir={tmp_path / 'exports'}")
    frame.withColumn("source", F.lit("ag_news")).write.format("delta").save(settings.tables.silver)
    return settings


SCHEMA_NAMES = [part.strip().split(" ")[0] for part in SCHEMA.split(",")]


def run_select(spark, settings, run_id=None):
    run_id = run_id or new_run_id("select")
    assert run_one("select", settings, spark, run_id) == 0
    queue = read_table(spark, settings.tables.review_queue).where(F.col("select_run") == run_id).collect()
    return run_id, queue


def with_select(settings, **changes):
    return settings.model_copy(update={"select": settings.select.model_copy(update=changes)})


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_active_learning_picks_equal_the_numpy_oracle(spark, rows, silver, strategy):
    _, probs = rows
    quotas = {"World": 5, "Business": 3}
    settings = with_select(silver, strategy=strategy, budget=25, quotas=quotas)
    _, queue = run_select(spark, settings)
    picked = {r.id for r in queue if r.reason == "active_learning"}
    ids = np.asarray([f"ag_news:u{i}" for i in range(N_UNLABELLED)])
    classes = np.asarray([CLASSES[int(p.argmax())] for p in probs])
    clusters = np.asarray([CLUSTER[0] if i in CLUSTER else i for i in ids])
    oracle = select(uncertainty(probs, strategy), 25, classes=classes, quotas=quotas, clusters=clusters)
    assert picked == set(ids[oracle].tolist())
    assert len(picked) == 25 and len(picked & set(CLUSTER)) <= 1
    by_class = Counter(r.pred_label for r in queue if r.reason == "active_learning")
    assert by_class["World"] <= 5 and by_class["Business"] <= 3


N_THUC = 300


@pytest.fixture
def two_sources(spark, rows, make_settings, tmp_path):
    """The AG News rows (4 classes) plus 300 unlabelled THUCNews titles (10 classes, Dirichlet
    probabilities): least confidence and entropy run higher on ten classes."""
    from tests.support.drift_corpora import THUC_LABELS, thucnews_rows

    data, _ = rows
    rng = np.random.default_rng(9)
    probs = rng.dirichlet([0.6] * 10, N_THUC)
    thuc = []
    for i, (rid, title, _) in enumerate(thucnews_rows()[:N_THUC]):
        p = probs[i]
        top = np.sort(p)[::-1]
        thuc.append(
            dict(id=rid, text=title, label=None, confidence=None, pred_label=THUC_LABELS[int(p.argmax())],
                 pred_prob=float(top[0]), margin=float(top[0] - top[1]),
                 entropy=float(uncertainty(p[None, :], "entropy")[0]),
                 dup_cluster=None, label_conflict=False, rule_violations=[])
        )  # fmt: skip
    frame = spark.createDataFrame(
        [(*(r[k] for k in SCHEMA_NAMES), "ag_news") for r in data]
        + [(*(r[k] for k in SCHEMA_NAMES), "thucnews") for r in thuc],
        SCHEMA + ", source string",
    )
    settings = make_settings(f"select.export_dir={tmp_path / 'exports'}")
    frame.write.format("delta").save(settings.tables.silver)
    return settings, probs, np.asarray([r["id"] for r in thuc]), np.asarray([r["pred_label"] for r in thuc])


@pytest.mark.parametrize("strategy", ["least_confidence", "entropy"])
def test_a_budget_per_group_equals_the_oracle_within_each_source(spark, rows, two_sources, strategy):
    _, ag_probs = rows
    settings, thuc_probs, thuc_ids, thuc_classes = two_sources
    quotas = {"World": 4, "finance": 2}  # an AG News and a THUCNews class
    # one budget over both sources: the ten-class source's higher uncertainties take (nearly) all
    own_queue = {"review_queue": settings.tables.review_queue + "_pooled"}  # queued rows are never re-selected
    pooled_settings = with_select(settings, strategy=strategy, budget=30, quotas=quotas)
    pooled_settings = pooled_settings.model_copy(update={"tables": settings.tables.model_copy(update=own_queue)})
    _, pooled = run_select(spark, pooled_settings)
    pooled_sources = Counter(r.source for r in pooled if r.reason == "active_learning")
    assert pooled_sources["thucnews"] >= 25, pooled_sources

    run_id, queue = run_select(
        spark, with_select(settings, strategy=strategy, budget=15, quotas=quotas, group_by="source")
    )
    picked = {r.id for r in queue if r.reason == "active_learning"}
    ag_ids = np.asarray([f"ag_news:u{i}" for i in range(N_UNLABELLED)])
    ag_classes = np.asarray([CLASSES[int(p.argmax())] for p in ag_probs])
    ag_clusters = np.asarray([CLUSTER[0] if i in CLUSTER else i for i in ag_ids])
    oracle_ag = select(uncertainty(ag_probs, strategy), 15, classes=ag_classes, quotas=quotas, clusters=ag_clusters)
    oracle_thuc = select(uncertainty(thuc_probs, strategy), 15, classes=thuc_classes, quotas=quotas)
    assert picked == set(ag_ids[oracle_ag].tolist()) | set(thuc_ids[oracle_thuc].tolist())
    assert Counter(r.source for r in queue if r.reason == "active_learning") == {"ag_news": 15, "thucnews": 15}
    details = metrics_by_stage(spark, settings, run_id)["select"].details
    assert details["group_by"] == "source" and details["queued.active_learning"] == "30"
    assert details["queued.active_learning.ag_news"] == details["queued.active_learning.thucnews"] == "15"


def test_select_group_by_a_missing_column_exits_2(spark, silver, capsys):
    bad = with_select(silver, group_by="no_such_column")
    assert run_one("select", bad, spark, new_run_id("select")) == 2
    assert "config key 'select.group_by'" in capsys.readouterr().err


def test_qc_routes_low_confidence_conflicts_and_rule_violations(spark, rows, silver):
    data, _ = rows
    run_id, queue = run_select(spark, with_select(silver, budget=10))
    qc = {r.id: r for r in queue if r.reason != "active_learning"}
    low = {r["id"] for r in data if r["label"] is not None and r["confidence"] < 0.85}
    assert set(qc) == low | {CONFLICT, VIOLATION}
    assert all(r.reason == "low_confidence" and r.score == r.confidence for i, r in qc.items() if i in low)
    if CONFLICT not in low:
        assert qc[CONFLICT].reason == "label_conflict"
    assert "rule_violation" in qc[VIOLATION].reasons
    row = metrics_by_stage(spark, silver, run_id)["select"]
    assert row.reconciled and row.rows_in == N_LABELLED + N_UNLABELLED and row.rows_out == len(queue)
    assert row.filtered_by_reason["labelled_ok"] == N_LABELLED - len(qc)
    assert row.filtered_by_reason["duplicate_in_batch"] == len(CLUSTER) - 1
    assert row.filtered_by_reason["over_budget"] == N_UNLABELLED - len(CLUSTER) + 1 - 10


def test_rerun_is_idempotent_and_a_new_run_skips_queued_rows(spark, silver):
    settings = with_select(silver, budget=20, qc=silver.select.qc.model_copy(update={"max_rows": 15}))
    run_id, first = run_select(spark, settings)
    _, again = run_select(spark, settings, run_id)
    assert sorted(r.id for r in again) == sorted(r.id for r in first)
    assert sum(r.reason != "active_learning" for r in first) == 15  # the QC cap, lowest confidence first
    _, second = run_select(spark, settings)
    assert not {r.id for r in second} & {r.id for r in first}
    total = read_table(spark, settings.tables.review_queue).count()
    assert total == len(first) + len(second)


def test_exports_and_reviews_come_back_into_silver(spark, silver, tmp_path):
    settings = with_select(silver, budget=8)
    run_id, queue = run_select(spark, settings)
    folder = tmp_path / "exports" / run_id
    lines = (folder / "review_queue.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(queue) and {json.loads(x)["id"] for x in lines} == {r.id for r in queue}
    with (folder / "review_queue.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == len(queue)
    tasks = json.loads((folder / "label_studio_tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == len(queue)
    first = tasks[0]["predictions"][0]["result"][0]
    assert first["from_name"] == "label" and first["value"]["choices"][0] in CLASSES

    # annotators answer in Label Studio: relabel, confirm, skip, an unknown id, a bad label
    unlabelled = [t for t in tasks if t["data"]["id"].startswith("ag_news:u")][:3]
    labelled = [t for t in tasks if t["data"]["id"].startswith("ag_news:l")][:2]

    def answered(task, choice, cancelled=False):
        result = [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}]
        return {**task, "annotations": [{"id": 1, "result": result, "was_cancelled": cancelled}]}

    relabel = labelled[0]["predictions"][0]["result"][0]["value"]["choices"][0]
    new = "Sports" if relabel != "Sports" else "World"
    export = [
        answered(unlabelled[0], "Business"),
        answered(unlabelled[1], "Sci/Tech"),
        answered(unlabelled[2], "World", cancelled=True),  # skipped: no label
        answered(labelled[0], new),  # a correction
        answered(labelled[1], labelled[1]["predictions"][0]["result"][0]["value"]["choices"][0]),  # confirmed
        answered({"data": {"id": "ag_news:nope"}}, "World"),
        answered(unlabelled[1], "Sci-Fi"),  # a later review of the same row, outside the label set
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    reviewed = silver.model_copy(
        update={"import_reviews": silver.import_reviews.model_copy(update={"path": str(path), "reviewer": "ls:tester"})}
    )
    run_id = new_run_id("import_reviews")
    assert run_one("import_reviews", reviewed, spark, run_id) == 0
    row = metrics_by_stage(spark, silver, run_id)["import_reviews"]
    assert row.reconciled and row.rows_in == 7 and row.rows_out == 3
    assert row.quarantined_by_reason == {"no_label": 1, "unknown_id": 1, "label_not_allowed": 1}
    assert row.filtered_by_reason == {"superseded": 1}
    assert row.details["changed"] == "2" and row.details["confirmed"] == "1" and row.details["rows_updated"] == "3"
    table = {r.id: r for r in read_table(spark, silver.tables.silver).collect()}
    assert table[unlabelled[0]["data"]["id"]].label == "Business"
    assert table[unlabelled[0]["data"]["id"]].label_before is None
    fixed = table[labelled[0]["data"]["id"]]
    assert fixed.label == new and fixed.label_before == relabel and fixed.label_source == "ls:tester"
    assert table[unlabelled[1]["data"]["id"]].label is None  # its last review was refused
    states = {r.id: r.status for r in read_table(spark, silver.tables.review_queue).collect()}
    assert states[unlabelled[0]["data"]["id"]] == "reviewed" and states[unlabelled[2]["data"]["id"]] == "pending"
    quarantined = read_table(spark, silver.tables.quarantine).where(F.col("run_id") == run_id).collect()
    assert sorted(q.reason for q in quarantined) == ["label_not_allowed", "no_label", "unknown_id"]

    again = new_run_id("import_reviews")
    assert run_one("import_reviews", reviewed, spark, again) == 0
    assert metrics_by_stage(spark, silver, again)["import_reviews"].details["rows_updated"] == "0"  # nothing new


def test_import_reviews_without_a_file_exits_2(spark, silver):
    assert run_one("import_reviews", silver, spark, new_run_id("import_reviews")) == 2
