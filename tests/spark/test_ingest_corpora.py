"""Every corpus in ../shared/corpora ingests with config alone (conf/corpora.yaml), with the
row counts their SOURCE.txt files document, into a real Delta ``bronze`` table."""

from __future__ import annotations

from collections import Counter

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from refinery.spark.tables import read_table
from tests.support.spark_helpers import ingest, metrics_by_stage

# source → (bronze rows, quarantined by reason, filtered by reason), from each SOURCE.txt
EXPECTED = {
    "thucnews": (20_000, {}, {}),  # dev 10k + test 10k titles
    "ag_news": (7_600, {}, {}),  # AG News test split
    "sms_spam": (5_574, {}, {}),  # 4,827 ham + 747 spam
    "chnsenticorp": (7_765, {"empty_text": 1}, {}),  # 7,766 rows, one review is empty ("0,")
    "waimai": (11_987, {}, {}),  # 4,000 + 7,987
    "mr_polarity": (10_662, {}, {}),  # 5,331 + 5,331, Windows-1252
    "crowdflower_tweets": (38_158, {}, {}),  # not valid UTF-8: Latin-1 fallback keeps every row
    "tatoeba": (10_000, {}, {}),  # 10 languages x 1,000
    "zh_en_mixed": (8_200, {}, {}),
    "cn_pii_cases": (96, {"empty_text": 2}, {}),  # two must-not-match cases have empty text
    "presidio_cases": (1_220, {"empty_text": 7}, {}),
    "sighan_seg_gold": (5_929, {}, {"blank_line": 1}),  # PKU 1,944 (+1 blank line) + MSR 3,985
}


@pytest.fixture(scope="module")
def all_corpora(spark, tmp_path_factory):
    from refinery.config import TABLE_NAMES, load_settings
    from tests.support.paths import ROOT, corpora_dir

    tables = tmp_path_factory.mktemp("corpora_tables")
    overrides = [f"tables.{name}={tables / name}" for name in TABLE_NAMES]
    overrides += [f"ingest.input_root={corpora_dir()}", "ingest.only=[" + ",".join(EXPECTED) + "]"]
    settings = load_settings([ROOT / "conf" / "local.yaml"], overrides)
    run_id = ingest(spark, settings)
    return settings, run_id


def test_each_corpus_has_its_documented_row_count(spark, all_corpora):
    settings, run_id = all_corpora
    stages = metrics_by_stage(spark, settings, run_id)
    bronze = dict(read_table(spark, settings.tables.bronze).groupBy("source").count().collect())
    for source, (rows, quarantined, filtered) in EXPECTED.items():
        stage = stages[f"ingest/{source}"]
        assert bronze.get(source) == rows, source
        assert stage.rows_out == rows, source
        assert dict(stage.quarantined_by_reason) == quarantined, source
        assert dict(stage.filtered_by_reason) == filtered, source
        assert stage.reconciled and stage.rows_in == rows + sum(quarantined.values()) + sum(filtered.values())


def test_totals_reconcile_in_metrics_and_tables(spark, all_corpora):
    settings, run_id = all_corpora
    total = metrics_by_stage(spark, settings, run_id)["ingest"]
    bronze_rows = read_table(spark, settings.tables.bronze).count()
    quarantined = read_table(spark, settings.tables.quarantine).where(F.col("run_id") == run_id).count()
    assert total.rows_out == bronze_rows
    assert total.rows_quarantined == quarantined
    assert total.rows_in == bronze_rows + quarantined + total.rows_filtered
    assert total.reconciled


def test_bronze_is_a_partitioned_delta_table_with_unique_ids(spark, all_corpora):
    settings, _ = all_corpora
    assert DeltaTable.isDeltaTable(spark, settings.tables.bronze)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{settings.tables.bronze}`").first()
    assert detail.format == "delta" and list(detail.partitionColumns) == ["ingest_batch"]
    bronze = read_table(spark, settings.tables.bronze)
    assert bronze.select("id").distinct().count() == bronze.count()
    assert bronze.where(F.col("text").isNull() | (F.trim("text") == "")).count() == 0


def test_labels_are_mapped_to_names_with_documented_balance(spark, all_corpora):
    settings, _ = all_corpora
    bronze = read_table(spark, settings.tables.bronze)

    def labels(source: str) -> Counter:
        return Counter(dict(bronze.where(F.col("source") == source).groupBy("label").count().collect()))

    assert labels("sms_spam") == Counter(ham=4_827, spam=747)
    assert labels("chnsenticorp") == Counter(positive=5_322, negative=2_443)
    assert labels("thucnews") == Counter({name: 2_000 for name in settings.ingest.sources["thucnews"].labels})
    assert labels("ag_news") == Counter({"World": 1_900, "Sports": 1_900, "Business": 1_900, "Sci/Tech": 1_900})
    assert labels("mr_polarity") == Counter(positive=5_331, negative=5_331)


def test_encodings_are_decoded_not_mangled(spark, all_corpora):
    settings, _ = all_corpora
    bronze = read_table(spark, settings.tables.bronze)
    mr = bronze.where(F.col("source") == "mr_polarity")
    # Byte 0x85 is "…" in Windows-1252; read as Latin-1 it would be U+0085 (NEL).
    assert mr.where(F.col("text").contains("\u0085")).count() == 0
    assert mr.where(F.col("text").contains("…")).count() > 0
    assert {r.source_encoding for r in mr.select("source_encoding").distinct().collect()} == {"cp1252"}
    tweets = bronze.where(F.col("source") == "crowdflower_tweets").groupBy("source_encoding").count()
    by_encoding = dict(tweets.collect())
    assert by_encoding["utf-8"] > 30_000 and by_encoding["iso8859-1"] > 1_000
    thuc = bronze.where((F.col("source") == "thucnews") & F.col("text").rlike("[\u4e00-\u9fff]")).count()
    assert thuc == 20_000


def test_extra_columns_are_kept_in_meta(spark, all_corpora):
    settings, _ = all_corpora
    bronze = read_table(spark, settings.tables.bronze)
    metas = [r.meta for r in bronze.where(F.col("source") == "crowdflower_tweets").select("meta").collect()]
    assert all(set(meta) == {"confidence"} for meta in metas)
    scores = [float(meta["confidence"]) for meta in metas if meta["confidence"]]  # some cells are empty
    assert len(scores) > 30_000 and all(0.0 <= score <= 1.0 for score in scores)
    tatoeba = bronze.where(F.col("source") == "tatoeba").first()
    assert tatoeba.id.startswith("tatoeba:") and tatoeba.id.split(":", 1)[1].isdigit()


def test_content_hashes_agree_in_python_and_the_jvm_on_every_corpus(spark, all_corpora):
    # line files are hashed in the Python parser, table sources by the JVM expression; on
    # every real corpus both give the stored hash of the stored content, byte for byte
    from refinery.ingest.column_text import content_hash as content_hash_column
    from refinery.sources.record_rules import content_hash

    settings, _ = all_corpora
    bronze = read_table(spark, settings.tables.bronze)
    jvm = content_hash_column(F.col("text"), F.col("label"), F.col("meta")).alias("jvm")
    rows = bronze.select("source", "text", "label", "meta", "content_hash", jvm)
    seen, python_differs, jvm_differs = Counter(), Counter(), Counter()
    for row in rows.toLocalIterator():
        seen[row.source] += 1
        python_differs[row.source] += row.content_hash != content_hash(row.text, row.label, row.meta or {})
        jvm_differs[row.source] += row.content_hash != row.jvm
    assert set(seen) == set(EXPECTED)
    assert +python_differs == Counter() and +jvm_differs == Counter(), (dict(python_differs), dict(jvm_differs))
