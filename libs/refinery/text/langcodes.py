"""Language codes: ISO 639-3 (Tatoeba, some language-ID models) and legacy ISO 639-2/B codes
mapped to the ISO 639-1 codes Refinery reports everywhere (``lang`` in silver, spaCy)."""

from __future__ import annotations

ISO639_3_TO_1: dict[str, str] = {
    "eng": "en",
    "cmn": "zh",
    "zho": "zh",
    "chi": "zh",
    "yue": "zh",
    "jpn": "ja",
    "kor": "ko",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "por": "pt",
    "ita": "it",
    "cat": "ca",
    "glg": "gl",
    "deu": "de",
    "ger": "de",
    "rus": "ru",
    "nld": "nl",
}

#: The ten languages of the Tatoeba language-ID set in ``../shared/corpora/tatoeba_tatodet``.
TATOEBA_LANGUAGES = ("cmn", "eng", "jpn", "kor", "fra", "spa", "ita", "por", "cat", "glg")
