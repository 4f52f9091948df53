"""Running the recognisers over a text: :func:`find` and :func:`validate`.

Overlaps are resolved deterministically: the longer span wins; at equal length the more
specific type wins in ``_PRIORITY`` order (a CN_ID beats a BANK_CARD or a phone with the same
digits, an e-mail beats a URL reading of the same text, a US_SSN beats a phone reading of
``078-05-1123``). A ``https://user:pass@host`` URL_SECRET is longer than the ``pass@host``
e-mail inside it, so the whole secret-bearing URL is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from refinery.text.pii.options import DEFAULT, PiiOptions
from refinery.text.pii.recognizers import _PREFILTER, _RECOGNIZERS, _Recognizer
from refinery.text.pii.types import (
    BANK_CARD,
    CN_ID,
    CN_ID_INVALID,
    CN_LANDLINE,
    CN_MOBILE,
    CN_PASSPORT,
    CN_USCC,
    EMAIL,
    IBAN,
    IPV4,
    IPV6,
    PHONE,
    URL_SECRET,
    US_SSN,
    Span,
)

#: Tie-break at equal span length: earlier = more specific = wins.
_PRIORITY: tuple[str, ...] = (
    URL_SECRET,
    EMAIL,
    CN_ID,
    CN_ID_INVALID,
    CN_USCC,
    IBAN,
    BANK_CARD,
    CN_PASSPORT,
    US_SSN,
    CN_MOBILE,
    CN_LANDLINE,
    PHONE,
    IPV6,
    IPV4,
)
_RANK = {name: rank for rank, name in enumerate(_PRIORITY)}


@lru_cache(maxsize=64)
def _plan(options: PiiOptions) -> tuple[tuple[_Recognizer, ...], frozenset[str], dict[str, str]]:
    """The recognisers (each once), the span types to keep and the token map for one options
    value (cached: options are hashable)."""
    recognizers = tuple(dict.fromkeys(rec for name in options.types for rec in _RECOGNIZERS[name]))
    keep = set(options.types) | ({CN_ID_INVALID} if CN_ID in options.types else set())
    return recognizers, frozenset(keep), options.token_map()


def _candidates(
    text: str, recognizers: Iterable[_Recognizer], keep: frozenset[str], options: PiiOptions, context: bool
) -> list[Span]:
    found: list[Span] = []
    gates: dict[re.Pattern[str], bool] = {}
    for rec in recognizers:
        if rec.need and rec.need not in text:
            continue
        if rec.gate is not None:
            passed = gates.get(rec.gate)
            if passed is None:
                passed = gates[rec.gate] = rec.gate.search(text) is not None
            if not passed:
                continue
        for match in rec.pattern.finditer(text):
            span = rec.check(match, text, options, context)
            if span is None or span[1] <= span[0]:
                continue
            pii_type = span[2] if len(span) == 3 else rec.types[0]
            if pii_type in keep:
                found.append(Span(pii_type, span[0], span[1]))
    return found


def _resolve(candidates: list[Span]) -> list[Span]:
    """Keep a non-overlapping subset: longest first, ties by type priority then position.

    Greedy over candidates sorted by that key; a span is kept when none of its characters is
    taken yet. Taken characters are marked in a byte map of the text, so each test and mark
    costs the span's length, and one type's candidates never overlap each other (``finditer``),
    so all of them cost at most (number of types) x (text length): O(n + k log k) for k
    candidates in n characters. (Keeping the kept spans in a sorted list instead costs a list
    insertion per span: quadratic on a 1 MB text dense with PII of mixed lengths.)
    """
    if len(candidates) < 2:
        return candidates
    ordered = sorted(candidates, key=lambda s: (s.start - s.end, _RANK[s.type], s.start))
    taken = bytearray(max(span.end for span in candidates))
    kept: list[Span] = []
    for span in ordered:
        if taken.find(1, span.start, span.end) >= 0:
            continue
        taken[span.start : span.end] = b"\x01" * (span.end - span.start)
        kept.append(span)
    kept.sort(key=lambda s: s.start)
    return kept


def find(text: str, options: PiiOptions = DEFAULT) -> list[Span]:
    """All PII spans in ``text``: non-overlapping, sorted by start (see the module docstring for
    how overlaps are settled). Empty text gives ``[]``."""
    if not text or _PREFILTER.search(text) is None:
        return []
    recognizers, keep, _ = _plan(options)
    return _resolve(_candidates(text, recognizers, keep, options, context=True))


def validate(pii_type: str, candidate: str, options: PiiOptions = DEFAULT) -> bool:
    """Whether the whole of ``candidate`` is a valid value of ``pii_type`` (format and check
    digits), ignoring surrounding-context rules: a bare ``C12345678`` is a valid PRC travel
    permit number although :func:`find` only takes it after a word like 通行证, and a bare
    ``4155550132`` a valid US number although :func:`find` wants a phone word before it. A
    mistyped resident ID is not a valid ``CN_ID``."""
    if pii_type not in _RECOGNIZERS:
        raise ValueError(f"unknown PII type {pii_type!r}")
    if not candidate:
        return False
    spans = _candidates(candidate, _RECOGNIZERS[pii_type], frozenset({pii_type}), options, context=False)
    return any(span.start == 0 and span.end == len(candidate) for span in spans)
