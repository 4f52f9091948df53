"""Unit tests of :mod:`refinery.text.segment` (no Spark): jieba / rjieba / spaCy segmentation,
options, the pandas wrapper, the SIGHAN word F1 and its regression bound on real gold data."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from refinery.text.segment import DEFAULT, SegmentOptions, segment, segment_series
from refinery.text.segment_score import corpus_word_f1, word_f1, word_match_counts
from refinery.text.segment_spacy import resolve_spacy_lang
from tests.support.paths import ROOT

RJIEBA = SegmentOptions(engine="rjieba")


def corpora_dir() -> Path:
    """``../shared/corpora`` next to the checkout, or ``$REFINERY_CORPORA``; missing is an error."""
    path = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
    if not path.is_dir():
        pytest.fail(f"shared corpora not found at {path}; set REFINERY_CORPORA")
    return path


def sighan_gold(name: str, limit: int) -> list[list[str]]:
    """The first ``limit`` non-blank gold lines of SIGHAN 2005 ``pku``/``msr``, as token lists."""
    text = (corpora_dir() / "sighan2005_seg_gold" / f"{name}_test_gold.utf8").read_text(encoding="utf-8")
    return [line.split() for line in text.splitlines() if line.strip()][:limit]


def without_whitespace(text: str) -> str:
    return "".join(text.split())


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


def test_english_via_spacy() -> None:
    assert segment("Don't stop, it's fine.") == ["Do", "n't", "stop", ",", "it", "'s", "fine", "."]
    tokens = segment("U.S. prices rose 3% (again)!", "en-US")
    assert tokens == ["U.S.", "prices", "rose", "3", "%", "(", "again", ")", "!"]


def test_cjk_punctuation_is_split_off_latin_text() -> None:
    # spaCy alone keeps "iPhone，iPad" as one token: full-width punctuation is cut out first.
    assert segment("iPhone，iPad【新品】", "zh") == ["iPhone", "，", "iPad", "【", "新品", "】"]
    assert segment("增长１７％。", "zh") == ["增长", "１７％", "。"]  # full-width % stays with its number


def test_other_languages_and_fallbacks() -> None:
    assert segment("l'homme est là", "fr") == ["l'", "homme", "est", "là"]
    assert segment("l'homme", "qq") == segment("l'homme", "xx") == ["l'homme"]  # unknown code → xx
    assert segment("안녕하세요, 세계!", "ko") == ["안녕하세요", ",", "세계", "!"]
    assert resolve_spacy_lang(None) == "en"
    assert resolve_spacy_lang("zh-Hant") == resolve_spacy_lang("cmn") == "en"
    assert resolve_spacy_lang("eng") == "en"
    assert resolve_spacy_lang("fr_FR") == "fr"
    assert resolve_spacy_lang("ja") == resolve_spacy_lang("jpn") == resolve_spacy_lang("ko") == "xx"


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


def _english_runs() -> list[str]:
    """Every non-Han run of 600 AG News items, 600 SMS messages and 300 20 Newsgroups posts."""
    import csv
    import io
    import json

    root = corpora_dir()
    ag = list(csv.reader(io.StringIO((root / "ag_news" / "test.csv").read_text(encoding="utf-8"))))[:600]
    sms = (root / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()[:600]
    with (root / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl").open(encoding="utf-8") as handle:
        posts = [json.loads(next(handle))["text"] for _ in range(300)]
    texts = [f"{row[1]} {row[2]}" for row in ag] + [line.split("\t", 1)[-1] for line in sms] + posts
    return [text for text in texts if text.strip()]


def test_chunk_memo_equals_one_spacy_call() -> None:
    """Tokens memoised per whitespace-separated chunk are spaCy's tokens of the whole text,
    with an empty memo (every chunk new) and with a full one (every chunk memoised)."""
    import spacy

    from refinery.text import segment_spacy as module

    whole = spacy.blank("en").tokenizer
    texts = _english_runs()
    expected = [[token.text for token in whole(text) if not token.is_space] for text in texts]
    module._CHUNKS.clear()
    cold = [segment(text, "en") for text in texts]
    warm = [segment(text, "en") for text in texts]
    assert len(module._CHUNKS["en"]) > 10_000  # the second pass was answered from the memo
    assert cold == expected
    assert warm == expected


def _corpus_chunks() -> set[str]:
    """Every whitespace-separated chunk of the non-Han runs of the English and mixed corpora."""
    import json

    from refinery.text.segment import _SCRIPT_RUN

    root = corpora_dir()
    texts = list(_english_runs())
    for name in ("twenty_newsgroups_bydate/20news-bydate-train.jsonl", "ruanyf_weekly_zh_en/weekly_issues.jsonl"):
        with (root / name).open(encoding="utf-8") as handle:
            texts += [json.loads(line)["text"] for line in handle if line.strip()]
    for name in ("rt-polarity.pos", "rt-polarity.neg"):
        texts.append((root / "mr_rt_polarity" / name).read_bytes().decode("latin-1"))
    mixed = root / "zh_en_mixed_derived" / "zh_en_mixed.tsv"
    texts.append(mixed.read_text(encoding="utf-8"))
    return {chunk for text in texts for *_, other in _SCRIPT_RUN.findall(text) if other for chunk in other.split()}


def test_chunks_tokenized_by_their_shape_are_tokenized_as_spacy_would() -> None:
    """Every chunk of the shared English and mixed corpora that the shape fast path answers
    (letters, digits, a word and one trailing mark) gets spaCy's own tokens, and the fast
    path answers most chunks: it is what keeps English segmentation off spaCy's Doc."""
    import spacy

    from refinery.text import segment_spacy as module

    tokenizer = spacy.blank("en").tokenizer
    special = frozenset(tokenizer.rules)
    chunks = _corpus_chunks()
    shaped = {chunk: module._shaped_chunk_tokens(chunk, special) for chunk in chunks}
    answered = {chunk: tokens for chunk, tokens in shaped.items() if tokens is not None}
    assert len(answered) > 0.4 * len(chunks)
    wrong = {c: t for c, t in answered.items() if [token.text for token in tokenizer(c)] != list(t)}
    assert wrong == {}
    # the cases the shapes leave to spaCy, because spaCy does not tokenize them by shape
    assert module._shaped_chunk_tokens("cannot", special) is None
    assert module._shaped_chunk_tokens("U.", special) is None
    assert module._shaped_chunk_tokens("dont,", special) is None
    assert module._shaped_chunk_tokens("e.g.", special) is None


def test_windowed_suffix_search_finds_what_spacys_search_finds() -> None:
    """The suffix search over a chunk's end matches spaCy's search over the whole chunk: the
    same span on every chunk of the shared corpora and on chunks built to end in long runs
    of dots, ellipses, units and line breaks, for the English and the multi-language rules."""
    import spacy

    from refinery.text.segment_spacy import windowed_suffix_search

    made = ["a" + "." * n for n in range(1, 40)] + ["x" * n + "…" * m for n in (0, 3, 30) for m in (1, 2, 9)]
    made += ["10km", "1" * 40 + "km", "U.S.", "Dr.", "it's", "a\n", "b.\n", "word" * 20 + "'s", "°F.", "9$"]
    chunks = sorted(_corpus_chunks()) + made
    for code in ("en", "xx"):
        nlp = spacy.blank(code)
        windowed = windowed_suffix_search(list(nlp.Defaults.suffixes))
        spans = [(m.span() if (m := nlp.tokenizer.suffix_search(c)) else None) for c in chunks]
        found = [(m.span() if (m := windowed(c)) else None) for c in chunks]
        assert found == spans
        assert sum(span is not None for span in spans) > 1_000


def test_chunk_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from refinery.text import segment_spacy as module

    monkeypatch.setattr(module, "CHUNK_MEMO_MAX", 50)
    module._CHUNKS.clear()
    texts = _english_runs()[:200]
    for text in texts:
        segment(text, "en")
        assert len(module._CHUNKS["en"]) <= max(50, len(set(text.split())))
    module._CHUNKS.clear()


def test_spacy_vocabulary_is_rebuilt_at_its_cap_and_tokens_stay_spacys(monkeypatch: pytest.MonkeyPatch) -> None:
    """spaCy keeps a lexeme for every distinct token it meets; past ``SPACY_VOCAB_MAX`` the
    tokenizer is built afresh, so the vocabulary stays bounded, and the tokens do not change."""
    import spacy

    from refinery.text import segment_spacy as module

    whole = spacy.blank("en").tokenizer
    texts = _english_runs()[:400]
    expected = [[token.text for token in whole(text) if not token.is_space] for text in texts]
    monkeypatch.setattr(module, "_SPACY", {})  # a fresh vocabulary: every word of the texts is new
    cap = len(module._spacy_tokenizer("en").vocab) + 500  # most words take the shape path, not spaCy
    monkeypatch.setattr(module, "SPACY_VOCAB_MAX", cap)
    module._CHUNKS.clear()
    first = module._spacy_tokenizer("en")
    got = []
    for text in texts:
        got.append(segment(text, "en"))
        assert len(module._spacy_tokenizer("en").vocab) <= cap + len(text.split()) * 4
    assert module._spacy_tokenizer("en") is not first  # the cap was reached and the tokenizer rebuilt
    assert got == expected
    module._CHUNKS.clear()


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


# --- word F1 -------------------------------------------------------------------------------------
def test_word_f1_perfect_and_partial() -> None:
    gold = ["我", "来到", "北京"]
    assert word_f1(gold, gold) == (1.0, 1.0, 1.0)
    # Spans: gold {0-1, 1-3, 3-5}, predicted {0-1, 1-2, 2-3, 3-5}: 2 correct of 4 predicted, of 3 gold.
    assert word_match_counts(["我", "来", "到", "北京"], gold) == (2, 4, 3)
    precision, recall, f1 = word_f1(["我", "来", "到", "北京"], gold)
    assert (precision, recall) == (0.5, pytest.approx(2 / 3))
    assert f1 == pytest.approx(4 / 7)
    # The same words at other positions do not count: only spans match.
    assert word_f1(["我来", "到", "北京"], gold) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert word_f1(["我来到北京"], gold) == (0.0, 0.0, 0.0)
    assert word_f1([], []) == (1.0, 1.0, 1.0)


def test_word_f1_requires_the_same_text() -> None:
    with pytest.raises(ValueError, match="same text"):
        word_f1(["我", "来"], ["我", "去"])


def test_corpus_f1_is_micro_averaged() -> None:
    pairs = [(["a", "b"], ["a", "b"]), (["c", "d", "e", "f"], ["cdef"])]  # 2/6 predicted, 2/3 gold correct
    assert corpus_word_f1(pairs) == pytest.approx((2 / 6, 2 / 3, 2 * (1 / 3) * (2 / 3) / (1 / 3 + 2 / 3)))


# --- measured on real data -----------------------------------------------------------------------
#: Micro F1 on the first 300 lines of SIGHAN 2005 PKU, measured with jieba 0.42.1 / rjieba 0.2.2:
#: HMM on 0.8213 (P 0.8570, R 0.7884), HMM off 0.8386 (P 0.8631, R 0.8156); rjieba equal to jieba.
#: The bound is measured − 0.02, so a regression of two points fails.
PKU_300_F1 = {"jieba_hmm": 0.8213, "jieba_no_hmm": 0.8386, "rjieba_hmm": 0.8213}


@pytest.mark.parametrize(
    ("system", "options"),
    [
        ("jieba_hmm", SegmentOptions(engine="jieba")),
        ("jieba_no_hmm", SegmentOptions(engine="jieba", hmm=False)),
        ("rjieba_hmm", SegmentOptions(engine="rjieba")),
    ],
)
def test_pku_f1_does_not_regress(system: str, options: SegmentOptions) -> None:
    gold = sighan_gold("pku", 300)
    _, _, f1 = corpus_word_f1((segment("".join(tokens), "zh", options), tokens) for tokens in gold)
    assert f1 >= PKU_300_F1[system] - 0.02


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


def test_forgetting_seen_text_empties_the_memos_and_keeps_the_tokens() -> None:
    from refinery.text import segment_spacy as module

    texts = _english_runs()[:50]
    before = [segment(text, "en") for text in texts]
    assert module._CHUNKS.get("en")
    module.forget_seen_text()
    assert not module._CHUNKS and not module._SPACY
    assert [segment(text, "en") for text in texts] == before
