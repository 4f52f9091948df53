"""Unit tests of :mod:`refinery.export.splits`: split counts per stratum within one unit of the
shares, the same splits whatever the order the units come in, a cluster in one split."""

from __future__ import annotations

import random

import pytest

from refinery.export.splits import (
    assign_units,
    split_bounds,
    split_counts,
    split_index,
    stable_hash,
    unit_stratum,
)

SHARES = {"train": 0.8, "validation": 0.1, "test": 0.1}


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 9, 10, 11, 99, 1001])
def test_counts_sum_to_n_and_each_is_within_one_of_its_share(n):
    counts = split_counts(n, SHARES)
    assert sum(counts.values()) == n
    assert all(abs(counts[name] - share * n) < 1 for name, share in SHARES.items())


def test_bounds_cut_ranks_into_consecutive_runs_and_a_zero_share_gets_none():
    shares = {"train": 0.75, "dev": 0.0, "test": 0.25}
    bounds = split_bounds(8, shares)
    assert bounds == [6, 6, 8]
    assert [split_index(r, bounds) for r in range(1, 9)] == [0] * 6 + [2] * 2
    with pytest.raises(ValueError):
        split_index(9, bounds)


def test_each_stratum_is_split_on_its_own_within_one_unit():
    rng = random.Random(3)
    sizes = {("news", "World"): 137, ("news", "Sports"): 13, ("sms", "spam"): 4, ("sms", "ham"): 1}
    strata = {f"{s}:{label}:{i}": (s, label) for (s, label), n in sizes.items() for i in range(n)}
    units = list(strata)
    rng.shuffle(units)
    split = assign_units({u: strata[u] for u in units}, SHARES, seed=7)
    for stratum, n in sizes.items():
        got = {name: sum(1 for u, s in strata.items() if s == stratum and split[u] == name) for name in SHARES}
        assert got == split_counts(n, SHARES)
        assert all(abs(got[name] - share * n) < 1 for name, share in SHARES.items())


def test_the_same_units_get_the_same_splits_in_any_order_and_other_seeds_differ():
    strata = {f"id{i}": ("src", "a" if i % 3 else "b") for i in range(500)}
    first = assign_units(strata, SHARES, seed=11)
    shuffled = list(strata.items())
    random.Random(5).shuffle(shuffled)
    assert assign_units(dict(shuffled), SHARES, seed=11) == first
    # a unit's split does not depend on which other strata exist
    only_b = {u: s for u, s in strata.items() if s[1] == "b"}
    assert assign_units(only_b, SHARES, seed=11) == {u: first[u] for u in only_b}
    assert assign_units(strata, SHARES, seed=12) != first


def test_a_cluster_is_one_unit_in_the_stratum_of_its_smallest_id():
    members = [("n7", ("news", "World")), ("n2", ("news", "Sports")), ("n9", ("news", "World"))]
    assert unit_stratum(members) == ("news", "Sports")
    # every row of a cluster maps to the cluster's unit, so all get its one split
    rows = {"n2": "c1", "n7": "c1", "n9": "c1", "n3": "n3", "n4": "n4"}
    split = assign_units({"c1": unit_stratum(members), "n3": ("news", "Sports"), "n4": ("news", "World")}, SHARES, 1)
    assert len({split[rows[r]] for r in ("n2", "n7", "n9")}) == 1


def test_stable_hash_is_a_fixed_signed_64_bit_value():
    assert stable_hash(1, "x") == stable_hash(1, "x") != stable_hash(2, "x")
    assert -(2**63) <= stable_hash(1, "x") < 2**63
    assert stable_hash(29, "news:n1") == int.from_bytes(
        __import__("hashlib").blake2b(b"29\x00news:n1", digest_size=8).digest(), "big", signed=True
    )
