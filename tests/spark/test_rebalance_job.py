"""The ``rebalance`` job on real corpora (ChnSentiCorp, SMS spam, waimai) in real Spark and
Delta: exact class targets for every strategy, determinism across partitionings, imbalanced-
learn's counts, filters counted by reason, weights, and gold written in one commit."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from pyspark.sql import functions as F

from refinery.clean.settings import QualitySettings
from refinery.labels.resampling import class_targets
from refinery.rebalance.job import cell_counts, draw_rows, group_weights, plan_targets, with_cells
from refinery.runtime.runner import new_run_id, run_one
from refinery.spark.tables import delta_table, read_table
from tests.support.resampling_corpora import REAL_COUNTS, corpus_rows
from tests.support.spark_helpers import metrics_by_stage

CORPORA = sorted(REAL_COUNTS)
LANG = {"chnsenticorp": "zh", "waimai": "zh", "sms_spam": "en"}


@pytest.fixture(scope="module")
def corpora_frame(spark):
    """The three corpora as one silver-like frame: 25,327 rows, ids ``<corpus>:<line>``."""
    rows = [
        (f"{corpus}:{i}", text, label, corpus, LANG[corpus])
        for corpus in CORPORA
        for i, (text, label) in enumerate(corpus_rows(corpus))
    ]
    return spark.createDataFrame(rows, "id string, text string, label string, source string, lang string").cache()


def drawn(frame, settings):
    """Gold rows of ``frame`` under ``settings.rebalance`` (the job's transform, no filters)."""
    cfg = settings.rebalance
    eligible = with_cells(frame, cfg)
    targets = plan_targets(cell_counts(eligible), cfg)
    return draw_rows(eligible, targets, group_weights(targets, cfg), cfg.seed, frame.sparkSession), targets


def class_counts(gold) -> dict[tuple[str, str], int]:
    return {(r.source, r.label): r["count"] for r in gold.groupBy("source", "label").count().collect()}


STRATEGIES = [
    ("rebalance.strategy=undersample",),
    ("rebalance.strategy=oversample",),
    ("rebalance.strategy=smooth", "rebalance.alpha=0.3"),
    ("rebalance.strategy=target", "rebalance.target={proportions: {positive: 0.5, negative: 0.5}}"),
    ("rebalance.strategy=undersample", "rebalance.cap=3000", "rebalance.min=2600"),
    ("rebalance.strategy=none", "rebalance.max={positive: 1000, ham: 500}"),
]


@pytest.mark.parametrize("overrides", STRATEGIES, ids=lambda o: ",".join(o))
def test_each_strategy_gives_exactly_the_computed_targets(spark, corpora_frame, make_settings, overrides):
    settings = make_settings(*overrides)
    gold, targets = drawn(corpora_frame, settings)
    expected = {}
    for corpus in CORPORA:
        expected.update(
            {(corpus, label): t for label, t in class_targets(REAL_COUNTS[corpus], settings.rebalance.plan()).items()}
        )
    assert {(c.group, c.label): c.t for c in targets} == expected
    assert class_counts(gold) == {key: t for key, t in expected.items() if t > 0}
    # every row appears q or q + 1 times with copy_index 0 .. copies-1, never more than needed
    per_row = gold.groupBy("id", "source", "label").agg(
        F.count("*").alias("copies"), F.max("copy_index").alias("last"), F.min("copy_index").alias("first")
    )
    stats = {
        (r.source, r.label): (r.lo, r.hi, r.rows)
        for r in per_row.where("first = 0 AND last = copies - 1")
        .groupBy("source", "label")
        .agg(F.min("copies").alias("lo"), F.max("copies").alias("hi"), F.count("*").alias("rows"))
        .collect()
    }
    for (corpus, label), t in expected.items():
        if t == 0:
            continue
        n = REAL_COUNTS[corpus][label]
        lo, hi, rows = stats[(corpus, label)]
        assert rows == min(n, t) if t <= n else rows == n
        assert (lo, hi) in {(t // n, t // n), (t // n, t // n + 1), (1, 1)}


def test_counts_equal_imbalanced_learns_samplers(spark, corpora_frame, make_settings):
    for strategy, sampler in (("undersample", RandomUnderSampler), ("oversample", RandomOverSampler)):
        gold, _ = drawn(corpora_frame, make_settings(f"rebalance.strategy={strategy}"))
        ours = class_counts(gold)
        for corpus in CORPORA:
            labels = np.asarray([label for _, label in corpus_rows(corpus)])
            _, theirs = sampler(random_state=0).fit_resample(np.zeros((len(labels), 1)), labels)
            assert {label: n for (c, label), n in ours.items() if c == corpus} == dict(Counter(theirs.tolist()))


def test_same_seed_same_rows_whatever_the_partitioning(spark, corpora_frame, make_settings):
    settings = make_settings("rebalance.strategy=smooth", "rebalance.alpha=0.2")

    def rows(frame, settings=settings):
        return {(r.id, r.copy_index) for r in drawn(frame, settings)[0].select("id", "copy_index").collect()}

    two = rows(corpora_frame.repartition(2))
    seven = rows(corpora_frame.repartition(7, "label"))
    assert two == seven
    other_seed = rows(
        corpora_frame, make_settings("rebalance.strategy=smooth", "rebalance.alpha=0.2", "rebalance.seed=5")
    )
    assert len(other_seed) == len(two) and other_seed != two


def test_stratified_cells_and_weights(spark, corpora_frame, make_settings):
    settings = make_settings(
        "rebalance.group_by=null", "rebalance.stratify_by_lang=true", "rebalance.strategy=undersample",
        "rebalance.weights=sqrt_inverse",
    )  # fmt: skip
    gold, targets = drawn(corpora_frame, settings)
    # one group over all labels: ham, spam (en) and negative, positive (zh) are four cells
    cells = {(c.label, c.lang): c.t for c in targets}
    assert set(cells) == {("ham", "en"), ("spam", "en"), ("negative", "zh"), ("positive", "zh")}
    assert set(cells.values()) == {747}
    assert gold.count() == 4 * 747
    weights = {r.label: r.w for r in gold.groupBy("label").agg(F.max("sample_weight").alias("w")).collect()}
    assert all(math.isclose(w, 1.0) for w in weights.values())  # balanced gold: equal weights


def test_weights_have_mean_one_per_group_and_inverse_ratios(spark, corpora_frame, make_settings):
    gold, _ = drawn(corpora_frame, make_settings("rebalance.strategy=none", "rebalance.weights=inverse"))
    for corpus in CORPORA:
        part = gold.where(F.col("source") == corpus)
        assert math.isclose(part.agg(F.avg("sample_weight")).first()[0], 1.0, rel_tol=1e-9)
        w = {r.label: r.w for r in part.groupBy("label").agg(F.first("sample_weight").alias("w")).collect()}
        (a, na), (b, nb) = REAL_COUNTS[corpus].items()
        assert math.isclose(w[a] / w[b], nb / na, rel_tol=1e-9)


@pytest.fixture
def silver(spark, corpora_frame, make_settings):
    """A silver Delta table from SMS spam with every filter's column, and the expected
    removals: 5 unlabelled, 11 in another language, 13 duplicates, 17 noisy rows, 4 rows whose
    ``quality_flags`` lead with the drop rule ``symbol_flood`` (one also holds ``mostly_digits``)
    and 3 with the flag rule ``long_char_run`` before the drop rule ``mostly_digits``; 7 rows
    carry only ``long_char_run`` (a flag: kept)."""
    settings = make_settings()
    sms = corpora_frame.where("source = 'sms_spam'").withColumn("n", F.monotonically_increasing_id()).cache()
    ids = [r.id for r in sms.orderBy("id").select("id").collect()]
    unlabelled, other_lang, duplicate, noisy = ids[:5], ids[5:16], ids[16:29], ids[29:46]
    flags = {i: ["symbol_flood"] for i in ids[46:49]} | {ids[49]: ["symbol_flood", "mostly_digits"]}
    flags |= {i: ["long_char_run", "mostly_digits"] for i in ids[50:53]} | {i: ["long_char_run"] for i in ids[53:60]}
    quality_flags = F.create_map(*[F.lit(x) for i, names in flags.items() for x in (i, ",".join(names))])
    frame = (
        sms.withColumn("label", F.when(F.col("id").isin(unlabelled), F.lit(None)).otherwise(F.col("label")))
        .withColumn("lang_allowed", ~F.col("id").isin(other_lang))
        .withColumn("dup_of", F.when(F.col("id").isin(duplicate), F.lit(ids[-1])))
        .withColumn("is_noisy", F.col("id").isin(noisy))
        .withColumn("confidence", F.when(F.col("id").isin(noisy), 0.1).otherwise(0.9))
        .withColumn("quality_flags", F.split(F.coalesce(quality_flags[F.col("id")], F.lit("")), ",", -1))
        .withColumn("quality_flags", F.filter("quality_flags", lambda x: x != ""))
        .drop("n")
    )
    frame.write.format("delta").save(settings.tables.silver)
    sms.unpersist()
    kept = Counter(r.label for r in frame.collect() if r.id not in set(ids[:53]))
    return settings, kept


def test_job_counts_filters_by_reason_and_overwrites_gold_in_one_commit(spark, silver, make_settings):
    settings, kept = silver
    settings = settings.model_copy(
        update={"rebalance": settings.rebalance.model_copy(update={"strategy": "undersample", "seed": 3})}
    )
    run_id = new_run_id("rebalance")
    assert run_one("rebalance", settings, spark, run_id) == 0
    row = metrics_by_stage(spark, settings, run_id)["rebalance"]
    smallest = min(kept.values())
    assert row.rows_in == 5574 and row.reconciled
    assert row.filtered_by_reason == {
        "unlabelled": 5,
        "language": 11,
        "duplicate": 13,
        "noisy": 17,
        "low_quality:symbol_flood": 4,
        "low_quality:mostly_digits": 3,
        "undersampled": max(kept.values()) - smallest,
    }
    assert row.rows_out == 2 * smallest
    assert row.details["before.sms_spam/ham"] == str(kept["ham"])
    assert row.details["after.sms_spam/spam"] == str(smallest)
    gold = read_table(spark, settings.tables.gold)
    assert gold.count() == 2 * smallest and gold.select("id").distinct().count() == 2 * smallest
    first = {r.id for r in gold.collect()}
    assert all(
        r.silver_version == 0 and r.rebalance_run == run_id
        for r in gold.select("silver_version", "rebalance_run").distinct().collect()
    )

    # a second run replaces gold in one more commit with its parameters; the first stays in history
    again = new_run_id("rebalance")
    assert run_one("rebalance", settings, spark, again) == 0
    history = delta_table(spark, settings.tables.gold).history().orderBy("version").collect()
    assert [h.version for h in history] == [0, 1]
    meta = json.loads(history[-1].userMetadata)
    assert meta["run_id"] == again and meta["config"]["strategy"] == "undersample" and meta["silver_version"] == 0
    assert {r.id for r in read_table(spark, settings.tables.gold).collect()} == first  # same seed, same rows
    old = spark.read.format("delta").option("versionAsOf", 0).load(settings.tables.gold)
    assert {r.rebalance_run for r in old.select("rebalance_run").distinct().collect()} == {run_id}


def test_quality_drop_rules_follow_the_current_config(spark, silver):
    """Severity is read at rebalance time: a drop rule turned into a flag lets its rows into gold
    (with their ``quality_flags``), and ``filters.quality: false`` keeps every flagged row."""
    settings, _ = silver
    base = settings.rebalance.model_copy(update={"strategy": "none"})
    relaxed = settings.model_copy(
        update={
            "rebalance": base,
            "clean": settings.clean.model_copy(
                update={"quality": QualitySettings(overrides={"symbol_flood": {"severity": "flag"}})}
            ),
        }
    )
    run_id = new_run_id("rebalance")
    assert run_one("rebalance", relaxed, spark, run_id) == 0
    row = metrics_by_stage(spark, relaxed, run_id)["rebalance"]
    assert (
        row.reconciled and row.filtered_by_reason["low_quality:mostly_digits"] == 4
    )  # 3, and the one behind symbol_flood
    assert "low_quality:symbol_flood" not in row.filtered_by_reason
    gold = {r.id: r.quality_flags for r in read_table(spark, settings.tables.gold).collect()}
    assert sum(1 for flags in gold.values() if flags == ["symbol_flood"]) == 3
    assert sum(1 for flags in gold.values() if flags == ["long_char_run"]) == 7

    off = settings.model_copy(
        update={"rebalance": base.model_copy(update={"filters": base.filters.model_copy(update={"quality": False})})}
    )
    again = new_run_id("rebalance")
    assert run_one("rebalance", off, spark, again) == 0
    row = metrics_by_stage(spark, off, again)["rebalance"]
    assert row.reconciled and not any(r.startswith("low_quality") for r in row.filtered_by_reason)


def test_job_without_score_columns_skips_the_noise_filter_and_says_so(spark, corpora_frame, make_settings):
    settings = make_settings("rebalance.strategy=none", "rebalance.filters.languages=[en]")
    corpora_frame.where("source = 'sms_spam'").write.format("delta").save(settings.tables.silver)
    run_id = new_run_id("rebalance")
    assert run_one("rebalance", settings, spark, run_id) == 0
    row = metrics_by_stage(spark, settings, run_id)["rebalance"]
    assert row.rows_out == 5574 and row.rows_filtered == 0
    assert "noisy (no silver column is_noisy)" in row.details["filters_skipped"]
    assert "duplicate (no silver column dup_of)" in row.details["filters_skipped"]


def test_bad_config_exits_2(spark, corpora_frame, make_settings):
    settings = make_settings("rebalance.group_by=no_such_column")
    corpora_frame.limit(10).write.format("delta").save(settings.tables.silver)
    assert run_one("rebalance", settings, spark, new_run_id("rebalance")) == 2
    from refinery.config import ConfigError

    with pytest.raises(ConfigError, match="proportions must sum to 1"):
        make_settings("rebalance.strategy=target", "rebalance.target={proportions: {a: 0.5}}")
