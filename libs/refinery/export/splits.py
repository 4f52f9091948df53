"""Deterministic, stratified train / validation / test splits: the counts and the cut points.

A *unit* is what is never divided between splits: a row's dedup cluster when it has one, else
its ``id`` (so rebalance's over-sampled copies of a row, which share its ``id``, stay together).
A unit belongs to one *stratum*, ``(source, label)``. Within a stratum of ``n`` units, the
split counts are the shares times ``n`` rounded by largest remainder (:func:`split_counts`:
each within one unit of ``share · n``, summing to ``n``); the units are ordered by a seeded
hash of the unit (then the unit itself), and the first ``c_1`` go to the first split, the next
``c_2`` to the second, and so on (:func:`split_bounds`, :func:`split_index`).

The order is a function of the unit alone, so the assignment does not depend on how the rows
are partitioned, and a rerun with the same seed gives the same splits. The ``export`` job ranks
units with Spark's ``xxhash64``; :func:`assign_units` is the same algorithm over a Python
mapping, with a stable hash of its own (:func:`stable_hash`). Pure Python.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Hashable, Iterable, Mapping
from itertools import accumulate

from refinery.labels.resampling import largest_remainder


def split_counts(n: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Units per split for a stratum of ``n`` units: ``share · n`` rounded by largest
    remainder, so the counts sum to ``n`` and each is within 1 of its exact share (ties to
    the split named first by ``repr``)."""
    return largest_remainder(dict(shares), n)


def split_bounds(n: int, shares: Mapping[str, float]) -> list[int]:
    """The cumulative counts of :func:`split_counts`, in the order of ``shares``: a unit of
    1-based rank ``r`` belongs to the first split whose bound is ``≥ r``; the last bound is ``n``."""
    counts = split_counts(n, shares)
    return list(accumulate(counts[name] for name in shares))


def split_index(rank: int, bounds: list[int]) -> int:
    """The split (its position in the shares) of the unit of 1-based ``rank`` in its stratum:
    the number of bounds below ``rank``."""
    if not 1 <= rank <= bounds[-1]:
        raise ValueError(f"rank {rank} outside 1..{bounds[-1]}")
    return bisect.bisect_left(bounds, rank)


def stable_hash(seed: int, unit: str) -> int:
    """A 64-bit hash of ``(seed, unit)`` that is the same in every process and on every machine
    (unlike Python's ``hash`` of a str)."""
    digest = hashlib.blake2b(f"{seed}\x00{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def unit_stratum(members: Iterable[tuple[str, Hashable]]) -> Hashable:
    """The stratum of a unit whose rows are ``(id, stratum)`` pairs: that of the row with the
    smallest ``id`` (a dedup cluster may span labels; it is split as one unit all the same)."""
    return min(members, key=lambda m: m[0])[1]


def assign_units(strata: Mapping[str, Hashable], shares: Mapping[str, float], seed: int) -> dict[str, str]:
    """Unit → split name for units given as unit → stratum: within each stratum, units in
    ``(stable_hash(seed, unit), unit)`` order, cut by :func:`split_bounds`."""
    by_stratum: dict[Hashable, list[str]] = {}
    for unit, stratum in strata.items():
        by_stratum.setdefault(stratum, []).append(unit)
    names = list(shares)
    result: dict[str, str] = {}
    for units in by_stratum.values():
        bounds = split_bounds(len(units), shares)
        ordered = sorted(units, key=lambda u: (stable_hash(seed, u), u))
        for rank, unit in enumerate(ordered, start=1):
            result[unit] = names[split_index(rank, bounds)]
    return result
