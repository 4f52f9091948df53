"""Plausibility signals: does the text read like Chinese (adjacent Han pairs in jieba's
dictionary) or English (frequent letter bigrams, few vowelless words, no inner capitals)?
Shuffled characters and keyboard mash score low."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from refinery.text.quality.char_classes import _code_points, _joined

# --- plausibility -------------------------------------------------------------------------------
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_LATIN_WORD_RE = re.compile("[A-Za-z]{3,}")
#: A whole letter run (the words :data:`_LATIN_WORD_RE` finds) of consonants only: no ``aeiouy``.
_VOWELLESS_WORD_RE = re.compile("(?<![A-Za-z])[B-DF-HJ-NP-TV-XZb-df-hj-np-tv-xz]{3,}(?![A-Za-z])")


@lru_cache(maxsize=1)
def _jieba_prefixes() -> frozenset[str]:
    """Two-character prefixes of the words (of ≥ 2 characters, frequency > 0) of jieba's
    dictionary, read from its ``dict.txt`` as jieba reads it (``word freq [tag]`` lines, a later
    line of the same word winning), without building a jieba tokenizer (its load time:
    ``bench/results/segment.json``, key ``load_seconds.jieba_without_cache``)."""
    from importlib.resources import files

    freq: dict[str, int] = {}
    with (files("jieba") / "dict.txt").open("rb") as handle:
        for line in handle:
            word, count = line.strip().decode("utf-8").split(" ")[:2]
            freq[word] = int(count)
    return frozenset(word[:2] for word, count in freq.items() if count and len(word) >= 2)


@lru_cache(maxsize=1)
def _jieba_prefix_keys() -> pd.Index:
    """:func:`_jieba_prefixes` as integers ``ord(a) << 32 | ord(b)``, in an index whose hash
    table answers a batch's lookups at once (``get_indexer``: -1 for a key not there)."""
    return pd.Index(np.fromiter(((ord(p[0]) << 32) | ord(p[1]) for p in _jieba_prefixes()), np.uint64))


def cjk_dict_pair_shares(texts: Sequence[str]) -> np.ndarray:
    """``cjk_dict_pair_share`` of each text: adjacent Han pairs (``_HAN_RANGES``: CJK ext. A,
    unified, compatibility) found among jieba's two-character word prefixes / adjacent Han pairs;
    NaN where a text has none.
    One pass over the batch's code points (the ``\n`` between texts is not Han, so no pair
    crosses two texts); the pairs are looked up together in a hash table of the prefixes."""
    n = len(texts)
    if n == 0:
        return np.empty(0)
    codes = _code_points(texts)
    owner, _, _ = _joined(texts)
    han = np.zeros(len(codes), dtype=bool)
    for low, high in _HAN_RANGES:
        han |= (codes >= low) & (codes <= high)
    at = np.flatnonzero(han[:-1] & han[1:])
    keys = (codes[at].astype(np.uint64) << np.uint64(32)) | codes[at + 1]
    found = _jieba_prefix_keys().get_indexer(keys) >= 0
    totals = np.bincount(owner[at], minlength=n)
    hits = np.bincount(owner[at[found]], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, hits / totals, np.nan)


def cjk_dict_pair_share(text: str) -> float:
    """:func:`cjk_dict_pair_shares` of one text."""
    return float(cjk_dict_pair_shares([text])[0])


#: The 50 most frequent English letter bigrams (Norvig, "English Letter Frequency Counts", 2012).
_EN_BIGRAMS_TEXT = (
    "th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de "
    "hi ri ro ic ne ea ra ce li ch ll be ma si om ur"
)
EN_BIGRAMS = frozenset(_EN_BIGRAMS_TEXT.split())
_LATIN_RUN_RE = re.compile("[A-Za-z]{2,}")


def _bigram_table() -> np.ndarray:
    """``table[a * 256 + b]``: whether ASCII characters ``a b`` form one of :data:`EN_BIGRAMS`."""
    table = np.zeros(1 << 16, dtype=bool)
    for pair in EN_BIGRAMS:
        table[ord(pair[0]) << 8 | ord(pair[1])] = True
    return table


_EN_BIGRAM_TABLE = _bigram_table()


def en_bigram_share(text: str) -> float:
    """Letter pairs inside Latin words in :data:`EN_BIGRAMS` / letter pairs inside Latin words
    (NaN if none); words are joined by spaces, so no pair spans two words."""
    return en_bigram_shares([text])[0]


_INNER_CAP_RE = re.compile("[a-z][A-Z]")
#: A whole letter run (a word :data:`_LATIN_RUN_RE` finds) with a small letter before a capital.
_INNER_CAP_WORD_RE = re.compile("(?<![A-Za-z])[A-Za-z]*?[a-z][A-Z][A-Za-z]*")


def inner_caps_share(text: str) -> float:
    """Latin words with a small letter followed by a capital / Latin words (see the module docstring)."""
    if "#" in text or "@" in text or "://" in text or "www." in text.lower():
        words = [
            run
            for token in text.split()
            if token[0] not in "#@" and "://" not in token and not token.lower().startswith("www.")
            for run in _LATIN_RUN_RE.findall(token)
        ]
        if not words:
            return float("nan")
        return sum(1 for w in words if _INNER_CAP_RE.search(w)) / len(words)
    # no token is left out, and a letter run never crosses a space: the text's runs
    runs = len(_LATIN_RUN_RE.findall(text))
    if not runs:
        return float("nan")
    if _INNER_CAP_RE.search(text) is None:  # a small letter before a capital lies inside one run
        return 0.0
    return len(_INNER_CAP_WORD_RE.findall(text)) / runs


def vowelless_word_share(text: str) -> float:
    """Latin words of ≥ 3 letters without a vowel (``aeiouy``) / such words (NaN if none)."""
    words = len(_LATIN_WORD_RE.findall(text))
    if not words:
        return float("nan")
    return len(_VOWELLESS_WORD_RE.findall(text)) / words


def en_bigram_shares(texts: Sequence[str]) -> list[float]:
    """:func:`en_bigram_share` of each text, every letter pair of the batch looked up at once."""
    joined = [" ".join(_LATIN_RUN_RE.findall(text)).lower() for text in texts]
    if not any(joined):
        return [float("nan")] * len(texts)
    # A NUL between texts: no pair that holds it (or the space between words) is a bigram.
    codes = np.frombuffer("\0".join(joined).encode("ascii"), dtype=np.uint8).astype(np.uint16)
    hit_at = np.flatnonzero(_EN_BIGRAM_TABLE[codes[:-1] << 8 | codes[1:]])
    lengths = np.fromiter(map(len, joined), np.int64, len(joined))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    hits = np.bincount(np.searchsorted(starts, hit_at, side="right") - 1, minlength=len(texts)).tolist()
    shares = []
    for text, length, hit in zip(joined, lengths.tolist(), hits, strict=True):
        words = text.count(" ") + 1 if text else 0
        shares.append(hit / (length - 2 * words + 1) if words else float("nan"))  # Σ (len(word) - 1)
    return shares
