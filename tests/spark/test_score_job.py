"""The score job on real Delta tables: AG News descriptions with 10% of their labels flipped,
plus unlabelled rows, a class too small to learn and a source with one class only.

The flipped rows must be found far better than chance, every row must be accounted for,
scores must be traceable to the silver version they saw, and a rerun must change nothing."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from bench.noise_evalset import average_precision, inject_noise
from refinery.runtime.runner import new_run_id, run_one
from refinery.score.job import SCORE_COLUMNS
from refinery.spark.tables import delta_table, read_table
from tests.support.paths import corpora_dir
from tests.support.spark_helpers import metrics_by_stage

CLASSES = {"1": "World", "2": "Sports", "3": "Business", "4": "Sci/Tech"}
N_LABELLED, N_UNLABELLED, N_RARE, N_SINGLE = 1600, 40, 6, 30


def write_corpus(folder) -> dict[str, bool]:
    """``news.jsonl`` (labelled with flips, unlabelled, a rare class) and ``single.jsonl``
    (one class); returns id → flipped for the labelled news rows."""
    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.reader(f)][: N_LABELLED + N_UNLABELLED + N_RARE + N_SINGLE]
    labelled = rows[:N_LABELLED]
    noisy, flipped = inject_noise([CLASSES[r[0]] for r in labelled], 0.1, "uniform", seed=3)
    records = [{"id": f"n{i}", "text": f"{r[1]}\n{r[2]}", "label": noisy[i]} for i, r in enumerate(labelled)]
    rest = rows[N_LABELLED:]
    records += [{"id": f"u{i}", "text": r[2], "label": None} for i, r in enumerate(rest[:N_UNLABELLED])]
    records += [{"id": f"r{i}", "text": r[2], "label": "Rare"} for i, r in enumerate(rest[N_UNLABELLED:][:N_RARE])]
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    single = [{"id": f"s{i}", "text": r[2], "label": "ham"} for i, r in enumerate(rest[-N_SINGLE:])]
    (folder / "single.jsonl").write_text("\n".join(json.dumps(r) for r in single), encoding="utf-8")
    return {f"news:n{i}": bool(flipped[i]) for i in range(N_LABELLED)}


def run_ok(spark, job: str, settings, run_id: str | None = None) -> str:
    run_id = run_id or new_run_id(job)
    assert run_one(job, settings, spark, run_id) == 0, f"{job} failed"
    return run_id


@pytest.fixture(scope="module")
def scored(spark, tmp_path_factory):
    from refinery.config import TABLE_NAMES, load_settings
    from tests.support.paths import ROOT

    folder = tmp_path_factory.mktemp("score")
    flipped = write_corpus(folder)
    sources = []
    for name in ("news", "single"):
        spec = f"ingest.sources.{name}."
        sources += [
            f"{spec}path={folder / (name + '.jsonl')}",
            f"{spec}format=jsonl",
            f"{spec}columns={{text: text, label: label, id: id}}",
            f"{spec}label_required=false",
        ]
    settings = load_settings(
        [ROOT / "conf" / "local.yaml"],
        [f"tables.{t}={folder / 'tables' / t}" for t in TABLE_NAMES]
        + ["ingest.only=[news,single]", "spark.shuffle_partitions=2", f"score.work_dir={folder / 'work'}"]
        + ["score.folds=4", "score.model.epochs=6", "score.model.lr=0.01", "score.model.batch_size=32"]
        + sources,
    )
    for job in ("ingest", "clean"):
        run_ok(spark, job, settings)
    run_id = run_ok(spark, "score", settings)
    silver = {r.id: r for r in read_table(spark, settings.tables.silver).collect()}
    return settings, run_id, silver, flipped


def test_flipped_labels_are_found_far_better_than_chance(scored):
    _, _, silver, flipped = scored
    ids = sorted(flipped)
    truth = np.array([flipped[i] for i in ids])
    quality = np.array([silver[i].label_quality for i in ids])
    noisy = np.array([silver[i].is_noisy for i in ids])
    # chance: AP = share flipped (0.1); precision of random flags = 0.1
    assert average_precision(quality, truth) > 0.5
    assert noisy.sum() > 0 and (noisy & truth).sum() / noisy.sum() > 0.4
    assert (noisy & truth).sum() / truth.sum() > 0.5


def test_columns_are_consistent_with_their_definitions(scored):
    settings, run_id, silver, flipped = scored
    labelled = [silver[i] for i in flipped]
    for row in labelled:
        assert 0.0 <= row.confidence <= 1.0 and 0.0 <= row.margin <= 1.0
        assert 0.0 <= row.entropy <= np.log(4) + 1e-9
        assert row.pred_label in CLASSES.values()
        # the top probability: at least 1/C, and the margin is at most it
        assert 0.25 - 1e-9 <= row.pred_prob <= 1.0 and row.margin <= row.pred_prob + 1e-12
        # label_quality: the normalized margin (p_given - max other p + 1) / 2 of the blended
        # probabilities, which pred_prob and margin describe where the given label is the argmax
        if row.pred_label == row.label:
            assert row.label_quality == pytest.approx((row.margin + 1) / 2, abs=1e-9)
        else:
            assert row.label_quality <= 0.5 + 1e-9
        # noise_rate_or_outvoted: every row another class beats by more than outvoted_by is noisy
        if row.label_quality < (1 - settings.score.outvoted_by) / 2 - 1e-9:
            assert row.is_noisy
        assert row.score_run == run_id
    accuracy = np.mean([r.pred_label == r.label for r in labelled if not flipped[r.id]])
    assert accuracy > 0.7


def test_every_row_is_accounted_for(spark, scored):
    settings, run_id, silver, _ = scored
    stage = metrics_by_stage(spark, settings, run_id)["score"]
    assert stage.reconciled
    assert stage.rows_in == N_LABELLED + N_UNLABELLED + N_RARE + N_SINGLE
    assert dict(stage.filtered_by_reason) == {"class_too_small": N_RARE, "group_not_trainable": N_SINGLE}
    assert int(stage.details["labelled_scored"]) == N_LABELLED
    assert int(stage.details["unlabelled_predicted"]) == N_UNLABELLED
    # unlabelled rows: predicted on the executors, no confidence; filtered rows: untouched
    for i in range(N_UNLABELLED):
        row = silver[f"news:u{i}"]
        assert row.pred_label in CLASSES.values() and row.confidence is None and row.is_noisy is None
        assert row.margin is not None and row.entropy is not None and row.pred_prob >= 0.25 - 1e-9
    for rid in [f"news:r{i}" for i in range(N_RARE)] + [f"single:s{i}" for i in range(N_SINGLE)]:
        assert silver[rid].pred_label is None and silver[rid].score_run is None


def test_scores_name_the_silver_version_they_saw(spark, scored):
    settings, run_id, silver, _ = scored
    history = delta_table(spark, settings.tables.silver).history().collect()
    merge = next(h for h in history if h.operation == "MERGE" and h.version == max(x.version for x in history))
    seen = {r.score_version for r in silver.values() if r.score_run == run_id}
    assert seen == {merge.version - 1}
    at_version = spark.read.format("delta").option("versionAsOf", merge.version - 1).load(settings.tables.silver)
    assert set(SCORE_COLUMNS) <= set(at_version.columns)
    assert at_version.where("confidence IS NOT NULL").count() == 0  # the data the models saw


def test_a_rerun_on_the_same_data_changes_no_score(spark, scored):
    settings, _, silver, _ = scored
    run_id = run_ok(spark, "score", settings)
    stage = metrics_by_stage(spark, settings, run_id)["score"]
    after = {r.id: r for r in read_table(spark, settings.tables.silver).collect()}
    # the pinned version moved (the first run's MERGE), the rows did not: same seed, same scores
    changed = [
        i for i in silver if (silver[i].confidence, silver[i].is_noisy) != (after[i].confidence, after[i].is_noisy)
    ]
    assert changed == []
    assert int(stage.details["rows_updated"]) == int(stage.details["labelled_scored"]) + N_UNLABELLED


def test_two_training_processes_through_torch_distributor(spark, scored, tmp_path):
    """score.processes=2: Spark's TorchDistributor (local mode, gloo on CPU) trains each fold
    on two shards and averages the weights every epoch; the scores still find the flips."""
    settings, _, _, flipped = scored
    copy = tmp_path / "silver"
    read_table(spark, settings.tables.silver).drop(*SCORE_COLUMNS).write.format("delta").save(str(copy))
    tables = settings.tables.model_copy(update={"silver": str(copy), "metrics": str(tmp_path / "metrics")})
    score = settings.score.model_copy(update={"processes": 2, "work_dir": str(tmp_path / "work")})
    distributed = settings.model_copy(update={"tables": tables, "score": score})
    run_id = run_ok(spark, "score", distributed)
    stage = metrics_by_stage(spark, distributed, run_id)["score"]
    assert stage.reconciled and stage.details["processes"] == "2"
    rows = {r.id: r for r in read_table(spark, str(copy)).collect()}
    ids = sorted(flipped)
    assert all(rows[i].confidence is not None for i in ids)
    quality = np.array([rows[i].label_quality for i in ids])
    assert average_precision(quality, np.array([flipped[i] for i in ids])) > 0.5
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())  # scratch removed


def test_bad_score_config_fails_before_training(spark, scored, tmp_path):
    settings, _, _, _ = scored
    wrong = settings.model_copy(update={"score": settings.score.model_copy(update={"group_by": "no_such_column"})})
    assert run_one("score", wrong, spark, new_run_id("score")) == 2
