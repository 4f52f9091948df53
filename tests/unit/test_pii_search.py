"""Unit tests of :mod:`refinery.text.pii.search`: ``find`` on every type and on look-alikes, digit
boundaries, overlap resolution, ``validate``, and the Presidio case set."""

from __future__ import annotations

from itertools import pairwise

import pytest

from refinery.text import pii
from refinery.text.pii import (
    BANK_CARD,
    CN_ID,
    CN_MOBILE,
    CN_PASSPORT,
    EMAIL,
    IPV4,
    IPV6,
    PHONE,
    URL_SECRET,
    US_SSN,
    Span,
    find,
    validate,
)
from tests.support.pii_cases import NEGATIVES, POSITIVES, _bench, _meets_bar, found


@pytest.mark.parametrize(("text", "pii_type", "expected"), POSITIVES)
def test_finds_each_type(text: str, pii_type: str, expected: str | None) -> None:
    hits = found(text)
    assert [name for name, _ in hits] == [pii_type], hits
    if expected is not None:
        assert hits[0][1] == expected


@pytest.mark.parametrize("text", NEGATIVES)
def test_rejects_look_alikes(text: str) -> None:
    hits = found(text)
    assert hits == [], hits


def test_digit_runs_need_boundaries() -> None:
    assert found("x13812345678") == []
    assert found("13812345678x") == []
    assert found("5-13812345678") == []  # glued to another number by a dash
    assert found("13812345678-9") == [] and found("13812345678.5") == []
    assert found("Tel.13812345678") == [(CN_MOBILE, "13812345678")]  # a label is fine
    assert found("No.11010519491231002X,") == [(CN_ID, "11010519491231002X")]
    assert found("手机13812345678。") == [(CN_MOBILE, "13812345678")]


# ------------------------------------------------------------------------------------- overlaps


def test_overlaps_resolve_longer_and_more_specific() -> None:
    assert found("+8613812345678") == [(CN_MOBILE, "+8613812345678")]  # not PHONE
    assert found("SSN 078-05-1123") == [(US_SSN, "078-05-1123")]  # not a phone reading of the digits
    assert found("1101 0119 9001 0112 37") == [(CN_ID, "1101 0119 9001 0112 37")]  # not a 4-4-4-4-2 card
    url = "https://alice:s3cret@mail.example.com/inbox"
    assert found(f"open {url} now") == [(URL_SECRET, url)]  # the e-mail-looking s3cret@… is inside
    assert found("ftp://alice@example.com/") == [(EMAIL, "alice@example.com")]  # no password: an e-mail
    assert found("::ffff:8.8.8.8") == [(IPV6, "::ffff:8.8.8.8")]  # the IPv4 inside is not separate
    spans = find("a 13812345678 b 11010519491231002X c 4111111111111111")
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in pairwise(spans))


def test_resolve_is_deterministic_and_non_overlapping() -> None:
    spans = [Span(IPV4, 5, 12), Span(IPV6, 0, 12), Span(CN_MOBILE, 20, 31), Span(PHONE, 20, 31)]
    assert pii._resolve(spans) == [Span(IPV6, 0, 12), Span(CN_MOBILE, 20, 31)]
    assert pii._resolve(list(reversed(spans))) == pii._resolve(spans)


def test_validate_ignores_context_but_find_needs_it() -> None:
    assert validate(CN_PASSPORT, "C12345678") and validate(CN_PASSPORT, "E12345678")
    assert found("C12345678") == [] and found("往来港澳通行证C12345678") == [(CN_PASSPORT, "C12345678")]
    assert not validate(CN_PASSPORT, "AB123456") and not validate(CN_PASSPORT, "")
    assert validate(CN_ID, "1101 0119 9003 0774 75") and not validate(CN_ID, "1101 0119 9003 0774 76")
    assert not validate(EMAIL, "test@example..com")
    with pytest.raises(ValueError):
        validate("SSN", "078-05-1120")


def test_presidio_case_set_recall_and_precision() -> None:
    bench = _bench()
    result = bench.evaluate_presidio(bench.load_jsonl(bench.CORPORA / bench.PRESIDIO_CASES))
    per_type = result["per_type"]
    assert {BANK_CARD, EMAIL, PHONE, IPV4, IPV6, US_SSN} <= set(per_type)
    _meets_bar(per_type)
    assert per_type[IPV6]["gold"] >= 50 and per_type[IPV4]["gold"] >= 20 and per_type[BANK_CARD]["gold"] >= 15
    assert per_type[PHONE]["gold"] >= 60  # national formats are scored too
    assert URL_SECRET not in per_type  # the plain URLs (negatives for URL_SECRET) gave no hit
    assert len(result["excluded_rows"]) <= 20 and all(row["reason"] for row in result["excluded_rows"])
