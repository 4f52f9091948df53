"""Payment cards (Luhn), IBANs (ISO 13616) and US social security numbers: validators and
recognisers."""

from __future__ import annotations

import re

from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn

from refinery.text.pii.common import _B, _E, _SEP, Found, _alnum_at, _digits_of, _strip_separators
from refinery.text.pii.options import PiiOptions


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


_BANK_CARD_RE = re.compile(
    _B + r"(?:[0-9]{13,19}"
    rf"|[0-9]{{4}}(?P<a>{_SEP})[0-9]{{4}}(?:(?P=a)[0-9]{{4}}){{1,2}}(?:(?P=a)[0-9]{{1,4}})?"
    rf"|[0-9]{{4}}(?P<b>{_SEP})[0-9]{{6}}(?P=b)[0-9]{{4,5}})" + _E
)

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
