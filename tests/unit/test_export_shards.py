"""Unit tests of :mod:`refinery.export.shards`: enough shards for the cap, more after a file
over it, deterministic names."""

from __future__ import annotations

import pytest

from refinery.export.shards import FILL, MIB, cap_bytes, more_shards, shard_count, shard_name


def test_cap_is_in_mebibytes():
    assert cap_bytes(256) == 256 * MIB and cap_bytes(0.5) == MIB // 2


@pytest.mark.parametrize("size", [1, 1000, 85_000, 85_001, 10**9])
def test_shards_fill_at_most_fill_times_the_cap(size):
    cap = 100_000
    n = shard_count(size, cap)
    assert n >= 1 and size / n <= FILL * cap
    assert n == 1 or size / (n - 1) > FILL * cap  # and no more shards than that needs


def test_an_empty_split_has_no_shards_and_bad_input_fails():
    assert shard_count(0, 10) == 0
    with pytest.raises(ValueError):
        shard_count(5, 0)


def test_a_file_over_the_cap_asks_for_more_shards_in_proportion():
    assert more_shards(4, 900, 1000) == 4  # under the cap: keep
    assert more_shards(4, 1001, 1000) == 5  # just over: at least one more
    grown = more_shards(4, 3000, 1000)
    assert grown >= 4 * 3000 / (FILL * 1000)


def test_names_are_the_hub_pattern_and_sort_in_shard_order():
    names = [shard_name("train", i, 12, "parquet") for i in range(12)]
    assert names[0] == "train-00000-of-00012.parquet" and names == sorted(names)
    assert shard_name("test", 0, 1, "jsonl") == "test-00000-of-00001.jsonl"
    with pytest.raises(ValueError):
        shard_name("train", 12, 12, "parquet")
