"""Mixed-language shares: a text's script groups, each assigned a language, weighed into
per-language shares, a primary language and a ``mixed`` flag.

Shares: each group's letters count for the language it is assigned; CJK letters (Han, Kana,
Hangul, Bopomofo) weigh ``cjk_weight`` (3 by default: the UTF-8 byte length of a CJK
character, which is how CLD2 weighs its per-language percentages, and roughly the number of
Latin letters that carry the same content: ``"Marconi发明了无线电"`` is 7 Latin and 6 Han
letters but plainly a Chinese sentence). ``cjk_weight=1`` gives plain character shares, which
make fewer zh_en_mixed rows (Chinese texts with Latin words) zh-primary and more of them
``mixed``. With the default weight, the share of those rows with zh primary and the share
``mixed`` flags at each ``mixed_min_share`` are measured in ``bench/results/langid.json``, keys
``zh_en_mixed.ensemble.primary_zh`` and ``zh_en_mixed.ensemble.mixed_rate_by_threshold`` (the
bench does not run ``cjk_weight=1``; ``bench/langid_bench.py`` is where it would). The
primary language is the largest share among *identified* languages: letters that no model
names confidently (brand names, ``xxxx``, URLs) are reported as an ``"und"`` share but never
outvote them. ``mixed`` is true when the second identified language has at least
``mixed_min_share``. A multi-script text with fewer than ``short_text_chars`` letters is not
split: script rules first (Kana → ja, else Hangul → ko, else Han → zh), so ``"Tom有兩個孩子。"``
is simply zh.

Result scores and shares are rounded to 6 decimals (see :data:`_DECIMALS`).
"""

from __future__ import annotations

from collections.abc import Iterable

from refinery.text.langid_options import LangIdOptions, LangResult
from refinery.text.scripts import CJK_SCRIPTS

#: Script groups that decide a short multi-script text, in order: Kana → ja, Hangul → ko, Han → zh.
_SHORT_TEXT_RULES = ("Jpan", "Hangul", "Han", "Bopomofo")


#: Scores and shares are rounded to this many decimals: lingua's confidences differ in the
#: last bit from call to call (float sums in hash-map order), and results must be identical.
_DECIMALS = 6


def _single(lang: str, score: float) -> LangResult:
    return LangResult(lang, round(score, _DECIMALS), False, ((lang, 1.0),) if lang != "und" else ())


def _fewer_letters(text: str, limit: int) -> bool:
    """Whether ``text`` has fewer than ``limit`` letters; stops counting at ``limit``."""
    if len(text) < limit:
        return True
    count = 0
    for char in text:
        if char.isalpha():
            count += 1
            if count >= limit:
                return False
    return True


def script_pieces(text: str, groups: Iterable[tuple[str, int, int, int]]) -> dict[str, tuple[int, str]]:
    """Per script group of ``text`` (``letter_runs``' ``(group, start, end, letters)``), in order of
    first appearance: its letter count and its pieces joined by a space."""
    letters: dict[str, int] = {}
    pieces: dict[str, list[str]] = {}
    for group, start, end, n in groups:
        letters[group] = letters.get(group, 0) + n
        pieces.setdefault(group, []).append(text[start:end])
    return {group: (n, " ".join(pieces[group])) for group, n in letters.items()}


def weighted_result(assigned: Iterable[tuple[str, int, str, float]], options: LangIdOptions) -> LangResult:
    """The result of script groups assigned ``(group, letters, lang, score)``: CJK letters weigh
    ``options.cjk_weight``, shares largest first, the primary language the largest identified one,
    ``mixed`` when the second identified one holds ``options.mixed_min_share``."""
    weights: dict[str, float] = {}
    scored: dict[str, float] = {}
    for group, n, lang, score in assigned:
        weight = n * (options.cjk_weight if group in CJK_SCRIPTS or group == "Jpan" else 1.0)
        weights[lang] = weights.get(lang, 0.0) + weight
        scored[lang] = scored.get(lang, 0.0) + weight * score
    total = sum(weights.values())
    # Largest first; on equal shares a named language before "und", then by code (determinism).
    shares = tuple(
        sorted(
            ((lang, round(w / total, _DECIMALS)) for lang, w in weights.items()),
            key=lambda ls: (-ls[1], ls[0] == "und", ls[0]),
        )
    )
    # The primary language is the largest *identified* one: letters no model could name
    # (brand names, "xxxx", URLs) are reported as an "und" share but do not outvote them.
    named = [(lang, share) for lang, share in shares if lang != "und"]
    if not named:
        return LangResult("und", round(scored.get("und", 0.0) / weights["und"], _DECIMALS), False, shares)
    primary = named[0][0]
    mixed = len(named) > 1 and named[1][1] >= options.mixed_min_share
    return LangResult(primary, round(scored[primary] / weights[primary], _DECIMALS), mixed, shares)
