"""Unit tests of :mod:`refinery.text.segment_jieba` (no Spark): jieba and rjieba on Chinese, HMM,
user dictionaries, the cache dir, and rjieba's agreement with jieba on the real corpora."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest

from refinery.text.segment import SegmentOptions, segment
from tests.support.paths import ROOT, corpora_dir
from tests.support.segment_corpora import sighan_gold

RJIEBA = SegmentOptions(engine="rjieba")


# --- Chinese -------------------------------------------------------------------------------------
def test_chinese_sentence() -> None:
    assert segment("我来到北京清华大学", "zh") == ["我", "来到", "北京", "清华大学"]
    assert segment("我来到北京清华大学", "zh", RJIEBA) == ["我", "来到", "北京", "清华大学"]


def test_han_is_segmented_by_jieba_whatever_the_language() -> None:
    assert "清华大学" in segment("I studied at 清华大学.", "en")
    assert "清华大学" in segment("我来到北京清华大学")  # lang=None


def test_hmm_switch_joins_an_out_of_vocabulary_word() -> None:
    text = "他来到了网易杭研大厦"  # 杭研 is not in jieba's dictionary
    assert segment(text, "zh", SegmentOptions(engine="jieba", hmm=True)) == ["他", "来到", "了", "网易", "杭研", "大厦"]
    assert segment(text, "zh", SegmentOptions(engine="jieba", hmm=False)) == [
        "他",
        "来到",
        "了",
        "网易",
        "杭",
        "研",
        "大厦",
    ]
    assert "杭研" in segment(text, "zh", SegmentOptions(engine="rjieba", hmm=True))
    assert "杭研" not in segment(text, "zh", SegmentOptions(engine="rjieba", hmm=False))


@pytest.mark.parametrize("engine", ["jieba", "rjieba"])
def test_user_dictionary_changes_segmentation(tmp_path: Path, engine: str) -> None:
    user_dict = tmp_path / "user.txt"
    user_dict.write_text("精炼语料厂 10 n\n", encoding="utf-8")  # a made-up word
    text = "他在精炼语料厂上班"
    plain = SegmentOptions(engine=engine)
    assert "精炼语料厂" not in segment(text, "zh", plain)
    assert segment(text, "zh", SegmentOptions(engine=engine, user_dict=str(user_dict))) == [
        "他",
        "在",
        "精炼语料厂",
        "上班",
    ]
    assert "精炼语料厂" not in segment(text, "zh", plain)  # the default tokenizer is untouched


@pytest.mark.parametrize("engine", ["jieba", "rjieba"])
def test_example_user_dictionary_loads_and_applies(engine: str) -> None:
    options = SegmentOptions(engine=engine, user_dict=str(ROOT / "conf" / "jieba_user_dict.txt"))
    text = "大语言模型的预训练语料需要近似去重"
    assert segment(text, "zh", SegmentOptions(engine=engine)) == [
        "大", "语言", "模型", "的", "预", "训练", "语料", "需要", "近似", "去", "重"
    ]  # fmt: skip
    assert segment(text, "zh", options) == ["大语言模型", "的", "预训练", "语料", "需要", "近似去重"]


def test_both_engines_read_a_user_dictionary_alike(tmp_path: Path) -> None:
    """Lines without a frequency or tag, a BOM, blank lines and a word already in the
    dictionary: rjieba (``add_word`` per parsed line) segments as jieba's ``load_userdict``."""
    user_dict = tmp_path / "user.txt"
    user_dict.write_text(
        "\ufeff精炼语料厂\n\n数据湖仓 20\n清华大学 5 nt\n语料清洗 n\n", encoding="utf-8"
    )  # "语料清洗 n": jieba reads the whole line as the word, with no frequency
    texts = ["他在精炼语料厂上班", "数据湖仓里的语料清洗", "我来到北京清华大学", "语料清洗 n"]
    for text in texts:
        assert segment(text, "zh", SegmentOptions(engine="rjieba", user_dict=str(user_dict))) == segment(
            text, "zh", SegmentOptions(engine="jieba", user_dict=str(user_dict))
        ), text


def test_a_user_dictionary_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    user_dict = tmp_path / "user.txt"
    user_dict.write_bytes("精炼语料厂 10 n\n".encode("gbk"))
    with pytest.raises(ValueError, match="not UTF-8"):
        segment("他在精炼语料厂上班", "zh", SegmentOptions(engine="rjieba", user_dict=str(user_dict)))


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        SegmentOptions(engine="pkuseg")


def test_cache_dir_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))  # what jieba would use by default
    cache_dir = tmp_path / "jieba-cache"
    assert (
        segment("我来到北京清华大学", "zh", SegmentOptions(engine="jieba", cache_dir=str(cache_dir)))[-1] == "清华大学"
    )
    assert [path.name for path in cache_dir.iterdir()] == ["jieba.cache"]
    assert list(system_tmp.iterdir()) == []


def _agreement_docs() -> list[str]:
    """A deterministic slice of the Chinese corpora: 2,000 THUCNews titles, 1,000 ChnSentiCorp and
    3,000 waimai reviews, 300 PKU lines (6,300 documents)."""
    root = corpora_dir()
    titles = (root / "thucnews_titles" / "test.txt").read_text(encoding="utf-8").splitlines()[:2000]
    hotel = pd.read_csv(root / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv", dtype=str, keep_default_na=False)
    waimai = pd.read_csv(root / "waimai_10k" / "waimai_10k.csv", dtype=str, keep_default_na=False)
    return (
        [line.split("\t")[0] for line in titles]
        + hotel["review"].head(1000).tolist()
        + waimai["review"].head(3000).tolist()
        + ["".join(tokens) for tokens in sighan_gold("pku", 300)]
    )


@pytest.mark.parametrize("hmm", [True, False])
def test_rjieba_agreement_with_jieba(hmm: bool) -> None:
    """rjieba is NOT always equal to jieba. Measured on this slice: with HMM 6,299 of 6,300
    documents identical (0.99984; the one difference is below), without HMM 6,300 of 6,300. Over
    all 45,681 documents of the five corpora (see bench/segment_bench.py): 45,680 with HMM, all
    without."""
    docs = _agreement_docs()
    jieba_options, rjieba_options = SegmentOptions(engine="jieba", hmm=hmm), SegmentOptions(engine="rjieba", hmm=hmm)
    identical = sum(segment(doc, "zh", jieba_options) == segment(doc, "zh", rjieba_options) for doc in docs)
    assert len(docs) == 6300
    assert identical / len(docs) >= 0.9995


def test_rjieba_breaks_an_hmm_tie_differently() -> None:
    """The one waimai review (row 2503) where they differ: HMM Viterbi paths of equal probability."""
    assert segment("赞赞赞赞赞", "zh", SegmentOptions(engine="jieba")) == ["赞赞", "赞赞赞"]
    assert segment("赞赞赞赞赞", "zh", RJIEBA) == ["赞赞赞", "赞赞"]
    assert segment("赞赞赞赞赞", "zh", SegmentOptions(engine="jieba", hmm=False)) == segment(
        "赞赞赞赞赞", "zh", SegmentOptions(engine="rjieba", hmm=False)
    )
