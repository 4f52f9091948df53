"""The canonical form of a text for exact-duplicate detection, and its hash.

Two documents are *exact* duplicates when their canonical forms are equal. The canonical form
of an already normalized text (silver's ``text``: NFKC, repaired, PII-masked) is, by default:

1. Traditional → Simplified Chinese (optional, off by default: ``後來`` and ``后来`` then count
   as the same text, which is right for deduplication and wrong for a zh-TW corpus);
2. case-folded (``str.casefold``: ``Straße`` → ``strasse``), when ``lowercase``;
3. without punctuation (Unicode categories ``P*``: ``，。!?"'`` …), when ``strip_punct``;
4. without whitespace, separators and control characters (``Z*``, ``Cc``, ``Cf``), when
   ``strip_whitespace``.

So ``"Hello, World!"``, ``"hello world"`` and ``"HELLO  WORLD."`` share one canonical form,
``helloworld``. Symbols (``S*``: ``$ + © ¥``) and digits stay: ``$5`` and ``5`` differ.

:func:`canonical_hash` is a 128-bit BLAKE2b digest of the canonical form's UTF-8 bytes, as 32 hex
characters: equal texts give equal hashes on every machine and in every run (Python's
``hash`` is salted per process, so it cannot serve). With 2^64 documents the chance of any
collision is about 2^-1 (birthday bound), at 10^9 documents about 10^-21.

Pure Python; the Spark layer calls :func:`canonical_hash_series` per Arrow batch.
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Unicode categories removed by ``strip_punct`` (first letter ``P``) and ``strip_whitespace``.
_PUNCT = ("P",)
_SPACE = ("Zs", "Zl", "Zp", "Cc", "Cf")


@dataclass(frozen=True)
class CanonicalOptions:
    """How :func:`canonical` folds a text; frozen and picklable (shipped to Spark workers)."""

    lowercase: bool = True
    strip_punct: bool = True
    strip_whitespace: bool = True
    #: Fold Traditional Chinese into Simplified with OpenCC before comparing.
    t2s: bool = False


DEFAULT = CanonicalOptions()


@lru_cache(maxsize=4)
def _deletions(strip_punct: bool, strip_whitespace: bool) -> dict[int, None]:
    """A ``str.translate`` table deleting every code point of the stripped categories (built
    once per process over all of Unicode)."""
    prefixes = (_PUNCT if strip_punct else ()) + (_SPACE if strip_whitespace else ())
    if not prefixes:
        return {}
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)).startswith(prefixes)}


def canonical(text: str, options: CanonicalOptions = DEFAULT) -> str:
    """``text`` in canonical form (see the module docstring)."""
    if options.t2s:
        from refinery.text.normalize_steps import to_simplified

        text = to_simplified(text)
    if options.lowercase:
        text = text.casefold()
    table = _deletions(options.strip_punct, options.strip_whitespace)
    return text.translate(table) if table else text


def canonical_hash(text: str, options: CanonicalOptions = DEFAULT) -> str:
    """128-bit BLAKE2b of the canonical form, 32 hex characters."""
    return hashlib.blake2b(canonical(text, options).encode("utf-8"), digest_size=16).hexdigest()


def canonical_hash_series(texts: pd.Series, options: CanonicalOptions = DEFAULT) -> pd.Series:
    """:func:`canonical_hash` over a column; a missing text gives a missing hash."""
    import pandas as pd

    hashes = [canonical_hash(text, options) if isinstance(text, str) else None for text in texts]
    return pd.Series(hashes, index=texts.index, name=texts.name, dtype=object)
