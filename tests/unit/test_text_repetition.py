"""The chain's fast paths of two quality signals give exactly what their definitions give:
:func:`refinery.text.quality.repetition.ngram_shares` (hashed n-grams) against
``top_ngram_char_share`` / ``dup_ngram_char_share``, and the windowed mojibake count against
ftfy's ``BADNESS_RE.findall`` over the whole text, on real long and short documents, built
repeats, and with every hash forced to collide. No Spark."""

from __future__ import annotations

import json
import re._parser
from pathlib import Path

import ftfy.badness
import pytest

from refinery.text.normalize import normalize
from refinery.text.quality import repetition
from refinery.text.quality.repetition import (
    DUP_NS,
    TOP_NS,
    dup_ngram_char_share,
    ngram_shares,
    repetition_units,
    top_ngram_char_share,
)
from refinery.text.quality.surface import _OUTSIDE_PLAIN_RE, BADNESS_MAX_CHARS, _mojibake_count
from tests.support.paths import corpora_dir


def _jsonl(path: Path, rows: int) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [normalize(json.loads(next(handle))["text"]).text for _ in range(rows)]


@pytest.fixture(scope="module")
def documents() -> list[str]:
    """Long Chinese articles, English posts, mixed Markdown, and built repeats."""
    root = corpora_dir()
    real = (
        _jsonl(root / "fudan_zh_articles" / "fudan_test_every3rd.jsonl", 40)
        + _jsonl(root / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl", 120)
        + _jsonl(root / "ruanyf_weekly_zh_en" / "weekly_issues.jsonl", 10)
    )
    built = [
        "今天天气很好我们去公园。" * 40,
        "one two three four five six " * 60,
        "abcabcabc" * 50,
        "x " * 400,
        "".join("ab"[bin(i).count("1") % 2] for i in range(1 << 12)),  # Thue–Morse
    ]
    return real + built


def _defined(units: list[str] | str, scale: int) -> tuple[float, ...]:
    """The shares by the definitions, with the same rule that a size without repeats ends it."""
    shares: list[float] = []
    repeats = len(set(units)) < len(units)
    for index, n in enumerate(k * scale for k in (*TOP_NS, *DUP_NS)):
        measure = top_ngram_char_share if index < len(TOP_NS) else dup_ngram_char_share
        share = measure(units, n) if repeats else 0.0
        shares.append(share)
        repeats = share > 0
    return tuple(shares)


def _all_units(documents: list[str]) -> list[tuple[list[str] | str, int]]:
    return [(repetition_units(text, cjk), 2 if cjk else 1) for text in documents for cjk in (True, False)]


def test_hashed_ngram_shares_equal_the_definitions(documents: list[str]) -> None:
    cases = [(units, scale) for units, scale in _all_units(documents) if len(units) >= repetition.HASHED_MIN_UNITS]
    assert len(cases) > 250  # most documents take the hashed path
    for units, scale in cases:
        assert ngram_shares(units, scale) == _defined(units, scale)
    assert any(ngram_shares(units, scale)[-1] > 0 for units, scale in cases)  # dup10 is reached


def test_colliding_hashes_fall_back_to_the_definitions(documents: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With every n-gram hashed alike, each check finds different ids and the definitions answer."""
    import numpy as np

    monkeypatch.setattr(repetition, "_MIX", np.uint64(0))
    monkeypatch.setattr(repetition, "_BASE", np.uint64(0))
    for units, scale in _all_units(documents[:30] + documents[-5:]):
        if len(units) >= repetition.HASHED_MIN_UNITS:
            assert ngram_shares(units, scale) == _defined(units, scale)


def test_short_documents_take_the_definitions() -> None:
    assert ngram_shares(["a", "b", "a", "b"], 1) == _defined(["a", "b", "a", "b"], 1)
    assert ngram_shares("", 2) == (0.0,) * 5


def test_the_badness_pattern_is_no_longer_than_the_reach_we_scan() -> None:
    pattern = ftfy.badness.BADNESS_RE
    assert re._parser.parse(pattern.pattern, pattern.flags).getwidth()[1] == BADNESS_MAX_CHARS


def test_windowed_mojibake_count_equals_a_whole_text_scan(documents: list[str]) -> None:
    garbled = [
        text.encode("utf-8").decode("latin-1", errors="replace")[: 40 + 7 * i] for i, text in enumerate(documents[:60])
    ]
    edge = ["Ã ab", "ab Ã ", "ГўВЂВ.a", "x" * 50 + "Ã©" + "y" * 50 + "â€œ", "“中文”—…" * 30]
    texts = documents + garbled + edge
    counted = [_mojibake_count(text) for text in texts]
    whole = [len(ftfy.badness.BADNESS_RE.findall(text)) if _OUTSIDE_PLAIN_RE.search(text) else 0 for text in texts]
    assert counted == whole
    assert sum(1 for c in counted if c) > 40  # the garbled Chinese ones, and the edge cases, are found
