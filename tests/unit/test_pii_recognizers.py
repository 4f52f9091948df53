"""Unit tests of :mod:`refinery.text.pii.recognizers`: every pattern is linear on adversarial input
(ReDoS), and the cheap gates are necessary conditions."""

from __future__ import annotations

import time

import pytest

from refinery.text import pii
from refinery.text.pii import (
    PiiOptions,
    find,
    mask,
)
from tests.support.pii_cases import POSITIVES

# ------------------------------------------------------------------------------ linear time (ReDoS)

ADVERSARIAL = {
    "letters": "a" * 50_000 + "!",
    "digits": "1" * 50_000,
    "at": "@" * 50_000,
    "digit_dash": "1-" * 25_000,
    "digit_space": "1 " * 25_000,
    "digit_dot": "1." * 25_000,
    "colons": ":" * 50_000,
    "hex_colon": "a:" * 25_000,
    "local_at": "a@" * 25_000,
    "dotted_local": "a." * 25_000 + "@",
    "long_domain": "a@" + "b." * 25_000 + "!",
    "long_label": "a@" + "b" * 50_000,
    "url": "http://" + "a" * 50_000,
    "urls": "http://a:" * 6_000,
    "plus": "+1 " * 16_000,
    "parens": "+1(" * 16_000,
    "grouped": "1234 " * 10_000,
    "grouped_dash": "1234-" * 10_000,
    "cjk_digits": "号1" * 25_000,
    "letter_digits": "E1" * 25_000,
    "alnum": "a1" * 25_000,
    "digits_then_at": "1" * 50_000 + "@",
    "letters_then_tld": "a" * 50_000 + "@b.c",
    "hex_run": "f" * 50_000 + "::",
    "mobile_prefix": "+86" * 16_000,
    "landline_area": "(010)" * 10_000,
    "query": "https://a.b/?" + "key=" * 12_000,
    "phone_groups": "12 " * 16_000,
    "phone_parens": "(12) " * 10_000,
    "phone_dots": "123." * 12_000,
    "iban_like": "GB82 " + "WEST " * 10_000,
    "ssn_like": "078-05-" * 7_000,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_every_pattern_is_linear_on_adversarial_input(name: str) -> None:
    """A correctness bound against catastrophic backtracking, not a speed benchmark: each raw
    candidate pattern (bypassing the cheap gates, which would skip most of these inputs) plus its
    check, then ``find`` and ``mask`` end to end, must finish a 50k-character input in < 1 s."""
    text = ADVERSARIAL[name]
    for pii_type, recognizers in pii._RECOGNIZERS.items():
        started = time.perf_counter()
        for recognizer in recognizers:
            for match in recognizer.pattern.finditer(text):
                recognizer.check(match, text, pii.DEFAULT, True)
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, f"{pii_type} pattern took {elapsed:.2f}s on {name}"
        started = time.perf_counter()
        find(text, PiiOptions(types=(pii_type,)))
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, f"find({pii_type}) took {elapsed:.2f}s on {name}"
    started = time.perf_counter()
    mask(text)
    assert time.perf_counter() - started < 1.0


def test_gates_are_necessary_conditions() -> None:
    """Every positive example passes its recognisers' gates (a gate may only skip texts that
    cannot match), and the column pre-filter keeps every text with PII."""
    for text, pii_type, _ in POSITIVES:
        assert any(
            rec.need in text and (rec.gate is None or rec.gate.search(text)) for rec in pii._RECOGNIZERS[pii_type]
        ), text
        assert pii._PREFILTER.search(text)
