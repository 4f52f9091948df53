"""Language identification: accuracy per backend and language, and single-core throughput.

Data (``REFINERY_CORPORA``, default ``../shared/corpora``), used as is, nothing grown:

* ``tatoeba_tatodet/*_1000.csv``: 10 languages x 1000 short sentences with gold codes
  (cmn→zh, eng→en, jpn→ja, kor→ko, fra→fr, spa→es, ita→it, por→pt, cat→ca, glg→gl). The
  ensemble's constants (``refinery.text.langid``) were tuned on rows 200–999 of each file (the
  *dev* split), and its n-gram model (``scripts/train_latin_langid.py``) was trained on them:
  accuracy is reported on rows 0–199 (the held-out *test* split, 2000 sentences) for every
  backend, and on dev for the fast backends (the ensemble's dev accuracy is optimistic: its
  n-gram model has seen those sentences). Every backend gets the same ten
  candidates (``languages=``), so each answers among the same labels; lingua and langdetect
  have no Galician, so they score 0 on gl by construction: that is part of the comparison.
  ``ensemble_open`` is the ensemble with ``languages=None`` (no candidates, no priors), for
  the open-world setting, and ``ensemble_open_min_score_0.5`` the same with the clean job's
  configured ``min_score`` (conf/base.yaml), where answers under 0.5 become ``und``.
  ``ensemble_no_short_vote`` is the ensemble with ``short_vote_chars=0`` (as it was before the
  short-text vote, but with the n-gram model's part in the Romance tie-break),
  ``ensemble_no_ngram`` the ensemble without its own n-gram voter
  (``refinery.text.latin_ngrams``; both its weights set to 0 for that backend's pass: the
  ensemble as it was before the voter), ``lingua_min_score_0`` lingua's bare argmax,
  ``ensemble_without_gl`` the ensemble with Galician dropped from the candidates and the rows (test split, no timing):
  neither lingua nor langdetect knows Galician, and it carries most of the errors.
* ``word_pairs``: two-word inputs cut from the same sentences (:func:`word_pair`: two
  consecutive words, Korean by spaces too; for zh and ja, which do not separate words, a span of
  4–6 CJK characters), seeded by language and row, so deterministic; same dev / test rows, same
  backends. Only the 10 tatoeba languages are available here (issue 21 names 16): no other
  corpus under ``shared/corpora`` carries gold language labels.
* ``zh_en_mixed_derived/zh_en_mixed.tsv``: 8200 real Chinese texts with Latin-script words.
  Reported: share of rows whose primary language is zh, the ``mixed`` rate (at the default
  ``mixed_min_share`` 0.2 and at other thresholds), the second languages seen.

Throughput: documents per second of *CPU time* of this process (``time.process_time``), the
best of ``REPEATS`` passes, with the process pinned to one core (``sched_setaffinity``) where
the OS allows: the machine is shared, and CPU time is what one core delivers whatever else
runs. Wall-clock rates are reported next to them. Fast backends are timed on all 10,000
tatoeba sentences (9,929 word pairs); langdetect (~0.4k docs/s) only on the test split, one
pass, and on a 500-row subsample of zh_en_mixed (every 16th row).

Ratios: ``ensemble_vs_best_single_accuracy`` = ensemble / best single backend (test split);
``ensemble_vs_fasttext_throughput`` = ensemble / fastText-only docs/s;
``ensemble_vs_no_short_vote_throughput``, ``ensemble_vs_no_ngram_throughput`` and ``ratios``
compare the ensemble with and without its short-text vote, and with and without its n-gram
voter, in the same run (accuracy on pairs and sentences, docs/s on zh_en_mixed).
``lingua_short_vote_rate`` / ``lingua_tie_break_rate``: share of documents on which the
ensemble called lingua for each reason.

Results: ``bench/results/langid.json`` (accuracies are deterministic; docs/s vary with the
machine's load by about ±25 % between runs, the ratios much less).
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from refinery.text.langcodes import ISO639_3_TO_1, TATOEBA_LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()

TATOEBA_CODES = {code: ISO639_3_TO_1[code] for code in TATOEBA_LANGUAGES}
CANDIDATES = tuple(TATOEBA_CODES.values())
TEST_ROWS = 200
REPEATS = 3
LANGDETECT_MIXED_STEP = 16
MIXED_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5)


def load_tatoeba(corpora: Path = CORPORA) -> list[tuple[str, int, str]]:
    """``(gold ISO 639-1 code, row number within its file, sentence)`` for every sentence."""
    rows = []
    for path in sorted((corpora / "tatoeba_tatodet").glob("*_1000.csv")):
        for row, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            _, code, text = line.split("\t", 2)
            rows.append((TATOEBA_CODES[code], row, text))
    return rows


#: Punctuation stripped from the ends of a word (inner apostrophes and hyphens stay: "l'homme").
_WORD_EDGES = re.compile(r"^\W+|\W+$")
#: Runs of letters outside ASCII (Han, Kana): where zh and ja spans are cut.
_CJK_RUN = re.compile(r"[^\W\d_a-zA-Z]+")
#: Lengths of the zh / ja character spans, drawn uniformly: about the content of two Latin words
#: (7.6 letters on average here), a Han character carrying roughly what 2-3 Latin letters do.
SPAN_CHARS = (4, 5, 6)


def sentence_words(text: str) -> list[str]:
    """Whitespace-separated words with their edge punctuation stripped, those with a letter."""
    words = (_WORD_EDGES.sub("", token) for token in text.split())
    return [word for word in words if any(c.isalpha() for c in word)]


def word_pair(lang: str, row: int, text: str) -> str | None:
    """A two-word input cut from one tatoeba sentence, deterministically (seeded by language
    and row): two consecutive words (Korean: by spaces too), or for zh and ja, which do not
    separate words, a span of 4, 5 or 6 characters inside one run of CJK letters. None when the
    sentence has fewer than two words (39 Korean and 32 other sentences of 10,000)."""
    rng = random.Random(f"{lang}:{row}")  # str seeds hash with SHA-512: the same in every run
    if lang in ("zh", "ja"):
        runs = _CJK_RUN.findall(text)
        if not runs:
            return None
        span = min(rng.choice(SPAN_CHARS), max(len(run) for run in runs))
        if span < 2:
            return None
        run = rng.choice([run for run in runs if len(run) >= span])
        start = rng.randrange(len(run) - span + 1)
        return run[start : start + span]
    words = sentence_words(text)
    if len(words) < 2:
        return None
    first = rng.randrange(len(words) - 1)
    return f"{words[first]} {words[first + 1]}"


def load_word_pairs(rows: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """``(gold, row, two-word input)`` for every tatoeba sentence that has two words."""
    return [(gold, row, pair) for gold, row, text in rows if (pair := word_pair(gold, row, text)) is not None]


def load_zh_en_mixed(corpora: Path = CORPORA) -> list[str]:
    """The ``text`` column of zh_en_mixed.tsv (no quoting: quotes are part of the texts)."""
    path = corpora / "zh_en_mixed_derived" / "zh_en_mixed.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]


def accuracy(golds: list[str], langs: list[str]) -> dict[str, Any]:
    """Overall and per-language accuracy (``und`` counts as wrong) and the top confusions."""
    right, seen, wrong = Counter(), Counter(), Counter()
    for gold, lang in zip(golds, langs, strict=True):
        seen[gold] += 1
        right[gold] += gold == lang
        if gold != lang:
            wrong[f"{gold}->{lang}"] += 1
    return {
        "accuracy": round(sum(right.values()) / len(golds), 4),
        "per_language": {code: round(right[code] / seen[code], 3) for code in CANDIDATES if seen[code]},
        "docs": len(golds),
        "und_rate": round(sum(lang == "und" for lang in langs) / len(golds), 4),
        "top_confusions": dict(wrong.most_common(6)),
    }


def rate(texts: list[str], detect: Callable[[str], Any], repeats: int = REPEATS) -> dict[str, float]:
    """Best-of-``repeats`` documents per second, by process CPU time and by wall clock."""
    cpu, wall = float("inf"), float("inf")
    for _ in range(repeats):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        for text in texts:
            detect(text)
        cpu = min(cpu, time.process_time() - started_cpu)
        wall = min(wall, time.perf_counter() - started_wall)
    return {
        "docs_per_s": round(len(texts) / cpu),
        "docs_per_s_wall": round(len(texts) / wall),
        "timed_docs": len(texts),
    }


def _pin_one_core() -> tuple[set[int] | None, int | None]:
    """Pin this process to one CPU; return the previous affinity (to restore) and the CPU."""
    if not hasattr(os, "sched_setaffinity"):
        return None, None
    previous = os.sched_getaffinity(0)
    cpu = max(previous)
    os.sched_setaffinity(0, {cpu})
    return previous, cpu


#: Module constants of ``refinery.text.langid`` set for one backend's pass (and restored after):
#: the ensemble without its n-gram voter, which has no option of its own.
CONSTANTS: dict[str, dict[str, float]] = {
    "ensemble_no_ngram": {"SHORT_NGRAM_WEIGHT": 0.0, "TIE_NGRAM_WEIGHT": 0.0},
}


@contextmanager
def _constants(langid: Any, name: str) -> Iterator[None]:
    """``CONSTANTS[name]`` set on the langid module for the duration of the block."""
    overrides = CONSTANTS.get(name, {})
    previous = {key: getattr(langid, key) for key in overrides}
    for key, value in overrides.items():
        setattr(langid, key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            setattr(langid, key, value)


def _backends(langid: Any) -> dict[str, Any]:
    """The options compared on tatoeba: every backend with the ten candidates, the ensemble
    without its short-text vote (``short_vote_chars=0``: the ensemble as it was before the vote,
    measured in the same run), the ensemble without its n-gram voter (:data:`CONSTANTS`),
    lingua without ``min_score`` (a bare argmax, as lingua alone is
    usually scored), and the open-world ensemble."""
    return {
        "ensemble": langid.LangIdOptions(backend="ensemble", languages=CANDIDATES),
        "ensemble_no_short_vote": langid.LangIdOptions(backend="ensemble", languages=CANDIDATES, short_vote_chars=0),
        "ensemble_no_ngram": langid.LangIdOptions(backend="ensemble", languages=CANDIDATES),
        "fasttext": langid.LangIdOptions(backend="fasttext", languages=CANDIDATES),
        "lingua": langid.LangIdOptions(backend="lingua", languages=CANDIDATES),
        "lingua_min_score_0": langid.LangIdOptions(backend="lingua", languages=CANDIDATES, min_score=0.0),
        "langdetect": langid.LangIdOptions(backend="langdetect", languages=CANDIDATES),
        "ensemble_open": langid.LangIdOptions(backend="ensemble"),
        "ensemble_open_min_score_0.5": langid.LangIdOptions(backend="ensemble", min_score=0.5),
    }


def _tatoeba(langid: Any, rows: list[tuple[str, int, str]]) -> dict[str, Any]:
    """Per backend: held-out accuracy, dev accuracy (fast backends), docs/s on all rows."""
    test = [r for r in rows if r[1] < TEST_ROWS]
    dev = [r for r in rows if r[1] >= TEST_ROWS]
    all_texts = [text for _, _, text in rows]
    backends = _backends(langid)
    out: dict[str, Any] = {}
    for name, options in backends.items():
        langid.warm_up(options)

        def detect(text: str, options: Any = options) -> Any:
            return langid.detect(text, options)

        with _constants(langid, name):
            result = accuracy([g for g, _, _ in test], [detect(t).lang for _, _, t in test])
            if name == "langdetect":
                result.update(rate([t for _, _, t in test], detect, repeats=1))
            else:
                dev_langs = [detect(t).lang for _, _, t in dev]
                result["dev_accuracy"] = accuracy([g for g, _, _ in dev], dev_langs)["accuracy"]
                result.update(rate(all_texts, detect))
        out[name] = result
    out["ensemble"].update(_lingua_call_rates(langid, all_texts, backends["ensemble"]))
    # Without Galician (neither lingua nor langdetect knows it, and it is most of the errors):
    # the same ensemble with gl dropped from the candidates and from the rows.
    no_gl = langid.LangIdOptions(backend="ensemble", languages=tuple(c for c in CANDIDATES if c != "gl"))
    langid.warm_up(no_gl)
    test_no_gl = [(g, t) for g, _, t in test if g != "gl"]
    result = accuracy([g for g, _ in test_no_gl], [langid.detect(t, no_gl).lang for _, t in test_no_gl])
    out["ensemble_without_gl"] = {key: result[key] for key in ("accuracy", "per_language", "docs", "top_confusions")}
    return out


def _lingua_call_rates(langid: Any, texts: list[str], options: Any) -> dict[str, float]:
    """Shares of documents on which the ensemble called lingua, for the Romance tie-breaker
    and for the short-text vote (counted by wrapping the module's functions for one pass)."""
    calls = {"_romance_tie": 0, "_short_vote": 0}
    originals = {name: getattr(langid, name) for name in calls}

    def counting(name: str) -> Any:
        def wrapper(*args: Any) -> Any:
            calls[name] += 1
            return originals[name](*args)

        return wrapper

    for name in calls:
        setattr(langid, name, counting(name))
    try:
        for text in texts:
            langid.detect(text, options)
    finally:
        for name, original in originals.items():
            setattr(langid, name, original)
    return {
        "lingua_tie_break_rate": round(calls["_romance_tie"] / len(texts), 4),
        "lingua_short_vote_rate": round(calls["_short_vote"] / len(texts), 4),
    }


def _mixed_report(results: list[Any]) -> dict[str, Any]:
    langs = Counter(r.lang for r in results)
    second = Counter(r.shares[1][0] for r in results if len(r.shares) > 1)
    named_second = [
        next((share for lang, share in r.shares[1:] if lang != "und"), 0.0) if r.lang != "und" else 0.0 for r in results
    ]
    return {
        "rows": len(results),
        "primary_zh": round(langs["zh"] / len(results), 4),
        "primary_langs": dict(langs.most_common(6)),
        "mixed_rate": round(sum(r.mixed for r in results) / len(results), 4),
        "mixed_rate_by_threshold": {
            str(t): round(sum(s >= t for s in named_second) / len(results), 4) for t in MIXED_THRESHOLDS
        },
        "second_langs": dict(second.most_common(8)),
    }


def _zh_en_mixed(langid: Any, texts: list[str]) -> dict[str, Any]:
    variants = {
        "ensemble": langid.LangIdOptions(),
        "ensemble_no_short_vote": langid.LangIdOptions(short_vote_chars=0),
        "ensemble_no_ngram": langid.LangIdOptions(),
        "ensemble_cjk_weight_1": langid.LangIdOptions(cjk_weight=1.0),
        "ensemble_candidates": langid.LangIdOptions(languages=CANDIDATES),
        "fasttext": langid.LangIdOptions(backend="fasttext"),
        "lingua": langid.LangIdOptions(backend="lingua", languages=CANDIDATES),
        "langdetect": langid.LangIdOptions(backend="langdetect"),
    }
    out: dict[str, Any] = {}
    for name, options in variants.items():
        langid.warm_up(options)
        sample = texts[::LANGDETECT_MIXED_STEP] if name == "langdetect" else texts

        def detect(text: str, options: Any = options) -> Any:
            return langid.detect(text, options)

        with _constants(langid, name):
            out[name] = _mixed_report([detect(t) for t in sample])
            out[name].update(rate(sample, detect, repeats=1 if name == "langdetect" else REPEATS))
    return out


def run() -> dict:
    from refinery.text import langid

    previous, cpu = _pin_one_core()
    try:
        rows = load_tatoeba()
        tatoeba = _tatoeba(langid, rows)
        pairs = _tatoeba(langid, load_word_pairs(rows))
        mixed = _zh_en_mixed(langid, load_zh_en_mixed())
    finally:
        if previous is not None:
            os.sched_setaffinity(0, previous)
    singles = {name: tatoeba[name]["accuracy"] for name in ("fasttext", "lingua", "langdetect")}
    best = max(singles, key=singles.__getitem__)
    pair_singles = {name: pairs[name]["accuracy"] for name in ("fasttext", "lingua_min_score_0", "langdetect")}
    pair_best = max(pair_singles, key=pair_singles.__getitem__)
    return {
        "corpora": str(CORPORA),
        "pinned_cpu": cpu,
        "tatoeba": {
            "split": f"accuracy on rows 0-{TEST_ROWS - 1} of each *_1000.csv (held out); dev_accuracy on the rest",
            "candidates": list(CANDIDATES),
            "backends": tatoeba,
            "best_single_backend": best,
            "ensemble_vs_best_single_accuracy": round(tatoeba["ensemble"]["accuracy"] / singles[best], 4),
            "ensemble_vs_fasttext_throughput": round(
                tatoeba["ensemble"]["docs_per_s"] / tatoeba["fasttext"]["docs_per_s"], 3
            ),
            "ensemble_vs_no_short_vote_throughput": round(
                tatoeba["ensemble"]["docs_per_s"] / tatoeba["ensemble_no_short_vote"]["docs_per_s"], 3
            ),
            "ensemble_vs_no_ngram_throughput": round(
                tatoeba["ensemble"]["docs_per_s"] / tatoeba["ensemble_no_ngram"]["docs_per_s"], 3
            ),
        },
        "word_pairs": {
            "what": (
                "two consecutive words of each tatoeba sentence (zh, ja: a span of "
                f"{SPAN_CHARS[0]}-{SPAN_CHARS[-1]} CJK characters), seeded by language and row; same splits"
            ),
            "backends": pairs,
            "best_single_backend": pair_best,
            "ensemble_vs_best_single_accuracy": round(pairs["ensemble"]["accuracy"] / pair_singles[pair_best], 4),
            "ensemble_vs_no_short_vote_throughput": round(
                pairs["ensemble"]["docs_per_s"] / pairs["ensemble_no_short_vote"]["docs_per_s"], 3
            ),
            "ensemble_vs_no_ngram_throughput": round(
                pairs["ensemble"]["docs_per_s"] / pairs["ensemble_no_ngram"]["docs_per_s"], 3
            ),
        },
        "zh_en_mixed": mixed,
        "ratios": {
            "mixed_ensemble_vs_no_short_vote_docs_per_s": round(
                mixed["ensemble"]["docs_per_s"] / mixed["ensemble_no_short_vote"]["docs_per_s"], 3
            ),
            "pairs_ensemble_vs_no_short_vote_accuracy": round(
                pairs["ensemble"]["accuracy"] / pairs["ensemble_no_short_vote"]["accuracy"], 4
            ),
            "sentences_ensemble_vs_no_short_vote_accuracy": round(
                tatoeba["ensemble"]["accuracy"] / tatoeba["ensemble_no_short_vote"]["accuracy"], 4
            ),
            "mixed_ensemble_vs_no_ngram_docs_per_s": round(
                mixed["ensemble"]["docs_per_s"] / mixed["ensemble_no_ngram"]["docs_per_s"], 3
            ),
            "pairs_ensemble_vs_no_ngram_accuracy": round(
                pairs["ensemble"]["accuracy"] / pairs["ensemble_no_ngram"]["accuracy"], 4
            ),
            "sentences_ensemble_vs_no_ngram_accuracy": round(
                tatoeba["ensemble"]["accuracy"] / tatoeba["ensemble_no_ngram"]["accuracy"], 4
            ),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
