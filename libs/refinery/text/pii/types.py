"""The PII types :mod:`refinery.text.pii` finds, their default replacement tokens and phone
regions, and :class:`Span`, one match."""

from __future__ import annotations

from dataclasses import dataclass

EMAIL = "EMAIL"
CN_MOBILE = "CN_MOBILE"
CN_LANDLINE = "CN_LANDLINE"
PHONE = "PHONE"
CN_ID = "CN_ID"
BANK_CARD = "BANK_CARD"
CN_USCC = "CN_USCC"
CN_PASSPORT = "CN_PASSPORT"
IBAN = "IBAN"
US_SSN = "US_SSN"
IPV4 = "IPV4"
IPV6 = "IPV6"
URL_SECRET = "URL_SECRET"
#: Not a type one selects: a mistyped resident ID, found with ``CN_ID``, masked with its token
#: and counted apart.
CN_ID_INVALID = "CN_ID_INVALID"

ALL_TYPES: tuple[str, ...] = (
    EMAIL,
    CN_MOBILE,
    CN_LANDLINE,
    PHONE,
    CN_ID,
    BANK_CARD,
    CN_USCC,
    CN_PASSPORT,
    IBAN,
    US_SSN,
    IPV4,
    IPV6,
    URL_SECRET,
)
#: Every key :func:`mask`'s counts can hold: the types, and ``CN_ID_INVALID``.
COUNTED_TYPES: tuple[str, ...] = (*ALL_TYPES, CN_ID_INVALID)

#: Replacement token per type. Phones share one token on purpose: the model should learn
#: "a phone number was here", not which numbering plan it was.
DEFAULT_TOKENS: tuple[tuple[str, str], ...] = (
    (EMAIL, "[EMAIL]"),
    (CN_MOBILE, "[PHONE]"),
    (CN_LANDLINE, "[PHONE]"),
    (PHONE, "[PHONE]"),
    (CN_ID, "[CN_ID]"),
    (BANK_CARD, "[BANK_CARD]"),
    (CN_USCC, "[CN_USCC]"),
    (CN_PASSPORT, "[PASSPORT]"),
    (IBAN, "[IBAN]"),
    (US_SSN, "[US_SSN]"),
    (IPV4, "[IP]"),
    (IPV6, "[IP]"),
    (URL_SECRET, "[URL_SECRET]"),
)

#: The regions whose national phone formats are recognised (ISO 3166-1 alpha-2, as
#: libphonenumber names them); numbers written with ``+``/``00`` are recognised for every region.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("CN", "HK", "TW", "SG", "US", "GB", "DE", "FR", "JP", "KR", "IN")


@dataclass(frozen=True)
class Span:
    """One PII match: its type and ``[start, end)`` character offsets into the input text."""

    type: str
    start: int
    end: int
