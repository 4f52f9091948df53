"""Hashed n-gram features for the fastText-style scorer, vectorised over a whole batch.

A document becomes a *bag* of feature ids in ``[0, buckets)``:

* **word n-grams**: every token (``silver.tokens``, or whitespace words where tokens are
  missing) and every run of 2 … ``word_ngrams`` consecutive tokens;
* **character n-grams** of sizes ``char_ngrams`` over the (lower-cased) text, for documents
  of at most ``char_max_chars`` characters: short texts (titles, tweets, Chinese headlines
  whose words jieba may split oddly) carry few tokens, and their characters say more.

Each n-gram is hashed to 64 bits and reduced modulo ``buckets`` (the hashing trick: no
vocabulary to build or ship; two n-grams share a bucket with probability ``1 / buckets``).
Tokens are hashed with pandas' SipHash (``pandas.util.hash_array``, keyed, the same on every
machine and process, unlike Python's salted ``hash``); n-grams combine their members' hashes
with a polynomial and a SplitMix64 finaliser, all in numpy. The output is the flat
``(ids, offsets)`` pair that :class:`torch.nn.EmbeddingBag` takes: document ``d``'s ids are
``ids[offsets[d]:offsets[d + 1]]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from refinery.score.options import FeatureOptions

#: Key of pandas' SipHash (exactly 16 characters); changing it changes every feature id.
_HASH_KEY = "refinery-scorer1"
_MULT = np.uint64(0x9E3779B97F4A7C15)
#: Feature ids :func:`idf_weights` reads at once (128 MB of int64).
IDF_CHUNK_IDS = 1 << 24


@dataclass(frozen=True)
class Bags:
    """A batch of documents as feature-id bags: ``ids`` (int64) and ``offsets`` (int64,
    one more than the number of documents, ``offsets[-1] == len(ids)``)."""

    ids: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, rows: np.ndarray) -> Bags:
        """The bags of documents ``rows`` (indices or a boolean mask), in that order."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=np.int64)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # position of every kept id in the original array: start of its bag + rank inside it
        within = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], lengths)
        return Bags(self.ids[np.repeat(starts, lengths) + within], offsets)


def featurize(
    texts: Sequence[str | None],
    tokens: Sequence[Sequence[str] | None] | None = None,
    options: FeatureOptions | None = None,
) -> Bags:
    """The feature bags of ``texts`` (with their ``tokens``; a missing token list falls back
    to the text split on whitespace). ``None`` texts give empty bags. ``options`` default to
    :class:`FeatureOptions`'s."""
    options = options or FeatureOptions()
    strings = ["" if t is None else str(t) for t in texts]
    if options.lowercase:
        strings = [t.lower() for t in strings]
    if tokens is None:
        tokens = [None] * len(strings)
    words = [
        t.split() if toks is None else [w.lower() if options.lowercase else w for w in toks]
        for t, toks in zip(strings, tokens, strict=True)
    ]
    parts = [_word_ngrams(words, options.word_ngrams)]
    if options.char_ngrams and options.char_max_chars > 0:
        parts.append(_char_ngrams(strings, options.char_ngrams, options.char_max_chars))
    docs = np.concatenate([p[0] for p in parts])
    hashes = np.concatenate([p[1] for p in parts])
    order = np.argsort(docs, kind="stable")
    ids = (mix64(hashes[order]) % np.uint64(options.buckets)).astype(np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(docs, minlength=len(texts)), out=offsets[1:])
    return Bags(ids, offsets)


def idf_weights(bags: Bags, buckets: int, chunk_ids: int = IDF_CHUNK_IDS) -> np.ndarray:
    """Smoothed inverse document frequency of every bucket over ``bags`` (as scikit-learn's
    ``TfidfVectorizer``): ``idf_f = ln((1 + N) / (1 + df_f)) + 1``, where ``df_f`` counts the
    documents holding feature ``f`` at least once. Label-free, so it may be computed over
    every row, held-out ones included.

    ``df`` is summed over runs of whole documents of about ``chunk_ids`` ids each (a document
    lies in one run, so each counts once), so memory is bounded by the run, not by ``bags``,
    which may be memory-mapped."""
    n = len(bags)
    offsets = bags.offsets
    df = np.zeros(buckets, dtype=np.int64)
    start = 0
    while start < n:
        # the documents starting before offsets[start] + chunk_ids, at least one
        stop = int(np.searchsorted(offsets, offsets[start] + chunk_ids, side="left"))
        stop = min(max(stop, start + 1), n)
        lengths = np.diff(offsets[start : stop + 1])
        doc = np.repeat(np.arange(stop - start, dtype=np.int64), lengths)
        ids = np.asarray(bags.ids[offsets[start] : offsets[stop]], dtype=np.int64)
        df += np.bincount(np.unique(doc * np.int64(buckets) + ids) % buckets, minlength=buckets)
        start = stop
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def _word_ngrams(words: list[list[str]], max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """(document index, 64-bit hash) of every word n-gram, n = 1 … ``max_n``."""
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    flat = np.fromiter((w for ws in words for w in ws), dtype=object, count=int(lengths.sum()))
    doc = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
    if len(flat) == 0:
        return doc, np.zeros(0, dtype=np.uint64)
    unigram = pd.util.hash_array(flat, hash_key=_HASH_KEY, categorize=True)
    docs, hashes = [doc], [unigram]
    combined = unigram
    for n in range(2, max_n + 1):
        # n-gram starting at i = (n-1)-gram at i, extended by token i + n - 1 of the same document
        same_doc = doc[n - 1 :] == doc[: len(doc) - n + 1]
        combined = _combine(combined[:-1], unigram[n - 1 :], n)
        docs.append(doc[: len(doc) - n + 1][same_doc])
        hashes.append(combined[same_doc])
        combined = np.where(same_doc, combined, np.uint64(0))
    return np.concatenate(docs), np.concatenate(hashes)


def _char_ngrams(texts: list[str], sizes: tuple[int, ...], max_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """(document index, 64-bit hash) of the character n-grams of every text of at most
    ``max_chars`` characters, for each n in ``sizes``."""
    short = [t if len(t) <= max_chars else "" for t in texts]
    lengths = np.fromiter((len(t) for t in short), dtype=np.int64, count=len(short))
    codes = np.frombuffer("".join(short).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    doc = np.repeat(np.arange(len(short), dtype=np.int64), lengths)
    docs, hashes = [], []
    for n in sizes:
        h: np.ndarray
        if len(codes) < n:
            continue
        h = np.full(len(codes) - n + 1, np.uint64((0xC2B2AE3D27D4EB4F * n) & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
        for j in range(n):
            h = h * _MULT + codes[j : len(codes) - n + 1 + j]
        same_doc = doc[n - 1 :] == doc[: len(doc) - n + 1]
        docs.append(doc[: len(doc) - n + 1][same_doc])
        # distinguish a character n-gram from a word with the same letters
        hashes.append(h[same_doc] ^ np.uint64(0xA5A5A5A5A5A5A5A5))
    if not docs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(docs), np.concatenate(hashes)


def _combine(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """Hash of an n-gram from the hash of its first n-1 members and its last member
    (order-sensitive: "new york" and "york new" differ)."""
    return (left * _MULT + right) ^ np.uint64(n)


def mix64(h: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads every input bit over the output, so ``% buckets`` of
    nearby polynomial hashes is uniform."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))
