"""Unit tests of :mod:`refinery.export.manifest` and the export settings: SHA-256 of the bytes,
counts per split and label from what was read back, an atomic write, the label ids, and the
settings' checks."""

from __future__ import annotations

import hashlib
import json

import pytest

from refinery.config import ConfigError, load_settings
from refinery.export.details import ExportDetails
from refinery.export.manifest import (
    ShardFile,
    build_manifest,
    label_ids,
    rows_per_file,
    sha256_of,
    split_summary,
    write_atomically,
)
from tests.support.config_files import LOCAL


def test_sha256_streams_the_file_bytes(tmp_path):
    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 10_000  # more than one read chunk
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()
    path.write_bytes(data[:-1] + b"\x00")
    assert sha256_of(path) != hashlib.sha256(data).hexdigest()


def test_label_ids_number_the_sorted_distinct_labels():
    assert label_ids(["spam", "ham", "spam", "World"]) == {"World": 0, "ham": 1, "spam": 2}


def test_split_summary_counts_rows_per_split_and_label_from_the_files():
    files = {"train": ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"], "test": ["test-0.parquet"]}
    counted = {
        ("train-00000-of-00002.parquet", "ham"): 3,
        ("train-00001-of-00002.parquet", "ham"): 2,
        ("train-00001-of-00002.parquet", "spam"): 1,
        ("test-0.parquet", None): 4,
    }
    assert split_summary(files, counted) == {
        "train": {"rows": 6, "labels": {"ham": 5, "spam": 1}},
        "test": {"rows": 4, "labels": {"null": 4}},
    }
    assert rows_per_file(counted)["train-00001-of-00002.parquet"] == 3
    with pytest.raises(ValueError):
        split_summary(files, {("elsewhere.parquet", "ham"): 1})


def test_manifest_totals_and_an_atomic_write_that_leaves_no_temporary_file(tmp_path):
    shard = ShardFile("parquet/train-00000-of-00001.parquet", 10, 6, "ab" * 32)
    manifest = build_manifest(
        run_id="r1",
        created_at="2026-12-07T00:00:00+00:00",
        gold={"location": "/g", "version": 3},
        silver={"location": "/s", "version": 5, "recorded_from": "gold"},
        config={"seed": 1},
        columns=["id", "label"],
        labels={"ham": 0, "spam": 1},
        splits={"train": {"rows": 6, "labels": {"ham": 5, "spam": 1}}, "test": {"rows": 0, "labels": {}}},
        files={"parquet": {"train": [shard], "test": []}},
    )
    path = tmp_path / "manifest.json"
    path.write_text("old", encoding="utf-8")
    write_atomically(path, manifest)
    back = json.loads(path.read_text(encoding="utf-8"))
    assert back["rows"] == 6 and back["gold"]["version"] == 3 and back["silver"]["version"] == 5
    assert back["files"]["parquet"]["train"][0] == {
        "path": "parquet/train-00000-of-00001.parquet",
        "bytes": 10,
        "rows": 6,
        "sha256": "ab" * 32,
    }
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]

    with pytest.raises(TypeError):  # not JSON: the old file stays whole, no temporary file is left
        write_atomically(path, {"bad": object()})
    assert json.loads(path.read_text(encoding="utf-8")) == back
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_details_round_trip():
    details = ExportDetails(
        gold_version=2,
        silver_version=7,
        dir="/x/r1",
        formats=["parquet", "jsonl"],
        rows={"train": 8, "test": 1},
        files={"parquet": {"train": 2, "test": 1}, "jsonl": {"train": 3, "test": 1}},
        rewrites=1,
        labels=4,
    )
    assert ExportDetails.from_map(details.to_map()) == details


def test_settings_defaults_and_checks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_settings([LOCAL]).export
    assert cfg.formats == ["parquet"] and cfg.splits == {"train": 0.8, "validation": 0.1, "test": 0.1}
    assert cfg.dir == str(tmp_path / "data" / "exports")
    bad = {
        "export.splits={train: 0.8, test: 0.1}": "sum to 1",
        "export.splits={'a b': 1.0}": "file-name parts",
        "export.formats=[parquet, parquet]": "each format once",
        "export.formats=[csv]": "export.formats",
        "export.columns=[id, text]": "label",
        "export.max_shard_mb=0": "export.max_shard_mb",
        "export.dir=s3a://bucket/exports": "local folder",
    }
    for override, message in bad.items():
        with pytest.raises(ConfigError, match=message.replace(" ", r"\s+")):
            load_settings([LOCAL], [override])
