"""Annotation rules in the clean job, on real Delta tables: a slice of two real corpora checked
by the shipped ``conf/rules.yaml``, plus labelled frames with ``meta.occlusion_ratio`` for the
spec's pedestrian example. Blocked rows go to quarantine naming their rules, flagged rows list
them in silver's ``rule_violations``, the metrics count them, and a silver written before the
column existed takes it."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from refinery.clean.job import clean_options, silver_properties, silver_rows
from refinery.clean.udf import clean_records
from refinery.config.base import TableFeatures
from refinery.runtime.runner import new_run_id, run_one
from refinery.spark.tables import read_table
from tests.support.paths import ROOT, corpora_dir
from tests.support.spark_helpers import ingest, metrics_by_stage

FRAMES = [  # id, label, occlusion_ratio (None: the key is absent), text
    ("p1", "pedestrian", 0.45, "A pedestrian crossing behind a parked van."),
    ("p2", "pedestrian", 0.1, "A pedestrian walking along the pavement."),
    ("p3", "occluded_pedestrian", 0.6, "A person half hidden behind a lamp post."),
    ("p4", "pedestrian", None, "A pedestrian waiting at the crossing light."),
    ("p5", "pedestrian", "high", "A pedestrian standing in deep shadow today."),
    ("p6", "pedestrian", 0.3, "A pedestrian seen from far across the road."),
    ("p7", "pedestrian", 0.8, "A small figure behind the bus shelter glass."),
    ("p8", "occluded_pedestrian", 0.7, "Somebody mostly covered by a passing lorry."),
]
FRAME_RULES = [
    {
        "name": "frames_ratio_is_a_ratio",
        "severity": "block",
        "where": [{"field": "source", "eq": "frames"}],
        "require": [{"field": "meta.occlusion_ratio", "between": [0, 1]}],
    },
    {
        "name": "frames_text_names_a_person",
        "severity": "flag",
        "where": [{"field": "source", "eq": "frames"}],
        "require": [{"field": "text", "matches": "(?i)pedestrian|person"}],
    },
]


def write_inputs(folder: Path) -> Path:
    """Slices of ChnSentiCorp (its first 150 reviews and every one under 8 characters) and AG
    News (first 150 items), the frames, and a rules file: the shipped rules plus two for the
    frames. Returns the rules file."""
    with (corpora_dir() / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv").open(encoding="utf-8") as f:
        reviews = list(csv.reader(f))
    sliced = reviews[:151] + [r for r in reviews[151:] if len(r[1]) < 8]
    with (folder / "chnsenticorp.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(sliced)
    news = (corpora_dir() / "ag_news" / "test.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "ag_news.csv").write_text("".join(news[:150]), encoding="utf-8")
    lines = []
    for rid, label, ratio, text in FRAMES:
        record = {"id": rid, "label": label, "text": text}
        if ratio is not None:
            record["occlusion_ratio"] = ratio
        lines.append(json.dumps(record) + "\n")
    (folder / "frames.jsonl").write_text("".join(lines), encoding="utf-8")
    shipped = yaml.safe_load((ROOT / "conf" / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    rules = folder / "rules.yaml"
    rules.write_text(yaml.safe_dump({"rules": shipped + FRAME_RULES}, allow_unicode=True), encoding="utf-8")
    return rules


def run_clean(spark, settings) -> str:
    run_id = new_run_id("clean")
    assert run_one("clean", settings, spark, run_id) == 0
    return run_id


def flags_in_detail(detail: str) -> dict[str, list[str]]:
    """``block: a, b; flag: c`` → ``{"block": [a, b], "flag": [c]}``."""
    parts = dict(part.split(": ", 1) for part in detail.split("; "))
    return {severity: names.split(", ") for severity, names in parts.items()}


@pytest.fixture(scope="module")
def checked(spark, tmp_path_factory):
    """Ingest, then clean with the rules onto a silver written before they existed."""
    from refinery.config import TABLE_NAMES, load_settings

    folder = tmp_path_factory.mktemp("rules")
    rules = write_inputs(folder)
    settings = load_settings(
        [ROOT / "conf" / "local.yaml"],
        [f"tables.{name}={folder / 'tables' / name}" for name in TABLE_NAMES]
        + [f"ingest.input_root={corpora_dir()}", "spark.shuffle_partitions=2"]
        + [
            "ingest.only=[chnsenticorp,ag_news,frames]",
            f"ingest.sources.chnsenticorp.path={folder / 'chnsenticorp.csv'}",
            f"ingest.sources.ag_news.path={folder / 'ag_news.csv'}",
            f"ingest.sources.frames.path={folder / 'frames.jsonl'}",
            "ingest.sources.frames.format=jsonl",
            "ingest.sources.frames.columns={text: text, label: label, id: id}",
            f"clean.rules={rules}",
        ],
    )
    ingest(spark, settings)
    # A silver as written before rules existed: silver's columns without rule_violations.
    bronze = read_table(spark, settings.tables.bronze)
    old = silver_rows(clean_records(bronze, clean_options(settings.clean)), "old").drop("rule_violations")
    writer = spark.createDataFrame([], old.schema).write.format("delta").options(**silver_properties(TableFeatures()))
    writer.save(settings.tables.silver)
    run_id = run_clean(spark, settings)
    return settings, run_id, {r.id: r for r in bronze.collect()}


def test_blocked_rows_are_quarantined_naming_their_rules(spark, checked):
    settings, run_id, bronze = checked
    refused = read_table(spark, settings.tables.quarantine).where(F.col("run_id") == run_id).collect()
    assert {r.stage for r in refused} == {"clean"} and {r.reason for r in refused} == {"rule_violation"}
    details = {r.record_id: flags_in_detail(r.detail) for r in refused}
    assert details["frames:p1"] == {"block": ["occluded_pedestrian"]}
    assert details["frames:p5"] == {"block": ["frames_ratio_is_a_ratio"]}  # "high" is no ratio
    assert details["frames:p7"] == {"block": ["occluded_pedestrian"], "flag": ["frames_text_names_a_person"]}
    short = {i for i, r in bronze.items() if r.source == "chnsenticorp" and len(r.text.strip()) < 8}
    assert len(short) >= 5  # the truncated reviews the slice picked on purpose
    assert {i for i in details if bronze[i].source == "chnsenticorp"} == short
    assert all(details[i] == {"block": ["chnsenticorp_min_length"]} for i in short)
    assert set(details) == short | {"frames:p1", "frames:p5", "frames:p7"}
    silver = {r.id for r in read_table(spark, settings.tables.silver).select("id").collect()}
    assert not silver & set(details) and len(silver) + len(details) == len(bronze)


def test_flagged_rows_list_their_rules_and_clean_rows_none(spark, checked):
    settings, _, _ = checked
    silver = {r.id: r for r in read_table(spark, settings.tables.silver).collect()}
    assert all(r.rule_violations is not None for r in silver.values())  # checked: [] when clean
    assert [silver[f"frames:{p}"].rule_violations for p in ("p2", "p3", "p4", "p6")] == [[]] * 4
    assert silver["frames:p8"].rule_violations == ["frames_text_names_a_person"]
    ag = [r for r in silver.values() if r.source == "ag_news"]
    backslash = {r.id for r in ag if "\\" in r.text}
    assert backslash and backslash == {r.id for r in ag if "ag_news_backslash_break" in r.rule_violations}
    chn = [r for r in silver.values() if r.source == "chnsenticorp"]
    replies = {r.id for r in chn if "宾馆反馈" in r.text}
    assert replies == {r.id for r in chn if "chnsenticorp_hotel_reply" in r.rule_violations}
    assert sum(1 for r in silver.values() if r.rule_violations) < 0.2 * len(silver)


def test_metrics_count_each_rule_and_the_counts_reconcile(spark, checked):
    settings, run_id, _ = checked
    stage = metrics_by_stage(spark, settings, run_id)["clean"]
    silver = read_table(spark, settings.tables.silver).collect()
    refused = read_table(spark, settings.tables.quarantine).where(F.col("run_id") == run_id).collect()
    counted: Counter[str] = Counter()
    for row in silver:
        counted.update(f"rule.{name}.flagged" for name in row.rule_violations)
    for row in refused:
        detail = flags_in_detail(row.detail)
        counted.update(f"rule.{name}.blocked" for name in detail["block"])
        counted.update(f"rule.{name}.flagged" for name in detail.get("flag", []))
    reported = {k: int(v) for k, v in stage.details.items() if k.startswith("rule.")}
    assert reported == {k: counted[k] for k in reported}  # every count matches
    assert set(counted) <= set(reported)
    assert reported["rule.occluded_pedestrian.blocked"] == 2 and reported["rule.ag_news_label_set.blocked"] == 0
    assert int(stage.details["rules.flagged_rows"]) == sum(1 for r in silver if r.rule_violations)
    assert stage.quarantined_by_reason == {"rule_violation": len(refused)}
    bronze = read_table(spark, settings.tables.bronze).count()
    assert stage.rows_in == bronze == len(silver) + len(refused) and stage.reconciled
    assert all(value.isdigit() for value in stage.details.values())  # counts only, never text


def test_an_older_silver_takes_the_new_column(spark, checked):
    settings, _, _ = checked
    operations = [h.operation for h in DeltaTable.forPath(spark, settings.tables.silver).history().collect()]
    assert operations == ["MERGE", "ADD COLUMNS", "WRITE"]
    field = read_table(spark, settings.tables.silver).schema["rule_violations"]
    assert field.dataType.simpleString() == "array<string>"
