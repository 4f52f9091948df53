"""The run report's rendering on small plain data, without Spark: every plot present and a
real PNG, no-data notes where a section is empty, escaping, nothing loaded from outside, and
the collector's pure parsing of metrics details."""

from __future__ import annotations

import re

import pytest
from report_page import decode_png, drawn_pixels, parse_report

from refinery.jobs.report import class_counts, clean_counts, split_cell
from refinery.report.data import (
    ConfidenceHistogram,
    DriftValue,
    DriftWindow,
    ReportData,
    RuleCount,
    RunCounts,
)
from refinery.report.html import PLOT_IDS, SECTIONS, build_report, render_report
from refinery.report.plots import drift_figure, drift_statistic, top_counts


def full_data() -> ReportData:
    data = ReportData(run_id="report-20260101T000000Z-abcd1234", generated_at="2026-01-01 00:00:00 UTC")
    data.runs = [
        RunCounts("ingest", "ingest-1", "2026-01-01 00:00:01", 1_000, 990, {"text_too_long": 6, "bad_json": 4}),
        RunCounts("clean", "clean-1", "2026-01-01 00:00:02", 990, 980, {"rule_violation": 7, "empty": 3}),
        RunCounts("rebalance", "rebalance-1", "2026-01-01 00:00:03", 980, 700, {}, {"duplicate": 200, "is_noisy": 80}),
        RunCounts("drift", "drift-1", "2026-01-01 00:00:04", 980, 980),
        RunCounts("select", "select-1", "2026-01-01 00:00:05", 980, 100, {}, {"labelled_ok": 880}),
    ]
    data.tables = [("bronze", 990, "/t/bronze"), ("signatures", None, "/t/signatures")]
    data.languages = {"zh": 500, "en": 470, "fr": 3, "und": 7}
    data.pii = {"EMAIL": 3, "PHONE": 10, "CN_ID": 0}
    data.rules = [RuleCount("too_short", "blocked", 7), RuleCount("has_html", "flagged", 30)]
    data.classes_before = {"ag_news": {"World": 100, "Sci/Tech": 20}, "sms_spam": {"ham": 400, "spam": 60}}
    data.classes_after = {"ag_news": {"World": 80, "Sci/Tech": 36}, "sms_spam": {"ham": 300, "spam": 160}}
    kept = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55]
    noisy = [6, 5, 4, 3, 2, 1, 0, 0, 0, 0]
    series = {"kept": kept, "flagged noisy": noisy}
    data.confidence = ConfidenceHistogram([i / 10 for i in range(11)], series, {"τ": 0.85})
    data.drift_windows = [
        DriftWindow("ag_news", "b1", "2024-01-01", 450, False),
        DriftWindow("ag_news", "b2", "2024-01-08", 450, True, "label/kl/previous"),
    ]
    data.drift_values = [
        DriftValue("ag_news", "b2", "label", "kl", "previous", 0.14, 0.1, True),
        DriftValue("ag_news", "b2", "lang", "kl", "previous", 0.001, 0.1, False),
        DriftValue("ag_news", "b2", "label", "p_value", "previous", 1e-9, 0.01, True),
    ]
    data.review_queue = {"low_confidence": {"pending": 800, "reviewed": 20}, "label_conflict": {"pending": 30}}
    return data


def test_every_plot_is_a_png_image_with_a_heading():
    page, no_data = build_report(full_data())
    parsed = parse_report(page)
    assert no_data == []
    assert set(PLOT_IDS) <= set(parsed.figures) and len(PLOT_IDS) == len(SECTIONS) == 8
    for section in SECTIONS:
        figure = parsed.figures[f"plot-{section.key}"]
        assert figure.no_data == [] and len(figure.images) == 1, section.key
        image = decode_png(figure.images[0])
        assert image.format == "PNG" and image.width >= 800 and image.height >= 100
        assert drawn_pixels(image) > 2_000, section.key  # a drawn chart, not an empty canvas
        assert f'<section id="section-{section.key}"><h2>{section.title}</h2>' in page
    assert parsed.ids.count("plot-drift") == 1  # stable, unique ids
    # the covered runs are named, each with its counts
    assert all(run.run_id in page for run in full_data().runs)
    assert "1,000" in page and "NOT RECONCILED" not in page


def test_the_page_loads_nothing_from_outside():
    page = render_report(full_data())
    parsed = parse_report(page)
    assert not {"script", "link", "iframe", "object", "embed"} & parsed.tags
    assert parsed.urls and all(url.startswith("data:image/png;base64,") for url in parsed.urls)
    assert "default-src 'none'; img-src data:" in page  # the CSP forbids any other load
    assert not re.search(r"https?://", page)


def test_empty_sections_say_why_instead_of_failing():
    data = ReportData(run_id="report-x", generated_at="now")
    page, no_data = build_report(data)
    parsed = parse_report(page)
    assert no_data == [s.key for s in SECTIONS]
    for section in SECTIONS:
        figure = parsed.figures[f"plot-{section.key}"]
        assert figure.images == [] and len(figure.no_data) == 1, section.key
        assert "no-data" in figure.classes
    notes = {key: parsed.figures[f"plot-{key}"].no_data[0] for key in ("languages", "drift", "review-queue")}
    assert "no clean run" in notes["languages"] and "refinery clean" in notes["languages"]
    assert "no drift run" in notes["drift"]


def test_a_drift_run_without_comparisons_keeps_its_windows_and_note():
    data = full_data()
    data.drift_values = []
    data.drift_note = "ag_news: one window, nothing to compare"
    page, no_data = build_report(data)
    parsed = parse_report(page)
    assert no_data == ["drift"]
    note = parsed.figures["plot-drift"].no_data[0]
    assert "2 window(s) in 1 group(s)" in note and "nothing to compare" in note
    assert "<td>b2</td>" in page  # the windows table is still there


def test_a_broken_run_and_a_zero_pii_chart_are_shown():
    data = full_data()
    data.runs[1] = RunCounts("clean", "clean-1", "t", 990, 970, {"empty": 3}, reconciled=False)
    data.pii = {"EMAIL": 0, "PHONE": 0}
    page, no_data = build_report(data)
    assert "NOT RECONCILED" in page and "pii" not in no_data  # zeros are an answer, not a gap


def test_names_from_the_tables_are_escaped():
    data = full_data()
    data.classes_after["ag_news"]['<script>alert("x")</script>'] = 5
    data.runs[0] = RunCounts("ingest", 'ingest-<b>"1"</b>', "t", 10, 10)
    data.drift_windows.append(DriftWindow("ag_news", "<i>w</i>", "2024-02-01", 3, False))
    page = render_report(data)
    assert "<script" not in page and "<b>" not in page and "<i>w</i>" not in page
    assert "ingest-&lt;b&gt;&quot;1&quot;&lt;/b&gt;" in page and "&lt;i&gt;w&lt;/i&gt;" in page


def test_top_counts_keeps_the_largest_and_sums_the_rest():
    counts = {f"l{i:02d}": i for i in range(1, 21)}
    top = top_counts(counts, limit=5)
    assert list(top) == ["l20", "l19", "l18", "l17", "other"]
    assert top["other"] == sum(range(1, 17)) and sum(top.values()) == sum(counts.values())
    assert top_counts({"a": 1, "b": 2}, limit=5) == {"b": 2, "a": 1}


def test_the_drift_timeline_plots_kl_else_what_was_computed():
    windows = [DriftWindow("g", "w1", "2024-01-01", 10, False), DriftWindow("g", "w2", "2024-01-08", 10, False)]
    p_only = [DriftValue("g", "w2", "label", "p_value", "previous", 0.3, 0.01, False)]
    assert drift_statistic(p_only) == "p_value" and drift_figure(windows, p_only) is not None
    undefined = [DriftValue("g", "w2", "label", "kl", "previous", None, 0.1, False)]
    assert drift_statistic(undefined) is None and drift_figure(windows, undefined) is None
    assert drift_statistic([*p_only, DriftValue("g", "w2", "lang", "kl", "previous", 0.0, 0.1, False)]) == "kl"


@pytest.mark.parametrize(
    ("cell", "grouped", "stratified", "expected"),
    [
        ("ag_news/Sci/Tech", True, False, ("ag_news", "Sci/Tech")),
        ("ag_news/Sci/Tech/en", True, True, ("ag_news", "Sci/Tech")),
        ("Sci/Tech", False, False, ("", "Sci/Tech")),
        ("ham/en", False, True, ("", "ham")),
    ],
)
def test_rebalance_cells_split_into_group_and_label(cell, grouped, stratified, expected):
    assert split_cell(cell, grouped, stratified) == expected


def test_class_counts_sum_languages_and_skip_other_details():
    details = {
        "silver_version": "3",
        "before.ag_news/World/en": "10",
        "before.ag_news/World/fr": "2",
        "after.ag_news/World/en": "7",
        "after.ag_news/World/fr": "1",
        "weight.ag_news/World": "1.0",
        "gold_rows": "8",
    }
    before, after = class_counts(details, grouped=True, stratified=True)
    assert before == {"ag_news": {"World": 12}} and after == {"ag_news": {"World": 8}}


def test_clean_counts_read_languages_every_pii_type_and_rules():
    details = {
        "lang.zh": "5",
        "lang.en": "7",
        "pii.EMAIL": "2",
        "normalize.nfkc": "4",
        "rule.too_short.blocked": "3",
        "rule.has_html.flagged": "0",
        "rules.flagged_rows": "0",
    }
    languages, pii, rules = clean_counts(details)
    assert languages == {"zh": 5, "en": 7}
    assert pii["EMAIL"] == 2 and len(pii) > 5 and set(pii.values()) == {0, 2}  # every type, zeros included
    assert rules == [RuleCount("has_html", "flagged", 0), RuleCount("too_short", "blocked", 3)]
    assert clean_counts({}) == ({}, {}, [])


def test_report_dir_is_a_local_folder_made_absolute(tmp_path, monkeypatch):
    from conftest import ROOT

    from refinery.config import ConfigError, load_settings

    monkeypatch.chdir(tmp_path)
    local = [ROOT / "conf" / "local.yaml"]
    assert load_settings(local).report.dir == str(tmp_path / "data" / "reports")
    with pytest.raises(ConfigError, match=r"report\.dir.*not a local folder"):
        load_settings(local, ["report.dir=s3a://bucket/reports"])
