"""Quality signals and rules (:mod:`refinery.text.quality`) without Spark: each signal on small
hand-made texts (expected values from the formula, computed here), edge cases (missing, empty,
huge, astral and lone-surrogate text), rule application and the config parser's errors. The
tuning run on the shared corpora is ``tests/e2e/test_text_quality_corpora.py``."""

from __future__ import annotations

import math
import time

import pandas as pd
import pytest

from refinery.text.quality import (
    DEFAULT_RULES,
    SIGNAL_COLUMNS,
    QualityRule,
    QualityRuleError,
    apply_quality_rules,
    configured_rules,
    document_signals,
    drop_rule_names,
    is_dropped,
    parse_rules,
    quality_signals,
    violations,
)
from refinery.text.quality.char_classes import fallback_tokens
from refinery.text.quality.plausibility import EN_BIGRAMS
from refinery.text.quality.repetition import dup_ngram_char_share, top_ngram_char_share


def sig(text: str | None, tokens: list[str] | None = None, lang: str | None = None) -> dict:
    return document_signals(text, tokens, lang)


# --- signals ---------------------------------------------------------------------------------------
def test_character_class_shares_follow_the_counts() -> None:
    text = "ab 中文 12，!★"  # letters a b; CJK 中 文; digits 1 2; punct ， !; symbol ★; 2 spaces
    s = sig(text)
    n = len(text)
    assert s["n_chars"] == n
    assert s["letter_share"] == pytest.approx(2 / n)
    assert s["cjk_share"] == pytest.approx(2 / n)
    assert s["digit_share"] == pytest.approx(2 / n)
    assert s["punct_share"] == pytest.approx(2 / n)
    assert s["symbol_share"] == pytest.approx(1 / n)
    assert s["space_share"] == pytest.approx(text.count(" ") / n)
    classes = ("letter_share", "cjk_share", "digit_share", "punct_share", "symbol_share", "space_share")
    assert sum(s[c] for c in classes) == pytest.approx(1.0)


def test_astral_characters_are_classed() -> None:
    text = "𠀀😀a"  # CJK ext. B, emoji (symbol), letter
    s = sig(text)
    assert s["cjk_share"] == pytest.approx(1 / 3)
    assert s["symbol_share"] == pytest.approx(1 / 3)
    assert s["letter_share"] == pytest.approx(1 / 3)


def test_replacement_and_mojibake_shares() -> None:
    text = "ab\ufffd\ufffd"
    assert sig(text)["replacement_share"] == pytest.approx(2 / 4)
    clean = sig("The café is open.")
    garbled = sig("The cafÃ© is open. Ã¢â‚¬Å“quoteÃ¢â‚¬\x9d")
    assert clean["mojibake_share"] == 0.0
    assert garbled["mojibake_share"] > 0.0


def test_longest_character_run() -> None:
    assert sig("ab!!!!!c")["max_char_run"] == 5
    assert sig("abc")["max_char_run"] == 1
    assert sig("")["max_char_run"] == 0
    assert sig("x\n\n\n")["max_char_run"] == 3


def test_duplicate_lines_count_repeats_only() -> None:
    text = "hello\nhello\nworld\nhi"  # the second "hello" is the one repeat
    s = sig(text)
    assert s["n_lines"] == 4
    assert s["dup_line_share"] == pytest.approx(1 / 4)
    assert s["dup_line_char_share"] == pytest.approx(len("hello") / len("hellohelloworldhi"))
    two_of_four = sig("aa\nbb\naa\nbb")
    assert two_of_four["dup_line_share"] == pytest.approx(2 / 4)
    assert two_of_four["dup_line_char_share"] == pytest.approx(4 / 8)


def test_top_ngram_share_by_the_formula() -> None:
    units = ["the", "cat", "the", "cat", "sat"]
    total = sum(map(len, units))  # 3+3+3+3+3
    assert top_ngram_char_share(units, 2) == pytest.approx(2 * len("thecat") / total)
    assert top_ngram_char_share(["a", "b", "c", "d"], 2) == 0.0  # no bigram repeats
    assert top_ngram_char_share(["a"], 2) == 0.0


def test_duplicate_ngram_share_scans_like_datatrove() -> None:
    units = list("abcabcx")  # the second abc is a repeat of the first
    assert dup_ngram_char_share(units, 3) == pytest.approx(3 / 7)
    assert dup_ngram_char_share("abcabcx", 3) == pytest.approx(3 / 7)  # characters as units
    assert top_ngram_char_share("abcabcx", 3) == pytest.approx(2 * 3 / 7)
    assert dup_ngram_char_share(list("abcdefg"), 3) == 0.0
    # Overlapping repeats are counted once: aaaa... with n=2: "aa" at 0, repeat at 1 (skip to 3), …
    units = ["a"] * 6
    seen_at_1 = 2 + 2  # repeats at positions 1-2 and 3-4; position 5 has no full bigram left
    assert dup_ngram_char_share(units, 2) == pytest.approx(seen_at_1 / 6)


def test_cjk_text_uses_character_ngrams_and_words_use_words() -> None:
    zh = "今天天气很好我们去公园" * 3
    s = sig(zh, lang="zh")
    # 2×5 = 10-character n-grams over 33 characters (period 11): positions 0-10 are new, the one at
    # 11 repeats position 0 (10 characters, skip to 21), the one at 21 repeats position 10 (10 more).
    assert s["dup5_ngram_char_share"] == pytest.approx(20 / 33)
    en = "one two three four five " * 3
    s_en = sig(en, lang="en")
    assert s_en["dup5_ngram_char_share"] == pytest.approx(2 / 3)
    # Without a language the CJK share decides.
    assert sig(zh)["dup5_ngram_char_share"] == s["dup5_ngram_char_share"]


def test_url_and_email_shares() -> None:
    url = "https://example.com/a"
    text = f"see {url} now"
    assert sig(text)["url_share"] == pytest.approx(len(url) / len(text))
    mail = "bob@example.org"
    text = f"mail {mail}"
    assert sig(text)["email_share"] == pytest.approx(len(mail) / len(text))


def test_token_signals_from_given_tokens() -> None:
    tokens = ["The", "cat", "sat", "on", "the", "mat", "."]
    s = sig("The cat sat on the mat.", tokens, "en")
    words = tokens[:-1]
    assert s["n_tokens"] == 7
    assert not s["tokens_fallback"]
    assert s["word_share"] == pytest.approx(6 / 7)
    assert s["mean_token_len"] == pytest.approx(sum(map(len, words)) / 6)
    assert s["stopword_share"] == pytest.approx(3 / 6)  # the, on, the


def test_chinese_stop_words_and_fallback_tokens() -> None:
    assert fallback_tokens("我的cat123,好") == ["我", "的", "cat123", ",", "好"]
    s = sig("我的猫")  # fallback: 我 的 猫; 我 and 的 are in spaCy's zh list
    assert s["tokens_fallback"]
    assert s["stopword_share"] == pytest.approx(2 / 3)


def test_plausibility_signals_separate_text_from_scrambles() -> None:
    english = "The government said on Monday that the new plan would reduce costs for families."
    scrambled = "".join(sorted(english, key=lambda c: (hash(c) % 7, c)))
    assert sig(english)["en_bigram_share"] > sig(scrambled)["en_bigram_share"]
    word = "there"  # t-h, h-e, e-r, r-e: all four in the list
    assert all(word[i : i + 2] in EN_BIGRAMS for i in range(4))
    assert sig(word)["en_bigram_share"] == 1.0
    assert sig("xyzzy qwrt")["vowelless_word_share"] == pytest.approx(1 / 2)
    assert sig("aTr eBay #CamelCase")["inner_caps_share"] == pytest.approx(2 / 2)
    zh = sig("今天天气很好")
    rev = sig("好很气天天今")
    assert zh["cjk_dict_pair_share"] > rev["cjk_dict_pair_share"]
    assert math.isnan(sig("no han here")["cjk_dict_pair_share"])


def test_word_shape_shares_count_what_their_definitions_count() -> None:
    """The vowelless and inner-capital shares, counted by one regex pass over the text, equal
    their per-word definitions (letter runs, then a test of each) on hand-made edge cases and
    on every line of a real English corpus."""
    import json
    import re

    from refinery.text.quality.plausibility import inner_caps_share, vowelless_word_share
    from tests.support.paths import corpora_dir

    def vowelless(text: str) -> float:
        words = re.findall("[A-Za-z]{3,}", text)
        return sum(not re.search("[aeiouyAEIOUY]", w) for w in words) / len(words) if words else math.nan

    def inner_caps(text: str) -> float:  # of text without hashtags, mentions or URLs (none is left out)
        words = re.findall("[A-Za-z]{2,}", text)
        return sum(bool(re.search("[a-z][A-Z]", w)) for w in words) / len(words) if words else math.nan

    made = ["xyzzy qwrt", "rhythm", "my gym", "Strngth2nth", "aB", "ab", "iPhone", "eBay's McDonald", "ABCdEF gh"]
    with (corpora_dir() / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl").open(encoding="utf-8") as handle:
        posts = [json.loads(next(handle))["text"] for _ in range(400)]
    texts = made + [line for post in posts for line in post.splitlines()]
    plain = [text for text in texts if not re.search("[#@]|://|www[.]", text, re.IGNORECASE)]
    assert len(plain) > 1_000
    for ours, definition, cases in ((vowelless_word_share, vowelless, texts), (inner_caps_share, inner_caps, plain)):
        for text in cases:
            expected = definition(text)
            assert ours(text) == expected or (math.isnan(expected) and math.isnan(ours(text))), text


def test_missing_empty_and_weird_text() -> None:
    frame = quality_signals(pd.Series(["", None, float("nan"), "\ud800x", "\u200b", "𝔘𝔫𝔦"]), None, None)
    assert list(frame.columns) == list(SIGNAL_COLUMNS)
    assert len(frame) == 6
    assert (frame.loc[[0, 1, 2], "n_chars"] == 0).all()
    shares = [c for c in SIGNAL_COLUMNS if c.endswith("_share")]
    values = frame[shares].to_numpy(dtype=float)
    finite = values[~pd.isna(values)]
    assert ((finite >= 0) & (finite <= 1)).all()
    empty = quality_signals(pd.Series([], dtype=object))
    assert list(empty.columns) == list(SIGNAL_COLUMNS) and len(empty) == 0


def test_tokens_none_per_row_and_arrays() -> None:
    import numpy as np

    texts = pd.Series(["a b", "c d"])
    tokens = pd.Series([None, np.array(["c", "d"], dtype=object)])
    frame = quality_signals(texts, tokens, pd.Series(["en", None]))
    assert frame["tokens_fallback"].tolist() == [True, False]
    assert frame["n_tokens"].tolist() == [2, 2]
    with pytest.raises(ValueError, match="2 texts but 1 langs"):
        quality_signals(texts, None, pd.Series(["en"]))


def test_huge_text_is_roughly_linear() -> None:
    base = "The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸跳过了懒狗。\n"

    def timed(times: int) -> float:
        start = time.perf_counter()
        document_signals(base * times, None, None)
        return time.perf_counter() - start

    small, big = timed(2_000), timed(20_000)  # ~120 kB and ~1.2 MB
    assert len(base * 20_000) > 1_000_000
    assert big < 40 * max(small, 0.01)  # 10× the text: far from quadratic's 100×


# --- rules -----------------------------------------------------------------------------------------
def frame(**columns: list) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {c: [0.0] * n for c in SIGNAL_COLUMNS} | {"n_tokens": [100] * n}
    return pd.DataFrame(base | columns)


def test_each_operator() -> None:
    signals = frame(digit_share=[0.4, 0.5, 0.6])
    for op, expected in (("lt", [True, False, False]), ("le", [True, True, False]), ("gt", [False, False, True])):
        hits = violations(signals, None, [QualityRule("r", "digit_share", op, 0.5)])
        assert hits["r"].tolist() == expected
    hits = violations(signals, None, [QualityRule("r", "digit_share", "ge", 0.5)])
    assert hits["r"].tolist() == [False, True, True]


def test_languages_min_tokens_and_nan() -> None:
    rules = [
        QualityRule("zh_only", "mean_token_len", "gt", 3.0, languages=("zh",)),
        QualityRule("long_only", "stopword_share", "lt", 0.1, min_tokens=10),
        QualityRule("nan_never", "en_bigram_share", "lt", 0.5),
    ]
    signals = frame(
        mean_token_len=[5.0, 5.0, 5.0],
        stopword_share=[0.0, 0.0, 0.5],
        n_tokens=[20, 5, 20],
        en_bigram_share=[float("nan"), 0.1, float("nan")],
    )
    flags = apply_quality_rules(signals, pd.Series(["zh-Hans", "en", None]), rules)
    assert flags.tolist() == [["zh_only", "long_only"], ["nan_never"], []]
    assert flags.name == "quality_flags"


def test_drop_rules_are_told_apart() -> None:
    rules = [QualityRule("a", "digit_share", "gt", 0.5, "drop"), QualityRule("b", "symbol_share", "gt", 0.5, "flag")]
    assert drop_rule_names(rules) == {"a"}
    flags = pd.Series([["a"], ["b"], [], ["b", "a"]])
    assert is_dropped(flags, rules).tolist() == [True, False, False, True]
    assert drop_rule_names(DEFAULT_RULES) <= {r.name for r in DEFAULT_RULES}


def test_default_rules_are_valid_and_named_uniquely() -> None:
    names = [r.name for r in DEFAULT_RULES]
    assert len(names) == len(set(names))
    assert {r.languages for r in DEFAULT_RULES} >= {None, ("zh",), ("en",)}


def test_clean_and_degenerate_examples_under_defaults() -> None:
    texts = pd.Series(
        [
            "The central bank raised interest rates on Tuesday, citing inflation that has stayed above its target.",
            "房间很干净，服务员也很热情，下次还会再来住。",
            "$$$$ ★★★★ #### @@@@ ★★★★ $$$$",
            "1234 5678 9012 3456 7890",
            "buy now buy now buy now buy now buy now buy now buy now buy now",
        ]
    )
    langs = pd.Series(["en", "zh", "en", "en", "en"])
    flags = apply_quality_rules(quality_signals(texts, None, langs), langs)
    assert flags[0] == [] and flags[1] == []
    assert all(flags[i] for i in (2, 3, 4))


# --- config parser ----------------------------------------------------------------------------------
GOOD = {"name": "digits", "signal": "digit_share", "op": "gt", "threshold": 0.5, "severity": "drop"}


def test_parser_builds_rules_and_defaults() -> None:
    rules = parse_rules([GOOD | {"languages": ["zh", "en"], "min_tokens": 3}])
    assert rules == (QualityRule("digits", "digit_share", "gt", 0.5, "drop", ("zh", "en"), 3),)
    assert parse_rules(None) == DEFAULT_RULES
    assert parse_rules([{k: GOOD[k] for k in ("name", "signal", "op", "threshold")}])[0].severity == "flag"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"name": "x"}, "must be a list"),
        (["x"], r"rules\[0\]: each rule must be a mapping"),
        ([GOOD | {"treshold": 1}], "unknown key 'treshold'; fix: use only the keys"),
        ([{k: v for k, v in GOOD.items() if k != "op"}], "missing key 'op'"),
        ([GOOD | {"signal": "digits"}], "unknown 'signal' 'digits'; fix: use one of"),
        ([GOOD | {"op": ">"}], "unknown 'op' '>'; fix: use one of lt, le, gt, ge"),
        ([GOOD | {"threshold": "0.5"}], "'threshold' must be a number"),
        ([GOOD | {"severity": "warn"}], "unknown 'severity' 'warn'; fix: use 'flag' or 'drop'"),
        ([GOOD | {"languages": "zh"}], "'languages' must be a list of language codes"),
        ([GOOD | {"min_tokens": -1}], "'min_tokens' must be an integer >= 0"),
        ([GOOD, GOOD], r"rules\[1\] \('digits'\): duplicate rule name"),
    ],
)
def test_parser_errors_name_key_and_fix(items: object, message: str) -> None:
    with pytest.raises(QualityRuleError, match=message):
        parse_rules(items)


def test_configured_rules_tune_the_defaults_without_copying_them() -> None:
    rules = configured_rules(
        add=[{"name": "long_docs", "signal": "n_chars", "op": "gt", "threshold": 20000}],
        disable=["latin_inner_caps"],
        overrides={"mostly_digits": {"severity": "flag"}, "symbol_flood": {"threshold": 0.3}},
    )
    names = [r.name for r in rules]
    assert names == [r.name for r in DEFAULT_RULES if r.name != "latin_inner_caps"] + ["long_docs"]
    by_name = {r.name: r for r in rules}
    assert by_name["mostly_digits"].severity == "flag" and "mostly_digits" not in drop_rule_names(rules)
    assert by_name["symbol_flood"].threshold == 0.3 and by_name["symbol_flood"].severity == "drop"
    assert configured_rules() == DEFAULT_RULES and configured_rules(rules=[]) == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"disable": ["nope"]}, r"clean.quality.disable: unknown rule 'nope'; fix: use one of"),
        ({"overrides": {"nope": {"threshold": 1}}}, r"clean.quality.overrides.nope: unknown rule"),
        ({"overrides": {"mojibake": {"signal": "n_chars"}}}, r"key 'signal' cannot be overridden; fix: use op"),
        ({"overrides": {"mojibake": {}}}, r"overrides.mojibake: no changes given; fix:"),
        ({"overrides": {"mojibake": {"severity": "warn"}}}, r"overrides.mojibake: .*'severity' 'warn'; fix:"),
        ({"add": [GOOD | {"name": "mojibake"}]}, r"clean.quality.add: rule 'mojibake' already exists; fix:"),
        ({"add": [GOOD | {"op": "eq"}]}, r"clean.quality.add\[0\] \('digits'\): .*unknown 'op'"),
        ({"add": [GOOD | {"skip_languages": "zh"}]}, r"'skip_languages' must be a list"),
    ],
)
def test_configured_rules_errors_name_the_key_and_the_fix(kwargs: dict, message: str) -> None:
    with pytest.raises(QualityRuleError, match=message):
        configured_rules(**kwargs)


def test_skip_languages_keeps_a_rule_off_those_languages() -> None:
    rule = QualityRule("short", "n_chars", "lt", 10, skip_languages=("zh",))
    frame = quality_signals(pd.Series(["短文本", "tiny", "tiny"]))
    hits = violations(frame, pd.Series(["zh", "en", None]), [rule])["short"].tolist()
    assert hits == [False, True, True]
