"""Unit tests of :mod:`refinery.text.segment` (no Spark): mixed scripts, whitespace, options, the
pandas wrapper, invariants on real mixed text, and imports free of Spark, torch and the engines."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pandas as pd
import pytest

from refinery.text.segment import DEFAULT, SegmentOptions, segment, segment_series
from tests.support.paths import corpora_dir


def without_whitespace(text: str) -> str:
    return "".join(text.split())


# --- other scripts -------------------------------------------------------------------------------
def test_mixed_chinese_and_english_keeps_order_and_every_character() -> None:
    text = "我用Python写代码"
    tokens = segment(text, "zh")
    assert tokens == ["我用", "Python", "写", "代码"]
    text = "凌晨四点到达，check in速度太慢 (don't stay)！"
    tokens = segment(text, "zh")
    assert tokens[:4] == ["凌晨", "四点", "到达", "，"]
    assert tokens[4:7] == ["check", "in", "速度"]
    assert tokens[-5:-3] == ["do", "n't"]
    assert "".join(tokens) == without_whitespace(text)


def test_cjk_punctuation_is_split_off_latin_text() -> None:
    # spaCy alone keeps "iPhone，iPad" as one token: full-width punctuation is cut out first.
    assert segment("iPhone，iPad【新品】", "zh") == ["iPhone", "，", "iPad", "【", "新品", "】"]
    assert segment("增长１７％。", "zh") == ["增长", "１７％", "。"]  # full-width % stays with its number


def test_japanese_is_deterministic_per_script() -> None:
    # Katakana runs whole, each hiragana character alone, Han through jieba.
    assert segment("コンピューターを使う", "ja") == ["コンピューター", "を", "使", "う"]


def test_whitespace_is_dropped_or_kept_losslessly() -> None:
    text = "  我爱\u3000北京 and  New York\n\n好 "
    tokens = segment(text, "zh")
    assert tokens == ["我", "爱", "北京", "and", "New", "York", "好"]
    kept = segment(text, "zh", SegmentOptions(keep_whitespace=True))
    assert "".join(kept) == text
    assert [token for token in kept if token.isspace()] == ["  ", "\u3000", " ", "  ", " ", "\n\n", " "]


def test_lowercase_and_punctuation_options() -> None:
    text = "Hello World，我爱Python！"
    assert segment(text, "zh", SegmentOptions(lowercase=True)) == ["hello", "world", "，", "我", "爱", "python", "！"]
    assert segment(text, "zh", SegmentOptions(keep_punct=False)) == ["Hello", "World", "我", "爱", "Python"]
    assert segment("$5 + 3", options=SegmentOptions(keep_punct=False)) == ["$", "5", "+", "3"]  # symbols stay


def test_empty_text() -> None:
    assert segment("") == []
    assert segment("   \n") == []


def test_invariants_on_real_mixed_text() -> None:
    """On the first 400 real zh/en mixed texts: nothing lost, nothing added, no whitespace tokens."""
    frame = pd.read_csv(
        corpora_dir() / "zh_en_mixed_derived" / "zh_en_mixed.tsv", sep="\t", dtype=str, keep_default_na=False
    ).head(400)
    keep = SegmentOptions(keep_whitespace=True)
    for text in frame["text"]:
        tokens = segment(text, "zh")
        assert "".join(tokens) == without_whitespace(text)
        assert all(token and not token.isspace() for token in tokens)
        assert "".join(segment(text, "zh", keep)) == text


# --- options and the pandas wrapper --------------------------------------------------------------
def test_options_are_frozen_and_picklable() -> None:
    options = SegmentOptions(engine="rjieba", hmm=False, lowercase=True)
    assert pickle.loads(pickle.dumps(options)) == options
    with pytest.raises(AttributeError):
        options.hmm = True  # type: ignore[misc]
    assert SegmentOptions() == DEFAULT


def test_segment_series_keeps_missing_as_none() -> None:
    texts = pd.Series(["我来到北京清华大学", None, float("nan"), "Hello world", ""], index=[10, 11, 12, 13, 14])
    langs = pd.Series(["zh", "zh", None, None, "en"], index=[10, 11, 12, 13, 14])
    result = segment_series(texts.rename("text"), langs)
    assert result.index.tolist() == [10, 11, 12, 13, 14]
    assert result.name == "text"
    assert result.tolist() == [["我", "来到", "北京", "清华大学"], None, None, ["Hello", "world"], []]
    assert segment_series(pd.Series(["Hello World"]), options=SegmentOptions(lowercase=True)).tolist() == [
        ["hello", "world"]
    ]
    with pytest.raises(ValueError, match="languages"):
        segment_series(texts, langs.head(2))


def test_module_imports_no_spark_torch_or_engines() -> None:
    code = (
        "import sys, refinery.text.segment\n"
        "loaded = {'pyspark', 'torch', 'jieba', 'rjieba', 'spacy', 'pandas'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_spacy_comes_without_torch_and_torch_stays_importable() -> None:
    """thinc imports torch with spaCy unless told not to: about 640 MB per Python worker."""
    code = (
        "import sys\n"
        "from refinery.text.segment import segment\n"
        "from refinery.text.quality import document_signals\n"
        "assert segment(\"don't stop\", 'en') == ['do', \"n't\", 'stop']\n"
        "assert document_signals('the cat', ['the', 'cat'], 'en')['stopword_share'] == 0.5\n"
        "assert 'torch' not in sys.modules\n"
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])\n"  # peak RSS, kB
        "import torch\n"
        "assert float(torch.ones(1)[0]) == 1.0\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert int(done.stdout.split()[0]) < 500_000  # kB: far below torch's share (/proc's VmHWM: ru_maxrss
    # would carry over the parent's peak through fork and exec)
