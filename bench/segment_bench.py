"""Word segmentation (:mod:`refinery.text.segment`): quality, speed and jieba/rjieba agreement.

Inputs, all from ``../shared/corpora`` (or ``$REFINERY_CORPORA``), used as they are (no growth):

* ``f1``: word precision / recall / F1 (micro-averaged span matching, see
  :func:`refinery.text.segment_score.word_f1`) on the SIGHAN 2005 PKU and MSR test sets, for
  :func:`segment` with jieba (HMM on / off) and rjieba (HMM on / off), and for plain
  ``jieba.lcut`` on the whole line (the library alone, without our script-run splitting). The text
  segmented is the gold line with its spaces removed, for MSR too: ``msr_test.utf8`` differs from
  the gold file in 16 lines (quotation marks moved across line ends), which would break alignment.
* ``throughput``: one core, this process, after a warm-up (engine loading excluded, see
  ``load_seconds``). jieba and rjieba through :func:`segment` on the Chinese documents (THUCNews titles,
  ChnSentiCorp, waimai), spaCy-en through :func:`segment` on AG News (title + description), and
  the mixed zh/en texts of ``zh_en_mixed_derived`` with ``lang="zh"``. MB = 10^6 UTF-8 bytes.
  ``plain_*`` rows time the library call alone on the same documents (a list of token strings
  from ``jieba.lcut``, ``rjieba.cut``, spaCy's tokenizer), for the ratios. Each row is the best of
  ``REFINERY_BENCH_REPEATS`` passes (default 3).
* ``agreement``: how often rjieba's output equals jieba's, both through :func:`segment`, on THUCNews
  titles, ChnSentiCorp, waimai, and the raw PKU / MSR text: the share of documents whose token
  sequences are identical, and the token-level F1 of rjieba taken against jieba, with examples.
* ``mixed_latin_words``: on ``zh_en_mixed_derived``, the share of texts none of whose listed Latin
  words (``latin_words_first10``) is cut by a token boundary, and the share whose listed words are
  all tokens by themselves.

``load_seconds``: what each Python worker process pays once (jieba's prefix dictionary built from
scratch and from its cache file; ``spacy.blank("en")``).

Other segmenters: ``bench/segment_candidates.py`` measures the PyPI packages whose model ships
inside them (thulac, snownlp) against jieba on the same F1 and MB/s, with the ones excluded and
why (``bench/results/segment_candidates.json``); none clears issue 21's +5 F1 on both sets.

Run: ``python -m bench.segment_bench`` (prints JSON; writes nothing: jieba's cache goes to a
temporary folder removed at the end).
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from refinery.text.segment import SegmentOptions, segment
from refinery.text.segment_score import corpus_word_f1

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()

#: Timed passes per throughput row; the best one is reported.
REPEATS = int(os.environ.get("REFINERY_BENCH_REPEATS", "3"))


# --- corpora -----------------------------------------------------------------------------------
def sighan_gold(name: str) -> list[list[str]]:
    """Gold token lists of the SIGHAN 2005 ``pku`` or ``msr`` test set, blank lines skipped."""
    path = CORPORA / "sighan2005_seg_gold" / f"{name}_test_gold.utf8"
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def chinese_corpora() -> dict[str, list[str]]:
    """The Chinese documents used for agreement (and, minus SIGHAN, throughput)."""
    thuc = CORPORA / "thucnews_titles"
    reviews = {
        name: pd.read_csv(CORPORA / path, dtype=str, keep_default_na=False)["review"].tolist()
        for name, path in (
            ("chnsenticorp", "chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv"),
            ("waimai", "waimai_10k/waimai_10k.csv"),
        )
    }
    return {
        "thucnews_titles": [line.split("\t")[0] for name in ("dev", "test") for line in _lines(thuc / f"{name}.txt")],
        **{name: [text for text in texts if text.strip()] for name, texts in reviews.items()},
        "sighan_pku_raw": ["".join(tokens) for tokens in sighan_gold("pku")],
        "sighan_msr_raw": _lines(CORPORA / "sighan2005_seg_gold" / "msr_test.utf8"),
    }


def ag_news() -> list[str]:
    """AG News test split, ``title + " " + description`` per row."""
    frame = pd.read_csv(CORPORA / "ag_news" / "test.csv", header=None, dtype=str, keep_default_na=False)
    return (frame[1] + " " + frame[2]).tolist()


def zh_en_mixed() -> pd.DataFrame:
    """The mixed Chinese/Latin texts with their listed Latin words."""
    path = CORPORA / "zh_en_mixed_derived" / "zh_en_mixed.tsv"
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


# --- measurements ------------------------------------------------------------------------------
def systems(cache_dir: str) -> dict[str, SegmentOptions]:
    """The option sets compared; jieba keeps its dictionary cache in ``cache_dir``."""
    return {
        "jieba_hmm": SegmentOptions(cache_dir=cache_dir),
        "jieba_no_hmm": SegmentOptions(hmm=False, cache_dir=cache_dir),
        "rjieba_hmm": SegmentOptions(engine="rjieba"),
        "rjieba_no_hmm": SegmentOptions(engine="rjieba", hmm=False),
    }


def _plain_jieba(cache_dir: str) -> Any:
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = cache_dir
    return tokenizer


def f1_table(cache_dir: str) -> dict[str, dict[str, dict[str, float]]]:
    """``{corpus: {system: {precision, recall, f1}}}`` on SIGHAN PKU and MSR."""
    plain = _plain_jieba(cache_dir)
    cuts: dict[str, Callable[[str], list[str]]] = {
        name: functools.partial(segment, lang="zh", options=options) for name, options in systems(cache_dir).items()
    }
    cuts["plain_jieba_lcut_hmm"] = lambda text: plain.lcut(text, HMM=True)
    table: dict[str, dict[str, dict[str, float]]] = {}
    for corpus in ("pku", "msr"):
        gold = sighan_gold(corpus)
        table[corpus] = {}
        for system, cut in cuts.items():
            p, r, f = corpus_word_f1((cut("".join(tokens)), tokens) for tokens in gold)
            table[corpus][system] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}
    return table


def _throughput(docs: list[str], cuts: dict[str, Callable[[str], Any]], repeats: int) -> dict[str, dict[str, float]]:
    """One row per cut: best of ``repeats`` passes, the cuts taking turns pass by pass, so that load
    from other processes on this shared machine hits them alike and the ratios stay meaningful."""
    for cut in cuts.values():
        for doc in docs[:50]:  # warm-up: engines and spaCy tokenizers are built on first use
            cut(doc)
    best = dict.fromkeys(cuts, float("inf"))
    for _ in range(repeats):
        for name, cut in cuts.items():
            started = time.perf_counter()
            for doc in docs:
                cut(doc)
            best[name] = min(best[name], time.perf_counter() - started)
    megabytes = sum(len(doc.encode("utf-8")) for doc in docs) / 1e6
    return {
        name: {
            "docs": len(docs),
            "mb": round(megabytes, 3),
            "seconds": round(seconds, 3),
            "mb_per_s": round(megabytes / seconds, 3),
            "docs_per_s": round(len(docs) / seconds, 1),
        }
        for name, seconds in best.items()
    }


def load_seconds() -> dict[str, float]:
    """What every Python worker process pays once: building jieba's prefix dictionary without and
    with a cache file (in a fresh temporary folder), and one ``spacy.blank("en")``."""
    import spacy

    out = {}
    with tempfile.TemporaryDirectory(prefix="refinery-jieba-") as cache_dir:
        for name in ("jieba_without_cache", "jieba_from_cache"):
            started = time.perf_counter()
            _plain_jieba(cache_dir).initialize()
            out[name] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    spacy.blank("en")
    out["spacy_blank_en"] = round(time.perf_counter() - started, 3)
    return out


def throughput(
    chinese: list[str], english: list[str], mixed: list[str], cache_dir: str, repeats: int = REPEATS
) -> dict[str, Any]:
    """Single-core rows for our :func:`segment` and for the plain library calls."""
    import rjieba
    import spacy

    plain_jieba, plain_spacy = _plain_jieba(cache_dir), spacy.blank("en").tokenizer
    jieba_options, rjieba_options = systems(cache_dir)["jieba_hmm"], systems(cache_dir)["rjieba_hmm"]
    rows = {
        **_throughput(
            chinese,
            {
                "jieba_zh": lambda text: segment(text, "zh", jieba_options),
                "rjieba_zh": lambda text: segment(text, "zh", rjieba_options),
                "plain_jieba_lcut_zh": lambda text: plain_jieba.lcut(text),
                "plain_rjieba_cut_zh": lambda text: rjieba.cut(text),
            },
            repeats,
        ),
        **_throughput(
            english,
            {
                "spacy_en_ag_news": lambda text: segment(text, "en"),
                "plain_spacy_en_ag_news": lambda text: [token.text for token in plain_spacy(text)],
            },
            repeats,
        ),
        **_throughput(
            mixed,
            {
                "jieba_mixed_zh_en": lambda text: segment(text, "zh", jieba_options),
                "rjieba_mixed_zh_en": lambda text: segment(text, "zh", rjieba_options),
            },
            repeats,
        ),
    }
    ratios = {
        "segment_jieba_vs_plain_jieba": rows["jieba_zh"]["mb_per_s"] / rows["plain_jieba_lcut_zh"]["mb_per_s"],
        "segment_rjieba_vs_plain_rjieba": rows["rjieba_zh"]["mb_per_s"] / rows["plain_rjieba_cut_zh"]["mb_per_s"],
        "segment_rjieba_vs_segment_jieba": rows["rjieba_zh"]["mb_per_s"] / rows["jieba_zh"]["mb_per_s"],
        "segment_en_vs_plain_spacy": rows["spacy_en_ag_news"]["mb_per_s"] / rows["plain_spacy_en_ag_news"]["mb_per_s"],
    }
    return {"rows": rows, "ratios": {name: round(value, 3) for name, value in ratios.items()}}


def _first_difference(a: list[str], b: list[str], context: int = 2) -> dict[str, str]:
    """The first differing stretch of two token lists, with ``context`` equal tokens around it."""
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            return {
                "jieba": " | ".join(a[max(0, i1 - context) : i2 + context]),
                "rjieba": " | ".join(b[max(0, j1 - context) : j2 + context]),
            }
    return {}


def agreement(
    corpora: dict[str, list[str]], jieba_options: SegmentOptions, rjieba_options: SegmentOptions, examples: int = 3
) -> dict[str, Any]:
    """Per corpus: identical-document rate and token F1 of rjieba against jieba, plus examples."""
    out: dict[str, Any] = {}
    for name, docs in corpora.items():
        pairs = [(segment(doc, "zh", rjieba_options), segment(doc, "zh", jieba_options)) for doc in docs]
        differing = [(ours, ref) for ours, ref in pairs if ours != ref]
        out[name] = {
            "docs": len(docs),
            "identical_docs": len(docs) - len(differing),
            "identical_rate": round(1 - len(differing) / len(docs), 5),
            "token_f1_vs_jieba": round(corpus_word_f1(pairs)[2], 5),
            "examples": [_first_difference(ref, ours) for ours, ref in differing[:examples]],
        }
    total = sum(row["docs"] for row in out.values())
    identical = sum(row["identical_docs"] for row in out.values())
    out["all"] = {"docs": total, "identical_docs": identical, "identical_rate": round(identical / total, 5)}
    return out


def mixed_latin_words(frame: pd.DataFrame, cache_dir: str) -> dict[str, Any]:
    """How the Latin words of the mixed texts (``latin_words_first10``, ``[A-Za-z]{2,}`` matches)
    come out: never cut by a token boundary (``not_split``), and each a token by itself
    (``whole_token``; fails also when the word is glued to digits or ASCII punctuation without
    spaces, as in ``ok12`` or ``2008,ctrip.com``, which spaCy keeps together)."""
    lossless = SegmentOptions(keep_whitespace=True, cache_dir=cache_dir)  # offsets are exact
    not_split = whole = 0
    examples: list[dict[str, Any]] = []
    for text, listed in zip(frame["text"], frame["latin_words_first10"], strict=True):
        tokens = segment(text, "zh", lossless)
        cuts, offset = set(), 0
        for token in tokens:
            offset += len(token)
            cuts.add(offset)
        words = listed.split()
        split = [
            word
            for word in words
            for start in _occurrences(text, word)
            if any(start < cut < start + len(word) for cut in cuts)
        ]
        not_split += not split
        whole += all(word in tokens for word in words)
        if split and len(examples) < 5:
            examples.append({"split_words": split, "tokens": [t for t in tokens if not t.isspace()][:40]})
    return {
        "docs": len(frame),
        "not_split_rate": round(not_split / len(frame), 4),
        "whole_token_rate": round(whole / len(frame), 4),
        "split_examples": examples,
    }


def _occurrences(text: str, word: str) -> list[int]:
    starts, start = [], text.find(word)
    while start >= 0:
        starts.append(start)
        start = text.find(word, start + 1)
    return starts


def run() -> dict[str, Any]:
    """Every measurement above, as one JSON-ready dict. jieba's dictionary cache goes to a temporary
    folder that is removed at the end: the benchmark leaves no file behind."""
    corpora = chinese_corpora()
    chinese = corpora["thucnews_titles"] + corpora["chnsenticorp"] + corpora["waimai"]
    mixed = zh_en_mixed()
    with tempfile.TemporaryDirectory(prefix="refinery-jieba-") as cache_dir:
        options = systems(cache_dir)
        speed = throughput(chinese, ag_news(), mixed["text"].tolist(), cache_dir)
        return {
            "corpora": str(CORPORA),
            "f1": f1_table(cache_dir),
            "throughput": speed["rows"],
            "load_seconds": load_seconds(),
            "agreement_rjieba_vs_jieba": {
                "hmm": agreement(corpora, options["jieba_hmm"], options["rjieba_hmm"]),
                "no_hmm": agreement(corpora, options["jieba_no_hmm"], options["rjieba_no_hmm"]),
            },
            "mixed_latin_words": mixed_latin_words(mixed, cache_dir),
            "ratios": speed["ratios"],
        }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
