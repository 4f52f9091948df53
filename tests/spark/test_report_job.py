"""The ``report`` job after a small real pipeline (AG News, SMS spam, THUCNews titles and
ChnSentiCorp, two ingest batches, AG News drifting towards World in the second) in real Spark
and Delta: the page covers the latest run of every job with numbers equal to the tables', it
shows no row's text outside the quality section's examples (silver's masked text, cut short), it
renders in headless Chromium with every plot decoded and screenshots whole (into the test's
own folder: no test writes into the checkout). ``spark-submit jobs/report.py`` on empty tables
is ``tests/e2e/test_report_submit.py``."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from refinery.config import TABLE_NAMES, load_settings
from refinery.report.html import CSP, PLOT_IDS
from refinery.report.job import collect_report
from refinery.report.summary import summary_lines
from refinery.runtime.runner import JOBS, new_run_id, run_one
from refinery.spark.tables import read_table
from refinery.text.pii import COUNTED_TYPES
from tests.support.paths import ROOT, corpora_dir
from tests.support.report_page import decode_png, drawn_pixels, parse_report

AG_WORLD = "1"
#: Rows per AG News class in each batch: even, then World 3x each other class (KL 0.144).
AG_BATCHES = ({"1": 60, "2": 60, "3": 60, "4": 60}, {"1": 120, "2": 40, "3": 40, "4": 40})
BATCH_TIMES = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC))


def write_batches(folder: Path) -> None:
    """``b1/`` and ``b2/``: disjoint slices of the four corpora, each file dated its batch."""
    corpora = corpora_dir()
    with (corpora / "ag_news" / "test.csv").open(encoding="utf-8", newline="") as f:
        ag = list(csv.reader(f))
    with (corpora / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv").open(encoding="utf-8", newline="") as f:
        reviews = list(csv.reader(f))[1:]
    sms = (corpora / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    titles = (corpora / "thucnews_titles" / "dev.txt").read_text(encoding="utf-8").splitlines()
    used: set[int] = set()
    for n, (mix, when) in enumerate(zip(AG_BATCHES, BATCH_TIMES, strict=True)):
        batch = folder / f"b{n + 1}"
        batch.mkdir()
        rows = []
        for cls, count in mix.items():
            picked = [i for i, r in enumerate(ag) if r[0] == cls and i not in used][:count]
            used.update(picked)
            rows += [ag[i] for i in picked]
        with (batch / "ag_news.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
        (batch / "sms.tsv").write_text(
            "\n".join(["Label\tSMS", *sms[n * 180 : (n + 1) * 180]]) + "\n", encoding="utf-8"
        )
        (batch / "thucnews.txt").write_text("\n".join(titles[n::33][:150]) + "\n", encoding="utf-8")
        chosen = [r for r in reviews if r[0] == "1"][n * 60 : (n + 1) * 60]
        chosen += [r for r in reviews if r[0] == "0"][n * 60 : (n + 1) * 60]
        with (batch / "chnsenticorp.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([["label", "review"], *chosen])
        for path in batch.iterdir():
            os.utime(path, (when.timestamp(), when.timestamp()))


def settings_for(folder: Path, batch: str):
    paths = {
        "ag_news": "ag_news.csv",
        "sms_spam": "sms.tsv",
        "thucnews": "thucnews.txt",
        "chnsenticorp": "chnsenticorp.csv",
    }
    overrides = [f"tables.{name}={folder / 'tables' / name}" for name in TABLE_NAMES]
    overrides += [f"ingest.sources.{source}.path={batch}/{name}" for source, name in paths.items()]
    overrides += [
        f"ingest.input_root={folder}",
        f"ingest.batch={batch}",
        "spark.shuffle_partitions=2",
        "drift.min_rows=100",  # the batches are small; the change in AG News is large
        f"score.work_dir={folder / 'score_work'}",
        f"select.export_dir={folder / 'exports'}",
        f"export.dir={folder / 'training_exports'}",
        f"report.dir={folder / 'reports'}",
    ]
    return load_settings([ROOT / "conf" / "local.yaml"], overrides)


@pytest.fixture(scope="module")
def pipeline(spark, tmp_path_factory):
    """Two ingest batches, then every other job of the pipeline; the run id of each job."""
    folder = tmp_path_factory.mktemp("report")
    write_batches(folder)
    runs: dict[str, str] = {}
    for batch in ("b1", "b2"):
        settings = settings_for(folder, batch)
        runs["ingest"] = new_run_id("ingest")
        assert run_one("ingest", settings, spark, runs["ingest"]) == 0
    for job in list(JOBS)[1:]:
        runs[job] = new_run_id(job)
        assert run_one(job, settings, spark, runs[job]) == 0, job
    return folder, settings, runs


def report_row(spark, settings, run_id):
    (row,) = read_table(spark, settings.tables.metrics).where(F.col("run_id") == run_id).collect()
    return row


def test_the_report_names_the_latest_run_of_every_job_and_where_it_is(spark, pipeline):
    folder, settings, runs = pipeline
    row = report_row(spark, settings, runs["report"])
    path = Path(row.details["path"])
    assert path == folder / "reports" / runs["report"] / "report.html" and path.is_file()
    assert row.job == "report" and row.stage == "report" and row.reconciled
    covered = {job: run_id for job, run_id in runs.items() if job != "report"}
    assert {k[4:]: v for k, v in row.details.items() if k.startswith("run.")} == covered  # the 2nd ingest
    metrics = read_table(spark, settings.tables.metrics)
    assert row.rows_in == row.rows_out == metrics.where(F.col("run_id").isin(list(covered.values()))).count()
    assert row.details["no_data"] == "" and row.details["tables_read"] == "metrics,silver,gold,review_queue"
    page = path.read_text(encoding="utf-8")
    assert all(run_id in page for run_id in runs.values())
    lines = summary_lines(spark, settings)
    assert lines[-1] == f"run report: {path}"
    # the summary lists silver's rows per quality rule, with the rule's severity
    silver = read_table(spark, settings.tables.silver)
    per_rule = Counter(r.rule for r in silver.select(F.explode("quality_flags").alias("rule")).collect())
    drops = {r.name for r in settings.clean.quality.active_rules() if r.severity == "drop"}
    assert per_rule, "the sample holds some text a quality rule flags"
    start = lines.index("silver rows flagged by quality rules (kept in silver; drop rules keep them out of gold):")
    listed = [line.split() for line in lines[start + 1 : start + 1 + len(per_rule)]]
    assert {name: (kind, int(n.replace(",", ""))) for name, kind, n in listed} == {
        name: ("drop" if name in drops else "flag", n) for name, n in per_rule.items()
    }


def test_the_report_counts_equal_the_tables(spark, pipeline):
    _, settings, runs = pipeline
    data, _, _ = collect_report(spark, settings, "check")
    silver = read_table(spark, settings.tables.silver)
    assert data.languages == {r.lang: r["count"] for r in silver.groupBy("lang").count().collect()}
    found = silver.select(F.explode("pii_counts").alias("type", "n")).groupBy("type").agg(F.sum("n").alias("n"))
    assert {k: v for k, v in data.pii.items() if v} == {r.type: r.n for r in found.collect() if r.n}
    assert sum(data.pii.values()) > 0 and set(data.pii) == set(COUNTED_TYPES)  # every type, zeros included
    gold = read_table(spark, settings.tables.gold).groupBy("source", "label").count().collect()
    after = {(g, label): n for g, labels in data.classes_after.items() for label, n in labels.items()}
    assert after == {(r.source, r.label): r["count"] for r in gold}
    assert set(data.classes_before) == {"ag_news", "sms_spam", "thucnews", "chnsenticorp"}
    labelled = silver.where("label IS NOT NULL AND confidence IS NOT NULL")
    assert data.confidence.rows == labelled.count()
    assert sum(data.confidence.series["flagged noisy"]) == labelled.where("is_noisy").count()
    assert data.confidence.thresholds == {"review below (select.qc.min_confidence)": 0.85}
    queue = read_table(spark, settings.tables.review_queue)
    assert sum(n for statuses in data.review_queue.values() for n in statuses.values()) == queue.count() > 0
    # drift: AG News's second batch is World-heavy and alerts; the stages run in pipeline order
    alerting = {(w.group, w.window) for w in data.drift_windows if w.alert}
    assert ("ag_news", "b2") in alerting
    assert any(v.group == "ag_news" and v.statistic == "kl" and v.alert for v in data.drift_values)
    assert [r.job for r in data.runs] == [job for job in JOBS if job != "report"]
    assert data.runs[1].rows_in == read_table(spark, settings.tables.bronze).count()  # clean read all of bronze
    clean = Counter(r.reason for r in read_table(spark, settings.tables.quarantine).where("stage = 'clean'").collect())
    assert data.runs[1].quarantined_by_reason == dict(clean)
    assert any(rule.rows > 0 for rule in data.rules)


def test_every_plot_is_in_the_page_and_row_text_only_in_quality_examples(spark, pipeline):
    _, settings, runs = pipeline
    page = Path(report_row(spark, settings, runs["report"]).details["path"]).read_text(encoding="utf-8")
    parsed = parse_report(page)
    for plot in PLOT_IDS:
        (image,) = parsed.figures[plot].images
        assert drawn_pixels(decode_png(image)) > 2_000, plot
    assert "<td>ag_news</td><td>b2</td>" in page and "alert: label/" in page
    texts = [r.text for r in read_table(spark, settings.tables.bronze).select("text").collect()]
    silver = {r.id: r.text for r in read_table(spark, settings.tables.silver).select("id", "text").collect()}
    texts += list(silver.values())
    assert len(texts) > 2_000
    outside = "".join(parsed.outside)  # the page's text outside <blockquote class="quality-example">
    assert not [t for t in texts if len(t) >= 12 and t in outside]
    # inside them: silver's (masked) text of the row named, whole or cut short, at most
    # report.quality_examples per rule
    silver_table = read_table(spark, settings.tables.silver)
    flagged = silver_table.where((F.col("clean_run_id") == runs["clean"]) & (F.size("quality_flags") > 0)).count()
    assert bool(parsed.examples) == (flagged > 0)
    for example in parsed.examples:
        whole = silver[example.record_id]
        assert example.text == whole or (example.text.endswith("…") and whole.startswith(example.text[:-1])), example
    per_rule = Counter(e.rule for e in parsed.examples)
    assert all(n <= settings.report.quality_examples for n in per_rule.values())


def chromium() -> str:
    """The Chromium binary; its absence is a set-up error (``make chromium``), not a skip."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise RuntimeError("headless Chromium not found; install it with: make chromium")


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
    flags += ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
    command = [chromium(), *flags, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


#: Appended to a copy of the page: once loaded, record what the browser decoded.
PROBE = """<script>
window.addEventListener('load', () => {
  for (const img of document.querySelectorAll('figure.plot img')) {
    img.setAttribute('data-natural', img.naturalWidth + 'x' + img.naturalHeight);
  }
  document.body.setAttribute('data-height', document.documentElement.scrollHeight);
});
</script>"""


def test_the_report_renders_in_headless_chromium(spark, pipeline, tmp_path):
    _, settings, runs = pipeline
    path = Path(report_row(spark, settings, runs["report"]).details["path"])
    probe = tmp_path / "probe.html"
    page = path.read_text(encoding="utf-8")
    page = page.replace(CSP, CSP + "; script-src 'unsafe-inline'").replace("</body>", PROBE + "</body>")
    probe.write_text(page, encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", "--virtual-time-budget=5000", probe.as_uri()).stdout
    decoded = dict(re.findall(r'<figure class="plot" id="(plot-[a-z-]+)"><img [^>]*data-natural="(\d+x\d+)"', dom))
    assert set(decoded) == set(PLOT_IDS)
    assert all(int(w) >= 800 and int(h) >= 100 for w, h in (n.split("x") for n in decoded.values())), decoded
    height = int(re.search(r'data-height="(\d+)"', dom).group(1))
    assert height > 3_000
    # the screenshot of the page as it is (no probe): the whole page, drawn
    screenshot = tmp_path / "report_screenshot.png"
    run_chromium(tmp_path, f"--screenshot={screenshot}", f"--window-size=1100,{height}", path.as_uri())
    from PIL import Image

    with Image.open(screenshot) as shot:
        shot.load()
        assert shot.size == (1100, height)
        assert drawn_pixels(shot) > 0.05 * 1100 * height
