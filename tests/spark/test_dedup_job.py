"""The dedup job on real Delta tables: real review and news texts plus controlled copies —
exact (case, punctuation, spacing), near (small edits), label conflicts — in two batches;
flags within and across batches, and the same clusters whatever the partitioning."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import pytest

from refinery.dedup.job import DECIDED_COLUMNS
from refinery.runtime.runner import new_run_id, run_one
from refinery.spark.tables import read_table
from refinery.text.shingles import jaccard, shingles
from tests.support.paths import corpora_dir
from tests.support.spark_helpers import ingest, metrics_by_stage

T0 = datetime(2026, 1, 1)


def real_texts(n: int) -> tuple[list[str], list[str]]:
    """``n`` Chinese hotel reviews and ``n`` English news descriptions, 60-200 characters."""
    zh, en = [], []
    with (corpora_dir() / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if 60 <= len(row["review"]) <= 200 and len(zh) < n:
                zh.append(row["review"])
    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        for row in csv.reader(f):
            if 60 <= len(row[2]) <= 200 and "\\" not in row[2] and len(en) < n:
                en.append(row[2])
    return zh, en


def record(rid: str, text: str, label: str, minutes: int) -> dict:
    return {"id": rid, "text": text, "label": label, "ts": (T0 + timedelta(minutes=minutes)).isoformat()}


def near_copy_zh(text: str) -> str:
    """Delete one character in the middle: a near duplicate of a long review."""
    middle = len(text) // 2
    return text[:middle] + text[middle + 1 :]


def near_copy_en(text: str) -> str:
    words = text.split()
    return " ".join([*words[:-1], "indeed", words[-1]])


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path)


def write_corpus(tmp_path):
    """Two JSON-lines batches in ``tmp_path``; returns it with the real texts used."""
    zh, en = real_texts(60)
    first = [record(f"zh{i}", t, "pos", i) for i, t in enumerate(zh)]
    first += [record(f"en{i}", t, "World", 100 + i) for i, t in enumerate(en)]
    first += [
        record("zh0-exact", zh[0].replace("，", ", ") + "！！", "pos", 500),  # same canonical form
        record("en0-exact", en[0].upper() + "  ", "World", 501),
        record("zh1-near", near_copy_zh(zh[1]), "pos", 502),
        record("en1-near", near_copy_en(en[1]), "World", 503),
        record("zh2-conflict", zh[2] + "。", "neg", 504),  # exact copy, other label
        record("zh3-earlier", zh[3], "pos", -10),  # earlier copy: becomes the keeper
    ]
    second = [
        record("b2-zh4-exact", zh[4] + " ", "pos", 900),
        record("b2-en4-near", near_copy_en(en[4]), "World", 901),
        record("b2-zh1-near", near_copy_zh(zh[1]) + "好", "pos", 902),  # joins the zh1 cluster
        record("b2-fresh", "全新的一条评论，与之前的任何内容都不一样，房间在二十层，可以看到海。", "pos", 903),
    ]
    for name, rows in (("first", first), ("second", second)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return tmp_path, zh, en


def settings_for(make_settings, folder, name: str, batch: str, *extra: str):
    spec = "ingest.sources.dups."
    return make_settings(
        "ingest.only=[dups]",
        f"{spec}path={folder / (name + '.jsonl')}",
        f"{spec}format=jsonl",
        f"{spec}columns={{text: text, label: label, id: id, event_ts: ts}}",
        f"ingest.batch={batch}",
        f"clean.batch={batch}",
        f"dedup.batch={batch}",
        *extra,
    )


def run_ok(spark, job: str, settings) -> str:
    run_id = new_run_id(job)
    assert run_one(job, settings, spark, run_id) == 0, f"{job} failed"
    return run_id


def with_own_tables(settings, suffix: str):
    """``settings`` with the silver, signatures and metrics tables at locations of their own."""
    tables = settings.tables.model_copy(
        update={name: f"{getattr(settings.tables, name)}-{suffix}" for name in ("silver", "signatures", "metrics")}
    )
    return settings.model_copy(update={"tables": tables})


def flags(spark, settings) -> dict[str, object]:
    return {r.id: r for r in read_table(spark, settings.tables.silver).collect()}


def test_duplicates_are_flagged_within_and_across_batches(spark, make_settings, corpus):
    folder, zh, en = corpus
    first = settings_for(make_settings, folder, "first", "b1")
    ingest(spark, first)
    run_ok(spark, "clean", first)
    run_id = run_ok(spark, "dedup", first)
    rows = flags(spark, first)

    exact = {k: v for k, v in rows.items() if v.dup_kind == "exact"}
    near = {k: v for k, v in rows.items() if v.dup_kind == "near"}
    assert (rows["dups:zh0-exact"].dup_of, rows["dups:en0-exact"].dup_of) == ("dups:zh0", "dups:en0")
    assert rows["dups:zh0-exact"].dup_score == 1.0 and "dups:zh0-exact" in exact
    assert rows["dups:zh3"].dup_of == "dups:zh3-earlier" and rows["dups:zh3-earlier"].dup_of is None
    assert rows["dups:zh1-near"].dup_of == "dups:zh1" and rows["dups:en1-near"].dup_of == "dups:en1"
    assert 0.8 <= rows["dups:zh1-near"].dup_score < 1.0 and "dups:en1-near" in near
    expected = jaccard(shingles(near_copy_en(en[1]), "en"), shingles(en[1], "en"))
    assert rows["dups:en1-near"].dup_score == pytest.approx(expected, abs=0.02)  # tokens vs split
    assert rows["dups:zh2"].label_conflict and rows["dups:zh2-conflict"].label_conflict
    assert not rows["dups:zh0"].label_conflict
    keepers = {"dups:zh0", "dups:en0", "dups:zh1", "dups:en1", "dups:zh2", "dups:zh3-earlier"}
    flagged = {k for k, v in rows.items() if v.dup_of is not None}
    assert flagged == {
        "dups:zh0-exact",
        "dups:en0-exact",
        "dups:zh1-near",
        "dups:en1-near",
        "dups:zh2-conflict",
        "dups:zh3",
    }
    assert all(rows[k].dup_cluster == (rows[k].dup_of or k) for k in flagged | keepers)  # named by its keeper
    assert all(rows[k].dup_cluster is None for k in rows if k not in flagged | keepers)
    stage = metrics_by_stage(spark, first, run_id)["dedup"]
    assert stage.reconciled and stage.rows_in == len(rows)
    assert int(stage.details["exact_duplicates"]) == 4 and int(stage.details["near_duplicates"]) == 2

    second = settings_for(make_settings, folder, "second", "b2")
    ingest(spark, second)
    run_ok(spark, "clean", second)
    second_run = run_ok(spark, "dedup", second)
    rows = flags(spark, second)
    assert rows["dups:b2-zh4-exact"].dup_of == "dups:zh4" and rows["dups:b2-zh4-exact"].dup_kind == "exact"
    assert rows["dups:b2-en4-near"].dup_of == "dups:en4" and rows["dups:b2-en4-near"].dup_kind == "near"
    # the new near copy joins the existing cluster: one cluster, one keeper
    assert rows["dups:b2-zh1-near"].dup_of == "dups:zh1"
    assert rows["dups:b2-zh1-near"].dup_cluster == rows["dups:zh1-near"].dup_cluster == rows["dups:zh1"].dup_cluster
    assert rows["dups:b2-fresh"].dup_of is None and rows["dups:b2-fresh"].dup_cluster is None
    assert rows["dups:zh0-exact"].dup_of == "dups:zh0"  # batch 1 flags untouched
    details = metrics_by_stage(spark, second, second_run)["dedup"].details
    # the neighbourhood: the 4 new rows, the rows they copy or resemble and those rows' clusters
    assert 4 < int(details["neighbourhood_rows"]) < len(rows) // 4
    assert int(details["rows_updated"]) < int(details["rows_flagged_or_cleared"])  # unchanged rows kept

    # the batch was decided on its neighbourhood alone: the same flags as recomputing all of silver
    full = with_own_tables(second, "full")
    full = full.model_copy(update={"dedup": full.dedup.model_copy(update={"batch": None})})
    read_table(spark, second.tables.silver).write.format("delta").save(full.tables.silver)
    run_ok(spark, "dedup", full)
    assert {k: tuple(v[c] for c in DECIDED_COLUMNS) for k, v in flags(spark, full).items()} == {
        k: tuple(v[c] for c in DECIDED_COLUMNS) for k, v in rows.items()
    }


def test_clusters_do_not_depend_on_partitioning_and_reruns_converge(spark, make_settings, corpus):
    folder, _, _ = corpus
    base = settings_for(make_settings, folder, "first", "b1")
    ingest(spark, base)
    run_ok(spark, "clean", base)
    cleaned = read_table(spark, base.tables.silver)
    results = []
    for partitions in (2, 7):
        settings = with_own_tables(base, str(partitions))
        cleaned.write.format("delta").save(settings.tables.silver)
        spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
        try:
            run_ok(spark, "dedup", settings)
            if partitions == 7:
                run_ok(spark, "dedup", settings)  # a rerun gives the same flags
        finally:
            spark.conf.set("spark.sql.shuffle.partitions", "2")
        results.append(
            sorted(
                (r.id, r.dup_cluster, r.dup_of, r.dup_kind, r.label_conflict)
                for r in read_table(spark, settings.tables.silver).collect()
            )
        )
    assert results[0] == results[1]
    assert sum(1 for row in results[0] if row[2] is not None) == 6


def test_candidates_are_bucket_mates_whose_shingle_counts_allow_the_threshold(spark):
    """Every pair sharing a bucket, with a new row in it, whose sizes could reach the
    threshold (``min + 1 >= t * max``): pruned pairs could never be near duplicates."""
    from refinery.dedup.candidates import candidate_pairs
    from refinery.spark.checkpoint import release

    rows = [  # id, band keys, n_shingles, is_new
        ("a", [1, 2], 10, True),
        ("b", [1, 3], 12, False),  # 11 >= 0.8 * 12: kept with a
        ("c", [2, 4], 40, False),  # 11 < 0.8 * 40: shares a bucket with a, but can never reach 0.8
        ("d", [3, 4], 11, False),  # shares buckets only with b and c, neither new: no pair
        ("e", [5, 6], 20, True),
        ("f", [6, 7], 20, True),  # e and f share 6: kept
        ("g", [8, 9], 5, False),  # alone
    ]
    star = [(f"s{i:02d}", [100], 10 + i, i == 0) for i in range(6)]  # a bucket over max_bucket=3
    reps = spark.createDataFrame(rows + star, "id string, bands array<long>, n_shingles int, is_new boolean")
    held: list = []
    try:
        found = {tuple(r) for r in candidate_pairs(reps, 3, held, threshold=0.8).collect()}
        unbounded = {tuple(r) for r in candidate_pairs(reps, 3, held, threshold=0.0).collect()}
    finally:
        release(*held)
    # star pairs go to the bucket's smallest id (s00, n=10): sizes 11..13 pass, 14 and 15 do not
    assert found == {("a", "b"), ("e", "f"), ("s00", "s01"), ("s00", "s02"), ("s00", "s03")}
    assert unbounded == found | {("a", "c"), ("s00", "s04"), ("s00", "s05")}
