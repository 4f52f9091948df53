"""Surface signals of one text: repeated lines, runs of one character, characters inside URLs and
e-mail addresses, stop words per language, and ftfy's mojibake count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from refinery.text.quality.char_classes import _code_points, _joined
from refinery.text.spacy_import import spacy_module


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
