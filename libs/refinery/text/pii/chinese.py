"""Chinese identifiers: resident ID numbers, Unified Social Credit Codes, passports and travel
permits, and mobile numbers by their exact segment pattern (the validators give the check-digit
maths). Other Chinese phone numbers come from :mod:`refinery.text.pii.phones`.

Resident IDs. An 18-character number with a valid province code and birth date but a wrong
check character is a mistyped ID, still somebody's: it is masked with the ``CN_ID`` token and
counted as ``CN_ID_INVALID`` (never as a bank card, whatever its Luhn sum).
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from refinery.text.pii.common import _B, _E, _SEP, Found, _strip_separators
from refinery.text.pii.options import PiiOptions
from refinery.text.pii.types import CN_ID_INVALID

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


def _check_mobile(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    return match.span()  # the pattern is the whole rule: segment prefix + 11 digits + boundaries


def _check_cn_id(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> Found:
    number = _strip_separators(match.group())
    if cn_id_valid(number):
        return match.span()
    return (*match.span(), CN_ID_INVALID) if cn_id_mistyped(number) else None


def _check_uscc(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    return match.span() if uscc_valid(match.group()) else None


def _check_passport(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    if _PASSPORT_STRICT.fullmatch(match.group()) or not context:
        return match.span()
    window = text[max(0, match.start() - _PASSPORT_WINDOW) : match.start()]
    return match.span() if _PASSPORT_CONTEXT.search(window) else None
