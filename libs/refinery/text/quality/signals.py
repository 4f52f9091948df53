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
  for speed. A Chinese word is one or two characters, mostly, so for CJK
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
  high (most pairs lie inside a word); shuffled characters or random Han low. The signals'
  values per corpus are in no bench result; ``bench/quality_bench.py`` is where they would be
  measured.
* ``vowelless_word_share``: Latin words of ≥ 3 letters with none of ``aeiouy`` / Latin words of
  ≥ 3 letters (NaN when there are none): English has a few (``txt``, ``TV``); shuffled letters
  and keyboard mash have many.
* ``en_bigram_share``: adjacent letter pairs inside Latin words (case-folded) that are among the 50
  most frequent English letter bigrams (:data:`EN_BIGRAMS`, Norvig's counts over Google Books) /
  all such pairs (NaN when none). English scores high; the same letters shuffled score low,
  since a random pair hits the list only with probability Σ p(a) p(b) over its pairs.
* ``inner_caps_share``: Latin words (letter runs of ≥ 2 inside whitespace tokens that are not
  ``#hashtags``, ``@handles`` or URLs) with a capital right after a small letter (``eBay``,
  ``aTr``) / such words (NaN when none). Prose: < 0.1; shuffled characters scatter the capitals.
* The last three are NaN unless at least half of the text's letters (CJK included) are ASCII
  Latin: they describe Latin text, not a Chinese text quoting a brand.

Speed: character classes by one ``str.translate`` over a 65,536-entry table built at import
(astral characters are classed one by one); everything else is one pass of C-level regexes or
one Python loop over lines / units, so the cost is linear in the text (the quality step's time
per document: ``bench/results/chain.json``, key ``sets.<set>.chain.step_us_per_doc.quality``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from refinery.text.quality.char_classes import (
    _WORDISH_RE,
    CLASSES,
    char_class_counts,
    fallback_tokens,
    is_cjk_text,
)
from refinery.text.quality.plausibility import (
    cjk_dict_pair_shares,
    en_bigram_shares,
    inner_caps_share,
    vowelless_word_share,
)
from refinery.text.quality.repetition import CJK_CHARS_PER_WORD, NGRAM_COLUMNS, ngram_shares_batch, repetition_units
from refinery.text.quality.surface import (
    EMAIL_RE,
    URL_RE,
    _mojibake_count,
    duplicate_lines,
    matched_chars,
    max_char_runs,
    stopword_set,
)

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
    tok_values: list[Sequence[str] | None] = (
        [_as_tokens(t) for t in tokens.tolist()] if tokens is not None else [None] * n
    )
    lang_values: list[str | None] = (
        [x if isinstance(x, str) and x else None for x in langs.tolist()] if langs is not None else [None] * n
    )
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
