"""The character-level normalization steps of :mod:`refinery.text.normalize`, each a function of
one string that returns it unchanged (the same object) when it cannot apply: ``mojibake``
(ftfy's encoding repair), ``control``, ``nfkc`` (keeping :data:`CJK_PUNCT`), ``whitespace`` and
``t2s`` (OpenCC). The ``html`` step is :mod:`refinery.text.normalize_html`."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import ftfy
import ftfy.bad_codecs  # registers the sloppy-windows-* codecs named in CHARMAP_ENCODINGS
from ftfy.chardata import CHARMAP_ENCODINGS

#: Full-width CJK punctuation that survives the ``nfkc`` step when ``keep_cjk_punct`` is on.
#: Only some of these are changed by NFKC at all (，！？：；（） and …); 。、「」【】《》“” etc. are
#: already NFKC-stable and are listed for completeness.
CJK_PUNCT = "，。！？：；（）【】「」『』、《》“”‘’…—"


# --- mojibake ---------------------------------------------------------------------------------

#: ftfy restricted to encoding repair: no HTML, no width/quote/ligature folding, no NFC.
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


def _mojibake_hint() -> re.Pattern[str]:
    """A regex that matches wherever ftfy's encoding repair could change the text.

    UTF-8 mis-decoded by a single-byte codec always leaves a *lead* byte's character followed
    by a *continuation* byte's character (or by the space / ``?`` / U+FFFD that ftfy's
    ``restore_byte_a0`` and ``replace_lossy_sequences`` look for); ftfy's other repairs need a
    C1 control or a surrogate. Built from ftfy's own codec list, so it stays a superset of what
    ftfy can fix. Chinese text with “quotes” rarely matches, so ftfy (its cost with NFKC:
    ``bench/results/normalize.json``, key ``baseline_ftfy_fix_text_plus_nfkc.us_per_doc``) is
    skipped on almost all of it.
    """
    lead: set[str] = set()
    cont: set[str] = set(" ?\x1a\ufffd")
    for encoding in CHARMAP_ENCODINGS:
        for byte in range(0x80, 0x100):
            try:
                char = bytes([byte]).decode(encoding)
            except UnicodeDecodeError:
                continue
            (cont if byte < 0xC0 else lead).add(char)
    lead_class = "".join(re.escape(c) for c in sorted(lead))
    cont_class = "".join(re.escape(c) for c in sorted(cont))
    # One leading character class (C1, surrogates, lead characters) lets the regex engine skip
    # fast to candidates; the C1/surrogate ones then match alone, lead ones need a follower.
    single = "\\x80-\\x9f\\ud800-\\udfff"
    return re.compile(f"[{single}{lead_class}](?:(?<=[{single}])|[{cont_class}])")


_MOJIBAKE_HINT = _mojibake_hint()


def fix_mojibake(text: str) -> str:
    """ftfy's encoding repair (``cafÃ©`` → ``café``); returns ``text`` itself when it cannot apply."""
    if text.isascii() or not _MOJIBAKE_HINT.search(text):
        return text
    return ftfy.fix_text(text, _FTFY_CONFIG)


# --- control ----------------------------------------------------------------------------------

#: C0 controls except the whitespace ones (\t \n \v \f \r: the whitespace step folds those, and
#: deleting a lone \r would glue two lines' words together), DEL, C1 controls, soft hyphen,
#: Arabic letter mark, zero-width space/non-joiner/joiner, LRM/RLM, bidi embeddings/overrides,
#: word joiner, bidi isolates, BOM / zero-width no-break space.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]+"
)


def strip_control(text: str) -> str:
    """Remove invisible control characters (see ``_CONTROL_RE``).

    ``str.isprintable`` (C speed) is false for every character removed here, so text that is
    printable, or whose lines are, is returned at once; only the rest pays for the regex.
    """
    if text.isprintable() or all(line.isprintable() for line in text.split("\n")):
        return text
    return _CONTROL_RE.sub("", text)


# --- nfkc -------------------------------------------------------------------------------------

#: The members of CJK_PUNCT that NFKC would change; only these need protecting.
_PROTECTED = "".join(c for c in CJK_PUNCT if unicodedata.normalize("NFKC", c) != c)
_PROTECTED_SPLIT = re.compile(f"([{_PROTECTED}]+)")


def nfkc(text: str, keep_cjk_punct: bool = True) -> str:
    """NFKC, leaving :data:`CJK_PUNCT` as it is when ``keep_cjk_punct``.

    The text is split around runs of protected punctuation and only the pieces between are
    normalized. That equals NFKC of the whole except at the protected characters: they are
    starters that compose with nothing, and NFKC never produces them, so the result is stable.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    if not keep_cjk_punct:
        return unicodedata.normalize("NFKC", text)
    # Most Chinese text is NFKC but for its punctuation: check that without splitting.
    # (Each piece is a substring of the probe, and substrings of normalized text are normalized.)
    probe = text
    for char in _PROTECTED:
        probe = probe.replace(char, "")
    if unicodedata.is_normalized("NFKC", probe):
        return text
    parts = _PROTECTED_SPLIT.split(text)
    parts[::2] = [unicodedata.normalize("NFKC", part) for part in parts[::2]]
    return "".join(parts)


# --- whitespace -------------------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n{3,}")


def fix_whitespace(text: str, keep_newlines: bool = False) -> str:
    """Collapse whitespace runs to one space and strip the ends.

    Whitespace is Python's (``str.split``): ASCII space, tab and line breaks, but also NBSP,
    the ideographic space U+3000 and the other Unicode spaces. With ``keep_newlines`` the line
    breaks (\\r\\n, \\r, \\v, \\f, U+2028/2029, NEL) become ``\\n``, each line is collapsed and
    stripped, and at most one blank line is kept in a row; otherwise they fold into spaces.
    """
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # printable excludes every whitespace character but the ASCII space
    if not keep_newlines:
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


# --- t2s --------------------------------------------------------------------------------------

#: Han ideographs (CJK unified + extension A, compatibility, supplementary planes): OpenCC's
#: t2s tables change nothing else (checked over every code point with OpenCC 1.4).
_HAN_RE = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


@lru_cache(maxsize=1)
def _opencc_t2s() -> Any:
    """The OpenCC Traditional → Simplified converter, created once per process (it loads
    dictionaries) and only if the step is used."""
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (``漢字`` → ``汉字``) with OpenCC's ``t2s`` tables."""
    if text.isascii() or not _HAN_RE.search(text):
        return text
    converted = _opencc_t2s().convert(text)
    return text if converted == text else converted
