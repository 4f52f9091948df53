"""Find and mask personal data (PII) in Chinese + English text with validated regular expressions.

What is found (``ALL_TYPES``): e-mail addresses, phone numbers (Chinese mobiles and landlines,
and any other valid number of the configured regions or written with a country code), Chinese
resident ID numbers, bank cards, Chinese Unified Social Credit Codes, Chinese passports /
travel permits, IBANs, US social security numbers, IPv4 and IPv6 addresses, and URLs that carry
a secret (``user:pass@host`` or a ``token=``-like query parameter).

How: every type is one regular expression that proposes *candidates* and one Python check
that accepts or rejects them (check digits, real dates, octet ranges, ``ipaddress``,
libphonenumber's numbering plans). The regular expression only has to be cheap and permissive;
the check carries the precision. That split is also what keeps every pattern linear-time: no
pattern has a nested quantifier that can backtrack exponentially (every repeated group is
bounded and delimited by a separator that its body cannot contain, so a string splits into
groups in one way only), and any test that would need backtracking (e.g. "the address must end
here") is done in Python on the one greedy match.

Checked validators come from python-stdnum where they give the same answers as the standard
(``stdnum.cn.ric`` and ``stdnum.cn.uscc`` check characters, ``stdnum.luhn``, ``stdnum.iban``;
parity is tested); phone numbers from ``phonenumbers`` (Google's libphonenumber metadata, what
Presidio's phone recogniser uses).

Where each part lives: the types, tokens and :class:`Span` in :mod:`.types`; :class:`PiiOptions`
in :mod:`.options`; the recognisers by family in :mod:`.chinese` (resident IDs, USCC, passports,
mobiles), :mod:`.phones` (``phonenumbers``), :mod:`.cards` (bank cards, IBAN, US SSN) and
:mod:`.network` (e-mail, IP, URL secrets), their shared boundaries in :mod:`.common`; the table of
recognisers per type in :mod:`.recognizers`; :func:`find` / :func:`validate` and overlap
resolution in :mod:`.search`; :func:`mask` and the column forms in :mod:`.masking`.

Pure Python (stdlib ``re`` and ``ipaddress``, ``phonenumbers``, ``stdnum``); pandas/pyarrow only
inside :func:`mask_series`. Nothing here logs: the text and the matches are PII, and
:func:`mask` returns counts only.
"""

from refinery.text.pii.cards import bank_card_valid, iban_valid, luhn_valid, us_ssn_valid
from refinery.text.pii.chinese import _USCC_ALPHABET as _USCC_ALPHABET
from refinery.text.pii.chinese import cn_id_check_char, cn_id_mistyped, cn_id_valid, uscc_check_char, uscc_valid
from refinery.text.pii.masking import mask, mask_json_objects, mask_series
from refinery.text.pii.network import ip_is_public
from refinery.text.pii.options import DEFAULT, PiiOptions
from refinery.text.pii.recognizers import _GATE_DIGITS as _GATE_DIGITS
from refinery.text.pii.recognizers import _GATE_DOTTED as _GATE_DOTTED
from refinery.text.pii.recognizers import _GATE_HEX_COLON as _GATE_HEX_COLON
from refinery.text.pii.recognizers import _GATE_IBAN as _GATE_IBAN
from refinery.text.pii.recognizers import _GATE_PHONE as _GATE_PHONE
from refinery.text.pii.recognizers import _PREFILTER as _PREFILTER
from refinery.text.pii.recognizers import _RECOGNIZERS as _RECOGNIZERS
from refinery.text.pii.recognizers import PREFILTER_REGEX
from refinery.text.pii.search import _resolve as _resolve
from refinery.text.pii.search import find, validate
from refinery.text.pii.types import (
    ALL_TYPES,
    BANK_CARD,
    CN_ID,
    CN_ID_INVALID,
    CN_LANDLINE,
    CN_MOBILE,
    CN_PASSPORT,
    CN_USCC,
    COUNTED_TYPES,
    DEFAULT_PHONE_REGIONS,
    DEFAULT_TOKENS,
    EMAIL,
    IBAN,
    IPV4,
    IPV6,
    PHONE,
    URL_SECRET,
    US_SSN,
    Span,
)

__all__ = [
    "ALL_TYPES",
    "BANK_CARD",
    "CN_ID",
    "CN_ID_INVALID",
    "CN_LANDLINE",
    "CN_MOBILE",
    "CN_PASSPORT",
    "CN_USCC",
    "COUNTED_TYPES",
    "DEFAULT",
    "DEFAULT_PHONE_REGIONS",
    "DEFAULT_TOKENS",
    "EMAIL",
    "IBAN",
    "IPV4",
    "IPV6",
    "PHONE",
    "PREFILTER_REGEX",
    "URL_SECRET",
    "US_SSN",
    "PiiOptions",
    "Span",
    "bank_card_valid",
    "cn_id_check_char",
    "cn_id_mistyped",
    "cn_id_valid",
    "find",
    "iban_valid",
    "ip_is_public",
    "luhn_valid",
    "mask",
    "mask_json_objects",
    "mask_series",
    "us_ssn_valid",
    "uscc_check_char",
    "uscc_valid",
    "validate",
]
