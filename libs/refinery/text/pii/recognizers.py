"""The recogniser table: for every PII type, the candidate patterns and checks that report it,
with the cheap gates that let a text skip them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from refinery.text.pii.cards import _BANK_CARD_RE, _IBAN_RE, _SSN_RE, _check_bank_card, _check_iban, _check_ssn
from refinery.text.pii.chinese import (
    _CN_ID_RE,
    _MOBILE_RE,
    _PASSPORT_RE,
    _USCC_RE,
    _check_cn_id,
    _check_mobile,
    _check_passport,
    _check_uscc,
)
from refinery.text.pii.common import Check
from refinery.text.pii.network import (
    _EMAIL_RE,
    _IPV4_RE,
    _IPV6_RE,
    _URL_RE,
    _check_email,
    _check_ipv4,
    _check_ipv6,
    _check_url,
)
from refinery.text.pii.phones import _PHONE_RE, _check_phone
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
)

#: Cheap necessary conditions ("gates"), each a superset of what its recognisers can match, so a
#: text that fails a gate skips those patterns. Every ID-like type needs 6 contiguous digits
#: (IDs, cards, USCC region, passports) or a 3-digit group, one separator and a 4-digit group
#: (spaced cards and IDs); most news titles, with only years and prices, fail it. Phones and
#: SSNs need 7 digits with at most 3 other characters between neighbours; IPv4 needs "d.d";
#: IPv6 "::" or "h:h"; an IBAN two capitals and two digits.
_GATE_DIGITS = re.compile(r"[0-9]{6}|[0-9]{3}(?: {1,2}|-)[0-9]{4}")
_GATE_PHONE = re.compile(r"[0-9](?:[^0-9]{0,3}[0-9]){6}")
_GATE_DOTTED = re.compile(r"[0-9]\.[0-9]")
_GATE_HEX_COLON = re.compile(r"::|[0-9A-Fa-f]:[0-9A-Fa-f]")
_GATE_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}")


@dataclass(frozen=True)
class _Recognizer:
    """One pattern: the types it can report (the first is the type of a plain span), its
    candidate pattern, its check, a substring the text must contain (``need``, a fast ``in``
    test) and a gate pattern it must match (shared gates are searched once per text) before the
    pattern is worth running."""

    types: tuple[str, ...]
    pattern: re.Pattern[str]
    check: Check
    need: str = ""
    gate: re.Pattern[str] | None = _GATE_DIGITS


_PHONE_RECOGNIZER = _Recognizer((PHONE, CN_LANDLINE, CN_MOBILE), _PHONE_RE, _check_phone, gate=_GATE_PHONE)

#: Type → the recognisers that can report it. Chinese mobiles have their own exact pattern (it
#: also reads "86 138..." without a "+") and come out of the phone recogniser too.
_RECOGNIZERS: dict[str, tuple[_Recognizer, ...]] = {
    EMAIL: (_Recognizer((EMAIL,), _EMAIL_RE, _check_email, need="@", gate=None),),
    CN_MOBILE: (_Recognizer((CN_MOBILE,), _MOBILE_RE, _check_mobile), _PHONE_RECOGNIZER),
    CN_LANDLINE: (_PHONE_RECOGNIZER,),
    PHONE: (_PHONE_RECOGNIZER,),
    CN_ID: (_Recognizer((CN_ID, CN_ID_INVALID), _CN_ID_RE, _check_cn_id),),
    BANK_CARD: (_Recognizer((BANK_CARD,), _BANK_CARD_RE, _check_bank_card),),
    CN_USCC: (_Recognizer((CN_USCC,), _USCC_RE, _check_uscc),),
    CN_PASSPORT: (_Recognizer((CN_PASSPORT,), _PASSPORT_RE, _check_passport),),
    IBAN: (_Recognizer((IBAN,), _IBAN_RE, _check_iban, gate=_GATE_IBAN),),
    US_SSN: (_Recognizer((US_SSN,), _SSN_RE, _check_ssn, gate=_GATE_PHONE),),
    IPV4: (_Recognizer((IPV4,), _IPV4_RE, _check_ipv4, need=".", gate=_GATE_DOTTED),),
    IPV6: (_Recognizer((IPV6,), _IPV6_RE, _check_ipv6, need=":", gate=_GATE_HEX_COLON),),
    URL_SECRET: (_Recognizer((URL_SECRET,), _URL_RE, _check_url, need="://", gate=None),),
}


#: Every pattern needs an ASCII digit, "@" or ":" (URLs and IPv6 have ":"), so a text with none
#: of them cannot contain PII and is skipped without running any pattern.
PREFILTER_REGEX = r"[0-9@:]"
_PREFILTER = re.compile(PREFILTER_REGEX)
