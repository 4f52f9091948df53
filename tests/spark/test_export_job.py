"""The ``export`` job on real corpus rows (SMS spam, ChnSentiCorp) in real Spark and Delta, read
by the consumers it is for: Hugging Face ``datasets`` loads the Parquet and JSONL shards with the
manifest's paths, a torch ``DataLoader`` iterates them; splits are stratified, disjoint and keep
a dedup cluster together; every shard is under the cap; a rerun gives the same files; the stage
reconciles.

One gold table for the module, in gold's schema: silver (version 0, with dedup clusters), gold
built from it with over-sampled copies of the minority classes (as ``rebalance`` writes them),
then silver rewritten without clusters (version 1, so the export must use the version gold was
built from), and two exports under one run id."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from refinery.export.splits import split_counts
from refinery.report.summary import summary_lines
from refinery.runtime.runner import EXIT_CONFIG, run_one
from refinery.spark.schemas import GOLD
from refinery.spark.tables import read_table
from tests.support.resampling_corpora import corpus_rows
from tests.support.settings import settings_in
from tests.support.spark_helpers import metrics_by_stage

SHARES = {"train": 0.8, "validation": 0.1, "test": 0.1}
CAP_MB = 0.02  # about 20 KiB: several shards per split
#: Dedup clusters of silver version 0: three clusters within one stratum, one across labels.
CLUSTERS = {
    "c_ham": [f"sms_spam:{i}" for i in (0, 25, 50, 75)],
    "c_pos": [f"chnsenticorp:{i}" for i in (0, 40, 80)],
    "c_neg": [f"chnsenticorp:{i}" for i in (7760, 7720)],
    "c_mixed": ["sms_spam:100", "sms_spam:2"],
}
COLUMNS = ["id", "text", "label", "label_id", "source", "lang", "sample_weight"]


def silver_rows() -> list[tuple]:
    """Every 25th SMS and every 40th hotel review (plus the cluster members), as silver rows."""
    cluster_of = {row_id: c for c, ids in CLUSTERS.items() for row_id in ids}
    rows = []
    for corpus, step, lang in (("sms_spam", 25, "en"), ("chnsenticorp", 40, "zh")):
        for i, (text, label) in enumerate(corpus_rows(corpus)):
            row_id = f"{corpus}:{i}"
            if i % step == 0 or row_id in cluster_of:
                rows.append((row_id, text, label, corpus, lang, cluster_of.get(row_id)))
    return rows


def gold_rows() -> list[tuple]:
    """Gold's rows (schema :data:`~refinery.spark.schemas.GOLD`) from silver version 0: spam and
    negative reviews over-sampled (3 and 2 copies), weights per class."""
    copies, weight = {"spam": 3, "negative": 2}, {"ham": 0.5, "spam": 1.5, "negative": 1.25, "positive": 0.75}
    rows = []
    for row_id, text, label, source, lang, _ in silver_rows():
        for copy in range(copies.get(label, 1)):
            values = dict(id=row_id, text=text, label=label, source=source, lang=lang, ingest_batch="b1")
            values |= dict(copy_index=copy, sample_weight=weight[label], rebalance_run="rebalance-x", silver_version=0)
            rows.append(tuple(values.get(name) for name in GOLD.names))
    return rows


@pytest.fixture(scope="module")
def exported(spark, tmp_path_factory):
    """Settings, the manifest of run ``export-a``, the manifest of the same run id run again
    with other shuffle partitions (over a stray file), and gold's rows."""
    folder = tmp_path_factory.mktemp("export")
    settings = settings_in(
        folder,
        f"export.dir={folder / 'exports'}",
        "export.formats=[parquet, jsonl]",
        f"export.max_shard_mb={CAP_MB}",
    )
    schema = "id string, text string, label string, source string, lang string, dup_cluster string"
    silver = spark.createDataFrame(silver_rows(), schema)
    silver.write.format("delta").save(settings.tables.silver)
    spark.createDataFrame(gold_rows(), GOLD).write.format("delta").save(settings.tables.gold)
    silver.withColumn("dup_cluster", F.lit(None).cast("string")).write.format("delta").mode("overwrite").save(
        settings.tables.silver
    )  # silver version 1: no clusters
    assert run_one("export", settings, spark, "export-a") == 0
    first = read_manifest(settings, "export-a")
    stray = Path(settings.export.dir) / "export-a" / "parquet" / "stray.parquet"
    stray.write_bytes(b"left over")
    spark.conf.set("spark.sql.shuffle.partitions", "5")
    try:
        assert run_one("export", settings, spark, "export-a") == 0  # the same run id again: replaced
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "2")
    gold = read_table(spark, settings.tables.gold).select("id", "label", "source", "copy_index").collect()
    return settings, first, read_manifest(settings, "export-a"), gold


def read_manifest(settings, run_id: str) -> dict:
    return json.loads((Path(settings.export.dir) / run_id / "manifest.json").read_text(encoding="utf-8"))


def data_files(settings, manifest: dict, fmt: str) -> dict[str, list[str]]:
    root = Path(settings.export.dir) / manifest["run_id"]
    return {split: [str(root / f["path"]) for f in files] for split, files in manifest["files"][fmt].items()}


def load(settings, manifest: dict, fmt: str, cache: Path):
    """The export as a ``datasets.DatasetDict``, loaded offline with the manifest's paths."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    builder = "parquet" if fmt == "parquet" else "json"
    return datasets.load_dataset(builder, data_files=data_files(settings, manifest, fmt), cache_dir=str(cache))


def split_ids(settings, manifest: dict, cache: Path) -> dict[str, list[str]]:
    loaded = load(settings, manifest, "parquet", cache)
    return {split: loaded[split]["id"] for split in loaded}


def test_datasets_loads_both_formats_with_the_manifests_counts_and_label_ids(exported, tmp_path):
    settings, manifest, _, _ = exported
    for fmt in ("parquet", "jsonl"):
        loaded = load(settings, manifest, fmt, tmp_path / fmt)
        assert set(loaded) == set(SHARES)
        for split, info in manifest["splits"].items():
            ds = loaded[split]
            assert ds.num_rows == info["rows"] > 0
            assert dict(Counter(ds["label"])) == info["labels"]
            assert ds.column_names == COLUMNS
            assert all(manifest["label_ids"][label] == i for label, i in zip(ds["label"], ds["label_id"], strict=True))
    assert manifest["label_ids"] == {"ham": 0, "negative": 1, "positive": 2, "spam": 3}
    assert manifest["columns"] == COLUMNS and manifest["config"]["splits"] == SHARES
    parquet = load(settings, manifest, "parquet", tmp_path / "p2")
    jsonl = load(settings, manifest, "jsonl", tmp_path / "j2")
    for split in SHARES:  # the same rows, in the same order, in both formats
        assert parquet[split]["id"] == jsonl[split]["id"] and parquet[split]["text"] == jsonl[split]["text"]


def test_a_torch_dataloader_iterates_the_export(exported, tmp_path):
    import torch
    from torch.utils.data import DataLoader

    settings, manifest, _, _ = exported
    train = load(settings, manifest, "parquet", tmp_path)["train"].with_format(
        "torch", columns=["label_id", "sample_weight"]
    )
    batches = []
    for batch in DataLoader(train, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0)):
        batches.append(batch)
        if len(batches) == 2:
            break
    assert len(batches) == 2
    for batch in batches:
        assert batch["label_id"].dtype == torch.int64 and batch["label_id"].shape == (32,)
        assert batch["sample_weight"].dtype == torch.float32 and bool((batch["sample_weight"] > 0).all())
        assert int(batch["label_id"].max()) < len(manifest["label_ids"])


def test_splits_are_disjoint_stratified_and_keep_clusters_and_copies_in_train(exported, tmp_path):
    settings, manifest, _, gold = exported
    ids = split_ids(settings, manifest, tmp_path)
    where = {}
    for split, split_rows in ids.items():
        for row_id in split_rows:
            assert where.setdefault(row_id, split) == split, f"{row_id} in {where[row_id]} and {split}"
    assert set(where) == {r.id for r in gold}  # every gold row is exported once in one split
    # over-sampled copies stay in train; elsewhere each row once
    copies = Counter(r.id for r in gold)
    assert any(n > 1 for n in copies.values())
    for split, split_rows in ids.items():
        if split == "train":
            assert Counter(split_rows) == Counter({i: copies[i] for i in split_rows})
        else:
            assert len(split_rows) == len(set(split_rows))
    # every cluster of silver version 0 (the one gold was built from) lies in one split
    for members in CLUSTERS.values():
        assert len({where[m] for m in members}) == 1, members
    # units (a cluster, or a row) per stratum: exactly the largest-remainder counts of the shares
    cluster_of = {m: c for c, members in CLUSTERS.items() for m in members}
    stratum = {r.id: (r.source, r.label) for r in gold}
    units: dict[str, tuple[str, str]] = {}
    for row_id in sorted(stratum):
        units.setdefault(cluster_of.get(row_id, row_id), stratum[row_id])  # the smallest id's stratum
    for cell in set(units.values()):
        in_cell = [u for u, s in units.items() if s == cell]
        unit_split = {u: where[next(i for i in stratum if cluster_of.get(i, i) == u)] for u in in_cell}
        got = Counter(unit_split.values())
        assert {s: got.get(s, 0) for s in SHARES} == split_counts(len(in_cell), SHARES), cell


def test_every_shard_is_under_the_cap_named_in_order_and_hashed(exported):
    settings, manifest, _, _ = exported
    root = Path(settings.export.dir) / manifest["run_id"]
    cap = int(CAP_MB * 2**20)
    for fmt, ext in (("parquet", "parquet"), ("jsonl", "jsonl")):
        assert len(manifest["files"][fmt]["train"]) >= 3  # the tiny cap forces several shards
        for split, files in manifest["files"][fmt].items():
            n = len(files)
            assert [Path(f["path"]).name for f in files] == [f"{split}-{i:05d}-of-{n:05d}.{ext}" for i in range(n)]
            for f in files:
                path = root / f["path"]
                assert path.stat().st_size == f["bytes"] <= cap
                assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
            assert sum(f["rows"] for f in files) == manifest["splits"][split]["rows"]
    listed = {f["path"] for by_split in manifest["files"].values() for files in by_split.values() for f in files}
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"manifest.json"}
    assert on_disk == listed  # nothing else: no staging folder, no Spark markers


def test_the_stage_reconciles_and_records_the_versions_it_read(spark, exported, tmp_path):
    settings, manifest, _, gold = exported
    row = metrics_by_stage(spark, settings, "export-a")["export"]
    ids = split_ids(settings, manifest, tmp_path)
    evaluation = set(ids["validation"]) | set(ids["test"])
    copies_left_out = sum(1 for r in gold if r.copy_index > 0 and r.id in evaluation)
    assert copies_left_out > 0
    assert row.reconciled and row.rows_in == len(gold)
    assert row.rows_out == manifest["rows"] == sum(len(v) for v in ids.values())
    assert row.filtered_by_reason == {"eval_copy": copies_left_out} and row.rows_filtered == copies_left_out
    assert manifest["gold"]["version"] == 0 and int(row.details["gold_version"]) == 0
    # silver is at version 1 now; gold was built from version 0
    assert manifest["silver"] == {"location": settings.tables.silver, "version": 0, "recorded_from": "gold"}
    assert int(row.details["silver_version"]) == 0
    assert {k: int(v) for k, v in row.details.items() if k.startswith("rows.")} == {
        f"rows.{s}": manifest["splits"][s]["rows"] for s in SHARES
    }
    # `refinery summary` names the latest export
    per_split = ", ".join(f"{s} {manifest['splits'][s]['rows']:,}" for s in SHARES)
    folder = Path(settings.export.dir) / "export-a"
    assert f"training export (gold version 0): {per_split} rows  {folder}" in summary_lines(spark, settings)


def test_a_rerun_writes_the_same_files_and_replaces_its_folder(exported):
    settings, first, again, _ = exported
    assert again["run_id"] == first["run_id"] == "export-a"
    assert again["splits"] == first["splits"]
    # the same rows in the same shards, byte for byte, with other shuffle partitions
    assert again["files"] == first["files"]
    assert not (Path(settings.export.dir) / "export-a" / "parquet" / "stray.parquet").exists()


def test_a_column_gold_lacks_exits_2(spark, exported, capsys):
    settings, _, _, _ = exported
    bad = settings.model_copy(
        update={"export": settings.export.model_copy(update={"columns": ["id", "label", "no_such_column"]})}
    )
    assert run_one("export", bad, spark, "export-bad") == EXIT_CONFIG
    assert "export.columns" in capsys.readouterr().err
    assert not (Path(settings.export.dir) / "export-bad").exists()
