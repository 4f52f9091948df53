"""The report's quality section from real Delta tables: a small silver with ``quality_flags``
(null, empty and flagged rows) and a clean metrics row with ``quality.*`` counts. Examples are
picked in Spark, at most ``report.quality_examples`` per rule, the same ones every time, their
text cut short, only from the reported clean run; ``report.quality_examples: 0`` shows none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyspark.sql import functions as F

from refinery.report.data import QualityRuleCount
from refinery.report.html import build_report
from refinery.report.job import EXAMPLE_CHARS, collect_report, quality_examples
from refinery.runtime.metrics import StageMetrics
from refinery.runtime.runner import run_one
from refinery.spark.metrics_table import write_metrics
from refinery.spark.tables import read_table

SILVER = "id string, source string, lang string, text string, quality_flags array<string>, clean_run_id string"
CLEAN_RUN = "clean-20260101T000000Z-q"
LONG = "The quick brown fox jumps over the lazy dog. " * 20  # 900 characters


def silver_rows() -> list[tuple]:
    run = CLEAN_RUN
    return [
        ("r1", "ag_news", "en", "aaaaaaaaaaaaaaaaaaaaaaaaa one", ["long_char_run"], run),
        ("r2", "ag_news", "en", "bbbbbbbbbbbbbbbbbbbbbbbbb two", ["long_char_run", "mojibake"], run),
        ("r3", "sms_spam", "en", LONG, ["long_char_run"], run),
        ("r4", "thucnews", "zh", "\ufffd\ufffd 标题 <PHONE>", ["mojibake"], run),
        ("r5", "ag_news", "en", "fine text", [], run),
        ("r6", "ag_news", "en", "not checked", None, run),
        ("r7", "ag_news", "en", "an older run's row", ["long_char_run", "dup_lines"], "clean-older"),
    ]


@pytest.fixture
def tables(spark, make_settings):
    """Silver and a clean run's metrics row; the settings factory for those tables."""
    settings = make_settings()
    spark.createDataFrame(silver_rows(), SILVER).write.format("delta").save(settings.tables.silver)
    stage = StageMetrics("clean", 6, 6)
    stage.details = {
        "lang.en": "5",
        "lang.zh": "1",
        "rule.too_short.blocked": "0",
        "quality.long_char_run.flagged": "3",
        "quality.mojibake.dropped": "2",
        "quality.dup_lines.dropped": "0",
        "quality.flagged_rows": "4",
        "quality.dropped_rows": "2",
    }
    now = datetime(2026, 1, 1, tzinfo=UTC)
    write_metrics(spark, settings.tables.metrics, CLEAN_RUN, "clean", "*", now, now, [stage])
    return settings, make_settings


def expected_picks(silver, rule: str, run: str | None, n: int) -> list[str]:
    """The first ``n`` ids flagged by ``rule`` by ``(xxhash64(id), id)``, computed apart."""
    rows = silver.where(F.array_contains("quality_flags", rule))
    if run is not None:
        rows = rows.where(F.col("clean_run_id") == run)
    ordered = rows.select("id", F.xxhash64("id").alias("h")).collect()
    return [r.id for r in sorted(ordered, key=lambda r: (r.h, r.id))][:n]


def test_two_examples_per_rule_the_same_every_time_text_cut(spark, tables):
    settings, _ = tables
    silver = spark.read.format("delta").load(settings.tables.silver)
    first = quality_examples(silver, None, per_rule=2, clean_run=CLEAN_RUN)
    assert first == quality_examples(silver, None, per_rule=2, clean_run=CLEAN_RUN)  # deterministic
    assert set(first) == {"long_char_run", "mojibake"}  # null and [] rows give none; r7 is another run's
    assert [len(v) for v in first.values()] == [2, 2]  # 3 rows flagged by long_char_run, 2 shown
    for rule, examples in first.items():
        assert [e.record_id for e in examples] == expected_picks(silver, rule, CLEAN_RUN, 2)
        assert all(e.rule == rule for e in examples)
    (r4,) = [e for e in first["mojibake"] if e.record_id == "r4"]  # mojibake: r2 and r4
    assert (r4.text, r4.source, r4.lang) == ("\ufffd\ufffd 标题 <PHONE>", "thucnews", "zh")
    every = {
        e.record_id: e for e in quality_examples(silver, ["long_char_run"], 3, clean_run=CLEAN_RUN)["long_char_run"]
    }
    assert every["r3"].text == LONG[: EXAMPLE_CHARS - 1].rstrip() + "…" and len(every["r3"].text) <= EXAMPLE_CHARS
    assert every["r1"].text == "aaaaaaaaaaaaaaaaaaaaaaaaa one"  # short text is whole
    # the cut, whichever rows are picked; only the rules asked for; every run without clean_run
    short = quality_examples(silver, ["long_char_run"], per_rule=3, max_chars=10, clean_run=CLEAN_RUN)
    assert list(short) == ["long_char_run"] and {e.record_id for e in short["long_char_run"]} == {"r1", "r2", "r3"}
    assert {e.text for e in short["long_char_run"]} == {"aaaaaaaaa…", "bbbbbbbbb…", "The quick…"}
    every_run = quality_examples(silver, None, per_rule=5)
    assert {e.record_id for e in every_run["long_char_run"]} == {"r1", "r2", "r3", "r7"}
    assert [e.record_id for e in every_run["dup_lines"]] == ["r7"]
    assert quality_examples(silver, None, per_rule=0) == {}
    assert quality_examples(silver.drop("quality_flags"), None) == {}


def test_the_report_collects_counts_and_examples_unless_turned_off(spark, tables):
    settings, make_settings = tables
    data, _, _ = collect_report(spark, settings, "report-q")
    assert data.quality == [
        QualityRuleCount("dup_lines", "drop", 0),
        QualityRuleCount("long_char_run", "flag", 3),
        QualityRuleCount("mojibake", "drop", 2),
    ]
    assert data.quality_rows == {"flagged_rows": 4, "dropped_rows": 2, "accepted_rows": 6}
    assert {rule: len(v) for rule, v in data.quality_examples.items()} == {"long_char_run": 2, "mojibake": 2}
    assert data.quality_examples_note == ""
    page, no_data = build_report(data)
    assert "quality" not in no_data and page.count('<blockquote class="quality-example"') == 4

    off = make_settings("report.quality_examples=0")
    data, _, _ = collect_report(spark, off, "report-q0")
    assert len(data.quality) == 3 and data.quality_examples == {}
    assert "report.quality_examples: 0" in data.quality_examples_note
    page, _ = build_report(data)
    assert 'class="quality-example"' not in page and "<td>long_char_run</td>" in page
    assert "aaaaaaaaa" not in page and "标题" not in page


def test_the_report_job_says_how_many_examples_it_showed(spark, tables, tmp_path):
    _, make_settings = tables
    settings = make_settings(f"report.dir={tmp_path / 'reports'}")
    assert run_one("report", settings, spark, "report-qjob") == 0
    (row,) = read_table(spark, settings.tables.metrics).where(F.col("run_id") == "report-qjob").collect()
    assert row.details["quality_examples"] == "4" and "quality" not in row.details["no_data"].split(",")
    page = (tmp_path / "reports" / "report-qjob" / "report.html").read_text(encoding="utf-8")
    assert page.count('<blockquote class="quality-example"') == 4
