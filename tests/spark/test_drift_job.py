"""The ``drift`` job on real corpora in real Spark and Delta: AG News over ten weeks with a
change at week 5 (alerts there and not before), language drift and an absent class across
ingest batches, rows without ``event_ts``, reconciled counts, the metrics layout, the alert
log lines, and bad configuration (exit 2 naming the key)."""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from refinery.config import TABLE_NAMES, load_settings
from refinery.drift.comparisons import STATISTICS
from refinery.labels.drift_stats import kl_divergence
from refinery.report.summary import summary_lines
from refinery.runtime.runner import EXIT_ALERT, EXIT_CONFIG, new_run_id, run_one
from tests.support.drift_corpora import START, WEEK_ROWS, ag_news_rows, change_point_series, thucnews_rows
from tests.support.paths import ROOT, corpora_dir
from tests.support.spark_helpers import metrics_by_stage

SILVER = "id string, text string, label string, source string, lang string, event_ts timestamp, ingest_batch string"
SCORED = SILVER + ", confidence double, is_noisy boolean"
#: AG News rows with no event_ts added to the change-point series (counted as filtered).
UNDATED = 37
LOCAL_CONF = ROOT / "conf" / "local.yaml"
#: local.yaml windows by batch (its demo corpora have no timestamps); the series is weekly.
WEEKLY = "drift.window=week"


def settings_in(folder, *overrides: str):
    """Settings with every table under ``folder`` (module-scoped fixtures cannot use
    ``make_settings``)."""
    tables = [f"tables.{name}={folder / name}" for name in TABLE_NAMES]
    base = [*tables, f"ingest.input_root={corpora_dir()}", "spark.shuffle_partitions=2"]
    return load_settings([LOCAL_CONF], base + list(overrides))


class Records(logging.Handler):
    """Collects the ``refinery`` log records of one run."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def run_drift(spark, settings):
    """Run the job; its exit code, metrics rows by stage and log records."""
    run_id = new_run_id("drift")
    handler = Records()
    logger = logging.getLogger("refinery")
    logger.addHandler(handler)
    try:
        code = run_one("drift", settings, spark, run_id)
    finally:
        logger.removeHandler(handler)
    return code, metrics_by_stage(spark, settings, run_id), handler.records


def stat(rows, group, window, distribution, statistic, baseline):
    return rows[f"drift/{group}/{window}/{distribution}/{statistic}/{baseline}"].details


def week(n: int) -> str:
    return f"2024-W{n:02d}"


# --------------------------------------------------------------------------------------------
# AG News over ten weeks, World 3x as frequent from week 5


@pytest.fixture(scope="module")
def series(spark, tmp_path_factory):
    """The change-point series as a scored silver table, plus undated rows; the job run on it
    with the defaults but weekly windows (reference: the first window)."""
    settings = settings_in(tmp_path_factory.mktemp("drift_series"), WEEKLY)
    rng = np.random.default_rng(11)
    rows = [
        (i, text, label, "ag_news", "en", ts, "b1", float(rng.uniform(0.3, 1.0)), bool(rng.random() < 0.05))
        for i, text, label, ts in change_point_series()
    ]
    used = {r[0] for r in rows}
    spare = [r for r in ag_news_rows() if r[0] not in used][:UNDATED]
    rows += [(i, text, label, "ag_news", "en", None, "b1", None, None) for i, text, label in spare]
    spark.createDataFrame(rows, SCORED).write.format("delta").save(settings.tables.silver)
    code, metrics, logged = run_drift(spark, settings)
    assert code == 0
    return settings, rows, metrics, logged


def test_the_alert_fires_at_the_change_and_not_before(series):
    _, _, metrics, _ = series
    for n in (2, 3, 4):  # balanced weeks: quiet against the week before and against week 1
        for baseline in ("previous", "reference"):
            for statistic in STATISTICS:
                details = stat(metrics, "ag_news", week(n), "label", statistic, baseline)
                assert details["alert"] == "false" and details["alertable"] == "true", (n, details)
        assert metrics[f"drift/ag_news/{week(n)}"].details["alert"] == "false"
    quiet = max(
        float(stat(metrics, "ag_news", week(n), "label", "kl", b)["value"])
        for n in (2, 3, 4)
        for b in ("previous", "reference")
    )
    for baseline, against in (("previous", week(4)), ("reference", week(1))):
        kl = stat(metrics, "ag_news", week(5), "label", "kl", baseline)
        p = stat(metrics, "ag_news", week(5), "label", "p_value", baseline)
        assert kl["baseline_window"] == p["baseline_window"] == against
        assert p["alert"] == "true" and float(p["value"]) < 1e-6 and p["dof"] == "3"
        assert float(kl["value"]) > 4 * quiet  # the change stands far above the noise before it
        assert stat(metrics, "ag_news", week(5), "label", "psi", baseline)["alert"] == "true"
    assert metrics[f"drift/ag_news/{week(5)}"].details["alert"] == "true"
    # after the change the mix holds: each week looks like the one before, but not like week 1
    for n in range(6, 11):
        assert float(stat(metrics, "ag_news", week(n), "label", "kl", "previous")["value"]) < 0.1
        assert stat(metrics, "ag_news", week(n), "label", "p_value", "reference")["alert"] == "true"
    # one language only: nothing to drift, p-value 1
    assert stat(metrics, "ag_news", week(5), "lang", "p_value", "previous")["value"] == "1"
    assert metrics["drift"].details["alert_windows"] == ", ".join(f"ag_news/{week(n)}" for n in range(5, 11))


def test_counts_reconcile_and_undated_rows_are_filtered(series):
    _, rows, metrics, _ = series
    run = metrics["drift"]
    assert run.reconciled and run.rows_in == len(rows) == 10 * WEEK_ROWS + UNDATED
    assert run.rows_out == 10 * WEEK_ROWS and run.filtered_by_reason == {"no_event_ts": UNDATED}
    windows = [m for stage, m in metrics.items() if m.details.get("kind") == "window"]
    assert sorted(m.details["window"] for m in windows) == [week(n) for n in range(1, 11)]
    assert sum(m.rows_in for m in windows) == run.rows_out
    assert run.details["windows"] == "10" and run.details["comparisons"] == str(2 * (9 + 9))


def test_window_rows_carry_the_distributions_and_score_summary(series):
    _, rows, metrics, _ = series
    first = [r for r in rows if r[5] is not None and r[5] < START + timedelta(days=7)]
    details = metrics[f"drift/ag_news/{week(1)}"].details
    assert details["window_start"] == "2024-01-01" and details["window_end"] == "2024-01-08"
    assert {k[6:]: int(v) for k, v in details.items() if k.startswith("label.")} == Counter(r[2] for r in first)
    assert details["lang.en"] == str(len(first)) and details["scored"] == str(len(first))
    assert float(details["confidence_mean"]) == pytest.approx(np.mean([r[7] for r in first]), rel=1e-5)
    assert float(details["noisy_share"]) == pytest.approx(np.mean([r[8] for r in first]), rel=1e-5)
    assert "note" not in metrics["drift"].details  # score columns present: nothing skipped


def test_one_log_line_per_alerting_comparison_with_counts_only(series):
    _, _, metrics, logged = series
    alerts = [r for r in logged if r.getMessage() == "drift alert"]
    alerting = {
        (d["window"], d["distribution"], d["baseline"])
        for m in metrics.values()
        if (d := m.details).get("kind") == "statistic" and d["alert"] == "true"
    }
    assert {(r.window, r.distribution, r.baseline) for r in alerts} == alerting and len(alerts) == len(alerting)
    fields = {"group", "window", "distribution", "baseline", "baseline_window", "n_window", "n_baseline", "crossed"}
    # statistic rows are written quietly: one "stage finished" line for the run and each window
    assert sum(r.getMessage() == "stage finished" for r in logged) == 1 + 10
    for record in alerts:
        assert fields | set(STATISTICS) <= set(vars(record))
        assert all(isinstance(getattr(record, s), float) for s in STATISTICS) and record.levelname == "WARNING"


def test_a_date_range_reference(spark, series):
    settings, _, _, _ = series
    ranged = settings_in(
        Path(settings.tables.silver).parent, WEEKLY, "drift.reference={start: 2024-01-01, end: 2024-01-14}"
    )
    code, metrics, _ = run_drift(spark, ranged)
    assert code == 0
    p = stat(metrics, "ag_news", week(5), "label", "p_value", "reference")
    weeks_1_2 = int(metrics[f"drift/ag_news/{week(1)}"].details["labelled"]) + int(
        metrics[f"drift/ag_news/{week(2)}"].details["labelled"]
    )
    assert p["baseline_window"] == "2024-01-01..2024-01-14" and p["n_baseline"] == str(weeks_1_2)
    assert p["alert"] == "true"
    assert stat(metrics, "ag_news", week(3), "label", "kl", "reference")["alert"] == "false"


# --------------------------------------------------------------------------------------------
# drift.last_windows and drift.fail_on_alert on the same series


def test_last_windows_reports_only_the_newest_against_all_earlier_baselines(spark, series):
    settings, rows, full, _ = series
    last = settings_in(Path(settings.tables.silver).parent, WEEKLY, "drift.last_windows=3")
    code, metrics, logged = run_drift(spark, last)
    assert code == 0
    run = metrics["drift"]
    # weeks 1-7 are still counted (as baselines), filtered by reason: the run reconciles
    assert run.reconciled and run.rows_in == len(rows) and run.rows_out == 3 * WEEK_ROWS
    assert run.filtered_by_reason == {"no_event_ts": UNDATED, "before_last_windows": 7 * WEEK_ROWS}
    windows = sorted(m.details["window"] for m in metrics.values() if m.details.get("kind") == "window")
    assert windows == [week(8), week(9), week(10)]
    assert run.details["windows"] == "3" and run.details["windows_before"] == "7"
    assert run.details["last_windows"] == "3" and run.details["comparisons"] == str(2 * (3 + 3))
    assert {m.details["window"] for m in metrics.values() if m.details.get("kind") == "statistic"} == set(windows)
    # the first reported week is still compared with the week before it and with week 1,
    # giving exactly the full run's statistics
    assert stat(metrics, "ag_news", week(8), "label", "kl", "previous")["baseline_window"] == week(7)
    assert stat(metrics, "ag_news", week(8), "label", "kl", "reference")["baseline_window"] == week(1)
    for n in (8, 9, 10):
        for baseline in ("previous", "reference"):
            for statistic in STATISTICS:
                assert stat(metrics, "ag_news", week(n), "label", statistic, baseline) == stat(
                    full, "ag_news", week(n), "label", statistic, baseline
                )
    # alerts and their log lines only for the reported weeks (week 5's change is not repeated)
    assert run.details["alert_windows"] == ", ".join(f"ag_news/{week(n)}" for n in (8, 9, 10))
    assert {r.window for r in logged if r.getMessage() == "drift alert"} == {week(8), week(9), week(10)}
    assert sum(r.getMessage() == "stage finished" for r in logged) == 1 + 3


def test_last_windows_larger_than_the_series_reports_everything(spark, series):
    settings, _, full, _ = series
    code, metrics, _ = run_drift(
        spark, settings_in(Path(settings.tables.silver).parent, WEEKLY, "drift.last_windows=50")
    )
    assert code == 0
    assert metrics["drift"].filtered_by_reason == {"no_event_ts": UNDATED}
    assert metrics["drift"].details["windows_before"] == "0"
    assert {k for k in metrics} == {k for k in full}


def test_fail_on_alert_exits_3_after_writing_the_metrics(spark, series):
    settings, _, _, _ = series
    failing = settings_in(Path(settings.tables.silver).parent, WEEKLY, "drift.fail_on_alert=true")
    code, metrics, logged = run_drift(spark, failing)
    assert code == EXIT_ALERT == 3
    run = metrics["drift"]  # written before the exit: Airflow can still read what alerted
    assert run.reconciled and run.details["fail_on_alert"] == "true"
    assert run.details["alert_windows"].startswith(f"ag_news/{week(5)}")
    assert any(r.getMessage() == "alert raised, exiting with code 3" for r in logged)


def test_fail_on_alert_exits_0_when_nothing_alerts(spark, series, tmp_path):
    """Weeks 1-4 (before the change) only: no comparison alerts, so the run succeeds."""
    _, rows, _, _ = series
    quiet = settings_in(tmp_path, WEEKLY, "drift.fail_on_alert=true")
    before = [r for r in rows if r[5] is not None and r[5] < START + timedelta(days=28)]
    spark.createDataFrame(before, SCORED).write.format("delta").save(quiet.tables.silver)
    code, metrics, logged = run_drift(spark, quiet)
    assert code == 0
    assert metrics["drift"].details["alerts"] == "0" and metrics["drift"].details["comparisons"] == str(2 * (3 + 3))
    assert not any(r.getMessage() == "drift alert" for r in logged)
    # and the same quiet weeks with the change week added do fail the run
    week5 = [r for r in rows if r[5] is not None and START + timedelta(days=28) <= r[5] < START + timedelta(days=35)]
    spark.createDataFrame(week5, SCORED).write.format("delta").mode("append").save(quiet.tables.silver)
    code, metrics, _ = run_drift(
        spark, settings_in(tmp_path, WEEKLY, "drift.fail_on_alert=true", "drift.last_windows=1")
    )
    assert code == EXIT_ALERT and metrics["drift"].details["alert_windows"] == f"ag_news/{week(5)}"


# --------------------------------------------------------------------------------------------
# Windows by ingest batch: language drift (AG News + THUCNews) and an absent class


BATCHES = ("c-first", "a-second", "b-third", "d-fourth")  # name order is not arrival order


@pytest.fixture(scope="module")
def batches(spark, tmp_path_factory):
    """Two sources over ingest batches, without score columns: ``news_mix`` (500 rows a batch,
    10 % Chinese in the first two, 50 % from the third) and ``ag_absent`` (600 AG News rows a
    batch, no Sports in the second). One row in ten has no event_ts."""
    settings = settings_in(tmp_path_factory.mktemp("drift_batches"), "drift.window=batch")
    rng = np.random.default_rng(5)
    ag, thuc = ag_news_rows(), thucnews_rows()
    rng.shuffle(ag)
    rng.shuffle(thuc)
    rows = []

    def add(source, batch_index, taken, lang):
        for i, text, label in taken:
            ts = START + timedelta(days=7 * batch_index, hours=int(rng.integers(0, 72)))
            rows.append((i, text, label, source, lang, None if rng.random() < 0.1 else ts, BATCHES[batch_index]))

    for b in range(4):
        zh = 50 if b < 2 else 250
        add("news_mix", b, thuc[:zh], "zh")
        add("news_mix", b, ag[: 500 - zh], "en")
        thuc, ag = thuc[zh:], ag[500 - zh :]
    by_label: dict[str, list] = {}
    for row in ag:
        by_label.setdefault(row[2], []).append(row)
    for b in range(3):
        labels = ["World", "Business", "Sci/Tech"] if b == 1 else ["World", "Sports", "Business", "Sci/Tech"]
        for label in labels:
            n = 600 // len(labels)
            add("ag_absent", b, by_label[label][:n], "en")
            by_label[label] = by_label[label][n:]
    spark.createDataFrame(rows, SILVER).write.format("delta").save(settings.tables.silver)
    code, metrics, _ = run_drift(spark, settings)
    assert code == 0
    return settings, rows, metrics


def test_language_drift_across_batches_in_arrival_order(batches):
    _, _, metrics = batches
    assert stat(metrics, "news_mix", "a-second", "lang", "kl", "previous")["baseline_window"] == "c-first"
    for statistic in STATISTICS:
        assert stat(metrics, "news_mix", "a-second", "lang", statistic, "previous")["alert"] == "false"
        assert stat(metrics, "news_mix", "b-third", "lang", statistic, "previous")["alert"] == "true"
        assert stat(metrics, "news_mix", "b-third", "lang", statistic, "reference")["alert"] == "true"
    assert stat(metrics, "news_mix", "b-third", "lang", "kl", "reference")["baseline_window"] == "c-first"
    assert stat(metrics, "news_mix", "d-fourth", "lang", "kl", "previous")["alert"] == "false"
    assert metrics["drift/news_mix/b-third"].details["lang.zh"] == "250"


def test_an_absent_class_gives_a_finite_alerting_kl(batches):
    _, _, metrics = batches
    kl = stat(metrics, "ag_absent", "a-second", "label", "kl", "previous")
    window = metrics["drift/ag_absent/a-second"].details
    assert "label.Sports" not in window and window["labelled"] == "600"
    assert math.isfinite(float(kl["value"])) and kl["alert"] == "true" and kl["categories"] == "4"
    expected = kl_divergence(
        {"World": 200, "Business": 200, "Sci/Tech": 200}, {k: 150 for k in ("World", "Sports", "Business", "Sci/Tech")}
    )
    assert float(kl["value"]) == pytest.approx(expected, rel=1e-5)
    back = stat(metrics, "ag_absent", "b-third", "label", "kl", "previous")  # Sports is back
    assert back["alert"] == "true" and float(back["value"]) > float(kl["value"])
    assert stat(metrics, "ag_absent", "b-third", "label", "kl", "reference")["value"] == "0"


def test_batch_windows_count_undated_rows_and_say_what_was_skipped(batches):
    _, rows, metrics = batches
    run = metrics["drift"]
    assert any(r[5] is None for r in rows)
    assert run.reconciled and run.rows_in == run.rows_out == len(rows) and run.filtered_by_reason == {}
    assert "no score columns" in run.details["note"]
    assert "confidence_mean" not in metrics["drift/ag_absent/c-first"].details
    first = metrics["drift/news_mix/c-first"].details
    dated = [r[5] for r in rows if r[3] == "news_mix" and r[6] == "c-first" and r[5] is not None]
    assert first["window_start"] == f"{min(dated):%Y-%m-%d %H:%M:%S}" and first["rows"] == "500"


def test_the_summary_counts_alerting_windows_per_group(spark, batches):
    settings, _, metrics = batches
    windows = [m.details for m in metrics.values() if m.details["kind"] == "window"]
    lines = summary_lines(spark, settings)
    start = lines.index("drift by group (latest drift run): windows, windows with an alert, statistics over threshold")
    for i, group in enumerate(("ag_absent", "news_mix")):
        alerting = sum(d["alert"] == "true" for d in windows if d["group"] == group)
        assert 0 < alerting < 4
        assert lines[start + 1 + i].split()[:3] == [
            group,
            str(len([d for d in windows if d["group"] == group])),
            str(alerting),
        ]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("drift.group_by=no_such_column", "drift.group_by"),
        ("drift.reference=z-batch", "drift.reference"),
        (f"tables.silver={ROOT / 'no_such_table'}", "tables.silver"),
    ],
)
def test_bad_settings_found_at_run_time_exit_2_naming_the_key(spark, batches, override, key, capsys):
    settings, _, _ = batches
    bad = settings_in(Path(settings.tables.silver).parent, "drift.window=batch", override)
    assert run_one("drift", bad, spark, new_run_id("drift")) == EXIT_CONFIG
    assert f"config key '{key}'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Choosing baselines (driver-side, no Spark)
