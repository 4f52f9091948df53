"""Per-document quality signals: the numbers the quality rules (:mod:`.rules`) compare with thresholds.

Why: raw forum, web and app text carries documents no label can save (unrepaired mojibake,
keyboard mash, symbol floods, repeated lines, boilerplate, bare digits or URLs). Gopher
(Rae et al. 2021), C4, NeMo Curator and data-juicer all filter them with cheap per-document
statistics; these are ours, computed on the chain's normalized (and masked) text.

Columns of :func:`quality_signals` (one row per document; shares are in ``[0, 1]`` and are 0 for
an empty or missing text):

* ``n_chars`` (int, code points), ``n_tokens`` (int, tokens), ``n_lines`` (int, non-blank lines),
  ``tokens_fallback`` (bool: ``tokens`` was ``None`` and :func:`fallback_tokens` was used).
* Character classes, each = characters of the class / ``n_chars``: ``letter_share`` (Unicode
  ``L*`` outside CJK), ``cjk_share`` (Han, Kana, Hangul, Bopomofo), ``digit_share`` (``N*``),
  ``punct_share`` (``P*``), ``symbol_share`` (``S*``), ``space_share`` (``Z*`` and whitespace
  controls); the rest (other controls, marks, unassigned) is ``1 -`` their sum.
* ``replacement_share``: U+FFFD / ``n_chars``. ``mojibake_share``: ftfy's badness (count of
  character sequences that are unlikely outside mojibake, ``ftfy.badness.badness``) / ``n_chars``.
* ``max_char_run`` (int): the longest run of one repeated character (``!!!!!`` → 5).
* Gopher's repetition measures over *units*: words (whitespace-separated, as Gopher) or, for CJK
  text (language ``zh``/``ja``, or no language and ``cjk_share`` ≥ 0.3), single non-space characters.
  ``dup_line_share`` = repeated non-blank lines / non-blank lines and ``dup_line_char_share`` =
  characters of repeated lines / characters of non-blank lines (lines stripped; the first
  occurrence is not a repeat, so ``a\\na\\nb\\nc`` gives 1/4 and 1/4 with one-character lines).
  ``top{n}_ngram_char_share`` = (occurrences of the most frequent n-gram × its characters) /
  characters of all units, 0 when no n-gram occurs twice. ``dup{n}_ngram_char_share`` =
  characters of units inside repeated n-grams (scanned left to right, a repeat is counted and
  skipped whole, the first occurrence not counted, as datatrove) / characters of all units.
  ``n`` is the word n: 2, 3, 4 (top) and 5, 10 (duplicate), a subset of Gopher's 2..4 and 5..10
  for speed. A Chinese word is ≈ 1.5-1.7 characters (jieba on THUCNews/ChnSentiCorp), so for CJK
  units the n-gram is ``2 n`` characters (4, 6, 8 and 10, 20): the same span of text.
* ``url_share``, ``email_share``: characters inside URLs (``scheme://…``, ``www.…``) / e-mail
  addresses / ``n_chars``. PII masking runs before this, so masked e-mails read as ``[EMAIL]``;
  the share then measures only what the masker left.
* ``word_share``: word tokens (holding a letter, CJK or not) / tokens; ``mean_token_len``: mean
  characters per word token; ``stopword_share``: word tokens in the stop-word list of the
  document's language (``zh``: spaCy's Chinese list, anything else: spaCy's English list; no
  language: both) / word tokens. With fallback tokens every CJK character is a token, so only
  one-character Chinese stop words (的, 了, 是 …) can match.

* ``cjk_dict_pair_share``: adjacent Han character pairs that are a word or the start of a word
  in jieba's dictionary / all adjacent Han pairs (NaN when the text has none). Chinese text scores
  high (≈ 0.5-0.7: most pairs lie inside a word); shuffled characters or random Han low (≈ 0.1-0.2).
* ``vowelless_word_share``: Latin words of ≥ 3 letters with none of ``aeiouy`` / Latin words of
  ≥ 3 letters (NaN when there are none): English has a few (``txt``, ``TV``); shuffled letters
  and keyboard mash have many.
* ``en_bigram_share``: adjacent letter pairs inside Latin words (case-folded) that are among the 50
  most frequent English letter bigrams (:data:`EN_BIGRAMS`, Norvig's counts over Google Books) /
  all such pairs (NaN when none). English ≈ 0.4-0.6; the same letters shuffled ≈ 0.2-0.3, since
  a random pair hits the list only with probability Σ p(a) p(b) over its pairs.
* ``inner_caps_share``: Latin words (letter runs of ≥ 2 inside whitespace tokens that are not
  ``#hashtags``, ``@handles`` or URLs) with a capital right after a small letter (``eBay``,
  ``aTr``) / such words (NaN when none). Prose: < 0.1; shuffled characters scatter the capitals.
* The last three are NaN unless at least half of the text's letters (CJK included) are ASCII
  Latin: they describe Latin text, not a Chinese text quoting a brand.

Speed: character classes by one ``str.translate`` over a 65,536-entry table built at import
(astral characters are classed one by one); everything else is one pass of C-level regexes or
one Python loop over lines / units, so a 1 MB document costs a fraction of a second.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from refinery.text.quality.repetition import CJK_CHARS_PER_WORD, NGRAM_COLUMNS, ngram_shares_batch, repetition_units
from refinery.text.spacy_import import spacy_module

#: Languages whose repetition units are characters.
CJK_LANGS = frozenset({"zh", "ja"})
#: Without a language, a text whose CJK share reaches this is treated as CJK.
CJK_MIN_SHARE = 0.3

CLASS_COLUMNS = ("letter_share", "cjk_share", "digit_share", "punct_share", "symbol_share", "space_share")
SIGNAL_COLUMNS: tuple[str, ...] = (
    "n_chars",
    "n_tokens",
    "n_lines",
    "tokens_fallback",
    *CLASS_COLUMNS,
    "replacement_share",
    "mojibake_share",
    "max_char_run",
    "dup_line_share",
    "dup_line_char_share",
    *NGRAM_COLUMNS,
    "url_share",
    "email_share",
    "word_share",
    "mean_token_len",
    "stopword_share",
    "cjk_dict_pair_share",
    "vowelless_word_share",
    "en_bigram_share",
    "inner_caps_share",
)
#: Signals that are counts (integers) and flags (booleans); every other signal is a float.
INT_SIGNALS: frozenset[str] = frozenset({"n_chars", "n_tokens", "n_lines", "max_char_run"})
BOOL_SIGNALS: frozenset[str] = frozenset({"tokens_fallback"})

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


# --- repetition ---------------------------------------------------------------------------------
def duplicate_lines(text: str) -> tuple[int, float, float]:
    """``(non-blank lines, repeated-line share, repeated-line character share)``; lines are stripped."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return 0, 0.0, 0.0
    seen: set[str] = set()
    dup_lines = dup_chars = total = 0
    for line in lines:
        total += len(line)
        if line in seen:
            dup_lines += 1
            dup_chars += len(line)
        else:
            seen.add(line)
    return len(lines), dup_lines / len(lines), dup_chars / total


# --- URLs, e-mails, runs ------------------------------------------------------------------------
URL_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]{1,15}://|www\.)[^\s<>\"]+", re.IGNORECASE)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")


def matched_chars(pattern: re.Pattern[str], text: str) -> int:
    """Characters covered by the (non-overlapping) matches of ``pattern``."""
    return sum(m.end() - m.start() for m in pattern.finditer(text))


def max_char_runs(texts: Sequence[str]) -> list[int]:
    """For each text, the length of its longest run of one repeated character (0 for an empty
    text), from one pass over the batch's code points: a run starts where a code point differs
    from the one before it, or where a text starts."""
    if not texts:
        return []
    codes = _code_points(texts)
    owner, inside, starts = _joined(texts)
    begins = np.ones(len(codes), dtype=bool)
    np.not_equal(codes[1:], codes[:-1], out=begins[1:])
    begins[starts[starts < len(codes)]] = True  # (an empty last text starts past the end)
    begins[~inside] = True  # a separator is its own run, and so is what follows it
    run_starts = np.flatnonzero(begins)
    run_lengths = np.diff(np.append(run_starts, len(codes)))
    kept = inside[run_starts]
    longest = np.zeros(len(texts), dtype=np.int64)
    np.maximum.at(longest, owner[run_starts[kept]], run_lengths[kept])
    return longest.tolist()


def max_char_run(text: str) -> int:
    """:func:`max_char_runs` of one text."""
    return max_char_runs([text])[0]


# --- stop words ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def stop_words() -> dict[str, frozenset[str]]:
    """spaCy's stop-word lists (``spacy.lang.{en,zh}.stop_words``: data in the wheel, no download)."""
    spacy_module()  # spaCy's package first, without torch
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.zh.stop_words import STOP_WORDS as ZH

    return {"en": frozenset(w.lower() for w in EN), "zh": frozenset(ZH)}


def stopword_set(lang: str | None) -> frozenset[str]:
    """The list for ``lang``: ``zh`` → Chinese, another language → English, none → both."""
    lists = stop_words()
    if not lang:
        return lists["en"] | lists["zh"]
    return lists["zh"] if lang.split("-")[0].lower() == "zh" else lists["en"]


# --- plausibility -------------------------------------------------------------------------------
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_LATIN_WORD_RE = re.compile("[A-Za-z]{3,}")
#: A whole letter run (the words :data:`_LATIN_WORD_RE` finds) of consonants only: no ``aeiouy``.
_VOWELLESS_WORD_RE = re.compile("(?<![A-Za-z])[B-DF-HJ-NP-TV-XZb-df-hj-np-tv-xz]{3,}(?![A-Za-z])")


@lru_cache(maxsize=1)
def _jieba_prefixes() -> frozenset[str]:
    """Two-character prefixes of the words (of ≥ 2 characters, frequency > 0) of jieba's
    dictionary, read from its ``dict.txt`` as jieba reads it (``word freq [tag]`` lines, a later
    line of the same word winning), without building a jieba tokenizer (≈ 0.5 s, 100 MB)."""
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
    words = len(_LATIN_RUN_RE.findall(text))
    if not words:
        return float("nan")
    if _INNER_CAP_RE.search(text) is None:  # a small letter before a capital lies inside one run
        return 0.0
    return len(_INNER_CAP_WORD_RE.findall(text)) / words


def vowelless_word_share(text: str) -> float:
    """Latin words of ≥ 3 letters without a vowel (``aeiouy``) / such words (NaN if none)."""
    words = len(_LATIN_WORD_RE.findall(text))
    if not words:
        return float("nan")
    return len(_VOWELLESS_WORD_RE.findall(text)) / words


# --- one document -------------------------------------------------------------------------------
#: Characters none of ftfy's mojibake sequences is made of only: ASCII, CJK punctuation, CJK
#: unified ideographs, full-width forms. Every alternative of its pattern needs one other character
#: (Latin-1, Latin Extended, Greek, Cyrillic, box drawing, symbols …), so text without one has none.
_OUTSIDE_PLAIN_RE = re.compile("[^\x00-\x7f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


#: The longest match of ftfy's badness pattern (``ГўВЂВ.[A-Za-z ]``: 7 characters; a test reads
#: it off the pattern).
BADNESS_MAX_CHARS = 7


def _mojibake_count(text: str) -> int:
    """``len(ftfy.badness.BADNESS_RE.findall(text))``, scanning only near the characters outside
    :data:`_OUTSIDE_PLAIN_RE`: every match holds one and is at most :data:`BADNESS_MAX_CHARS`
    long, so it lies within that reach of one. Overlapping reaches are merged into one span and
    each span is scanned with ``findall(text, start, end)``, which keeps ``^`` at the real start
    of the text; the count is the whole scan's. (Chinese text holds “ ” — … outside the plain
    ranges: a long article is scanned a few characters at a time, not whole.)"""
    if _OUTSIDE_PLAIN_RE.search(text) is None:  # most texts: nothing to scan
        return 0
    anchors = [match.start() for match in _OUTSIDE_PLAIN_RE.finditer(text)]
    import ftfy.badness

    scan = ftfy.badness.BADNESS_RE.findall
    reach = BADNESS_MAX_CHARS - 1
    count = 0
    start, end = max(anchors[0] - reach, 0), anchors[0] + reach + 1
    for anchor in anchors[1:]:
        if anchor - reach > end:
            count += len(scan(text, start, end))
            start = anchor - reach
        end = anchor + reach + 1
    return count + len(scan(text, start, min(end, len(text))))


def _word_tokens(tokens: Sequence[str]) -> list[str]:
    """The tokens that are strings and not blank."""
    try:
        return list(filter(str.strip, tokens))
    except TypeError:  # a token that is not a string
        return [t for t in tokens if isinstance(t, str) and t.strip()]


def _shares(numerators: Sequence[int] | np.ndarray, lengths: np.ndarray) -> list[float]:
    """``numerator / n_chars`` per document, 0 for an empty one."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lengths > 0, np.asarray(numerators, dtype=np.float64) / lengths, 0.0).tolist()


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


def _signal_columns(
    texts: list[str], tokens: list[Sequence[str] | None], langs: list[str | None]
) -> dict[str, list[Any]]:
    """:data:`SIGNAL_COLUMNS` of a batch, column by column (Python values, NaN for undefined):
    character classes, runs, Han pairs, English letter pairs and repetition over the whole
    batch at once, the rest document by document."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    counts = char_class_counts(texts)
    column = {name: counts[:, CLASSES.index(name)] for name in CLASSES}
    toks = [fallback_tokens(text) if t is None else _word_tokens(t) for text, t in zip(texts, tokens, strict=True)]
    out: dict[str, list[Any]] = {
        "n_chars": lengths.tolist(),
        "n_tokens": [len(t) for t in toks],
        "tokens_fallback": [t is None for t in tokens],
        "letter_share": _shares(column["L"], lengths),
        "cjk_share": _shares(column["C"], lengths),
        "digit_share": _shares(column["D"], lengths),
        "punct_share": _shares(column["P"], lengths),
        "symbol_share": _shares(column["S"], lengths),
        "space_share": _shares(column["W"], lengths),
        "replacement_share": _shares([text.count("\ufffd") for text in texts], lengths),
        "mojibake_share": _shares([_mojibake_count(text) for text in texts], lengths),
        "max_char_run": max_char_runs(texts),
        # A URL needs "://" or "www.", an address "@": most texts skip both scans.
        "url_share": _shares(
            [matched_chars(URL_RE, t) if "://" in t or "www." in t.lower() else 0 for t in texts], lengths
        ),
        "email_share": _shares([matched_chars(EMAIL_RE, t) if "@" in t else 0 for t in texts], lengths),
    }
    lines = [duplicate_lines(text) for text in texts]
    for index, name in enumerate(("n_lines", "dup_line_share", "dup_line_char_share")):
        out[name] = [line[index] for line in lines]
    cjk = [is_cjk_text(lang, share) for lang, share in zip(langs, out["cjk_share"], strict=True)]
    units = [repetition_units(text, c) for text, c in zip(texts, cjk, strict=True)]
    shares = ngram_shares_batch(units, [CJK_CHARS_PER_WORD if c else 1 for c in cjk])
    for index, name in enumerate(NGRAM_COLUMNS):
        out[name] = [share[index] for share in shares]
    words = [[t for t in doc if t.isalpha() or _WORDISH_RE.search(t)] for doc in toks]  # isalpha: the fast case
    out["word_share"] = [len(w) / len(t) if t else 0.0 for w, t in zip(words, toks, strict=True)]
    out["mean_token_len"] = [sum(map(len, w)) / len(w) if w else 0.0 for w in words]
    out["stopword_share"] = [
        sum(map(stopword_set(lang).__contains__, map(str.lower, w))) / len(w) if w else 0.0
        for w, lang in zip(words, langs, strict=True)
    ]
    out["cjk_dict_pair_share"] = cjk_dict_pair_shares(texts).tolist()
    # Word-shape signals of Latin text only: a Chinese text quoting "iPhone" is not mash.
    letters = column["L"] + column["C"]
    latin = np.flatnonzero((letters > 0) & (2 * column["A"] >= letters)).tolist()
    latin_texts = [texts[i] for i in latin]
    for name, values in (
        ("vowelless_word_share", [vowelless_word_share(t) for t in latin_texts]),
        ("en_bigram_share", en_bigram_shares(latin_texts)),
        ("inner_caps_share", [inner_caps_share(t) for t in latin_texts]),
    ):
        out[name] = [float("nan")] * len(texts)
        for i, value in zip(latin, values, strict=True):
            out[name][i] = value
    return {name: out[name] for name in SIGNAL_COLUMNS}


def document_signals(text: str | None, tokens: Sequence[str] | None = None, lang: str | None = None) -> dict[str, Any]:
    """The :data:`SIGNAL_COLUMNS` of one document (see the module docstring for definitions)."""
    columns = _signal_columns([text if isinstance(text, str) else ""], [tokens], [lang or None])
    return {name: values[0] for name, values in columns.items()}


def quality_signals(texts: pd.Series, tokens: pd.Series | None = None, langs: pd.Series | None = None) -> pd.DataFrame:
    """One row of :data:`SIGNAL_COLUMNS` per document, with the index of ``texts``.

    ``tokens`` is the chain's segmentation (lists of strings), matched by position; ``None`` (the
    column, or one row) means segmentation was off and :func:`fallback_tokens` is used
    (``tokens_fallback`` says so). ``langs`` are language codes; missing means unknown.
    """
    n = len(texts)
    for name, other in (("tokens", tokens), ("langs", langs)):
        if other is not None and len(other) != n:
            raise ValueError(f"quality_signals: {n} texts but {len(other)} {name}")
    tok_values = [_as_tokens(t) for t in tokens.tolist()] if tokens is not None else [None] * n
    lang_values = [x if isinstance(x, str) and x else None for x in langs.tolist()] if langs is not None else [None] * n
    text_values = [t if isinstance(t, str) else "" for t in texts.tolist()]
    frame = pd.DataFrame(_signal_columns(text_values, tok_values, lang_values), index=texts.index)
    if n == 0:
        kinds = {c: "int64" if c in INT_SIGNALS else "bool" if c in BOOL_SIGNALS else "float64" for c in frame}
        frame = frame.astype(kinds)
    return frame


def signal_records(signals: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a :func:`quality_signals` frame as plain dicts (one per document, in order),
    with Python ``int``/``bool``/``float`` values and ``None`` for an undefined share (NaN):
    the form a Spark struct column takes through Arrow, where NaN would be a number, not null."""
    columns = []
    for name in signals.columns:
        values = signals[name].tolist()  # Python int, bool and float
        if name in INT_SIGNALS:
            values = [int(v) for v in values]
        elif name in BOOL_SIGNALS:
            values = [bool(v) for v in values]
        else:
            values = [None if v != v else float(v) for v in values]  # NaN is the one value unequal to itself
        columns.append(values)
    names = list(signals.columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _as_tokens(value: Any) -> list[str] | None:
    """A list from a list, tuple or numpy array (Arrow gives arrays); ``None`` for a missing value."""
    if value is None or isinstance(value, str | float):
        return None
    try:
        return list(value)
    except TypeError:
        return None
