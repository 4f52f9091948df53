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

Phones. A candidate is a run of digits with separators (space, ``-``, ``.``), an optional
leading ``+`` and parenthesised groups. With ``+`` or ``00`` it is parsed as an international
number and must be valid (with ``+``, a possible length in groups of 2+ digits will do: the
reserved fiction ranges such as ``+44 7700 900123``); without, it must be a valid number of
one of ``PiiOptions.phone_regions`` *written as that region writes it nationally* (its
national format has the same digits: a region's trunk prefix ``0`` must be there, so
``555.123.4567`` is not read as a Chinese ``0555`` landline); without a written trunk prefix
its groups must also end where the region's national format ends them (``2970558-1`` in a URL
is no Hong Kong number), while after a ``0`` groups may be merged (``0732-8290219``,
``0845 2814032``). North American 3-3-4 groups are a phone even in the fictional 555 range. A
run of digits with no separator needs a trunk prefix and 10+ digits (``07700900123``) or a
phone word just before it (``call``, ``电话``...): bare 8-10 digit runs are order numbers and
ids far more often than phones. Dates, year and page ranges, decimals, formulas, IPv4-shaped
runs, amounts with a unit and digits inside URLs and identifiers are never phones. Labels: a
Chinese mobile is ``CN_MOBILE``, a Chinese landline ``CN_LANDLINE``, any other number ``PHONE``.
A national number that is valid in China *and* elsewhere goes to the side whose national format
groups its digits as written (``056 1234 5678`` is British, China prints ``0561 234 5678``);
when both or neither print it so (``020 7946 0018`` is London and Guangzhou), it is Chinese
only next to Chinese characters, so a UK number in English text is never ``CN_LANDLINE``.

Resident IDs. An 18-character number with a valid province code and birth date but a wrong
check character is a mistyped ID, still somebody's: it is masked with the ``CN_ID`` token and
counted as ``CN_ID_INVALID`` (never as a bank card, whatever its Luhn sum).

Boundaries. A digit-based candidate must not sit inside a longer run of ASCII letters or
digits (``ORDER12345678901234``, ``A4111111111111111`` are not cards), nor be glued to another
number by a ``-`` or ``.`` (pieces of dates, versions and ranges); ``Tel.13812345678`` is
fine. Chinese characters *are* boundaries: Chinese writes ``身份证号110101199001011237`` with
no space, so ``\\b`` (which treats CJK as word characters) is not used anywhere.

Overlaps are resolved deterministically: the longer span wins; at equal length the more
specific type wins in ``_PRIORITY`` order (a CN_ID beats a BANK_CARD or a phone with the same
digits, an e-mail beats a URL reading of the same text, a US_SSN beats a phone reading of
``078-05-1123``). A ``https://user:pass@host`` URL_SECRET is longer than the ``pass@host``
e-mail inside it, so the whole secret-bearing URL is masked.

Pure Python (stdlib ``re`` and ``ipaddress``, ``phonenumbers``, ``stdnum``); pandas/pyarrow only
inside :func:`mask_series`. Nothing here logs: the text and the matches are PII, and
:func:`mask` returns counts only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberFormat, PhoneNumberType
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

if TYPE_CHECKING:
    import pandas as pd

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


@dataclass(frozen=True)
class Span:
    """One PII match: its type and ``[start, end)`` character offsets into the input text."""

    type: str
    start: int
    end: int


@dataclass(frozen=True)
class PiiOptions:
    """What to find and what to replace it with. Frozen, hashable and picklable (Spark ships it
    to executors and caches compiled plans by it).

    ``types``: the types to find (any order; unknown names raise ``ValueError``).
    ``tokens``: a mapping or ``(type, token)`` pairs; given entries override
    :data:`DEFAULT_TOKENS`, the rest keep their default. It is stored as a sorted tuple of pairs
    (a ``dict`` is not hashable, a ``MappingProxyType`` is not picklable); read it with
    :meth:`token` or :meth:`token_map`. ``CN_ID_INVALID`` always takes ``CN_ID``'s token.
    ``public_ip_only``: when true, an IP address is PII only if it is globally routable
    (``ipaddress``'s ``is_global`` and not multicast): private, loopback, link-local,
    unspecified, reserved and documentation addresses are left in the text.
    ``phone_regions``: regions whose national phone formats are read (see the module
    docstring); unknown codes raise ``ValueError``.
    """

    types: tuple[str, ...] = ALL_TYPES
    tokens: tuple[tuple[str, str], ...] | Mapping[str, str] = DEFAULT_TOKENS
    public_ip_only: bool = False
    phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS

    def __post_init__(self) -> None:
        types = tuple(dict.fromkeys(self.types))
        unknown = sorted(set(types) - set(ALL_TYPES))
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; known: {list(ALL_TYPES)}")
        pairs: Iterable[tuple[str, str]] = self.tokens.items() if isinstance(self.tokens, Mapping) else self.tokens
        merged = dict(DEFAULT_TOKENS)
        for name, token in pairs:
            if name not in merged:
                raise ValueError(f"token given for unknown PII type {name!r}")
            if not isinstance(token, str):
                raise TypeError(f"token for {name} must be a str")
            merged[name] = token
        regions = tuple(dict.fromkeys(self.phone_regions))
        bad = sorted(region for region in regions if region not in phonenumbers.SUPPORTED_REGIONS)
        if bad:
            raise ValueError(
                f"unknown phone regions {bad}; use ISO 3166-1 alpha-2 codes libphonenumber supports (GB, not UK)"
            )
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "tokens", tuple(sorted(merged.items())))
        object.__setattr__(self, "public_ip_only", bool(self.public_ip_only))
        object.__setattr__(self, "phone_regions", regions)

    def token(self, pii_type: str) -> str:
        """The replacement token for one type (``CN_ID_INVALID``: ``CN_ID``'s)."""
        return self.token_map()[pii_type]

    def token_map(self) -> dict[str, str]:
        """All replacement tokens as a fresh ``dict``, ``CN_ID_INVALID`` included."""
        tokens = dict(self.tokens)  # type: ignore[arg-type]
        tokens[CN_ID_INVALID] = tokens[CN_ID]
        return tokens


DEFAULT = PiiOptions()

# --------------------------------------------------------------------------------------------
# Validators (pure functions; each docstring gives the maths)
# --------------------------------------------------------------------------------------------

#: Province-level codes (first two digits of a resident ID), GB/T 2260; 81/82/83 are the
#: Hong Kong / Macao / Taiwan residence permits, which use the same number format.
_ID_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)


def _real_date(year: int, month: int, day: int) -> bool:
    """A calendar date between 1850-01-01 and today (a birth date cannot be in the future; the
    standard's own example, 440524188001010014, was born in 1880)."""
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1850, 1, 1) <= born <= date.today()


def cn_id_check_char(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) of the first 17 digits.

    ``S = sum(a_i * W_i)`` for i = 0..16 (left to right) with ``W_i = 2^(17-i) mod 11``; the
    check character is the value ``c`` with ``S + c = 1 (mod 11)``, 10 written ``X``.
    Computed by ``stdnum.cn.ric.calc_check_digit`` (same maths, tested for parity).
    """
    return stdnum_ric.calc_check_digit(first17 + "0")


def _cn_id_parts_valid(number: str) -> bool:
    """An 18-character resident ID's province code and birth date (the check is not looked at)."""
    if len(number) != 18 or not (number[:17].isdigit() and number[:17].isascii()) or number[17] not in "0123456789X":
        return False
    if int(number[:2]) not in _ID_PROVINCES:
        return False
    return _real_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def cn_id_valid(number: str) -> bool:
    """A Chinese resident ID number (separators already removed).

    18 characters: a valid province code (first two digits, GB/T 2260, so the first digit is
    1-8), a real birth date ``YYYYMMDD`` at positions 7-14, and the GB 11643-1999 check
    character (see :func:`cn_id_check_char`; ``x`` is accepted for ``X``).
    15 digits (legacy, before 1999): province code and a real ``19YYMMDD`` date; no check digit.
    (``stdnum.cn.ric.validate`` is not used: it also requires the county code to be in its own
    list, which rejects real IDs of counties renamed or merged since.)
    """
    number = number.upper()
    if len(number) == 18:
        return _cn_id_parts_valid(number) and cn_id_check_char(number[:17]) == number[17]
    if len(number) == 15 and number.isdigit() and number.isascii():
        if int(number[:2]) not in _ID_PROVINCES:
            return False
        return _real_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return False


def cn_id_mistyped(number: str) -> bool:
    """An 18-character resident ID with a valid province code and birth date whose check
    character is wrong: a typo in somebody's ID, which is still personal data."""
    number = number.upper()
    return _cn_id_parts_valid(number) and cn_id_check_char(number[:17]) != number[17]


def luhn_valid(digits: str) -> bool:
    """Luhn (ISO/IEC 7812-1, "mod 10") check, by ``stdnum.luhn``.

    From the rightmost digit (the check digit, position 0) leftwards, double every digit at an
    odd position and subtract 9 from doubles above 9 (i.e. add the digit sum); the number is
    valid when the total is divisible by 10. A random digit string passes with probability 1/10.
    """
    return digits.isdigit() and digits.isascii() and stdnum_luhn.checksum(digits) == 0


def bank_card_valid(digits: str) -> bool:
    """A payment card number (separators removed): 13-19 digits, a plausible issuer prefix
    (ISO/IEC 7812 major industry identifier) and a Luhn check (:func:`luhn_valid`).

    Prefix rule: 3/4/5/6 (Amex, JCB, Diners, Visa, Mastercard, Discover, UnionPay 62...) at
    any length 13-19; 2 only as Mastercard 2221-2720 with 16 digits; 1 only as a 15-digit UATP
    airline card; 9 (national, e.g. old 9558... Chinese debit cards) with 16-19 digits; 0, 7
    and 8 never. This rejects the most common Luhn-by-chance look-alikes in text: 13-digit
    millisecond timestamps (``1748503543012``), 16/19-digit micro/nano-second timestamps
    (``17...``) and zero-padded ids. Numbers of one repeated digit are rejected too.
    """
    length = len(digits)
    if not 13 <= length <= 19 or not (digits.isdigit() and digits.isascii()) or len(set(digits)) == 1:
        return False
    first = digits[0]
    if first == "1":
        prefix_ok = length == 15
    elif first == "2":
        prefix_ok = length == 16 and 2221 <= int(digits[:4]) <= 2720
    elif first == "9":
        prefix_ok = length >= 16
    else:
        prefix_ok = first in "3456"
    return prefix_ok and luhn_valid(digits)


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_USCC_CHARS = frozenset(_USCC_ALPHABET)


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character of the first 17 characters of a Unified Social Credit Code.

    Characters take their index in the 31-character alphabet ``0-9A-HJ-NP-RTUWXY`` (no I, O,
    Z, S, V); with weights ``W_i = 3^i mod 31`` (i = 0..16, left to right) the check value is
    ``c = 31 - (sum(v_i * W_i) mod 31)``, and ``c = 31`` is written as ``0``. Computed by
    ``stdnum.cn.uscc.calc_check_digit`` (same maths, tested for parity).
    """
    return stdnum_uscc.calc_check_digit(first17)


def uscc_valid(code: str) -> bool:
    """An 18-character Unified Social Credit Code (GB 32100-2015).

    Layout: registration authority (1 char: 1-9, A, N, Y), entity category (1 digit), the
    6-digit administrative region, the 9-character organisation code, and the check character
    of :func:`uscc_check_char`. Upper case only (the standard has no lower case).
    """
    if len(code) != 18 or any(char not in _USCC_CHARS for char in code):
        return False
    if code[0] not in "123456789ANY" or code[1] not in "123456789" or not code[2:8].isdigit():
        return False
    return uscc_check_char(code[:17]) == code[17]


def iban_valid(compact: str) -> bool:
    """An IBAN without spaces (ISO 13616), by ``stdnum.iban.is_valid``: a country with an IBAN
    format, that country's length and layout (its BBAN structure from the SWIFT registry), and
    the ISO 7064 MOD 97-10 check digits. Upper case only. Country-specific BBAN check digits
    (``check_country``) are not required, as in Presidio: the SWIFT registry's own Belgian
    example fails them."""
    return compact.isupper() and stdnum_iban.is_valid(compact, check_country=False)


#: Published SSNs that are nobody's: the 1938 Woolworth wallet card and the sequence 123-45-6789
#: (Presidio's list), and 219-09-9999 from the SSA's own 1940 pamphlet.
_SSN_EXAMPLES = ("078051120", "123456789", "219099999")


def us_ssn_valid(digits: str) -> bool:
    """A US social security number (9 digits, separators removed), by the SSA's rules as
    Presidio applies them: area (first 3) not 000, 666 or 9xx; group (next 2) not 00; serial
    (last 4) not 0000; not one repeated digit; not one of the published example numbers."""
    if len(digits) != 9 or not (digits.isdigit() and digits.isascii()) or len(set(digits)) == 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return digits not in _SSN_EXAMPLES


def ip_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast: ``is_global`` (IANA special-purpose registries: excludes
    private, loopback, link-local, shared, documentation and reserved ranges) and not multicast.
    An IPv4-mapped IPv6 address is judged by its IPv4 part."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


# --------------------------------------------------------------------------------------------
# Recognisers: a candidate pattern + a check
# --------------------------------------------------------------------------------------------

#: Digit-run boundaries: not inside an ASCII alphanumeric run, and not glued to another number
#: by "-" or "." (pieces of dates, versions, ranges). A label glued by "." or "-" is fine:
#: "Tel.13812345678", "No.11010519491231002X".
_B = r"(?<![0-9A-Za-z])(?<![0-9][.\-])"
_E = r"(?![0-9A-Za-z])(?![.\-][0-9])"
_SEP = r"(?: {1,2}|-)"  # one group separator: one or two spaces, or a dash

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9_%+\-])[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9\-]{1,59})(?![A-Za-z0-9\-])"
)

_MOBILE_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?<![0-9][.\-])"
    r"(?:(?:\+|00)86[ \-]?|[(（]\+?86[)）][ \-]?|86[ \-]?)?"
    r"1(?:3[0-9]|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8[0-9]|9[0-35-9])[ \-]?[0-9]{4}[ \-]?[0-9]{4}" + _E
)

_CN_ID_RE = re.compile(
    _B + r"(?:[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{14}"
    rf"|[1-9][0-9]{{5}}(?P<a>{_SEP})[0-9]{{8}}(?P=a)[0-9]{{3}}[0-9Xx]"
    rf"|[1-9][0-9]{{3}}(?P<b>{_SEP})[0-9]{{4}}(?P=b)[0-9]{{4}}(?P=b)[0-9]{{4}}(?P=b)[0-9][0-9Xx])" + _E
)

_BANK_CARD_RE = re.compile(
    _B + r"(?:[0-9]{13,19}"
    rf"|[0-9]{{4}}(?P<a>{_SEP})[0-9]{{4}}(?:(?P=a)[0-9]{{4}}){{1,2}}(?:(?P=a)[0-9]{{1,4}})?"
    rf"|[0-9]{{4}}(?P<b>{_SEP})[0-9]{{6}}(?P=b)[0-9]{{4,5}})" + _E
)

_USCC_RE = re.compile(_B + r"[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}" + _E)

_PASSPORT_RE = re.compile(_B + r"(?:[EGDSPCHMLW][0-9]{8}|E[A-HJ-NP-Z][0-9]{7})" + _E)
#: Forms precise enough to accept without context: PRC e-passports E + 8 digits and E + letter
#: + 7 digits, and the older ordinary passport G + 8 digits.
_PASSPORT_STRICT = re.compile(r"E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}")
#: Other PRC travel documents (D/S/P diplomatic/service/public-affairs passports, C/W Hong Kong
#: & Macao permits, L Taiwan permit, H/M home-return permits) look like any product code, so
#: they need one of these words within the 16 characters before them.
_PASSPORT_CONTEXT = re.compile(r"护照|通行证|回乡证|旅行证|passport|travel permit", re.IGNORECASE)
_PASSPORT_WINDOW = 16

_IPV4_RE = re.compile(r"(?<![0-9A-Za-z.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?P<pfx>/[0-9]{1,3})?")
_IPV6_RE = re.compile(
    r"(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f]{0,4}:)(?P<addr>[0-9A-Fa-f:.]{2,45})"
    r"(?P<zone>%[0-9A-Za-z_\-]{1,16})?(?P<pfx>/[0-9]{1,4})?"
)

_URL_RE = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,15}://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_URL_TRAILING = ".,;:!?'()[]"
_SECRET_KEYS = frozenset(
    {"token", "access_token", "refresh_token", "id_token", "auth_token", "api_key", "apikey", "key", "secret"}
    | {"client_secret", "password", "passwd", "pwd", "sig", "signature", "auth", "credential", "private_token"}
)
_SECRET_SUFFIXES = ("_token", "_key", "_secret", "signature", "password", "_credential")
_SECRET_MIN_VALUE = 4

#: Phone candidates: digits with at most one separator (one space, "-" or ".", or a bracket
#: with a space or dash) between any two, 7-20 digits, an optional leading "+" (a space may
#: follow it: "+ 45 36 72 33 00") or "(" (an area code in brackets). Each repetition consumes
#: one digit, so a run splits into repetitions one way only.
_PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?<![0-9][.\-])"
    r"(?:\+[ ]?|[(（]\+?(?=[0-9]{1,5}[)）]))?"
    r"[0-9](?:(?:[ \-.]|[ ]?[)）][ \-.]?|[ \-.]?[(（])?[0-9]){6,19}"
)
_PHONE_GROUPS = re.compile(r"[0-9]+")
#: An extension after a valid number: "转123", "ext. 12", "x12", "#12".
_PHONE_EXT = re.compile(r"[ ]?(?:转|分机|ext\.?|x|#)[ ]?[0-9]{1,6}(?![0-9A-Za-z])")
_PHONE_EXT_DASH = re.compile(r"-[0-9]{1,6}(?![0-9A-Za-z])")  # "010-65529988-123": Chinese landlines
#: Words that make a bare digit run (no separator, no trunk prefix) a phone number, looked for in
#: the ``_PHONE_WINDOW`` characters before it.
_PHONE_CONTEXT = re.compile(
    r"(?<![A-Za-z])(?:tel|phone|call|mobile|cell|fax|whatsapp|hotline)|电话|手机|致电|热线|联系|座机|传真|微信",
    re.IGNORECASE,
)
_PHONE_WINDOW = 16
_HEX_PAIR = re.compile(r"[0-9A-Fa-f]{2}(?![0-9A-Za-z])")
#: After a digit run, these make it an amount, a date or an identifier, not a phone number.
_UNITS = frozenset("_%‰℃亿万千百元年月日号个件次人台")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_CJK_WINDOW = 8
_NATIONAL = PhoneNumberFormat.NATIONAL
_CN_PHONE_TYPES = {
    PhoneNumberType.MOBILE: CN_MOBILE,
    PhoneNumberType.FIXED_LINE: CN_LANDLINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: CN_LANDLINE,
}

#: IBAN candidates: country letters, check digits, then 11-30 letters or digits, a space allowed
#: before any of them (printed IBANs are grouped by four). The check backs off to the longest
#: valid prefix that ends before a space, so a following upper-case word is not swallowed.
_IBAN_RE = re.compile(r"(?<![0-9A-Za-z])[A-Z]{2}[0-9]{2}(?:[ ]?[0-9A-Z]){11,30}")

#: US SSN candidates: 3-2-4 digits with one repeated separator (Presidio's "medium" pattern), or
#: the "very weak" ones (9 bare digits, 5-4, 3-6), which need an SSN word before them: without
#: one they are order numbers, QQ numbers and ZIP+4 codes (07805-1121).
_SSN_RE = re.compile(
    _B + r"(?:[0-9]{3}(?P<s>[ .\-])[0-9]{2}(?P=s)[0-9]{4}|[0-9]{9}|[0-9]{5}-[0-9]{4}|[0-9]{3}-[0-9]{6})" + _E
)
_SSN_CONTEXT = re.compile(r"(?<![A-Za-z])(?:ssn|ss#|ss no)(?![A-Za-z])|social security", re.IGNORECASE)
_SSN_WINDOW = 32

#: What a check returns: the span (its type is the recogniser's), a span with its own type, or
#: ``None`` (rejected).
Found = tuple[int, int] | tuple[int, int, str] | None
Check = Callable[[re.Match[str], str, PiiOptions, bool], Found]


def _alnum_at(text: str, index: int) -> bool:
    """Whether ``text[index]`` exists and is an ASCII letter or digit."""
    return index < len(text) and text[index].isascii() and text[index].isalnum()


def _check_email(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    local, domain = match.group().split("@", 1)
    if local.endswith(".") or ".." in local:
        return None
    labels = domain.split(".")
    if labels[-1].istitle() and labels[-2].islower():
        return None  # "msg+ticket@kiosk.Valid": a sentence run into the next one, not a TLD
    return match.span()


def _check_mobile(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    return match.span()  # the pattern is the whole rule: segment prefix + 11 digits + boundaries


def _strip_separators(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


def _check_cn_id(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> Found:
    number = _strip_separators(match.group())
    if cn_id_valid(number):
        return match.span()
    return (*match.span(), CN_ID_INVALID) if cn_id_mistyped(number) else None


@cache
def _region_plan(region: str) -> tuple[int, str, frozenset[int]]:
    """A region's country calling code, national (trunk) prefix (``""`` when it has none) and
    the lengths its national numbers can have (libphonenumber's ``possible_length``: a cheap
    test that skips most regions before the validity check)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    lengths = frozenset(metadata.general_desc.possible_length)
    return metadata.country_code, metadata.national_prefix or "", lengths


def _digits_of(value: str) -> str:
    return "".join(char for char in value if "0" <= char <= "9")


def _national_number(digits: str, region: str) -> tuple[PhoneNumber, str] | None:
    """``digits`` as a valid number of ``region`` written the way the region writes it
    nationally, and that national format: it has the same digits, or the same digits after a
    written trunk prefix (``1-800-555-0199``). A trunk prefix the region requires must be there."""
    country_code, prefix, lengths = _region_plan(region)
    national = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
    if len(national) not in lengths:
        return None
    number = PhoneNumber(country_code=country_code, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros:
        number.italian_leading_zero = True
        number.number_of_leading_zeros = zeros
    if not phonenumbers.is_valid_number_for_region(number, region):
        return None
    printed = phonenumbers.format_number(number, _NATIONAL)
    return (number, printed) if _digits_of(printed) in (digits, national) else None


def _cn_phone_type(number: PhoneNumber) -> str:
    return _CN_PHONE_TYPES.get(phonenumbers.number_type(number), PHONE)


def _looks_like_date(groups: list[str]) -> bool:
    """Digit groups that read as a date (``2024-01-15``, ``15.01.2024``) or years
    (``2004-2008``)."""

    def year(group: str) -> bool:
        return len(group) == 4 and group[:2] in ("19", "20")

    if all(year(group) for group in groups):
        return True
    if len(groups) == 3:
        first, middle, last = groups
        short = len(middle) <= 2
        return short and ((year(first) and len(last) <= 2) or (year(last) and len(first) <= 2))
    return False


def _boundaries(lengths: list[int]) -> frozenset[int]:
    """Where digit groups of these lengths end, as digit offsets (the last end excluded)."""
    ends, total = set(), 0
    for length in lengths[:-1]:
        total += length
        ends.add(total)
    return frozenset(ends)


def _allowed_boundaries(digits: str, printed: list[int], region: str) -> frozenset[int]:
    """The group ends a number may be written with: those of the region's national format, and
    the end of a written trunk prefix (``1-800-555-0199``)."""
    shift = len(digits) - sum(printed)  # a written prefix the national format leaves out
    allowed = {end + shift for end in _boundaries(printed)}
    prefix = _region_plan(region)[1]
    if prefix and digits.startswith(prefix):
        allowed.add(len(prefix))
    return frozenset(allowed)


def _looks_like_range(groups: list[str], candidate: str) -> bool:
    """Two same-length numbers joined by a dash, the second larger and starting with the same
    digit: a page or id range (``2526-2534``), not a phone number."""
    if len(groups) != 2 or "-" not in candidate or len(groups[0]) != len(groups[1]):
        return False
    first, second = groups
    return first[0] == second[0] and int(second) > int(first)


def _nanp_shaped(groups: list[str], options: PiiOptions) -> bool:
    """A North American number by its print shape, valid or not: ``(555) 123-4567``,
    ``555.123.4567``, ``1-800-555-0199`` (3-3-4 digit groups, an optional leading 1 or 001, an area code
    starting 2-9). libphonenumber rejects the fictional 555 area code, but people write their
    numbers this way and the shape is rare elsewhere (dates and amounts never group 3-3-4)."""
    if "US" not in options.phone_regions:
        return False
    if len(groups) == 4 and groups[0] in ("1", "001"):
        groups = groups[1:]
    return [len(group) for group in groups] == [3, 3, 4] and groups[0][0] not in "01"


def _bad_shape(candidate: str, groups: list[str]) -> bool:
    """Digit groups no phone number is written in: decimals, thousands, formulas and IPv4s
    (dots mixed with other separators, fewer than 3 dotted groups, a dotted group of one digit,
    four dotted groups of at most 3 digits); two or more one-digit groups (``-1-4-4-4-5``);
    brackets that do not close, that are not around the first or second group (``0 460(2001)01``),
    or around a year (``0766(2000)06``)."""
    if "." in candidate:
        body = groups[1:] if candidate[0] == "+" else groups
        if any(char in candidate for char in " -()（）") or len(groups) < 3 or min(map(len, body)) < 2:
            return True
        if len(groups) == 4 and max(map(len, groups)) <= 3:
            return True
    if sum(len(group) == 1 for group in groups) >= 2:
        return True
    opened = candidate.count("(") + candidate.count("（")
    if not opened:
        return False
    if opened > 1 or opened != candidate.count(")") + candidate.count("）"):
        return True
    bracket = max(candidate.find("("), candidate.find("（"))
    inside = _PHONE_GROUPS.search(candidate, bracket)
    if inside is None or len(_PHONE_GROUPS.findall(candidate, 0, bracket)) > 1:
        return True
    return len(inside.group()) == 4 and inside.group()[:2] in ("19", "20")


def _phone_type(candidate: str, text: str, start: int, end: int, options: PiiOptions, context: bool) -> str | None:
    """The phone type of ``candidate`` (``text[start:end]``), or ``None`` when it is not a phone
    number (see the module docstring for the rules)."""
    digits = _digits_of(candidate)
    if _bad_shape(candidate, _PHONE_GROUPS.findall(candidate)):
        return None
    if candidate[0] == "+" or (digits.startswith("00") and candidate[0] == "0"):
        digits = digits if candidate[0] == "+" else digits[2:]
        if not 7 <= len(digits) <= 15:
            return None
        try:
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return _cn_phone_type(number) if number.country_code == 86 else PHONE
        groups = _PHONE_GROUPS.findall(candidate)
        if candidate[0] == "+" and len(groups) >= 2 and min(map(len, groups[1:])) >= 2:
            # a possible length, grouped like a phone: the reserved fiction ranges (+44 7700 900123)
            return PHONE if phonenumbers.is_possible_number(number) else None
        return PHONE if _nanp_shaped(groups, options) else None
    if not 7 <= len(digits) <= 15:
        return None
    groups = _PHONE_GROUPS.findall(candidate)
    if len(groups) == 2 and len(groups[0]) == 5 and len(groups[1]) == 4 and "-" in candidate:
        return None  # a US ZIP+4 code
    if _looks_like_date(groups):
        return None
    if len(groups) == 1 and context and (digits[0] != "0" or len(digits) < 10):
        window = text[max(0, start - _PHONE_WINDOW) : start]
        if not _PHONE_CONTEXT.search(window):
            return None
    if _looks_like_range(groups, candidate):
        return None
    china: PhoneNumber | None = None
    elsewhere = False
    shape = [len(group) for group in groups]
    written = _boundaries(shape)
    cn_shaped = other_shaped = False
    for region in options.phone_regions:
        found = _national_number(digits, region)
        if found is None:
            continue
        number, national = found
        printed = [len(group) for group in _PHONE_GROUPS.findall(national)]
        if (digits[0] != "0" or "." in candidate) and not written <= _allowed_boundaries(digits, printed, region):
            continue  # no trunk prefix, or dots: the groups must be the region's own ("2970558-1" is no HK number)
        if region == "CN":
            china, cn_shaped = number, printed == shape
        else:
            elsewhere, other_shaped = True, other_shaped or printed == shape
    if china is None:
        return PHONE if elsewhere or _nanp_shaped(groups, options) else None
    if elsewhere and context and cn_shaped == other_shaped:
        around = text[max(0, start - _CJK_WINDOW) : start] + text[end : end + _CJK_WINDOW]
        if "（" not in candidate and not _CJK.search(around):
            return PHONE  # "020 7946 0018" in English text: London, not Guangzhou
    elif elsewhere and other_shaped:
        return PHONE  # grouped the other region's way: "056 1234 5678" (UK), not "0561 234 5678"
    return _cn_phone_type(china)


def _glued_before(text: str, start: int) -> bool:
    """A digit run that starts inside an identifier, a URL path or slug, a query or a decimal
    fraction (``..._2100-1039``, ``/04381644114``, ``since-1986-2545781``, ``?id=...``,
    ``.01123595505``), or is an ISBN (``ISBN 0-415-17076-1``). A label is fine: ``Tel.``."""
    if start == 0:
        return False
    before = text[start - 1]
    if before in "_=%&?#":
        return True
    if before in "/-" and start > 1 and _alnum_at(text, start - 2):
        return True
    if before == "." and not (start > 1 and text[start - 2].isascii() and text[start - 2].isalpha()):
        return True
    return "ISBN" in text[max(0, start - 8) : start].upper()


def _glued_after(text: str, stop: int) -> bool:
    """A digit run that goes on as a longer token: letters or digits, ``_``, a unit
    (``3500-4000亿``, ``%``), ``.5``/``-9``, a MAC address's last byte (``-AB``), or a URL
    path (``/volunteer``). An extension is not: ``555-123-4567x890``."""
    if stop >= len(text) or _PHONE_EXT.match(text, stop):
        return False
    after, following = text[stop], text[stop + 1 : stop + 2]
    if _alnum_at(text, stop) or after in _UNITS:
        return True
    if after in ".-" and following.isdigit():
        return True  # "13812345678-9", "13812345678.5"
    if after == "-" and _HEX_PAIR.match(text, stop + 1):
        return True  # "01-23-45-67-89-AB": a MAC address ("…1142-stopsms" stays a phone)
    return after == "/" and following.isascii() and following.isalpha()


def _check_phone(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> Found:
    """The longest phone number at the match's start: the whole run, else (when the number's
    own groups are not spaced) the run up to its first space ("call 202-555-0143 2 times"),
    then an extension if any."""
    start, end = match.span()
    if end < len(text) and "0" <= text[end] <= "9":
        return None  # cut by the length bound inside a longer number
    if _glued_before(text, start):
        return None
    candidate = match.group()
    for _ in range(3):
        candidate = candidate.rstrip(" -.(（")
        opened = candidate.count("(") + candidate.count("（")
        if opened > candidate.count(")") + candidate.count("）") and candidate[0] in "(（":
            candidate, start = candidate[1:], start + 1  # its ")" was in a dropped group
        stop = start + len(candidate)
        if not _glued_after(text, stop):
            pii_type = _phone_type(candidate, text, start, stop, options, context)
            if pii_type is not None:
                extension = _PHONE_EXT.match(text, stop)
                if extension is None and pii_type == CN_LANDLINE:
                    extension = _PHONE_EXT_DASH.match(text, stop)
                return start, extension.end() if extension else stop, pii_type
        cut = candidate.rfind(" ")
        if cut <= 0 or " " in candidate[:cut].rstrip(" -.(（") or len(_digits_of(candidate[:cut])) < 7:
            return None  # a number grouped by spaces is taken whole or not at all
        candidate = candidate[:cut]
    return None


def _check_iban(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> Found:
    start, end = match.span()
    while end - start >= 15:
        if not _alnum_at(text, end) and iban_valid(text[start:end].replace(" ", "")):
            return start, end
        end = text.rfind(" ", start, end)
        if end < 0:
            return None
    return None


def _check_ssn(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> Found:
    if not us_ssn_valid(_digits_of(match.group())):
        return None
    if match.group("s") is None and context:
        window = text[max(0, match.start() - _SSN_WINDOW) : match.start()]
        if not _SSN_CONTEXT.search(window):
            return None
    return match.span()


def _check_bank_card(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    return match.span() if bank_card_valid(_strip_separators(match.group())) else None


def _check_uscc(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    return match.span() if uscc_valid(match.group()) else None


def _check_passport(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    if _PASSPORT_STRICT.fullmatch(match.group()) or not context:
        return match.span()
    window = text[max(0, match.start() - _PASSPORT_WINDOW) : match.start()]
    return match.span() if _PASSPORT_CONTEXT.search(window) else None


def _ip_ok(address: ipaddress.IPv4Address | ipaddress.IPv6Address, options: PiiOptions) -> bool:
    return ip_is_public(address) if options.public_ip_only else True


def _prefix_end(match: re.Match[str], text: str, limit: int) -> int | None:
    """End of a valid ``/prefix`` suffix (length <= ``limit`` and not followed by another digit),
    or ``None`` when there is none or it is invalid (then only the address is taken)."""
    prefix = match.group("pfx")
    if prefix is None or int(prefix[1:]) > limit:
        return None
    end = match.end("pfx")
    return None if end < len(text) and text[end].isdigit() else end


def _right_boundary_ok(text: str, end: int, colon_ok: bool) -> bool:
    """An address must not continue into letters or digits, nor into ".<digit>", nor (IPv6) into
    ":" (an IPv4 may: "8.8.8.8:53" is an address and a port)."""
    if end >= len(text):
        return True
    char = text[end]
    if (char.isascii() and char.isalnum()) or (char == ":" and not colon_ok):
        return False
    return not (char == "." and end + 1 < len(text) and text[end + 1].isdigit())


def _check_ipv4(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    start = match.start()
    addr_end = match.start("pfx") if match.group("pfx") is not None else match.end()
    end = _prefix_end(match, text, 32) or addr_end  # "10.0.0.0/123": the address is PII, the suffix is not
    if not _right_boundary_ok(text, end, colon_ok=True):
        return None  # inside a longer token or a longer dotted-number run (OIDs, versions)
    try:
        address = ipaddress.IPv4Address(text[start:addr_end])  # rejects octets > 255 and leading zeros
    except ValueError:
        return None
    return (start, end) if _ip_ok(address, options) else None


def _check_ipv6(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    start = match.start()
    addr, zone = match.group("addr"), match.group("zone") or ""
    if addr.endswith("."):
        if zone or match.group("pfx") is not None:
            return None
        addr = addr.rstrip(".")  # a sentence full stop after the address: "… 2001:db8::1."
    addr_end = start + len(addr) + len(zone)
    end = _prefix_end(match, text, 128) or addr_end
    if not _right_boundary_ok(text, end, colon_ok=False):
        return None  # "fe80::1text", "12345:db8::1", or a run longer than any address
    try:
        address = ipaddress.IPv6Address(addr + zone)  # full, compressed, embedded-IPv4 and %zone forms
    except ValueError:
        return None
    if addr == "::" and _bare_separator(text, start, start + 2):
        return None
    return (start, end) if _ip_ok(address, options) else None


def _bare_separator(text: str, start: int, end: int) -> bool:
    """A bare ``::`` with whitespace on both sides is a separator ("Home :: News"), not an
    address; ``src=::`` or a trailing "ipv6 ::" stay addresses."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return before.isspace() and after.isspace()


def _secret_param(query: str) -> bool:
    for pair in re.split(r"[&;]", query):
        key, sep, value = pair.partition("=")
        if not sep or len(value) < _SECRET_MIN_VALUE:
            continue
        name = key.strip().lower().replace("-", "_")
        if name in _SECRET_KEYS or name.endswith(_SECRET_SUFFIXES):
            return True
    return False


def _check_url(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    start = match.start()
    url = match.group().rstrip(_URL_TRAILING)
    if not url:
        return None
    rest = url.split("://", 1)[1]
    authority_end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority = rest[:authority_end]
    if "@" in authority:
        user, sep, password = authority.rpartition("@")[0].partition(":")
        if user and sep and password:
            return start, start + len(url)
    tail = rest[authority_end:]
    query = tail.split("?", 1)[1] if "?" in tail else ""
    fragment = tail.split("#", 1)[1] if "#" in tail else ""
    if _secret_param(query.split("#", 1)[0]) or _secret_param(fragment):
        return start, start + len(url)
    return None


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


def mask(text: str, options: PiiOptions = DEFAULT) -> tuple[str, dict[str, int]]:
    """``text`` with every PII span replaced by its type's token, and the count per type found
    (types with no match are absent). Text without PII comes back unchanged (the same object)."""
    spans = find(text, options)
    if not spans:
        return text, {}
    _, _, tokens = _plan(options)
    parts: list[str] = []
    counts: dict[str, int] = {}
    position = 0
    for span in spans:
        parts.append(text[position : span.start])
        parts.append(tokens[span.type])
        counts[span.type] = counts.get(span.type, 0) + 1
        position = span.end
    parts.append(text[position:])
    return "".join(parts), counts


def mask_series(texts: pd.Series, options: PiiOptions = DEFAULT) -> pd.DataFrame:
    """:func:`mask` over a column: a DataFrame with the input's index and the columns ``text``
    (masked) and ``pii_counts`` (``dict`` type → count, ``{}`` when none).

    Missing values (``None``/``NaN``) stay ``None`` in both columns. The pre-filter
    :data:`PREFILTER_REGEX` runs vectorised over the whole column with ``pyarrow.compute``
    (RE2, no Python per row), so only candidate rows pay for the Python patterns.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(texts, type=pa.large_string(), from_pandas=True)
    candidate = pc.fill_null(pc.match_substring_regex(values, PREFILTER_REGEX), False).to_numpy(zero_copy_only=False)
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    out_text: list[str | None] = texts.tolist()  # non-candidate rows keep their text as is
    out_counts: list[dict[str, int] | None] = [{} if keep else None for keep in present.tolist()]
    for row in np.flatnonzero(~present).tolist():
        out_text[row] = None  # NaN / pd.NA → None
    for row in np.flatnonzero(candidate).tolist():
        out_text[row], out_counts[row] = mask(out_text[row], options)  # type: ignore[arg-type]
    return pd.DataFrame({"text": out_text, "pii_counts": out_counts}, index=texts.index)


def mask_json_objects(objects: pd.Series, options: PiiOptions = DEFAULT) -> pd.Series:
    """Each JSON object of string values (``{"col": "value"}``, a record's ``meta``) with
    every value masked like text; keys are kept, ``None`` stays ``None``. All values of the
    column are masked in one :func:`mask_series` call, so the vectorised pre-filter runs once."""
    import json

    import pandas as pd

    decoded = [json.loads(o) if isinstance(o, str) else None for o in objects.tolist()]
    values = [v for d in decoded if d for v in d.values()]
    masked = iter(mask_series(pd.Series(values, dtype=object), options)["text"].tolist())
    out = []
    for mapping in decoded:
        if mapping is None:
            out.append(None)
            continue
        out.append(json.dumps({key: next(masked) for key in mapping}, ensure_ascii=False))
    return pd.Series(out, index=objects.index, dtype=object)
