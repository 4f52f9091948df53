"""Unit tests of :mod:`refinery.text.pii.chinese`: resident ID and USCC check-digit maths (with
parity against the standards), mistyped IDs, and recall/precision on the real Chinese case set."""

from __future__ import annotations

from refinery.text import pii
from refinery.text.pii import (
    BANK_CARD,
    CN_ID,
    CN_ID_INVALID,
    CN_MOBILE,
    CN_PASSPORT,
    CN_USCC,
    EMAIL,
    PiiOptions,
    mask,
    validate,
)
from tests.support.pii_cases import _bench, _meets_bar, found

# ---------------------------------------------------------------------------------- validators


def test_cn_id_check_digit_maths() -> None:
    assert pii.cn_id_check_char("11010519491231002") == "X"  # the GB 11643 example
    assert pii.cn_id_check_char("44052418800101001") == "4"
    assert pii.cn_id_valid("11010519491231002X")
    assert pii.cn_id_valid("11010519491231002x")
    assert pii.cn_id_valid("440524188001010014")
    assert pii.cn_id_valid("110105491231002")  # 15-digit legacy: region + YYMMDD + 3
    assert not pii.cn_id_valid("110101199001011234")  # wrong check digit
    assert pii.cn_id_mistyped("110101199001011234") and not pii.cn_id_mistyped("110101199001011237")
    assert not pii.cn_id_valid("110101199013011237") and not pii.cn_id_mistyped("110101199013011230")  # month 13
    assert not pii.cn_id_valid("110101199002301230")  # 30 February
    assert not pii.cn_id_valid("000101199001011237") and not pii.cn_id_mistyped("000101199001011230")  # no province
    assert not pii.cn_id_valid(f"1101012{date_next_year()}01011")  # born in the future
    assert not pii.cn_id_valid("110105491331002")  # legacy with month 13


def _reference_id_check(first17: str) -> str:
    """GB 11643 written out (weights 2^(17-i) mod 11), the hand-written code stdnum replaced."""
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(first17))
    return "10X98765432"[total % 11]


def _reference_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _reference_uscc_check(first17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(char) * pow(3, i, 31) for i, char in enumerate(first17))
    return alphabet[(31 - total % 31) % 31]


def test_stdnum_validators_give_the_same_answers_as_the_standards_maths() -> None:
    """Parity: the stdnum-backed checks agree with the standards' maths on 20k random inputs each."""
    import random

    rng = random.Random(11643)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(20_000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert pii.cn_id_check_char(first17) == _reference_id_check(first17)
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 19)))
        assert pii.luhn_valid(digits) == _reference_luhn(digits)
        code = "".join(rng.choice(alphabet) for _ in range(17))
        assert pii.uscc_check_char(code) == _reference_uscc_check(code)


def date_next_year() -> str:
    from datetime import date

    return str(date.today().year + 1)[1:]


def test_uscc_check_character_maths() -> None:
    assert len(pii._USCC_ALPHABET) == 31 and not set("IOZSV") & set(pii._USCC_ALPHABET)
    assert pii.uscc_valid("91310000552936878J")
    assert pii.uscc_valid("91350100M000100Y43")
    assert pii.uscc_check_char("91350100M000100Y4") == "3"
    assert not pii.uscc_valid("91310000552936878K")
    assert not pii.uscc_valid("9131000055293687IJ")  # I is not in the alphabet


def test_mistyped_resident_id_is_masked_and_counted_apart() -> None:
    """A valid region and birth date with a wrong check digit: still someone's ID, never a card."""
    masked, counts = mask("身份证号110101199001011234，请核对。")
    assert masked == "身份证号[CN_ID]，请核对。" and counts == {CN_ID_INVALID: 1}
    wrong = [f"11010119900101123{c}" for c in "0123456789X" if c != "7"]
    lucky = [n for n in wrong if n.isdigit() and pii.luhn_valid(n)]
    assert lucky  # some pass Luhn: they used to be masked as bank cards
    for number in wrong:
        assert found(f"ID {number} ok") == [(CN_ID_INVALID, number)]
    assert not validate(CN_ID, wrong[0])
    assert mask("ID 110101199001011234", PiiOptions(types=(BANK_CARD,))) == ("ID 110101199001011234", {})
    assert mask("x 110101199001011234", PiiOptions(tokens={CN_ID: "<ID>"}))[0] == "x <ID>"


def test_cn_case_set_recall_and_precision() -> None:
    bench = _bench()
    rows = bench.load_jsonl(bench.CORPORA / bench.CN_CASES)
    result = bench.evaluate_cn(rows)
    per_type = result["per_type"]
    assert {BANK_CARD, CN_ID, CN_MOBILE, CN_PASSPORT, EMAIL} <= set(per_type)
    _meets_bar(per_type, recall=0.99)
    assert len(result["excluded_rows"]) <= 1 and all(row["reason"] for row in result["excluded_rows"])
    mistyped = bench.evaluate_mistyped_ids(rows)
    assert mistyped["ids"] >= 20 and mistyped["as_cn_id_invalid"] == mistyped["ids"] and mistyped["as_bank_card"] == 0


def test_uscc_in_the_cn_negative_is_a_uscc_not_a_card() -> None:
    assert found("统一社会信用代码91310000552936878J") == [(CN_USCC, "91310000552936878J")]
