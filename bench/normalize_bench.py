"""Throughput of :func:`refinery.text.normalize.normalize` on real text, one core.

Input: THUCNews titles (dev + test, 20k), AG News (``title\\ndescription``, 7.6k), ChnSentiCorp
hotel reviews (7.8k) and the SMS collection (5.6k) from ``../shared/corpora`` (or
``$REFINERY_CORPORA``): about 41k real documents, repeated ``REFINERY_BENCH_NORMALIZE_REPEAT``
times (default 3, about 123k documents). Repetition changes nothing for the code measured:
nothing is cached per text.

Measured in one run, in this one Python thread (rates use CPU time of the process, which is
single-threaded here, and the fastest of ``ROUNDS`` passes, so other load on a shared machine
distorts them little; wall time is reported too):

* ``normalize``: default options (t2s off), docs/s and MB/s of UTF-8 input;
* ``normalize_series``: the same through the pandas entry point the Spark layer calls;
* ``baseline``: plain ``ftfy.fix_text`` (its defaults) then ``unicodedata.normalize("NFKC")``:
  what one would write without this module (it also folds CJK punctuation and quotes);
* ``per_step``: each step alone (every other step off), µs per document, and ``none`` (all
  steps off: the per-call overhead, subtracted in ``us_per_doc_net``); ``t2s`` is timed
  although it is off by default;
* ``per_corpus``: default ``normalize`` per corpus, and how many documents each step changed
  in each corpus (one copy, not repeated).

``ratios.normalize_vs_baseline`` is ours / baseline throughput, measured in the same run.
"""

from __future__ import annotations

import csv
import json
import os
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("REFINERY_CORPORA", Path(__file__).resolve().parents[1].parent / "shared" / "corpora"))
CORPORA = CORPORA.resolve()
REPEAT = int(os.environ.get("REFINERY_BENCH_NORMALIZE_REPEAT", "3"))
#: Timed passes per measurement (the fastest is kept); the slow baseline gets one.
ROUNDS = 3


def load_corpora(root: Path = CORPORA) -> dict[str, list[str]]:
    """The four real corpora as lists of document texts."""
    thucnews = [
        line.rsplit("\t", 1)[0]
        for name in ("dev.txt", "test.txt")
        for line in (root / "thucnews_titles" / name).read_text("utf-8").splitlines()
    ]
    with open(root / "ag_news" / "test.csv", encoding="utf-8", newline="") as handle:
        ag_news = [f"{title}\n{description}" for _, title, description in csv.reader(handle)]
    with open(root / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv", encoding="utf-8", newline="") as handle:
        chnsenticorp = [review for _, review in list(csv.reader(handle))[1:]]
    sms_lines = (root / "sms_spam_collection" / "SMSSpamCollection").read_text("utf-8").splitlines()[1:]
    sms = [line.split("\t", 1)[1] for line in sms_lines]
    return {"thucnews": thucnews, "ag_news": ag_news, "chnsenticorp": chnsenticorp, "sms": sms}


def _timed(function: Callable[[str], object], docs: Iterable[str], rounds: int = ROUNDS) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``function`` over ``docs``: the fastest of ``rounds``
    passes, which is the least disturbed by other work on a shared machine."""
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for doc in docs:
            function(doc)
        best = min(best, (time.process_time() - cpu, time.perf_counter() - wall))
    return best


def _rate(docs: int, nbytes: int, cpu: float, wall: float) -> dict[str, float]:
    return {
        "docs": docs,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "docs_per_s": round(docs / cpu),
        "mb_per_s": round(nbytes / cpu / 1e6, 2),
        "us_per_doc": round(cpu / docs * 1e6, 2),
    }


def _baseline(text: str) -> str:
    import ftfy

    return unicodedata.normalize("NFKC", ftfy.fix_text(text))


def run() -> dict:
    import pandas as pd

    from refinery.text.normalize import STEPS, NormalizeOptions, normalize, normalize_series

    corpora = load_corpora()
    one_copy = [doc for docs in corpora.values() for doc in docs]
    docs = one_copy * REPEAT
    nbytes = sum(len(doc.encode("utf-8")) for doc in docs)
    only = {step: NormalizeOptions(**{s: s == step for s in STEPS}) for step in STEPS}
    only["none"] = NormalizeOptions(**dict.fromkeys(STEPS, False))

    # Warm-up: regex compilation, ftfy's tables, OpenCC's dictionaries, CPU caches.
    warm = one_copy[::20]
    for doc in warm:
        normalize(doc), _baseline(doc), normalize(doc, only["t2s"])

    ours = _rate(len(docs), nbytes, *_timed(normalize, docs))
    baseline = _rate(len(docs), nbytes, *_timed(_baseline, docs, rounds=1))

    batches = [pd.Series(docs[i : i + 10_000]) for i in range(0, len(docs), 10_000)]
    series = _rate(len(docs), nbytes, *_timed(normalize_series, batches))

    per_step = {}
    for step, options in only.items():
        rate = _rate(len(docs), nbytes, *_timed(lambda doc, options=options: normalize(doc, options), docs))
        per_step[step] = {"us_per_doc": rate["us_per_doc"], "docs_per_s": rate["docs_per_s"]}
    for step in STEPS:  # the step's own cost: minus the call overhead measured with every step off
        per_step[step]["us_per_doc_net"] = round(per_step[step]["us_per_doc"] - per_step["none"]["us_per_doc"], 2)

    per_corpus = {}
    for name, texts in corpora.items():
        corpus_docs = texts * REPEAT
        corpus_bytes = sum(len(doc.encode("utf-8")) for doc in corpus_docs)
        rate = _rate(len(corpus_docs), corpus_bytes, *_timed(normalize, corpus_docs))
        changed = Counter(step for text in texts for step in normalize(text).steps)
        per_corpus[name] = {
            "docs": len(texts),
            "avg_chars": round(sum(map(len, texts)) / len(texts), 1),
            "docs_per_s": rate["docs_per_s"],
            "us_per_doc": rate["us_per_doc"],
            "changed_docs": {step: changed[step] for step in STEPS if changed[step]},
            "unchanged_docs": sum(1 for text in texts if not normalize(text).steps),
        }

    return {
        "input": {
            "corpora": {name: len(texts) for name, texts in corpora.items()},
            "repeat": REPEAT,
            "docs": len(docs),
            "avg_chars": round(sum(map(len, docs)) / len(docs), 1),
            "mb_utf8": round(nbytes / 1e6, 2),
            "note": f"{len(one_copy)} real documents repeated {REPEAT}x; one Python thread; rates from CPU time",
        },
        "normalize": ours,
        "normalize_series": series,
        "baseline_ftfy_fix_text_plus_nfkc": baseline,
        "per_step": per_step,
        "per_corpus": per_corpus,
        "ratios": {
            "normalize_vs_baseline": round(ours["docs_per_s"] / baseline["docs_per_s"], 2),
            "normalize_series_vs_normalize": round(series["docs_per_s"] / ours["docs_per_s"], 2),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
