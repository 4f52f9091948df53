"""Which languages a script group can be: the scripts one language owns (Greek → el), the
script of every non-Latin fastText label, and the fastText label filter that keeps a group's
candidates to its script."""

from __future__ import annotations

#: Language of a script group that only one (major) language uses.
SCRIPT_LANG: dict[str, str] = {
    "Han": "zh",
    "Bopomofo": "zh",
    "Jpan": "ja",
    "Hangul": "ko",
    "Greek": "el",
    "Armenian": "hy",
    "Georgian": "ka",
    "Thai": "th",
    "Lao": "lo",
    "Khmer": "km",
    "Myanmar": "my",
    "Tibetan": "bo",
    "Sinhala": "si",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Oriya": "or",
    "Thaana": "dv",
    "Ethiopic": "am",
    "Mongolian": "mn",
    "Cherokee": "chr",
    "Syriac": "syr",
}

#: Script of every non-Latin fastText label (the others are written in Latin script). Used to
#: keep fastText from naming, say, Japanese for the Latin words of a Chinese sentence.
_FASTTEXT_BY_SCRIPT: dict[str, str] = {
    "Cyrillic": "ru uk bg be mk sr kk ky mn tg tt ba cv ce av krc kv lez mhr mrj myv os rue sah tyv xal bxr",
    "Arabic": "ar arz azb fa ckb ps ur pnb sd ug lrc",
    "Devanagari": "hi mr ne sa new bh mai dty gom",
    "Bengali": "bn as bpy",
    "Hebrew": "he yi",
    "Georgian": "ka xmf",
    "Han": "zh wuu yue",
}
LANG_SCRIPT: dict[str, str] = {
    **{lang: script for script, lang in SCRIPT_LANG.items() if script not in ("Han", "Jpan", "Bopomofo", "Mongolian")},
    **{lang: script for script, langs in _FASTTEXT_BY_SCRIPT.items() for lang in langs.split()},
    "ja": "Jpan",
}


#: Every non-Latin fastText language, and the members of each non-Latin script.
_NON_LATIN = frozenset(LANG_SCRIPT)
_SCRIPT_MEMBERS: dict[str, frozenset[str]] = {
    script: frozenset(lang for lang, s in LANG_SCRIPT.items() if s == script) for script in set(LANG_SCRIPT.values())
}


def _fits(lang: str, allowed: frozenset[str] | None, script: str | None) -> bool:
    if allowed is not None and lang not in allowed:
        return False
    if script is None:
        return True
    if script == "Latin":
        return lang not in _NON_LATIN
    return lang in _SCRIPT_MEMBERS.get(script, ())


class _LabelFilter(dict):
    """fastText label → language code, or "" when the language is not kept (outside the
    candidates or the script); filled on first sight of each label, so the hot loop is one
    dict lookup per label."""

    def __init__(self, allowed: frozenset[str] | None, script: str | None) -> None:
        super().__init__()
        self.allowed, self.script = allowed, script

    def __missing__(self, label: str) -> str:
        lang = label[9:]  # "__label__zh" → "zh"
        kept = self[label] = lang if _fits(lang, self.allowed, self.script) else ""
        return kept


_FILTERS: dict[tuple[frozenset[str] | None, str | None], _LabelFilter] = {}


def _label_filter(allowed: frozenset[str] | None, script: str | None) -> _LabelFilter:
    found = _FILTERS.get((allowed, script))
    if found is None:
        found = _FILTERS[(allowed, script)] = _LabelFilter(allowed, script)
    return found
