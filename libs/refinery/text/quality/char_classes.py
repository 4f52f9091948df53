"""Character classes of a text (letters, CJK, digits, punctuation, symbols, space), counted for a
whole batch by one ``str.translate`` over a 65,536-entry table built at import, and the fallback
tokens used when a document comes without its tokens."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

#: Languages whose repetition units are characters.
CJK_LANGS = frozenset({"zh", "ja"})
#: Without a language, a text whose CJK share reaches this is treated as CJK.
CJK_MIN_SHARE = 0.3

# --- character classes --------------------------------------------------------------------------
_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3040, 0x30FF),  # Kana
    (0x3100, 0x312F),  # Bopomofo
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31A0, 0x31FF),  # Bopomofo ext., Katakana ext.
    (0x3400, 0x4DBF),  # CJK ext. A
    (0x4E00, 0x9FFF),  # CJK unified
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility
    (0x20000, 0x323AF),  # CJK ext. B..H
)


def _class_of(ch: str) -> str:
    """One-letter class: ``A`` ASCII letter, ``L`` other letter, ``C`` CJK, ``D`` digit, ``P`` punct,
    ``S`` symbol, ``W`` space, ``O`` other."""
    cp = ord(ch)
    if ch.isascii() and ch.isalpha():
        return "A"
    cat = unicodedata.category(ch)
    if cat[0] in "LN" and any(lo <= cp <= hi for lo, hi in _CJK_RANGES):
        return "C"
    if ch.isspace() or cat[0] == "Z":
        return "W"
    return {"L": "L", "N": "D", "P": "P", "S": "S"}.get(cat[0], "O")


_TABLE = "".join(_class_of(chr(cp)) if not 0xD800 <= cp <= 0xDFFF else "O" for cp in range(0x10000))


#: The classes in the column order of :func:`char_class_counts`.
CLASSES = "ALCDPSWO"
_CLASS_INDEX = np.zeros(128, dtype=np.int64)
for _index, _letter in enumerate(CLASSES):
    _CLASS_INDEX[ord(_letter)] = _index


def _code_points(texts: Sequence[str]) -> np.ndarray:
    """The code points of ``texts`` joined by ``\n``, one array (positions as :func:`_joined`'s)."""
    return np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _joined(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For code-point arrays over ``texts`` joined by ``\n``: the owner (text index) of every
    position, whether the position is inside a text (not a separator), and each text's start."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    size = int(lengths.sum()) + len(texts) - 1
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths + 1)[:size]
    inside = np.ones(size, dtype=bool)
    inside[(starts + lengths)[:-1]] = False
    return owner, inside, starts


def char_class_counts(texts: Sequence[str]) -> np.ndarray:
    """Counts of each class of :data:`CLASSES` (see :func:`_class_of`) per text, one row per
    text: the batch translated to class letters by one ``str.translate`` over a 65,536-entry
    table (astral characters, left as they are by it, are classed one by one), counted with
    one ``bincount``. ``L`` counts every letter outside CJK, ASCII letters (``A``, also
    counted apart) included."""
    n = len(texts)
    if n == 0:
        return np.zeros((0, len(CLASSES)), dtype=np.int64)
    codes = np.frombuffer("\n".join(texts).translate(_TABLE).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    owner, inside, _ = _joined(texts)
    astral = codes >= 0x10000
    index = _CLASS_INDEX[np.where(astral, 0, codes)]
    for position in np.flatnonzero(astral).tolist():
        index[position] = CLASSES.index(_class_of(chr(int(codes[position]))))
    counts = np.bincount(owner[inside] * len(CLASSES) + index[inside], minlength=n * len(CLASSES))
    counts = counts.reshape(n, len(CLASSES))
    counts[:, CLASSES.index("L")] += counts[:, CLASSES.index("A")]
    return counts


def char_classes(text: str) -> dict[str, int]:
    """:func:`char_class_counts` of one text, by class letter."""
    return dict(zip(CLASSES, char_class_counts([text])[0].tolist(), strict=True))


# --- fallback tokens and units ------------------------------------------------------------------
_CJK_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _CJK_RANGES)
_FALLBACK_RE = re.compile(f"[{_CJK_CLASS}]|[^\\W{_CJK_CLASS}]+|[^\\w\\s]", re.UNICODE)
_WORDISH_RE = re.compile(f"[^\\W\\d_]|[{_CJK_CLASS}]")


def fallback_tokens(text: str) -> list[str]:
    """Tokens when segmentation is off: each CJK character, each run of other word characters
    (letters, digits, ``_``), each other non-space character."""
    return _FALLBACK_RE.findall(text)


def is_cjk_text(lang: str | None, cjk_share: float) -> bool:
    """Whether repetition is measured on characters (CJK) or on words."""
    if lang:
        return lang.split("-")[0].lower() in CJK_LANGS
    return cjk_share >= CJK_MIN_SHARE
