"""Segmentation quality: word precision, recall and F1 against a gold segmentation.

Segmentation quality is scored with :func:`word_f1`, the SIGHAN bakeoff measure: every token is
mapped to its character span ``[start, end)`` in the shared text; a predicted word is correct when
the gold segmentation has exactly the same span. Precision = correct / predicted words, recall =
correct / gold words, F1 = their harmonic mean. :func:`corpus_word_f1` micro-averages (sums the
counts over all lines before dividing), as the bakeoff's score script does.
"""

from __future__ import annotations

from collections.abc import Iterable


def _spans(tokens: list[str]) -> set[tuple[int, int]]:
    spans, start = set(), 0
    for token in tokens:
        if token:
            spans.add((start, start + len(token)))
            start += len(token)
    return spans


def word_match_counts(pred_tokens: list[str], gold_tokens: list[str]) -> tuple[int, int, int]:
    """``(correct, predicted, gold)`` word counts of one segmentation against the gold one.

    Both must segment the same text (equal concatenations), else ``ValueError``: a span match is
    meaningless otherwise. Empty tokens are ignored.
    """
    if "".join(pred_tokens) != "".join(gold_tokens):
        raise ValueError("word_match_counts: predicted and gold tokens do not concatenate to the same text")
    pred, gold = _spans(pred_tokens), _spans(gold_tokens)
    return len(pred & gold), len(pred), len(gold)


def _prf(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    if predicted == 0 and gold == 0:
        return 1.0, 1.0, 1.0
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def word_f1(pred_tokens: list[str], gold_tokens: list[str]) -> tuple[float, float, float]:
    """Word precision, recall and F1 by span matching (the SIGHAN measure; module docstring).

    Two empty segmentations score 1.0 (nothing to get wrong).
    """
    return _prf(*word_match_counts(pred_tokens, gold_tokens))


def corpus_word_f1(pairs: Iterable[tuple[list[str], list[str]]]) -> tuple[float, float, float]:
    """Micro-averaged precision, recall, F1 over ``(pred_tokens, gold_tokens)`` pairs (one per line)."""
    correct = predicted = gold = 0
    for pred_tokens, gold_tokens in pairs:
        c, p, g = word_match_counts(pred_tokens, gold_tokens)
        correct, predicted, gold = correct + c, predicted + p, gold + g
    return _prf(correct, predicted, gold)
