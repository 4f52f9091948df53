"""Featurized shards on disk (no Spark): what the executors write is what training reads,
in order, with nothing lost or doubled when a task is retried."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from refinery.score import dataset
from refinery.score.crossfit import row_keys
from refinery.score.dataset import ShardWriter, gather_group, load_group
from refinery.score.features import featurize
from refinery.score.options import FeatureOptions

OPTIONS = FeatureOptions(buckets=1 << 12, word_ngrams=2, char_ngrams=(2,), char_max_chars=8)


def rows(start: int, n: int) -> tuple[list[str], list[str], list[list[str] | None], np.ndarray]:
    ids = [f"r{i}" for i in range(start, start + n)]
    texts = [f"text {i} " + "word " * (i % 5) for i in range(start, start + n)]
    tokens = [None if i % 3 else t.split() for i, t in zip(range(start, start + n), texts, strict=True)]
    labels = np.arange(start, start + n) % 3
    return ids, texts, tokens, labels


def write(folder, batches) -> None:
    writer = ShardWriter(folder, OPTIONS)
    for ids, texts, tokens, labels in batches:
        writer.append(pa.array(ids), texts, tokens, labels, row_keys(ids))
    assert writer.finish() == folder and writer.rows == sum(len(b[0]) for b in batches)


def test_gathered_shards_equal_one_featurization_of_all_rows(tmp_path):
    parts = [rows(0, 7), rows(7, 5), rows(12, 0), rows(12, 9)]
    write(tmp_path / "s" / "part-00000", parts[:2])  # two batches in one shard
    write(tmp_path / "s" / "part-00001", parts[2:3])  # an empty shard
    write(tmp_path / "s" / "part-00002", parts[3:])
    shards = sorted((tmp_path / "s").iterdir())
    group = gather_group(tmp_path / "g", shards)

    ids = [i for p in parts for i in p[0]]
    whole = featurize([t for p in parts for t in p[1]], [t for p in parts for t in p[2]], OPTIONS)
    assert len(group) == len(ids) == 21
    np.testing.assert_array_equal(group.bags.offsets, whole.offsets)
    np.testing.assert_array_equal(group.bags.ids, whole.ids)
    np.testing.assert_array_equal(group.labels, np.concatenate([p[3] for p in parts]))
    np.testing.assert_array_equal(group.keys, row_keys(ids))
    assert [(start, a.to_pylist()) for start, a in group.shard_ids()] == [(0, ids[:12]), (12, []), (12, ids[12:])]
    # a fresh process (a TorchDistributor worker) reads the same folder
    again = load_group(tmp_path / "g")
    np.testing.assert_array_equal(again.bags.ids, whole.ids)
    assert isinstance(again.bags.ids, np.memmap)


def test_a_retried_task_replaces_its_shard_whole(tmp_path):
    shard = tmp_path / "part-00003"
    write(shard, [rows(0, 10)])
    # the retry starts again: a half-written attempt leaves only its .partial folder behind
    ShardWriter(shard, OPTIONS).append(pa.array(["x"]), ["x"], [None], np.zeros(1), row_keys(["x"]))
    write(shard, [rows(100, 4)])
    group = gather_group(tmp_path / "g", [shard])
    assert [a.to_pylist() for _, a in group.shard_ids()] == [[f"r{i}" for i in range(100, 104)]]


def test_ids_are_copied_in_slices_of_bounded_size(tmp_path, monkeypatch):
    write(tmp_path / "part-00000", [rows(0, 40)])
    whole = gather_group(tmp_path / "whole", [tmp_path / "part-00000"])
    monkeypatch.setattr(dataset, "COPY_BYTES", 3 * 8)  # three ids per slice
    sliced = gather_group(tmp_path / "sliced", [tmp_path / "part-00000"])
    assert len(whole.bags.ids) > 3 * 10
    np.testing.assert_array_equal(sliced.bags.ids, whole.bags.ids)
