"""Shingles: the set of overlapping n-grams that near-duplicate detection compares.

Two documents are near duplicates when the Jaccard similarity of their shingle sets,
``J(A, B) = |A ∩ B| / |A ∪ B|``, reaches a threshold. What a shingle is depends on the script:

* **character n-grams** (default n = 3) of the canonical form (:mod:`refinery.text.canonical`:
  case-folded, punctuation and whitespace removed) for languages written without spaces between
  words (:data:`UNSEGMENTED`: Chinese, Japanese, Thai, Lao, Khmer, Burmese, Tibetan). Character
  n-grams need no segmenter and do not inherit its mistakes: ``我爱北京`` → ``我爱北 爱北京``.
* **word n-grams** (default n = 2) for every other language, over silver's ``tokens``
  (case-folded, punctuation-only tokens dropped) or, when segmentation was switched off, over the
  text split on whitespace with punctuation stripped: ``Hello, big world!`` → ``hello big``,
  ``big world``.

A document with fewer units than n gives one shingle, all its units joined (so a one-word text
still has a set); a document with none gives the empty set, which matches nothing.

Shingles are hashed to 32-bit integers with CRC-32 of their UTF-8 bytes (stable across machines
and runs, unlike Python's salted ``hash``); two different shingles share a hash with probability
2^-32 per pair, which moves a Jaccard estimate by far less than MinHash's own error.

:func:`shingles` is the definition, one document at a time; :mod:`refinery.text.shingle_hashes`
computes the same hash sets for a whole batch at once (the Spark job's path), and its tests
compare the two on real text.

Short texts make the choice of n matter: each edit changes up to n shingles, so J drops by about
``n·edits / |A ∪ B|``; small n keeps short titles and messages comparable, large n makes long
documents more selective. Both are configurable.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from refinery.text.canonical import CanonicalOptions, canonical
from refinery.text.segment import is_punctuation

#: Languages written without spaces between words: character n-grams.
UNSEGMENTED = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})
_JOIN = "\x1f"  # unit separator: cannot occur in a token, so "a b"+"c" ≠ "a"+"b c"


@dataclass(frozen=True)
class ShingleOptions:
    """n-gram sizes and the canonical form character shingles are cut from."""

    char_ngram: int = 3
    word_ngram: int = 2
    canonical: CanonicalOptions = field(default_factory=CanonicalOptions)

    def __post_init__(self) -> None:
        if self.char_ngram < 1 or self.word_ngram < 1:
            raise ValueError("ShingleOptions: char_ngram and word_ngram must be >= 1")


DEFAULT = ShingleOptions()


def uses_characters(lang: str | None) -> bool:
    """True when documents in ``lang`` are shingled by characters (see :data:`UNSEGMENTED`)."""
    return (lang or "").split("-")[0].lower() in UNSEGMENTED


def _ngrams(units: Sequence[str], n: int, joiner: str) -> set[str]:
    if not units:
        return set()
    if len(units) <= n:
        return {joiner.join(units)}
    return {joiner.join(units[i : i + n]) for i in range(len(units) - n + 1)}


def _words(text: str, tokens: Iterable[str] | None) -> list[str]:
    if tokens is None:
        stripped = (word.strip("".join(c for c in word if is_punctuation(c))) for word in text.split())
        return [word.casefold() for word in stripped if word]
    return [token.casefold() for token in tokens if token.strip() and not is_punctuation(token)]


def shingles(
    text: str, lang: str | None = None, tokens: Iterable[str] | None = None, options: ShingleOptions = DEFAULT
) -> set[str]:
    """The shingle set of one document (see the module docstring)."""
    if uses_characters(lang):
        return _ngrams(canonical(text, options.canonical), options.char_ngram, "")
    return _ngrams(_words(text, tokens), options.word_ngram, _JOIN)


def shingle_hashes(shingle_set: Iterable[str]) -> np.ndarray:
    """CRC-32 of each shingle, as a sorted, de-duplicated ``uint64`` array."""
    return np.unique(np.fromiter((zlib.crc32(s.encode("utf-8")) for s in shingle_set), dtype=np.uint64))


def jaccard(a: set | np.ndarray, b: set | np.ndarray) -> float:
    """``|A ∩ B| / |A ∪ B|`` of two sets (or two sorted unique hash arrays); 0.0 when both
    are empty (an empty document duplicates nothing)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        inter = len(np.intersect1d(a, b, assume_unique=True))
        union = len(a) + len(b) - inter
    else:
        inter = len(a & b)
        union = len(a) + len(b) - inter
    return inter / union if union else 0.0
