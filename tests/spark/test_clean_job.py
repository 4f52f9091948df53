"""The clean job on real Delta tables: bronze → silver with normalized, PII-masked,
language-tagged and segmented text; refused rows quarantined; reruns idempotent."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from refinery.clean.job import SILVER_LATER_COLUMNS, SILVER_STATS_COLUMNS, silver_properties
from refinery.clean.settings import SegmentSettings
from refinery.config.base import DeltaSettings, TableFeatures
from refinery.runtime.runner import new_run_id, run_one
from refinery.spark.schemas import QUALITY
from refinery.spark.tables import add_missing_columns, clustering_columns, read_table, table_properties
from tests.support.settings import settings_in
from tests.support.spark_helpers import ingest, metrics_by_stage, quarantine_reasons

ID_CARD = "11010519491231002X"  # GB 11643 check digit valid
MOBILE = "13812345678"
EMAIL = "zhang.san@example.com"
SPECIAL = [
    {"id": "pii-zh", "text": f"我的身份证号是{ID_CARD}，手机{MOBILE}，邮箱{EMAIL}。", "label": "positive"},
    {"id": "pii-en", "text": f"Write to {EMAIL} or call +86 138-1234-5678 today please.", "label": "negative"},
    {"id": "zero-width", "text": "\u200b\u200b\u2060", "label": "positive"},
    {"id": "french", "text": "Je voudrais réserver une chambre pour deux nuits, s'il vous plaît.", "label": "positive"},
    {"id": "fullwidth", "text": "房间很大，服务ＧＯＯＤ！价格１２０元。", "label": "positive"},
    {"id": "symbols", "text": "★☆■□▲△●○◆◇ 酒店不错 ★☆■□▲△●○◆◇※§ 好评", "label": "positive"},
]


def clean(spark, settings) -> str:
    run_id = new_run_id("clean")
    assert run_one("clean", settings, spark, run_id) == 0
    return run_id


def cleaned_overrides(folder: Path) -> list[str]:
    spec = "ingest.sources.special."
    return [
        "ingest.only=[special,chnsenticorp]",
        "ingest.sources.chnsenticorp.path=" + "chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv",
        f"{spec}path={folder / 'special' / 'special.jsonl'}",
        f"{spec}format=jsonl",
        f"{spec}columns={{text: text, label: label, id: id}}",
        "clean.on_disallowed_language=quarantine",
        "clean.rules=null",  # the chain alone; the annotation rules: test_clean_rules.py
    ]


@pytest.fixture(scope="module")
def cleaned_once(spark, tmp_path_factory):
    """Ingest and clean of the special rows and ChnSentiCorp, once for the module's tests that
    only read the tables; a test that writes to them takes a copy (:func:`cleaned_copy`)."""
    root = tmp_path_factory.mktemp("cleaned")
    folder = root / "special"
    folder.mkdir()
    (folder / "special.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in SPECIAL))
    settings = settings_in(root, *cleaned_overrides(root))
    ingest(spark, settings)
    run_id = clean(spark, settings)
    return root, settings, run_id


@pytest.fixture
def cleaned(cleaned_once):
    """``(settings, run_id)`` of the module's clean run (tables read only)."""
    _, settings, run_id = cleaned_once
    return settings, run_id


@pytest.fixture
def cleaned_copy(cleaned_once, tmp_path):
    """``(settings, run_id)`` of the module's clean run, on a copy of its tables in ``tmp_path``."""
    root, _, run_id = cleaned_once
    shutil.copytree(root / "tables", tmp_path / "tables")
    return settings_in(tmp_path, *cleaned_overrides(root)), run_id


def silver_by_id(spark, settings) -> dict:
    return {r.id: r for r in read_table(spark, settings.tables.silver).collect()}


def test_pii_is_masked_and_counted_and_never_stored(spark, cleaned):
    settings, _ = cleaned
    silver = silver_by_id(spark, settings)
    zh, en = silver["special:pii-zh"], silver["special:pii-en"]
    for row in (zh, en):
        assert EMAIL not in row.text and MOBILE not in row.text and "138-1234-5678" not in row.text
    assert ID_CARD not in zh.text
    assert dict(zh.pii_counts) == {"CN_ID": 1, "CN_MOBILE": 1, "EMAIL": 1}
    assert en.pii_counts["EMAIL"] == 1 and sum(en.pii_counts.values()) == 2
    assert "[EMAIL]" in zh.tokens  # a replacement token stays one token
    all_text = " ".join(r.text for r in read_table(spark, settings.tables.silver).select("text").collect())
    assert EMAIL not in all_text and ID_CARD not in all_text


def test_refused_rows_are_quarantined_and_counts_reconcile(spark, cleaned):
    settings, run_id = cleaned
    # Besides the French row, one ChnSentiCorp review is garbled kana/Cyrillic mojibake that
    # reads as Japanese: refusing it is right.
    assert quarantine_reasons(spark, settings, run_id) == Counter(empty_after_normalize=1, language_not_allowed=2)
    refused = read_table(spark, settings.tables.quarantine).where(F.col("run_id") == run_id).collect()
    assert {r.record_id for r in refused if r.reason == "language_not_allowed"} >= {"special:french"}
    stage = metrics_by_stage(spark, settings, run_id)["clean"]
    bronze = read_table(spark, settings.tables.bronze).count()
    silver = read_table(spark, settings.tables.silver).count()
    assert stage.rows_in == bronze == silver + 3 and stage.reconciled
    assert int(stage.details["lang.zh"]) > 7_000 and int(stage.details["pii.EMAIL"]) >= 2  # reviews hold one too
    assert int(stage.details["pii.CN_ID"]) >= 1
    assert not any(EMAIL in v or MOBILE in v for v in stage.details.values())


def test_metrics_say_where_the_workers_cpu_time_went(spark, cleaned):
    settings, run_id = cleaned
    stage = metrics_by_stage(spark, settings, run_id)["clean"]
    steps = {key.split(".")[1]: int(value) for key, value in stage.details.items() if key.endswith(".ns_per_doc")}
    assert set(steps) == {"normalize", "langid", "pii", "segment", "quality", "other", "meta", "rules", "total"}
    total = steps.pop("total")
    assert steps["segment"] > 0 and steps["quality"] > 0 and steps["langid"] > 0
    assert sum(steps.values()) == pytest.approx(total, abs=len(steps))  # each rounded to 1 ns
    assert int(stage.details["cpu.total.ms"]) == pytest.approx(total * stage.rows_in / 1e6, abs=1)


def test_text_is_normalized_tagged_and_segmented(spark, cleaned):
    settings, _ = cleaned
    silver = silver_by_id(spark, settings)
    full = silver["special:fullwidth"]
    assert "GOOD" in full.text and "120" in full.text and "，" in full.text and "！" in full.text
    assert "nfkc" in full.norm_steps and full.lang == "zh"
    rows = read_table(spark, settings.tables.silver).where(F.col("source") == "chnsenticorp")
    langs = Counter(r.lang for r in rows.select("lang").collect())
    assert langs["zh"] >= 0.99 * sum(langs.values())
    assert rows.where(F.col("rule_violations").isNotNull()).count() == 0  # no rules: not checked
    sample = rows.orderBy("id").limit(200).collect()
    assert all(r.n_tokens == len(r.tokens) > 0 for r in sample)
    assert all("".join(r.tokens) == "".join(r.text.split()) for r in sample)


def test_rerun_is_idempotent_and_follows_config_changes(spark, cleaned_copy):
    settings, _ = cleaned_copy
    before = sorted((r.id, r.text, tuple(r.tokens)) for r in read_table(spark, settings.tables.silver).collect())
    rerun = clean(spark, settings)
    after = sorted((r.id, r.text, tuple(r.tokens)) for r in read_table(spark, settings.tables.silver).collect())
    assert after == before
    assert DeltaTable.forPath(spark, settings.tables.silver).history(1).first().operation == "MERGE"
    assert sum(quarantine_reasons(spark, settings, rerun).values()) == 3
    assert read_table(spark, settings.tables.quarantine).where(F.col("stage") == "clean").count() == 3

    flagged = settings.model_copy(
        update={"clean": settings.clean.model_copy(update={"on_disallowed_language": "flag"})}
    )
    clean(spark, flagged)
    french = silver_by_id(spark, flagged)["special:french"]
    assert french.lang == "fr" and french.lang_allowed is False
    remaining = read_table(spark, flagged.tables.quarantine).where(F.col("stage") == "clean").collect()
    assert [r.reason for r in remaining] == ["empty_after_normalize"]

    unsegmented = flagged.model_copy(
        update={"clean": flagged.clean.model_copy(update={"segment": SegmentSettings(enabled=False)})}
    )
    clean(spark, unsegmented)
    rows = read_table(spark, settings.tables.silver).collect()
    assert rows and all(r.tokens is None and r.n_tokens is None for r in rows)
    assert {(r.id, r.text) for r in rows} >= {(i, t) for i, t, _ in before}
    assert len(rows) == len(before) + 2  # the two flagged foreign rows


def history_operations(spark, location: str) -> list[str]:
    """The table's commits, oldest first, by operation."""
    return [r.operation for r in DeltaTable.forPath(spark, location).history().orderBy("version").collect()]


def test_silver_features_follow_the_config_and_unchanged_ones_make_no_commit(spark, cleaned_copy):
    settings, _ = cleaned_copy
    silver = settings.tables.silver
    rows_before = read_table(spark, silver).count()
    on = TableFeatures(cluster_by=["source"], deletion_vectors=True, row_tracking=True, change_data_feed=True)
    featured = settings.model_copy(update={"delta": DeltaSettings(silver=on)})
    start = len(history_operations(spark, silver))
    run_id = clean(spark, featured)
    properties = table_properties(spark, silver)
    assert {k: properties[k] for k in on.properties()} == dict.fromkeys(on.properties(), "true")
    assert properties["delta.dataSkippingStatsColumns"] == ",".join(SILVER_STATS_COLUMNS)  # source is one already
    assert clustering_columns(spark, silver) == ["source"]
    # Delta commits its protocol upgrade (and the row-tracking backfill) first
    assert history_operations(spark, silver)[start:][-3:] == ["SET TBLPROPERTIES", "CLUSTER BY", "MERGE"]
    assert metrics_by_stage(spark, featured, run_id)["clean"].reconciled
    assert read_table(spark, silver).count() == rows_before
    # the feed holds the rerun's changes: every row's update, before and after
    merge_version = DeltaTable.forPath(spark, silver).history(1).first().version
    feed = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", merge_version)
    changes = Counter(r._change_type for r in feed.load(silver).select("_change_type").collect())
    assert changes["update_postimage"] == changes["update_preimage"] == rows_before
    tracked = read_table(spark, silver).select("_metadata.row_id").where(F.col("row_id").isNull()).count()
    assert tracked == 0

    # the same features again: the MERGE alone; then all off: one commit each to undo them
    start = len(history_operations(spark, silver))
    clean(spark, featured)
    assert history_operations(spark, silver)[start:] == ["MERGE"]
    start = len(history_operations(spark, silver))
    run_id = clean(spark, settings)
    assert history_operations(spark, silver)[start:] == ["SET TBLPROPERTIES", "CLUSTER BY", "MERGE"]
    assert clustering_columns(spark, silver) == []
    assert {k: table_properties(spark, silver)[k] for k in on.properties()} == dict.fromkeys(on.properties(), "false")
    assert metrics_by_stage(spark, settings, run_id)["clean"].reconciled


def test_clustering_columns_get_statistics():
    by_label_and_time = silver_properties(TableFeatures(cluster_by=["label", "cleaned_at"]))
    columns = by_label_and_time["delta.dataSkippingStatsColumns"].split(",")
    assert columns == [*SILVER_STATS_COLUMNS, "cleaned_at"]  # label is one already, once


def test_silver_keeps_statistics_only_on_filterable_columns(spark, cleaned):
    settings, _ = cleaned
    assert table_properties(spark, settings.tables.silver)["delta.dataSkippingStatsColumns"] == ",".join(
        SILVER_STATS_COLUMNS
    )
    log = sorted((Path(settings.tables.silver) / "_delta_log").glob("*.json"))[0]
    adds = [json.loads(line)["add"] for line in log.read_text().splitlines() if '"add"' in line]
    stats = json.loads(adds[0]["stats"])
    assert set(stats["minValues"]) <= set(SILVER_STATS_COLUMNS) and "lang" in stats["minValues"]
    assert "text" not in stats["nullCount"] and "tokens" not in stats["nullCount"]


def test_quality_signals_and_flags_are_stored_and_counted(spark, cleaned):
    settings, run_id = cleaned
    silver = read_table(spark, settings.tables.silver)
    symbols = silver.where(F.col("id") == "special:symbols").first()
    assert "symbol_flood" in symbols.quality_flags
    assert symbols.quality.n_chars == len(symbols.text) and symbols.quality.symbol_share > 0.2
    review = silver.where((F.col("source") == "chnsenticorp") & (F.size("quality_flags") == 0)).first()
    assert review.quality.cjk_share > 0.5 and review.quality.tokens_fallback is False
    assert review.quality.en_bigram_share is None  # undefined for Chinese text: null, not NaN

    rows = silver.select("quality_flags").collect()
    flagged = sum(1 for r in rows if r.quality_flags)
    drops = {rule.name for rule in settings.clean.quality.active_rules() if rule.severity == "drop"}
    dropped = sum(1 for r in rows if set(r.quality_flags) & drops)
    assert all(r.quality_flags is not None for r in rows)
    assert 1 <= flagged < 0.02 * len(rows)  # the defaults flag < 1 % of ChnSentiCorp in the tuning run
    details = metrics_by_stage(spark, settings, run_id)["clean"].details
    assert details["quality.flagged_rows"] == str(flagged) and details["quality.dropped_rows"] == str(dropped)
    assert int(details["quality.symbol_flood.dropped"]) >= 1 and "quality.long_char_run.flagged" in details
    per_rule = Counter(name for r in rows for name in r.quality_flags)
    for rule in settings.clean.quality.active_rules():
        kind = "dropped" if rule.severity == "drop" else "flagged"
        assert details[f"quality.{rule.name}.{kind}"] == str(per_rule[rule.name]), rule.name


def test_a_silver_from_before_quality_gets_its_columns(spark, tmp_path):
    """A silver written before the quality columns existed gets them (null) ahead of the MERGE."""
    location = str(tmp_path / "silver")
    spark.createDataFrame([("a", "old text")], "id string, text string").write.format("delta").save(location)
    add_missing_columns(spark, location, {k: v for k, v in SILVER_LATER_COLUMNS.items() if k.startswith("quality")})
    table = read_table(spark, location)
    assert table.schema["quality"].dataType == QUALITY
    assert table.schema["quality_flags"].dataType.simpleString() == "array<string>"
    assert table.first().quality is None
