"""Counts that can fail: every job, with the test-only fault hook dropping one row inside its
transform (:mod:`refinery.runtime.faults`), exits 1 with a "counts do not reconcile" line naming
its stage and the difference; the same job without the hook reconciles and exits 0.

One tiny real pipeline (AG News rows with a bad line, a repeated record and unlabelled rows,
one review file) runs each job twice in pipeline order: faulted, then clean, so the clean run
repairs what the faulted one wrote (every write is idempotent) before the next job reads it."""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field

import pytest

from refinery.config import TABLE_NAMES, load_settings
from refinery.runtime.faults import FAULT_ENV
from refinery.runtime.runner import EXIT_FAILED, EXIT_OK, new_run_id, run_one
from tests.support.paths import ROOT, corpora_dir
from tests.support.spark_helpers import metrics_by_stage

CLASSES = {"1": "World", "2": "Sports", "3": "Business", "4": "Sci/Tech"}
PER_CLASS, UNLABELLED = 15, 12
#: Every job, in the order the pipeline runs them (import_reviews before report, so the report
#: covers it too).
JOBS = ("ingest", "clean", "dedup", "score", "rebalance", "drift", "select", "export", "import_reviews", "report")
REVIEWED = ("news:n0", "news:n1", "news:u0")


class Records(logging.Handler):
    """The records the ``refinery`` logger emits, with their extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Runs:
    """Per job: the faulted run's exit code and "counts do not reconcile" records, the clean
    run's exit code, id and error records."""

    faulted: dict[str, int] = field(default_factory=dict)
    failures: dict[str, list[logging.LogRecord]] = field(default_factory=dict)
    clean: dict[str, int] = field(default_factory=dict)
    clean_ids: dict[str, str] = field(default_factory=dict)
    clean_errors: dict[str, list[str]] = field(default_factory=dict)


def write_inputs(folder) -> None:
    """``news.jsonl``: 15 rows of each AG News class, 12 unlabelled, one repeated record (a
    counted filter) and one line that is not JSON (quarantined); ``reviews.jsonl``: three
    reviews of existing ids and one of an unknown id (quarantined)."""
    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    records, seen = [], dict.fromkeys(CLASSES, 0)
    for r in rows:
        if seen[r[0]] < PER_CLASS:
            records.append({"id": f"n{len(records)}", "text": f"{r[1]}\n{r[2]}", "label": CLASSES[r[0]]})
            seen[r[0]] += 1
    records += [{"id": f"u{i}", "text": r[2], "label": None} for i, r in enumerate(rows[-UNLABELLED:])]
    lines = [json.dumps(r) for r in records] + [json.dumps(records[2]), '{"id": "broken", "text": ']
    (folder / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reviews = [{"id": rid, "label": "World"} for rid in REVIEWED] + [{"id": "news:nobody", "label": "World"}]
    (folder / "reviews.jsonl").write_text("\n".join(json.dumps(r) for r in reviews) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    write_inputs(folder)
    source = "ingest.sources.news."
    settings = load_settings(
        [ROOT / "conf" / "local.yaml"],
        [f"tables.{t}={folder / 'tables' / t}" for t in TABLE_NAMES]
        + [f"{source}path={folder / 'news.jsonl'}", f"{source}format=jsonl", f"{source}label_required=false"]
        + [f"{source}columns={{text: text, label: label, id: id}}", "ingest.only=[news]", "ingest.batch=b1"]
        + ["spark.shuffle_partitions=2", f"score.work_dir={folder / 'work'}", f"report.dir={folder / 'reports'}"]
        + ["score.folds=2", "score.model.epochs=2", "score.model.dim=16", "score.features.buckets=4096"]
        + ["score.min_class_rows=5", f"select.export_dir={folder / 'exports'}"]
        + [f"export.dir={folder / 'training_exports'}"]
        + [f"import_reviews.path={folder / 'reviews.jsonl'}"],
    )
    handler = Records()
    logger = logging.getLogger("refinery")
    logger.addHandler(handler)
    result = Runs()
    try:
        for job in JOBS:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv(FAULT_ENV, job)
                handler.records.clear()
                result.faulted[job] = run_one(job, settings, spark, new_run_id(job))
                result.failures[job] = [r for r in handler.records if r.getMessage() == "counts do not reconcile"]
            handler.records.clear()
            result.clean_ids[job] = run_id = new_run_id(job)
            result.clean[job] = run_one(job, settings, spark, run_id)
            result.clean_errors[job] = [r.getMessage() for r in handler.records if r.levelno >= logging.ERROR]
    finally:
        logger.removeHandler(handler)
    return settings, result


@pytest.mark.parametrize("job", JOBS)
def test_a_row_dropped_in_the_transform_fails_the_job_with_a_line_naming_stage_and_difference(runs, job):
    _, result = runs
    assert result.faulted[job] == EXIT_FAILED
    by_stage = {r.stage: r for r in result.failures[job]}
    assert job in by_stage, f"no reconcile failure logged for stage {job}: {sorted(by_stage)}"
    line = by_stage[job]
    assert line.job == job and line.rows_accounted == line.rows_out + line.rows_quarantined + line.rows_filtered
    assert line.difference == line.rows_in - line.rows_accounted
    if job == "report":  # the report's rows are the metrics rows of the runs its page shows
        assert line.difference > 0
    else:
        assert line.difference == 1


@pytest.mark.parametrize("job", JOBS)
def test_the_same_job_without_the_fault_reconciles(spark, runs, job):
    settings, result = runs
    assert result.clean[job] == EXIT_OK and result.clean_errors[job] == []
    stages = metrics_by_stage(spark, settings, result.clean_ids[job])
    assert stages[job].reconciled and stages[job].rows_in > 0
    assert all(stage.reconciled for stage in stages.values())


def test_the_clean_runs_count_what_the_tables_hold(spark, runs):
    """Out and quarantined come from the commits: they equal what the tables hold."""
    from refinery.spark.tables import read_table

    settings, result = runs
    ingest = metrics_by_stage(spark, settings, result.clean_ids["ingest"])["ingest"]
    assert ingest.rows_in == 4 * PER_CLASS + UNLABELLED + 2
    assert ingest.rows_out == read_table(spark, settings.tables.bronze).count() == 4 * PER_CLASS + UNLABELLED
    assert ingest.filtered_by_reason == {"duplicate_record": 1} and sum(ingest.quarantined_by_reason.values()) == 1
    select = metrics_by_stage(spark, settings, result.clean_ids["select"])["select"]
    queue = read_table(spark, settings.tables.review_queue).where(f"select_run = '{result.clean_ids['select']}'")
    assert select.rows_out == queue.count() > 0
    reviews = metrics_by_stage(spark, settings, result.clean_ids["import_reviews"])["import_reviews"]
    assert (reviews.rows_in, reviews.rows_out, dict(reviews.quarantined_by_reason)) == (4, 3, {"unknown_id": 1})
