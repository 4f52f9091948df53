"""Unicode script of each character, script runs and script shares: the cheap first step of
language identification.

Most of the language decision for Chinese/Japanese/Korean text is a script decision (Hangul
is Korean, Han with Kana is Japanese, Han alone is Chinese), and mixed documents such as
``"凌晨四点到达，check in速度太慢"`` are best split by script before any model is asked about
the Latin part. Python's :mod:`unicodedata` has no Script property, so this module carries a
range table of the scripts that matter for corpus cleaning (Unicode ``Scripts.txt``, by block).

Names: ``Latin``, ``Greek``, ``Cyrillic``, ``Armenian``, ``Hebrew``, ``Arabic``, ``Syriac``,
``Thaana``, ``Devanagari``, ``Bengali``, ``Gurmukhi``, ``Gujarati``, ``Oriya``, ``Tamil``,
``Telugu``, ``Kannada``, ``Malayalam``, ``Sinhala``, ``Thai``, ``Lao``, ``Tibetan``,
``Myanmar``, ``Georgian``, ``Hangul``, ``Ethiopic``, ``Cherokee``, ``Khmer``, ``Mongolian``,
``Kana`` (Hiragana and Katakana together), ``Bopomofo``, ``Han``; ``Other`` for a letter of any
other script and ``Common`` for everything that is not a letter or a combining mark (digits,
punctuation, symbols, spaces, emoji), wherever it sits: the Katakana middle dot ``・`` in
Chinese names (``比尔・盖茨``) is punctuation, hence Common. Within a block only letters
(``L*``), combining marks (``M*``) and, for Han, letter numbers (``〇``) take the block's script.

Speed: every Basic Multilingual Plane code point is classified once at import into a
65,536-character string of one-letter codes; ``str.translate`` with that string maps a whole
text to its codes in C, and runs are found by one regular expression over the codes. Astral
characters (CJK Extension B+, emoji) are rare and are looked up by :mod:`bisect`. No bench
result times these functions alone; their cost is part of the ``langid`` step in
``bench/results/chain.json`` (``sets.<set>.chain.step_us_per_doc.langid``), and
``bench/langid_bench.py`` is where a per-function rate would be measured.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter

#: (first, last, script) code-point ranges, sorted, non-overlapping. Whole blocks; the
#: letter/mark test at build time turns each block's punctuation and digits into Common.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00AA, 0x00AA, "Latin"),
    (0x00BA, 0x00BA, "Latin"),
    (0x00C0, 0x024F, "Latin"),
    (0x0250, 0x02AF, "Latin"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0700, 0x074F, "Syriac"),
    (0x0750, 0x077F, "Arabic"),
    (0x0780, 0x07BF, "Thaana"),
    (0x08A0, 0x08FF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x13A0, 0x13FF, "Cherokee"),
    (0x1780, 0x17FF, "Khmer"),
    (0x1800, 0x18AF, "Mongolian"),
    (0x19E0, 0x19FF, "Khmer"),
    (0x1C80, 0x1C8F, "Cyrillic"),
    (0x1C90, 0x1CBF, "Georgian"),
    (0x1D00, 0x1D7F, "Latin"),
    (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x2C60, 0x2C7F, "Latin"),
    (0x2D00, 0x2D2F, "Georgian"),
    (0x2D80, 0x2DDF, "Ethiopic"),
    (0x2DE0, 0x2DFF, "Cyrillic"),
    (0x3005, 0x3005, "Han"),
    (0x3007, 0x3007, "Han"),
    (0x3021, 0x3029, "Han"),
    (0x3038, 0x303B, "Han"),
    (0x3040, 0x309F, "Kana"),
    (0x30A0, 0x30FF, "Kana"),
    (0x3100, 0x312F, "Bopomofo"),
    (0x3130, 0x318F, "Hangul"),
    (0x31A0, 0x31BF, "Bopomofo"),
    (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0xA720, 0xA7FF, "Latin"),
    (0xA8E0, 0xA8FF, "Devanagari"),
    (0xA960, 0xA97F, "Hangul"),
    (0xAB30, 0xAB6F, "Latin"),
    (0xAC00, 0xD7FF, "Hangul"),
    (0xF900, 0xFAFF, "Han"),
    (0xFB00, 0xFB06, "Latin"),
    (0xFB13, 0xFB17, "Armenian"),
    (0xFB1D, 0xFB4F, "Hebrew"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0xFF21, 0xFF3A, "Latin"),
    (0xFF41, 0xFF5A, "Latin"),
    (0xFF66, 0xFF9F, "Kana"),
    (0xFFA0, 0xFFDC, "Hangul"),
    (0x1B000, 0x1B16F, "Kana"),
    (0x20000, 0x2FA1F, "Han"),
    (0x30000, 0x323AF, "Han"),
)
_STARTS = [first for first, _, _ in _RANGES]

#: Script name → one ASCII code character (the alphabet of the code strings). Common is ".".
SCRIPTS: tuple[str, ...] = (*dict.fromkeys(name for _, _, name in _RANGES), "Other")
_COMMON_CODE = "."
_CODE_OF: dict[str, str] = {name: chr(ord("A") + i) for i, name in enumerate(SCRIPTS)}
_CODE_OF["Common"] = _COMMON_CODE
_NAME_OF: dict[str, str] = {code: name for name, code in _CODE_OF.items()}

#: Scripts whose letters are CJK ideographs/syllables (one character ≈ one syllable).
CJK_SCRIPTS = frozenset({"Han", "Kana", "Hangul", "Bopomofo"})

#: A Han/Kana group is Japanese when at least this share of its letters is Kana. In tatoeba
#: ``jpn_1000.csv`` the sentence with the least Kana (``最高裁が人種分離教育を攻撃。``) has 0.15;
#: Kana in the Chinese corpora is a stray emoticon (``(づ｡◕‿‿◕｡)づ``: 2 Kana in 26
#: letters, 0.077) or GBK mojibake. 0.1 separates the two.
KANA_MIN_SHARE = 0.1


def _classify(cp: int) -> str:
    """Script name of one code point (the slow, exact path; used to build the table)."""
    i = bisect_right(_STARTS, cp) - 1
    script = _RANGES[i][2] if i >= 0 and cp <= _RANGES[i][1] else None
    category = unicodedata.category(chr(cp))
    if category[0] in "LM" or (category == "Nl" and script == "Han"):
        if script is not None:
            return script
        return "Other" if category[0] == "L" else "Common"
    return "Common"


#: Index = BMP code point, value = code character. Usable directly by ``str.translate``.
_BMP_CODES: str = "".join(_CODE_OF[_classify(cp)] for cp in range(0x10000))


def _codes(text: str) -> str:
    """One code character per character of ``text`` (same length, same positions)."""
    codes = text.translate(_BMP_CODES)
    if not codes.isascii():  # astral characters are left untranslated by the BMP table
        codes = "".join(c if c < "\x80" else _CODE_OF[_classify(ord(c))] for c in codes)
    return codes


def script_of(ch: str) -> str:
    """Script name of one character (see the module docstring for the names)."""
    cp = ord(ch)
    return _NAME_OF[_BMP_CODES[cp]] if cp < 0x10000 else _classify(cp)


#: A run: one script letter followed by letters of the same script or Common characters.
_RUN = re.compile(r"([^.])(?:\1|\.)*")


def script_runs(text: str) -> list[tuple[str, int, int]]:
    """Maximal runs ``(script, start, end)`` that cover ``text`` end to end.

    Common characters join the run before them (the text's leading Common characters join the
    first run), so a run of Latin words keeps its spaces and a Chinese clause its punctuation.
    A text without any letter is one ``Common`` run; the empty text has no runs.
    """
    if not text:
        return []
    codes = _codes(text)
    runs = [(_NAME_OF[m.group(1)], m.start(), m.end()) for m in _RUN.finditer(codes)]
    if not runs:
        return [("Common", 0, len(text))]
    if runs[0][1]:
        runs[0] = (runs[0][0], 0, runs[0][2])
    return runs


def letter_counts(text: str) -> dict[str, int]:
    """Number of letters (and combining marks) per script; Common characters are not counted."""
    counts = Counter(_codes(text))
    counts.pop(_COMMON_CODE, None)
    return {_NAME_OF[code]: n for code, n in counts.items()}


def script_shares(text: str) -> dict[str, float]:
    """Share of the letters of ``text`` per script, largest first; ``{}`` when it has none."""
    counts = letter_counts(text)
    total = sum(counts.values())
    if not total:
        return {}
    return {name: n / total for name, n in sorted(counts.items(), key=lambda kv: -kv[1])}


def is_japanese(kana: int, han: int, min_share: float = KANA_MIN_SHARE) -> bool:
    """Whether a group of ``kana`` Kana and ``han`` Han letters is Japanese (any Kana, at
    least ``min_share`` of the group: see :data:`KANA_MIN_SHARE`)."""
    return kana > 0 and kana >= min_share * (kana + han)


def letter_runs(text: str) -> list[tuple[str, int, int, int]]:
    """:func:`script_runs` with adjacent Han and Kana runs merged into one writing-system group
    and each run's letter count: ``(group, start, end, letters)``.

    ``group`` is the script name, except that a merged Han/Kana group is ``"Jpan"`` (ISO 15924's
    name for Han + Hiragana + Katakana) when :func:`is_japanese` says so and ``"Han"`` otherwise,
    so ``"私は学生です"`` is one Japanese group, not six alternating runs. Common-only text gives
    ``[]``. This is what :mod:`refinery.text.langid` assigns languages to.
    """
    if not text:
        return []
    codes = _codes(text)
    han_code, kana_code = _CODE_OF["Han"], _CODE_OF["Kana"]
    out: list[tuple[str, int, int, int]] = []
    group_start = group_end = 0
    han = kana = 0
    for m in _RUN.finditer(codes):
        code, start, end = m.group(1), m.start(), m.end()
        letters = end - start - codes.count(_COMMON_CODE, start, end)
        if code in (han_code, kana_code):
            if not han and not kana:
                group_start = start if out else 0
            group_end = end
            if code == han_code:
                han += letters
            else:
                kana += letters
            continue
        if han or kana:
            out.append(("Jpan" if is_japanese(kana, han) else "Han", group_start, group_end, han + kana))
            han = kana = 0
        out.append((_NAME_OF[code], start if out else 0, end, letters))
    if han or kana:
        out.append(("Jpan" if is_japanese(kana, han) else "Han", group_start, group_end, han + kana))
    return out
