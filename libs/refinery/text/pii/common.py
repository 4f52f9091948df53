"""What every recogniser shares: the digit-run boundaries of its pattern and the signature of
its check.

Boundaries. A digit-based candidate must not sit inside a longer run of ASCII letters or
digits (``ORDER12345678901234``, ``A4111111111111111`` are not cards), nor be glued to another
number by a ``-`` or ``.`` (pieces of dates, versions and ranges); ``Tel.13812345678`` is
fine. Chinese characters *are* boundaries: Chinese writes ``身份证号110101199001011237`` with
no space, so ``\\b`` (which treats CJK as word characters) is not used anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from refinery.text.pii.options import PiiOptions

#: Digit-run boundaries: not inside an ASCII alphanumeric run, and not glued to another number
#: by "-" or "." (pieces of dates, versions, ranges). A label glued by "." or "-" is fine:
#: "Tel.13812345678", "No.11010519491231002X".
_B = r"(?<![0-9A-Za-z])(?<![0-9][.\-])"
_E = r"(?![0-9A-Za-z])(?![.\-][0-9])"
_SEP = r"(?: {1,2}|-)"  # one group separator: one or two spaces, or a dash

#: What a check returns: the span (its type is the recogniser's), a span with its own type, or
#: ``None`` (rejected).
Found = tuple[int, int] | tuple[int, int, str] | None
Check = Callable[[re.Match[str], str, PiiOptions, bool], Found]


def _alnum_at(text: str, index: int) -> bool:
    """Whether ``text[index]`` exists and is an ASCII letter or digit."""
    return index < len(text) and text[index].isascii() and text[index].isalnum()


def _strip_separators(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


def _digits_of(value: str) -> str:
    return "".join(char for char in value if "0" <= char <= "9")
