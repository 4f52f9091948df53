"""The run report's rendering on small plain data, without Spark: every plot present and a
real PNG, no-data notes where a section is empty, escaping, nothing loaded from outside, and
the collector's pure parsing of metrics details."""

from __future__ import annotations

import re

import pytest

from refinery.report.data import (
    ConfidenceHistogram,
    DriftValue,
    DriftWindow,
    QualityExample,
    QualityRuleCount,
    ReportData,
    RuleCount,
    RunCounts,
)
from refinery.report.html import PLOT_IDS, SECTIONS, build_report, render_report
from refinery.report.job import class_counts, clean_counts, quality_counts, split_cell, truncate
from refinery.report.plots import drift_figure, drift_statistic, quality_figure, top_counts
from tests.support.report_page import decode_png, drawn_pixels, parse_report


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
    data.quality = [
        QualityRuleCount("long_char_run", "flag", 4),
        QualityRuleCount("mojibake", "drop", 0),
        QualityRuleCount("replacement_flood", "drop", 2),
    ]
    data.quality_rows = {"flagged_rows": 5, "dropped_rows": 2, "accepted_rows": 980}
    data.quality_examples = {
        "long_char_run": [
            QualityExample("long_char_run", "id-a", "sms_spam", "en", "Call now!!!!!!!!!!!!!!!!!!!!!!!!"),
            QualityExample("long_char_run", "id-b", "ag_news", "en", "zzzzzzzzzzzzzzzzzzzzzzzzzzzz…"),
        ],
        "replacement_flood": [QualityExample("replacement_flood", "id-c", "thucnews", "zh", "\ufffd\ufffd\ufffd 标题")],
    }
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
    assert set(PLOT_IDS) <= set(parsed.figures) and len(PLOT_IDS) == len(SECTIONS) == 9
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
    assert "no clean run" in parsed.figures["plot-quality"].no_data[0]
    assert parsed.examples == []


def test_a_clean_run_without_quality_counts_says_the_heuristics_were_off():
    data = full_data()
    data.quality, data.quality_rows, data.quality_examples = [], {}, {}
    page, no_data = build_report(data)
    parsed = parse_report(page)
    assert no_data == ["quality"]
    note = parsed.figures["plot-quality"].no_data[0]
    assert "no quality rule counts" in note and "off" in note
    assert parsed.examples == [] and 'class="quality-example"' not in page


def test_the_quality_section_shows_counts_shares_and_two_examples_per_rule():
    page, _ = build_report(full_data())
    parsed = parse_report(page)
    section = page[page.index('<section id="section-quality">') : page.index('<section id="section-classes">')]
    assert page.index('id="section-rules"') < page.index('id="section-quality"')
    assert "<h2>Quality heuristics</h2>" in section
    # the table: rule | severity | rows | share of the clean run's accepted rows (zero rows included)
    assert '<td>long_char_run</td><td>flag</td><td class="n">4</td><td class="n">0.41%</td>' in section
    assert '<td>mojibake</td><td>drop (filtered from gold)</td><td class="n">0</td><td class="n">0.00%</td>' in section
    assert "at least one quality flag: 5 of 980 accepted" in section and "filtered from gold): 2 " in section
    # the examples: per rule, in blockquotes naming the rule and the record
    assert [(e.rule, e.record_id) for e in parsed.examples] == [
        ("long_char_run", "id-a"),
        ("long_char_run", "id-b"),
        ("replacement_flood", "id-c"),
    ]
    assert parsed.examples[0].text == "Call now!!!!!!!!!!!!!!!!!!!!!!!!"
    assert "sms_spam" in parsed.examples[0].caption and "en" in parsed.examples[0].caption
    assert parsed.examples[2].text == "\ufffd\ufffd\ufffd 标题"
    # row text appears nowhere else on the page
    outside = "".join(parsed.outside)
    assert all(e.text not in outside for e in parsed.examples)
    assert "PII-masked" in page and "report.quality_examples: 0" in page  # the page says what it shows


def test_quality_examples_are_escaped():
    data = full_data()
    text = '<script>alert("x")</script> & <EMAIL>'
    data.quality_examples = {"long_char_run": [QualityExample("long_char_run", 'id"><b>', "s<i>", None, text)]}
    page = render_report(data)
    parsed = parse_report(page)
    assert "<script" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;EMAIL&gt;" in page
    (example,) = parsed.examples
    assert example.text == text and example.record_id == 'id"><b>' and "lang -" in example.caption
    assert not {"script", "b", "i"} & parsed.tags


def test_quality_counts_without_examples_say_why():
    data = full_data()
    data.quality_examples = {}
    data.quality_examples_note = "Examples are turned off (report.quality_examples: 0)."
    page, no_data = build_report(data)
    parsed = parse_report(page)
    assert "quality" not in no_data and parsed.examples == []
    assert "turned off (report.quality_examples: 0)" in page and "<td>long_char_run</td>" in page


def test_the_quality_chart_has_a_bar_per_rule_drop_rules_first():
    counts = [QualityRuleCount("a_flag", "flag", 9), QualityRuleCount("b_drop", "drop", 1)]
    figure = quality_figure(counts)
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a_flag", "b_drop"]  # bottom to top
    colours = {bar.get_facecolor() for bar in ax.patches}
    assert len(colours) == 2  # drop and flag differ
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert len(legend) == 2 and legend[0].startswith("drop") and legend[1].startswith("flag")
    assert quality_figure([]) is None


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
    # quality counts are not annotation rules
    assert clean_counts({"quality.mojibake.dropped": "2", "quality.flagged_rows": "2"})[2] == []


def test_quality_counts_read_every_rule_with_its_severity_and_the_totals():
    details = {
        "lang.en": "7",
        "rule.too_short.blocked": "3",
        "rules.flagged_rows": "1",
        "quality.replacement_char.flagged": "4",
        "quality.mojibake.dropped": "0",
        "quality.en.v2.flagged": "1",  # a name with a dot keeps it
        "quality.flagged_rows": "5",
        "quality.dropped_rows": "0",
        "quality.signals.seconds": "1.5",  # not a count of a rule
        "quality.other.something": "3",
    }
    rules, totals = quality_counts(details)
    assert rules == [
        QualityRuleCount("en.v2", "flag", 1),
        QualityRuleCount("mojibake", "drop", 0),
        QualityRuleCount("replacement_char", "flag", 4),
    ]
    assert totals == {"flagged_rows": 5, "dropped_rows": 0}
    assert quality_counts({}) == ([], {})
    assert quality_counts({"lang.en": "3", "rule.x.flagged": "1"}) == ([], {})


def test_example_text_is_cut_with_an_ellipsis():
    assert truncate("short", 10) == "short" and truncate("x" * 10, 10) == "x" * 10
    assert truncate("abcde fghij", 7) == "abcde…"  # the space before the cut is dropped
    assert truncate("x" * 11, 10) == "x" * 9 + "…" and len(truncate("y" * 500, 240)) == 240


def test_report_quality_examples_is_a_small_count(tmp_path, monkeypatch):
    from refinery.config import ConfigError, load_settings
    from tests.support.paths import ROOT

    monkeypatch.chdir(tmp_path)
    local = [ROOT / "conf" / "local.yaml"]
    assert load_settings(local).report.quality_examples == 2
    assert load_settings(local, ["report.quality_examples=0"]).report.quality_examples == 0
    with pytest.raises(ConfigError, match=r"report\.quality_examples.*fix: use a number <= 20"):
        load_settings(local, ["report.quality_examples=50"])
    with pytest.raises(ConfigError, match=r"report\.quality_examples.*fix: use a number >= 0"):
        load_settings(local, ["report.quality_examples=-1"])


def test_report_dir_is_a_local_folder_made_absolute(tmp_path, monkeypatch):
    from refinery.config import ConfigError, load_settings
    from tests.support.paths import ROOT

    monkeypatch.chdir(tmp_path)
    local = [ROOT / "conf" / "local.yaml"]
    assert load_settings(local).report.dir == str(tmp_path / "data" / "reports")
    with pytest.raises(ConfigError, match=r"report\.dir.*not a local folder"):
        load_settings(local, ["report.dir=s3a://bucket/reports"])
