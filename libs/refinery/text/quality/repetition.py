"""Gopher's repetition signals of one document: how much of it is made of repeated n-grams.

Units are words (``str.split``) or, for CJK text, single non-space characters (one string: an
n-gram is then a slice). For the word n of :data:`TOP_NS` and :data:`DUP_NS` (``n`` words, or
``CJK_CHARS_PER_WORD × n`` characters):

* ``top{n}_ngram_char_share`` = (occurrences of the most frequent n-gram × its characters) /
  characters of all units, 0 unless it occurs twice (:func:`top_ngram_char_share`);
* ``dup{n}_ngram_char_share`` = characters of units inside repeated n-grams / characters of all
  units, scanned left to right as datatrove does: an n-gram seen before is counted and skipped
  whole, the first occurrence is not counted (:func:`dup_ngram_char_share`).

Those two functions are the definitions, in plain Python. :func:`ngram_shares` computes all five
shares of a document with the same results and is what the chain calls: for a long document
it hashes every n-gram at once (numpy, a polynomial hash over the units' integer ids, each
window ``h(i, n+1) = h(i, n)·B + x(i+n)`` mod 2^64, grouped by a hash table), so that only
n-grams whose hash occurs twice are looked at in Python. A hash collision cannot change a
result: the top n-gram's occurrences and every group of equal hashes the duplicate scan relies
on are compared id by id, and if any differ the definition runs instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import cast

import numpy as np
import pandas as pd

#: Word n for the top-n-gram shares (Gopher: 2, 3, 4) and the duplicate-n-gram shares (Gopher: 5..10).
TOP_NS: tuple[int, ...] = (2, 3, 4)
DUP_NS: tuple[int, ...] = (5, 10)
#: Characters per n-gram unit for CJK text = ``CJK_CHARS_PER_WORD × n``.
CJK_CHARS_PER_WORD = 2
#: Signal names, in the order :func:`ngram_shares` returns them.
NGRAM_COLUMNS: tuple[str, ...] = (
    *(f"top{n}_ngram_char_share" for n in TOP_NS),
    *(f"dup{n}_ngram_char_share" for n in DUP_NS),
)
#: Below this many units the plain definitions are faster than setting up the arrays.
HASHED_MIN_UNITS = 256

_SPACE_RE = re.compile(r"\s+")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(0xBF58476D1CE4E5B9)


def _unit_ids(documents: Sequence[Sequence[str]]) -> np.ndarray:
    """The units of ``documents``, one after another, as integers: code points for character
    strings, for words the order in which each distinct word first occurs."""
    if isinstance(documents[0], str):
        return np.frombuffer(
            "".join(cast(Sequence[str], documents)).encode("utf-32-le", "surrogatepass"), dtype=np.uint32
        ).astype(np.uint64)
    index: dict[str, int] = {}
    return np.fromiter((index.setdefault(u, len(index)) for units in documents for u in units), np.uint64)


def _first_of_groups(codes: np.ndarray) -> np.ndarray:
    """Where each group of ``codes`` (numbered in the order they first occur, as
    ``pandas.factorize`` numbers them) occurs first: a code above every one before it."""
    first = np.empty(len(codes), dtype=bool)
    first[0] = True
    np.greater(codes[1:], np.maximum.accumulate(codes)[:-1], out=first[1:])
    return first


def repetition_units(text: str, cjk: bool) -> list[str] | str:
    """Words (``str.split``) or, for CJK text, the non-space characters as one string (each
    character a unit; n-grams are then plain slices, several times cheaper than tuples)."""
    if cjk:
        return _SPACE_RE.sub("", text)
    return text.split()


def _grams(units: Sequence[str], n: int) -> Iterator[Sequence[str]]:
    """The n-grams of ``units``: slices of a string (one character a unit) or tuples of words."""
    if isinstance(units, str):
        return (units[i : i + n] for i in range(len(units) - n + 1))
    return zip(*(units[i:] for i in range(n)), strict=False)


def _total_chars(units: Sequence[str]) -> int:
    return len(units) if isinstance(units, str) else sum(map(len, units))


def top_ngram_char_share(units: Sequence[str], n: int) -> float:
    """(count × characters of the most frequent n-gram) / characters of all units; 0 unless it
    repeats. Among equally frequent n-grams, the first to occur."""
    total = _total_chars(units)
    if total == 0 or len(units) < n:
        return 0.0
    grams = Counter(_grams(units, n))
    gram, count = grams.most_common(1)[0]
    if count < 2:
        return 0.0
    return min(1.0, count * sum(map(len, gram)) / total)


def dup_ngram_char_share(units: Sequence[str], n: int) -> float:
    """Characters of units inside repeated n-grams / characters of all units (datatrove's scan:
    left to right, an n-gram seen before is counted and skipped whole)."""
    as_text = isinstance(units, str)
    total = _total_chars(units)
    if total == 0 or len(units) < n:
        return 0.0
    seen: set[Sequence[str]] = set()
    dup = 0
    i = 0
    last = len(units) - n
    while i <= last:
        gram = units[i : i + n] if as_text else tuple(units[i : i + n])
        if gram in seen:
            dup += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return dup / total


def ngram_shares(units: Sequence[str], scale: int) -> tuple[float, ...]:
    """The shares of :data:`NGRAM_COLUMNS` for word n ``× scale`` units, in that order.

    An n-gram repeats only if every shorter n-gram inside it repeats: once a size has no repeat,
    every larger size is 0 without counting (most short documents stop at the first check)."""
    sizes = [n * scale for n in (*TOP_NS, *DUP_NS)]
    tops = len(TOP_NS)
    if len(units) < HASHED_MIN_UNITS:
        shares: list[float] = []
        repeats = len(set(units)) < len(units)
        for index, n in enumerate(sizes):
            measure = top_ngram_char_share if index < tops else dup_ngram_char_share
            share = measure(units, n) if repeats else 0.0
            shares.append(share)
            repeats = share > 0
        return tuple(shares)
    return _HashedNgrams(units).shares(sizes, tops)


class _HashedNgrams:
    """One document's units as integer ids, and the rolling hash of its n-grams."""

    def __init__(self, units: Sequence[str]) -> None:
        self.units = units
        self.ids = _unit_ids([units])
        if isinstance(units, str):
            self.distinct = len(set(units))
            self.prefix = None
            self.total = len(units)
        else:
            self.distinct = int(self.ids.max()) + 1 if len(units) else 0
            lengths = np.fromiter(map(len, units), np.int64, len(units))
            self.prefix = np.concatenate(([0], np.cumsum(lengths))).tolist()
            self.total = self.prefix[-1]
        self._mixed = (self.ids + np.uint64(1)) * _MIX
        self._n = 1
        self._hash = self._mixed

    def _hashes(self, n: int) -> np.ndarray:
        """The hash of every n-gram (position 0 … len − n), extending the last one computed."""
        while self._n < n:
            self._hash = self._hash[:-1] * _BASE + self._mixed[self._n :]
            self._n += 1
        return self._hash

    def _chars(self, start: int, n: int) -> int:
        return n if self.prefix is None else self.prefix[start + n] - self.prefix[start]

    def _same(self, positions: np.ndarray, firsts: np.ndarray, n: int) -> bool:
        """Whether the n-gram at each of ``positions`` equals the one at ``firsts``, id by id."""
        offsets = np.arange(n)
        return bool(np.array_equal(self.ids[positions[:, None] + offsets], self.ids[firsts[:, None] + offsets]))

    def shares(self, sizes: list[int], tops: int) -> tuple[float, ...]:
        shares: list[float] = []
        repeats = self.distinct < len(self.units)
        for index, n in enumerate(sizes):
            if not repeats or self.total == 0 or len(self.units) < n:
                share = 0.0
            elif index < tops:
                share = self._top(n)
            else:
                share = self._dup(n)
            shares.append(share)
            repeats = share > 0
        return tuple(shares)

    def _groups(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the n-grams at positions 0 … len − n: the group of equal hashes of each (groups
        numbered in the order they first occur), each group's size, and each group's first
        position. A hash table (``pandas.factorize``), not a sort: O(len)."""
        codes, _ = pd.factorize(self._hashes(n))
        return codes, np.bincount(codes), np.flatnonzero(_first_of_groups(codes))

    def _top(self, n: int) -> float:
        """Like :func:`_top_shares`, but checking only the largest group's members: one long
        document has many repeated short n-grams, and only the top one decides the share."""
        codes, sizes, _ = self._groups(n)
        group = int(np.argmax(sizes))  # the largest group; among equal ones, the first to occur
        count = int(sizes[group])
        if count < 2:
            return 0.0
        members = np.flatnonzero(codes == group)
        if not self._same(members, np.full(count, members[0]), n):  # a hash collision
            return top_ngram_char_share(self.units, n)
        return min(1.0, count * self._chars(int(members[0]), n) / self.total)

    def _dup(self, n: int) -> float:
        codes, sizes, firsts = self._groups(n)
        # Only n-grams that occur twice can be seen again; the others change nothing in the scan.
        candidates = np.flatnonzero(sizes[codes] >= 2)
        if not len(candidates):
            return 0.0
        groups = codes[candidates]
        if not self._same(candidates, firsts[groups], n):  # a hash collision
            return dup_ngram_char_share(self.units, n)
        seen: set[int] = set()
        dup = at = 0
        for position, group in zip(candidates.tolist(), groups.tolist(), strict=True):
            if position < at:
                continue
            if group in seen:
                dup += self._chars(position, n)
                at = position + n
            else:
                seen.add(group)
                at = position + 1
        return dup / self.total


def ngram_shares_batch(documents: Sequence[Sequence[str]], scales: Sequence[int]) -> list[tuple[float, ...]]:
    """:func:`ngram_shares` of each document (its units, its scale), computed for a batch.

    A document of :data:`HASHED_MIN_UNITS` or more goes through :func:`ngram_shares`. The short
    ones are measured together, size by size, among those still repeating: the top-n-gram
    shares by :func:`_top_shares` (every n-gram of every document hashed at once), the
    duplicate shares, which few short documents reach, one by one by the definition. Most
    short documents (reviews, titles) stop at the first size."""
    sizes = (*TOP_NS, *DUP_NS)
    out: list[list[float]] = [[0.0] * len(sizes) for _ in documents]
    active: dict[int, list[int]] = {}
    for index, (units, scale) in enumerate(zip(documents, scales, strict=True)):
        if len(units) >= HASHED_MIN_UNITS:
            out[index] = list(ngram_shares(units, scale))
        elif len(set(units)) < len(units):
            active.setdefault(scale, []).append(index)
    for scale, indexes in active.items():
        for stage, size in enumerate(sizes):
            n = size * scale
            indexes = [i for i in indexes if len(documents[i]) >= n]
            if not indexes:
                break
            if stage < len(TOP_NS):
                shares = _top_shares([documents[i] for i in indexes], n)
            else:
                shares = [dup_ngram_char_share(documents[i], n) for i in indexes]
            for index, share in zip(indexes, shares, strict=True):
                out[index][stage] = share
            indexes = [i for i, share in zip(indexes, shares, strict=True) if share > 0]
    return [tuple(shares) for shares in out]


def _top_shares(documents: list[Sequence[str]], n: int) -> list[float]:
    """:func:`top_ngram_char_share` of each document (all of at least ``n`` units, all words or
    all character strings), from one hash of every n-gram of the batch.

    The n-grams are grouped by ``(document, hash)`` in a hash table, groups numbered in the order
    they first occur. A document's largest group gives the count; the first of its n-grams
    whose group is that large is the most frequent n-gram that occurs first, as
    ``Counter.most_common`` picks it. Every member of a repeated group is compared id by id
    with the group's first; a document where one differs (a collision) is measured by the
    definition."""
    ids = _unit_ids(documents)
    chars = None
    if not isinstance(documents[0], str):
        chars = np.concatenate(([0], np.cumsum(np.fromiter((len(u) for units in documents for u in units), np.int64))))
    lengths = np.fromiter(map(len, documents), np.int64, len(documents))
    ends = np.cumsum(lengths)
    mixed = (ids + np.uint64(1)) * _MIX
    hashes = mixed[: len(mixed) - n + 1].copy()
    for k in range(1, n):
        hashes = hashes * _BASE + mixed[k : len(mixed) - n + 1 + k]
    owner = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)[: len(hashes)]
    at = np.flatnonzero(np.arange(len(hashes)) + n <= ends[owner])  # n-grams inside one document
    owner = owner[at]
    codes, _ = pd.factorize(hashes[at] ^ (owner.astype(np.uint64) * _BASE))
    first_at = at[_first_of_groups(codes)]  # each group's first position
    sizes = np.bincount(codes)[codes]
    repeated = sizes >= 2
    offsets = np.arange(n)
    members, firsts = at[repeated], first_at[codes[repeated]]
    same = (ids[members[:, None] + offsets] == ids[firsts[:, None] + offsets]).all(axis=1)
    collided = set(owner[repeated][~same].tolist())
    largest = np.zeros(len(documents), dtype=np.int64)
    np.maximum.at(largest, owner, sizes)
    winners = np.flatnonzero(sizes == largest[owner])
    won_by, first_win = np.unique(owner[winners], return_index=True)  # each document's first
    winner_at = np.zeros(len(documents), dtype=np.int64)
    winner_at[won_by] = at[winners[first_win]]
    rows = zip(largest.tolist(), winner_at.tolist(), (ends - lengths).tolist(), ends.tolist(), strict=True)
    shares: list[float] = []
    for doc, (count, position, start, end) in enumerate(rows):
        if doc in collided:
            shares.append(top_ngram_char_share(documents[doc], n))
        elif count < 2:
            shares.append(0.0)
        elif chars is None:
            shares.append(min(1.0, count * n / (end - start)))
        else:
            total = chars[end] - chars[start]
            shares.append(min(1.0, count * int(chars[position + n] - chars[position]) / int(total)))
    return shares
