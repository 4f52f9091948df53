"""Unit tests of :mod:`refinery.text.segment_score`: the SIGHAN word F1 and its regression bound on
real gold data."""

from __future__ import annotations

import pytest

from refinery.text.segment import SegmentOptions, segment
from refinery.text.segment_score import corpus_word_f1, word_f1, word_match_counts
from tests.support.segment_corpora import sighan_gold


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
