"""Unit tests of :mod:`refinery.text.pii.cards`: Luhn and card prefixes, IBAN and US SSN
validators, card grouping, and the IBAN and must-not-match case sets."""

from __future__ import annotations

from refinery.text import pii
from refinery.text.pii import (
    BANK_CARD,
)
from tests.support.pii_cases import _bench, _meets_bar, found


def test_luhn_and_card_prefix_rules() -> None:
    assert pii.luhn_valid("79927398713")
    assert not pii.luhn_valid("79927398710")
    assert pii.bank_card_valid("6222021234567890128")  # 19-digit UnionPay
    assert pii.bank_card_valid("4111111111111111")
    assert pii.bank_card_valid("122000000000003")  # 15-digit UATP
    assert pii.luhn_valid("1748503543012") and not pii.bank_card_valid("1748503543012")  # ms timestamp
    assert not pii.bank_card_valid("0000000000000000")  # Luhn-valid but one repeated digit
    assert not pii.bank_card_valid("4111111111111112")


def test_iban_and_ssn_validators() -> None:
    assert pii.iban_valid("GB82WEST12345698765432") and pii.iban_valid("DE89370400440532013000")
    assert not pii.iban_valid("GB82WEST12345698765433")  # MOD 97 check
    assert not pii.iban_valid("gb82west12345698765432") and not pii.iban_valid("XX82WEST12345698765432")
    assert pii.us_ssn_valid("078051123") and pii.us_ssn_valid("536221234")
    for bad in ("000121234", "666121234", "912345678", "123004567", "123450000", "078051120", "123456789", "111111111"):
        assert not pii.us_ssn_valid(bad), bad


def test_bank_card_separators_must_form_groups() -> None:
    assert found("卡号6228 4800 1234 5671") == [(BANK_CARD, "6228 4800 1234 5671")]
    assert found("卡号6-2-2-8-4-8-0-0-1-2-3-4-5-6-7-1") == []  # not a grouping
    assert found("卡号6228 4800-1234 5671") == []  # mixed separators


def test_ibans_and_must_not_match_cases() -> None:
    bench = _bench()
    _meets_bar(bench.evaluate_ibans())
    result = bench.evaluate_must_not_match(bench.load_jsonl(bench.CORPORA / bench.PRESIDIO_CASES))
    assert result["own_masks"] == 0, result["own_masked_cases"]
    assert result["presidio_negative_rows"] >= 50 and result["presidio_negative_masks"] == {}
