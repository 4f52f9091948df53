"""MinHash signatures and LSH banding: find pairs of documents whose shingle sets are similar
without comparing every pair.

**MinHash.** For a random permutation π of the shingle-hash universe, the chance that two sets
have the same minimum is their Jaccard similarity: ``P[min π(A) = min π(B)] = J(A, B)``. With
``k`` independent permutations, the share of equal signature positions estimates J with
standard error ``sqrt(J (1 - J) / k)`` (k = 128: ±0.035 at J = 0.8). A permutation is
approximated by the universal hash ``h_i(x) = ((a_i · x + b_i) mod p) mod 2^32`` with the
Mersenne prime p = 2^61 - 1 and ``a_i, b_i`` drawn from a seeded generator; ``a_i · x`` wraps
modulo 2^64 in ``uint64`` arithmetic, which keeps the family deterministic on every machine.

**LSH banding.** Cut the k positions into ``b`` bands of ``r`` rows (``b · r = k``). Two
documents become a *candidate pair* when all r values of at least one band agree:

    P(candidate | J = s) = 1 - (1 - s^r)^b

an S-curve whose steepest point is near ``t* ≈ (1/b)^(1/r)``. Below the configured Jaccard
threshold the curve gives *false positives* (pairs checked for nothing: they cost time, and
exact verification removes them all); above it, the gap to 1 is the *false-negative* rate,
pairs that are never compared and are lost for good. So the bands are set so that ``t*`` sits
*below* the threshold: b = 16, r = 8 (k = 128) gives t* ≈ 0.71; a pair at J = 0.8 is found with
probability 0.95, at J = 0.9 with 0.9999, while a pair at J = 0.5 is a candidate with
probability 0.06. More bands (smaller r) raise recall and the candidate count; fewer bands
the reverse. :func:`candidate_probability` and :func:`false_negative_rate` give the numbers
for any setting.

A band's r values are folded into one 64-bit key (a polynomial hash with fixed odd
multipliers); documents sharing (band index, key) fall in one bucket. Key collisions between
different band contents only add candidates, which verification removes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MERSENNE_PRIME = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint64((1 << 32) - 1)
#: Signature value of a document without shingles: larger than any real value, so an empty
#: document never shares a band with a non-empty one.
EMPTY = np.uint64(1 << 32)


@dataclass(frozen=True)
class MinHashOptions:
    """Signature length, banding and the seed of the hash family."""

    num_perm: int = 128
    bands: int = 16
    seed: int = 1

    def __post_init__(self) -> None:
        if self.num_perm < 1 or self.bands < 1 or self.num_perm % self.bands:
            raise ValueError(
                f"MinHashOptions: bands ({self.bands}) must divide num_perm ({self.num_perm}); "
                "e.g. num_perm 128 with bands 16 (8 rows each)"
            )

    @property
    def rows(self) -> int:
        """Signature positions per band, ``r = num_perm / bands``."""
        return self.num_perm // self.bands


DEFAULT = MinHashOptions()


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)``: the coefficients of the ``num_perm`` hash functions, ``a`` in [1, p), ``b``
    in [0, p), from ``numpy.random.Generator(PCG64(seed))``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(1, int(MERSENNE_PRIME), size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(MERSENNE_PRIME), size=num_perm, dtype=np.uint64)
    return a, b


def signatures(hash_sets: Sequence[np.ndarray], options: MinHashOptions = DEFAULT) -> np.ndarray:
    """MinHash signatures of many documents at once: a ``(len(hash_sets), num_perm)`` ``uint64``
    array, row i the signature of ``hash_sets[i]`` (the shingle hashes of document i)."""
    sizes = np.fromiter((len(h) for h in hash_sets), dtype=np.int64, count=len(hash_sets))
    values = (
        np.concatenate([np.asarray(h, dtype=np.uint64) for h in hash_sets])
        if sizes.sum()
        else np.zeros(0, dtype=np.uint64)
    )
    return flat_signatures(values, sizes, options)


#: Shingle hashes per block of :func:`flat_signatures`: 64k values (512 KB) and their
#: temporaries stay in a core's L2 cache through all ``num_perm`` passes.
BLOCK_VALUES = 1 << 16
_SHIFT = np.uint64(61)
_ONE = np.uint64(1)


def flat_signatures(values: np.ndarray, sizes: np.ndarray, options: MinHashOptions = DEFAULT) -> np.ndarray:
    """:func:`signatures` of documents given as one concatenated ``uint64`` array of shingle
    hashes and each document's count (``sizes``), as :func:`refinery.text.shingle_hashes.
    shingle_hash_sets` returns them.

    Vectorised over blocks of whole documents (about :data:`BLOCK_VALUES` hashes each): each
    permutation is a few numpy passes over the block plus ``np.minimum.reduceat`` over the
    document boundaries, so the cost is O(num_perm · total shingles) with no Python loop per
    document. ``(a·x + b) mod p`` is reduced without a division: for ``t < 2^64``,
    ``t = hi·2^61 + lo`` and ``2^61 ≡ 1 (mod p)``, so ``t ≡ s = lo + hi`` with ``s < 2p``;
    and as only the low 32 bits are kept, ``s - p`` (when ``s ≥ p``) is ``s + 1`` there,
    because ``2^61 ≡ 0 (mod 2^32)``: the value is ``(s + ((s + 1) >> 61)) mod 2^32``.
    """
    out = np.full((len(sizes), options.num_perm), EMPTY, dtype=np.uint64)
    present = np.flatnonzero(sizes)
    if present.size == 0:
        return out
    ends = np.cumsum(sizes[present])
    starts = ends - sizes[present]
    first = 0
    while first < len(present):
        last = max(int(np.searchsorted(ends, starts[first] + BLOCK_VALUES, side="right")), first + 1)
        block = values[starts[first] : ends[last - 1]]
        out[present[first:last]] = _block_signatures(block, starts[first:last] - starts[first], options).T
        first = last
    return out


def _block_signatures(block: np.ndarray, starts: np.ndarray, options: MinHashOptions) -> np.ndarray:
    """``(num_perm, documents)`` minimum hashes of one block (see :func:`flat_signatures`)."""
    a, b = permutations(options.num_perm, options.seed)
    out = np.empty((options.num_perm, len(starts)), dtype=np.uint64)
    t, high = np.empty_like(block), np.empty_like(block)
    with np.errstate(over="ignore"):
        for i in range(options.num_perm):
            np.multiply(block, a[i], out=t)
            np.add(t, b[i], out=t)  # a·x + b, wrapped mod 2^64
            np.right_shift(t, _SHIFT, out=high)
            np.bitwise_and(t, MERSENNE_PRIME, out=t)
            np.add(t, high, out=t)  # s = lo + hi ≡ t (mod p)
            np.add(t, _ONE, out=high)
            np.right_shift(high, _SHIFT, out=high)
            np.add(t, high, out=t)
            np.bitwise_and(t, MAX_HASH, out=t)
            out[i] = np.minimum.reduceat(t, starts)
    return out


@lru_cache(maxsize=8)
def _band_multipliers(rows: int) -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(0x5EED))
    return rng.integers(1, 1 << 63, size=rows, dtype=np.uint64) | np.uint64(1)  # odd


def band_keys(signature_rows: np.ndarray, options: MinHashOptions = DEFAULT) -> np.ndarray:
    """One 64-bit key per band: a ``(n, bands)`` ``int64`` array (Spark's ``long``). Equal band
    contents give equal keys; a document without shingles gets no usable key (its rows are all
    :data:`EMPTY`, and the caller skips it)."""
    n = signature_rows.shape[0]
    shaped = signature_rows.reshape(n, options.bands, options.rows)
    multipliers = _band_multipliers(options.rows)
    with np.errstate(over="ignore"):
        mixed = shaped * multipliers  # wraps mod 2^64
        keys = np.bitwise_xor.reduce(mixed ^ (mixed >> np.uint64(29)), axis=2) + np.arange(
            options.bands, dtype=np.uint64
        ) * np.uint64(0x9E3779B97F4A7C15)
    return keys.view(np.int64)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The share of equal positions of two signatures: an unbiased estimate of J."""
    return float(np.mean(sig_a == sig_b))


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """``1 - (1 - s^r)^b``: the chance that a pair with Jaccard ``s`` shares a band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def false_negative_rate(threshold: float, bands: int, rows: int, steps: int = 200) -> float:
    """The mean chance of *missing* a pair whose Jaccard is uniform on ``[threshold, 1]``:
    ``∫ (1 - s^r)^b ds / (1 - threshold)`` by the midpoint rule."""
    width = (1.0 - threshold) / steps
    total = sum((1.0 - (threshold + (i + 0.5) * width) ** rows) ** bands for i in range(steps))
    return total / steps


def s_curve_threshold(bands: int, rows: int) -> float:
    """``(1/b)^(1/r)``: where the S-curve is steepest (about a 50 % candidate chance)."""
    return (1.0 / bands) ** (1.0 / rows)


#: Chance, per pair at exactly the threshold, that :func:`min_sketch_matches` drops it.
SKETCH_MISS = 1e-6


def sketches(signature_rows: np.ndarray) -> np.ndarray:
    """The low byte of every signature value: a ``(n, num_perm)`` ``uint8`` array, a compact
    sketch of the signature (b-bit MinHash, b = 8; Li & König, 2010).

    Two sketches agree at a position when the MinHash values agree (probability J) or, when
    they differ, by chance in their low byte (about 1/256): ``P(agree) = J + (1 - J)/256``."""
    return (signature_rows & np.uint64(0xFF)).astype(np.uint8)


def sketch_agreements(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Positions at which each row of ``a`` equals the same row of ``b`` (two ``(n, k)``
    sketch arrays)."""
    return np.count_nonzero(a == b, axis=1)


@lru_cache(maxsize=32)
def min_sketch_matches(threshold: float, num_perm: int, miss: float = SKETCH_MISS) -> int:
    """The fewest agreeing sketch positions a pair with Jaccard ``threshold`` shows except with
    probability at most ``miss``: the largest ``m`` with ``P(X < m) ≤ miss`` for ``X ~
    Binomial(num_perm, p)``, ``p = t + (1 - t)/256`` (:func:`sketches`).

    A pair with fewer agreements has ``J < threshold`` but for that chance (a pair above the
    threshold agrees more often still), so dropping it before exact verification loses at
    most ``miss`` of the pairs at the threshold. At t = 0.8 and 128 positions, m = 79: a pair at
    J = 0.5 reaches it with probability ≈ 0.6 % (so such candidates almost all skip
    verification)."""
    p = threshold + (1.0 - threshold) / 256.0
    if p >= 1.0:
        return num_perm
    below, m = 0.0, 0
    for x in range(num_perm + 1):  # P(X = x), summed while the tail stays under miss
        term = math.comb(num_perm, x) * p**x * (1.0 - p) ** (num_perm - x)
        if below + term > miss:
            break
        below += term
        m = x + 1
    return m
