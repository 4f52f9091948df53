"""Phone numbers, read with ``phonenumbers`` (Google's libphonenumber metadata).

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
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberFormat, PhoneNumberType

from refinery.text.pii.common import Found, _alnum_at, _digits_of
from refinery.text.pii.options import PiiOptions
from refinery.text.pii.types import CN_LANDLINE, CN_MOBILE, PHONE

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


@cache
def _region_plan(region: str) -> tuple[int, str, frozenset[int]]:
    """A region's country calling code, national (trunk) prefix (``""`` when it has none) and
    the lengths its national numbers can have (libphonenumber's ``possible_length``: a cheap
    test that skips most regions before the validity check)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    assert metadata is not None and metadata.general_desc is not None, region  # a region phonenumbers lists
    assert metadata.country_code is not None, region
    lengths = frozenset(metadata.general_desc.possible_length or ())
    return metadata.country_code, metadata.national_prefix or "", lengths


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
