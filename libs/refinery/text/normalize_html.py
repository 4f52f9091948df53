"""The ``html`` normalization step: HTML entities (``&amp;``, ``&#39;``, double-escaped
``&amp;amp;``), the broken forms real corpora carry where the ``&`` became a space (AG News:
``doesn #39;t``, `` quot;``, ``AT amp;T``), and ``\\$`` → ``$``."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from html.entities import html5 as _HTML5

# --- html -------------------------------------------------------------------------------------

#: Entity names decoded even without their ``&`` (AG News replaced ``&`` by a space). Only
#: names that are not English words: ``copy;``, ``not;`` or ``reg;`` would eat real text.
_BARE_NAMES: tuple[str, ...] = ("quot", "apos", "lt", "gt", "nbsp", "hellip", "mdash", "ndash")
_BARE_NAMES += ("lsquo", "rsquo", "ldquo", "rdquo", "laquo", "raquo", "middot")

#: A proper entity: ``&name;``, ``&#123;``, ``&#x1F;``.
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
#: A bare entity ending at a ``;``, possibly after the one space that replaced its ``&``.
_BARE_RE = re.compile(
    r"(?P<space> ?)(?:#(?P<num>[0-9]{2,5}|[xX][0-9a-fA-F]{2,5})|(?P<name>" + "|".join(_BARE_NAMES) + r"|amp));\Z"
)
#: The longest bare entity with its space, before the ``;`` (`` #xFFFFF``).
_BARE_MAX = 8
#: A backslash-escaped dollar (AG News ``\\$10``); an escaped backslash before ``$`` is left.
_DOLLAR_RE = re.compile(r"(?<!\\)\\(?=\$)")
#: Rounds of the HTML pass: double-escaped text (``&amp;amp;lt;``) needs one per layer.
_HTML_MAX_ROUNDS = 4


@lru_cache(maxsize=4096)
def _bare_numeric(number: str) -> str | None:
    """The character a bare ``#NN;`` stands for, or ``None`` when it is not plausibly an entity:
    ASCII letters and digits (``ranked #50;`` is not ``2``) and control characters are refused."""
    char = html.unescape(f"&#{number};")
    if len(char) != 1 or char == "\ufffd" or (char.isascii() and char.isalnum()):
        return None
    if unicodedata.category(char)[0] == "C":
        return None
    return char


def _entity(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref[0] == "#":
        return html.unescape(match.group())
    # Looked up with its ';': html.unescape would also decode "&ampx;" as "&x;".
    return _HTML5.get(ref + ";", match.group())


def _bare_entity(text: str, match: re.Match[str]) -> str | None:
    """What a bare-entity match stands for, or ``None`` when the context says it is not one.

    The ``&`` must have become the one space before it (consumed) or be missing at the start
    of the text or of a line: ``misquot;`` is a word. ``amp`` is an English word, so ``amp;``
    also needs a second space before it or a non-space after it (``Merck  amp; Co.``,
    ``AT amp;T``), never ``a new amp; it``.
    """
    start, end = match.span()
    if not match.group("space") and start > 0 and not text[start - 1].isspace():
        return None
    number, name = match.group("num"), match.group("name")
    if number is not None:
        return _bare_numeric(number)
    if name != "amp":
        return _HTML5[name + ";"]
    if start == 0 or text[start - 1].isspace() or (end < len(text) and not text[end].isspace()):
        return "&"
    return None


def _fix_bare(text: str) -> str:
    """Decode the bare entities ending at each ``;`` (few per text, so a scan per ``;``)."""
    out: list[str] = []
    done = 0  # text[:done] is in out
    semi = text.find(";")
    while semi != -1:
        match = _BARE_RE.search(text, max(done, semi - _BARE_MAX), semi + 1)
        if match is not None:
            char = _bare_entity(text, match)
            if char is not None:
                out.append(text[done : match.start()])
                out.append(char)
                done = semi + 1
        semi = text.find(";", semi + 1)
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def fix_html(text: str) -> str:
    """Decode HTML entities, AG News' broken ``&``-less forms and ``\\$``, until nothing changes."""
    for _ in range(_HTML_MAX_ROUNDS):
        if ";" not in text and "\\$" not in text:
            return text
        fixed = text
        if "&" in fixed:
            fixed = _ENTITY_RE.sub(_entity, fixed)
        fixed = _fix_bare(fixed)
        if "\\$" in fixed:
            fixed = _DOLLAR_RE.sub("", fixed)
        if fixed == text:
            break
        text = fixed
    return text
