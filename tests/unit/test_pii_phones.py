"""Unit tests of :mod:`refinery.text.pii.phones`: UK versus Chinese landlines, the phone regions
option, libphonenumber's generated numbers and the SMS corpus."""

from __future__ import annotations

import math

import pytest

from refinery.text.pii import (
    CN_LANDLINE,
    CN_MOBILE,
    EMAIL,
    PHONE,
    PiiOptions,
    mask,
)
from tests.support.pii_cases import _bench, _meets_bar, found


def test_uk_number_is_never_a_chinese_landline() -> None:
    """020 7946 0018 is London and Guangzhou alike: in English text it is a PHONE."""
    for text in ("London office 020 7946 0018.", "Call 02079460018 please", "UK +44 20 7946 0018"):
        assert [name for name, _ in found(text)] == [PHONE], text
    assert found("广州办公室020 7946 0018。") == [(CN_LANDLINE, "020 7946 0018")]


def test_phone_regions_option() -> None:
    us_only = PiiOptions(phone_regions=("US",))
    assert found("Ring 07700 900123 after six.", us_only) == []
    assert found("Ring +44 20 7946 0018 after six.", us_only) == [(PHONE, "+44 20 7946 0018")]  # + works anywhere
    with pytest.raises(ValueError, match="GB, not UK"):
        PiiOptions(phone_regions=("UK",))


def test_generated_phone_lists_recall_and_precision() -> None:
    """libphonenumber's example numbers of every type, region and format, in sentences."""
    result = _bench().evaluate_phone_lists()
    assert result["rows"] >= 500 and {PHONE, CN_MOBILE, CN_LANDLINE} <= set(result["per_type"])
    _meets_bar(result["per_type"])


# ------------------------------------------------------------------------------- real-text sanity


def test_sms_corpus_masks_without_crash() -> None:
    bench = _bench()
    path = bench.CORPORA / "sms_spam_collection" / "SMSSpamCollection"
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    messages = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    assert len(messages) > 5_000
    totals: dict[str, int] = {}
    for message in messages:
        masked, counts = mask(message)
        assert isinstance(masked, str)
        for name, count in counts.items():
            assert isinstance(count, int) and count > 0
            totals[name] = totals.get(name, 0) + count
    # UK numbers, +44... and national 0871..., are phones; none of them is a Chinese landline.
    assert totals.get(PHONE, 0) >= 2
    assert totals.get(EMAIL, 0) >= 3
    assert totals.get(CN_LANDLINE, 0) == 0
    assert not math.isnan(sum(totals.values()))
