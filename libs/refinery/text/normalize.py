"""Text normalization: repair and canonicalise one document, and say which steps changed it.

Six steps, always in this order (each can be switched off in :class:`NormalizeOptions`):

1. ``mojibake``: ftfy's *encoding repair only* (``cafÃ©`` → ``café``, C1 controls read as
   Windows-1252). ftfy's other fixers (quote uncurling, width folding, ligatures, HTML, NFC) are
   off: they would fold CJK punctuation and quotes behind our back, and the steps below do
   the rest explicitly.
2. ``html``: HTML entities (``&amp;``, ``&#39;``, ``&lt;b&gt;``, double-escaped ``&amp;amp;``)
   and the broken forms real corpora carry where the ``&`` became a space (AG News:
   ``doesn #39;t``, `` quot;``, `` #36;10 million``, ``AT amp;T``), plus ``\\$`` → ``$``.
3. ``control``: BOM, C0/C1 controls, zero-width characters, soft hyphen and bidi controls.
4. ``nfkc``: Unicode NFKC (full-width ``ＡＢＣ１２３`` → ``ABC123``, ``ﬁ`` → ``fi``), except that by
   default the full-width CJK punctuation in :data:`CJK_PUNCT` is kept (see below).
5. ``whitespace``: runs of whitespace → one space, newlines normalised, ends stripped.
6. ``t2s``: Traditional → Simplified Chinese with OpenCC (off by default: it rewrites
   characters, and some mappings are one-to-many).

Why keep CJK punctuation through NFKC: in Chinese the full-width forms *are* the correct
punctuation (``你好，世界！``), not a width variant of ASCII. Folding them to ``,`` and ``!``
makes training text that no Chinese writer produces, breaks the sentence boundaries that
segmenters and sentence splitters key on (``。！？``), and cannot be undone. Full-width
*letters and digits* are a different matter (an input-method artefact), so they are folded.
``keep_cjk_punct=False`` gives plain NFKC.

Every step is cheap when it cannot apply (ASCII text skips ftfy and NFKC, text without ``;``
or ``\\$`` skips the HTML pass, ftfy only runs on text holding a character pair that could be
mojibake), and every step reports whether it changed the text, so the pipeline can count
repairs per step. The steps are idempotent together: ``normalize(normalize(x).text)`` changes
nothing on real corpora (tested).

Pure Python (ftfy, OpenCC, pandas): the Spark layer wraps :func:`normalize_series`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html.entities import html5 as _HTML5
from typing import Any

import ftfy
import ftfy.bad_codecs  # registers the sloppy-windows-* codecs named in CHARMAP_ENCODINGS
import pandas as pd
from ftfy.chardata import CHARMAP_ENCODINGS

MOJIBAKE = "mojibake"
HTML = "html"
CONTROL = "control"
NFKC = "nfkc"
WHITESPACE = "whitespace"
T2S = "t2s"
#: Step names in the order they are applied.
STEPS: tuple[str, ...] = (MOJIBAKE, HTML, CONTROL, NFKC, WHITESPACE, T2S)

#: Full-width CJK punctuation that survives the ``nfkc`` step when ``keep_cjk_punct`` is on.
#: Only some of these are changed by NFKC at all (，！？：；（） and …); 。、「」【】《》“” etc. are
#: already NFKC-stable and are listed for completeness.
CJK_PUNCT = "，。！？：；（）【】「」『』、《》“”‘’…—"


@dataclass(frozen=True)
class NormalizeOptions:
    """Which steps run (one flag per step, in :data:`STEPS`) and how two of them behave.

    ``keep_cjk_punct`` keeps :data:`CJK_PUNCT` through NFKC; ``keep_newlines`` keeps line
    breaks (at most one blank line in a row) instead of folding them into spaces. Frozen and
    picklable, so it can be shipped to Spark workers and used as a cache key.
    """

    mojibake: bool = True
    html: bool = True
    control: bool = True
    nfkc: bool = True
    whitespace: bool = True
    t2s: bool = False
    keep_cjk_punct: bool = True
    keep_newlines: bool = False


DEFAULT = NormalizeOptions()


@dataclass(frozen=True)
class NormalizeResult:
    """The normalized text and the names of the steps that changed it, in order applied."""

    text: str
    steps: tuple[str, ...]


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
    ftfy can fix. Chinese text with “quotes” rarely matches, so ftfy (≈30 µs a document) is
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


# --- html -------------------------------------------------------------------------------------

#: Entity names decoded even without their ``&`` (AG News replaced ``&`` by a space). Only
#: names that are not English words: ``copy;``, ``not;`` or ``reg;`` would eat real text.
_BARE_NAMES = ("quot", "apos", "lt", "gt", "nbsp", "hellip", "mdash", "ndash")
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


# --- the pipeline -----------------------------------------------------------------------------

_Plan = tuple[tuple[str, Callable[[str], str]], ...]


@lru_cache(maxsize=64)
def _plan(options: NormalizeOptions) -> _Plan:
    """The enabled steps of ``options`` as (name, function of one string), in order."""
    keep_punct, keep_newlines = options.keep_cjk_punct, options.keep_newlines
    functions: dict[str, Callable[[str], str]] = {
        MOJIBAKE: fix_mojibake,
        HTML: fix_html,
        CONTROL: strip_control,
        NFKC: (lambda text: nfkc(text, True)) if keep_punct else (lambda text: nfkc(text, False)),
        WHITESPACE: (lambda text: fix_whitespace(text, True)) if keep_newlines else fix_whitespace,
        T2S: to_simplified,
    }
    return tuple((name, functions[name]) for name in STEPS if getattr(options, name))


#: Passes over a document whose mojibake repair was followed by other changes (see _run).
_MAX_PASSES = 3


def _run(text: str, plan: _Plan) -> tuple[str, tuple[str, ...]]:
    """Apply ``plan``; return the text and the names of the steps that changed it.

    One pass suffices except after a mojibake repair that a later step changed again: ftfy's
    C1 repair can yield ``™``, which NFKC turns into ``TM``, and that can expose mojibake ftfy
    did not see the first time (real CrowdFlower tweets do this). Such documents get another
    pass (at most :data:`_MAX_PASSES`) so that normalizing twice changes nothing.
    """
    changed: set[str] = set()
    for _ in range(_MAX_PASSES):
        last = None
        for name, step in plan:
            fixed = step(text)
            if fixed != text:
                changed.add(name)
                last = name
                text = fixed
        if last is None or MOJIBAKE not in changed or last == MOJIBAKE:
            break
    if not changed:
        return text, ()
    return text, tuple(name for name in STEPS if name in changed)


def normalize(text: str, options: NormalizeOptions = DEFAULT) -> NormalizeResult:
    """Normalize one document; ``steps`` names the steps that changed it, in order."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() needs str, got {type(text).__name__}")
    fixed, steps = _run(text, _plan(options))
    return NormalizeResult(fixed, steps)


def normalize_series(texts: pd.Series, options: NormalizeOptions = DEFAULT) -> pd.DataFrame:
    """Normalize a batch: a frame with the index of ``texts`` and columns ``text`` (``None``
    for a missing input) and ``norm_steps`` (list of step names, empty for a missing input)."""
    plan = _plan(options)
    out_text: list[str | None] = []
    out_steps: list[list[str]] = []
    for value in texts:
        if isinstance(value, str):
            fixed, steps = _run(value, plan)
            out_text.append(fixed)
            out_steps.append(list(steps))
        elif value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            out_text.append(None)
            out_steps.append([])
        else:
            raise TypeError(f"normalize_series() needs strings or missing values, got {type(value).__name__}")
    return pd.DataFrame({"text": out_text, "norm_steps": out_steps}, index=texts.index, columns=["text", "norm_steps"])
