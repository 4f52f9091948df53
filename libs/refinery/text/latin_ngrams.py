"""A small multinomial naive Bayes over character n-grams for the Latin-script tatoeba languages
(en, fr, es, it, pt, ca, gl): the third voter of :mod:`refinery.text.langid`'s short-text vote.

Why: on two-word inputs the ensemble's losses are es / pt / ca / gl confusions; lingua has no
Galician and the bundled fastText model rarely predicts it. This model does know Galician. It
is trained by ``scripts/train_latin_langid.py`` on the *dev* rows (200–999) of
``tatoeba_tatodet/*_1000.csv`` only: never on the held-out rows 0–199 that
``bench/langid_bench.py`` reports, nor on ``testset.csv`` (it shares 104 sentence ids with
them). Data: Tatoeba sentences, CC BY 2.0 FR (see ``models/README.md``).

Features: the text is lower-cased and cut into letter runs (words); each word is padded with a
space on both sides (word-boundary markers) and contributes every character n-gram of length
1 to :data:`MAX_N`. The artifact (``models/latin_ngrams.json``) stores the integer count of every
n-gram per language (n-grams seen only once in all the training text are dropped); log
probabilities use add-``ALPHA`` smoothing over the stored vocabulary, and n-grams outside it
are ignored (they carry no evidence). Pure functions: nothing here knows of Spark; the model
is loaded lazily, once per process.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

#: The languages of the model, in the column order of the artifact.
LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "it", "pt", "ca", "gl")
#: Longest character n-gram (with the boundary spaces).
MAX_N = 4
#: Additive smoothing of the per-language n-gram distributions.
ALPHA = 0.1
#: N-grams with a smaller total count over all languages are not stored (hapaxes: noise, size).
MIN_COUNT = 2

#: The artifact, inside this package (``setup.py`` package_data and the ``--py-files`` bundle
#: ship it); read with importlib.resources, so it loads from a zip too.
ARTIFACT = "models/latin_ngrams.json"

_WORD = re.compile(r"[^\W\d_]+")
_CACHE: dict[str, Any] = {}


def ngrams(text: str, max_n: int = MAX_N) -> list[str]:
    """Character 1–``max_n``-grams of every word of ``text`` (lower-cased, padded with spaces)."""
    grams: list[str] = []
    for word in _WORD.findall(text.lower()):
        grams.extend(word)  # 1-grams: the letters (a lone boundary space says nothing)
        padded = f" {word} "
        size = len(padded)
        for n in range(2, max_n + 1):
            grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


def count_ngrams(rows: Iterable[tuple[str, str]], max_n: int = MAX_N) -> dict[str, list[int]]:
    """Per n-gram, its count in each language of :data:`LANGUAGES` over ``(lang, text)`` rows."""
    column = {lang: i for i, lang in enumerate(LANGUAGES)}
    counts: dict[str, list[int]] = {}
    for lang, text in rows:
        j = column[lang]
        for gram, n in Counter(ngrams(text, max_n)).items():
            row = counts.get(gram)
            if row is None:
                row = counts[gram] = [0] * len(LANGUAGES)
            row[j] += n
    return counts


def to_artifact(counts: dict[str, list[int]], min_count: int = MIN_COUNT, max_n: int = MAX_N) -> str:
    """The artifact's JSON text: deterministic (sorted keys, no floats, no timestamps)."""
    kept = {gram: row for gram, row in sorted(counts.items()) if sum(row) >= min_count}
    body = {"languages": list(LANGUAGES), "max_n": max_n, "min_count": min_count, "counts": kept}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


class NgramModel:
    """Log probabilities of every stored n-gram per language, and the scorer. Plain Python
    tuples: a two-word text has ~40 n-grams, for which numpy's per-call overhead costs more
    than it saves (the ensemble's throughput with and without this model:
    ``bench/results/langid.json``, keys ``tatoeba.ensemble_vs_no_ngram_throughput`` and
    ``word_pairs.ensemble_vs_no_ngram_throughput``)."""

    def __init__(self, artifact: dict[str, Any], alpha: float = ALPHA) -> None:
        self.languages: tuple[str, ...] = tuple(artifact["languages"])
        self.max_n: int = int(artifact["max_n"])
        counts: dict[str, list[int]] = artifact["counts"]
        size = len(counts)
        log_totals = [math.log(sum(column) + alpha * size) for column in zip(*counts.values(), strict=True)]
        self.log_prob: dict[str, tuple[float, ...]] = {
            gram: tuple(math.log(c + alpha) - t for c, t in zip(row, log_totals, strict=True))
            for gram, row in counts.items()
        }

    def log_posteriors(self, text: str) -> dict[str, float]:
        """log p(language | text) over :attr:`languages` (uniform prior); an empty dict when no
        stored n-gram occurs in ``text``."""
        table = self.log_prob
        rows = [row for g in ngrams(text, self.max_n) if (row := table.get(g)) is not None]
        if not rows:
            return {}
        scores = [sum(column) for column in zip(*rows, strict=True)]
        best = max(scores)
        norm = best + math.log(sum(math.exp(s - best) for s in scores))
        return {lang: s - norm for lang, s in zip(self.languages, scores, strict=True)}


def artifact_text() -> str:
    """The shipped artifact's JSON text."""
    from importlib.resources import files

    return (files("refinery.text") / ARTIFACT).read_text(encoding="utf-8")


def model() -> NgramModel:
    """The shipped model, loaded once per process."""
    found = _CACHE.get("model")
    if found is None:
        found = _CACHE["model"] = NgramModel(json.loads(artifact_text()))
    return found
