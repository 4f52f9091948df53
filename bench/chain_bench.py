"""Cost of the clean chain per document and per MB, one core, on short and long real documents.

    python -m bench.run chain        # → bench/results/chain.json

Input: the four sets of :mod:`bench.chain_sets` (15,000 short mixed zh/en documents; 400 long
Chinese articles; 1,500 English forum posts; 200 long mixed Markdown issues), read as they are.

Measured in one run, in this one Python process (CPU time, ``time.process_time``, so other load
on the shared machine distorts little), in batches of 10,000 rows (what ``mapInPandas`` hands
the chain at most). Each set is timed the way a Spark worker meets it: after a warm-up pass over
as many *other* documents of the same corpora (:func:`bench.chain_sets.warm_up_sets`: models
loaded, the segmentation memos filled by other text), one pass over documents the process has
not seen. ``chain_repeat`` is a second pass over the same documents: what the bench reported
before 7 Dec 2026, when every timed pass came after a warm-up over the very same texts, so the
memos held every chunk and short documents looked about 1.7 times cheaper than they are.

* ``chain``: :func:`refinery.text.chain.clean_frame` with the configuration's defaults
  (``conf/local.yaml``): MB (10^6 bytes of UTF-8 input) per CPU-second, µs per document, and
  each step's share (``clean_frame(timings=...)``: normalize, langid, pii, segment, quality,
  other);
* ``chain_jieba``: the same with ``clean.segment.engine: jieba`` (the default before issue 20);
* ``plain``: the plain library calls on the whole text, for scale: ``jieba.lcut`` and
  ``rjieba.cut`` (Chinese sets), spaCy's blank English tokenizer (all sets);
* ``tokens_equal_to_jieba``: documents whose tokens are the same under both engines;
* ``worker_peak_rss_mb``: the peak resident memory of a fresh process that runs the default
  chain over every set in turn, as one Spark Python worker would (models loaded once, caches
  bounded: the chunk memo of ``refinery.text.segment_spacy`` holds at most ``CHUNK_MEMO_MAX``
  chunks), and of the same with each set passed through twice (``_twice``: flat if nothing
  grows with the documents seen).

``ratios``: ``<set>_mb_per_cpu_s`` (target ≥ :data:`TARGET_MB_PER_CPU_S`, issue 20) and
``<set>_vs_jieba_engine`` (time with jieba / time with the default).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

import pandas as pd

BATCH_ROWS = 10_000
TARGET_MB_PER_CPU_S = 1.5


def _batches(texts: list[str]) -> list[pd.DataFrame]:
    return [pd.DataFrame({"text": texts[i : i + BATCH_ROWS]}) for i in range(0, len(texts), BATCH_ROWS)]


def _pass(batches: list[pd.DataFrame], options: Any) -> tuple[float, dict[str, float], list[Any]]:
    """CPU seconds, step times and tokens of one pass of the chain over ``batches``."""
    from refinery.text.chain import clean_frame

    steps: dict[str, float] = {}
    start = time.process_time()
    tokens = [t for batch in batches for t in clean_frame(batch.copy(), options, timings=steps)["tokens"]]
    return time.process_time() - start, steps, tokens


def _timed_chain(
    texts: list[str], warm_up: list[str], options: Any
) -> tuple[tuple[float, dict[str, float], list[Any]], float]:
    """One pass over ``texts`` after a warm-up pass over ``warm_up`` (CPU seconds, step times,
    tokens), and the CPU seconds of a second pass over ``texts``. The segmentation memos are
    emptied first, so an earlier measurement of the same texts does not answer for this one."""
    from refinery.text.segment_spacy import forget_seen_text

    forget_seen_text()
    _pass(_batches(warm_up), options)
    batches = _batches(texts)
    first = _pass(batches, options)
    return first, _pass(batches, options)[0]


def _cpu(function: Any, texts: list[str]) -> float:
    function(texts[0])
    start = time.process_time()
    for text in texts:
        function(text)
    return time.process_time() - start


def _plain(texts: list[str], mb: float, chinese: bool) -> dict[str, float]:
    """MB per CPU-second of the plain library calls over the whole text."""
    import spacy

    english = spacy.blank("en").tokenizer
    out = {"spacy_en_tokenizer": round(mb / _cpu(english, texts), 3)}
    if chinese:
        import jieba
        import rjieba

        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        out["jieba_lcut"] = round(mb / _cpu(tokenizer.lcut, texts), 3)
        out["rjieba_cut"] = round(mb / _cpu(rjieba.cut, texts), 3)
    return out


def measure(name: str, texts: list[str], warm_up: list[str], options: Any) -> dict[str, Any]:
    docs = len(texts)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    (seconds, steps, tokens), repeat = _timed_chain(texts, warm_up, options)
    jieba_options = replace(options, segment=replace(options.segment, engine="jieba"))
    (jieba_seconds, _, jieba_tokens), _ = _timed_chain(texts, warm_up, jieba_options)
    differing = sum(1 for a, b in zip(tokens, jieba_tokens, strict=True) if list(a or []) != list(b or []))
    return {
        "docs": docs,
        "mb": round(mb, 3),
        "mean_bytes": round(mb * 1e6 / docs),
        "chain": {
            "cpu_seconds": round(seconds, 3),
            "mb_per_cpu_s": round(mb / seconds, 3),
            "us_per_doc": round(seconds / docs * 1e6, 1),
            "step_share": {step: round(s / seconds, 3) for step, s in steps.items()},
            "step_us_per_doc": {step: round(s / docs * 1e6, 1) for step, s in steps.items()},
        },
        "chain_repeat": {"mb_per_cpu_s": round(mb / repeat, 3), "us_per_doc": round(repeat / docs * 1e6, 1)},
        "chain_jieba": {
            "cpu_seconds": round(jieba_seconds, 3),
            "mb_per_cpu_s": round(mb / jieba_seconds, 3),
            "us_per_doc": round(jieba_seconds / docs * 1e6, 1),
        },
        "tokens_equal_to_jieba": {"docs": docs - differing, "of": docs},
        "plain_mb_per_cpu_s": _plain(texts, mb, chinese=name != "twenty_newsgroups"),
    }


_WORKER = """
import sys
import pandas as pd
from bench.chain_sets import ROOT, chain_sets
from refinery.config import load_settings
from refinery.clean.job import clean_options
from refinery.text.chain import clean_frame
options = clean_options(load_settings([ROOT / "conf" / "local.yaml"]).clean)
for _ in range(int(sys.argv[1])):
    for texts in chain_sets().values():
        for i in range(0, len(texts), 10_000):
            clean_frame(pd.DataFrame({"text": texts[i : i + 10_000]}), options)
print(int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024)
"""


def worker_peak_rss_mb(passes: int) -> int:
    """Peak RSS (MB, ``VmHWM``: ``ru_maxrss`` would carry this process's peak over through fork
    and exec) of a fresh process running the default chain over every set ``passes`` times."""
    from bench.chain_sets import ROOT

    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(passes)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip().splitlines()[-1])


def run() -> dict[str, Any]:
    from bench.chain_sets import CORPORA, ROOT, chain_sets, warm_up_sets
    from refinery.clean.job import clean_options
    from refinery.config import load_settings

    options = clean_options(load_settings([ROOT / "conf" / "local.yaml"]).clean)
    warm_up = warm_up_sets()
    sets = {name: measure(name, texts, warm_up[name], options) for name, texts in chain_sets().items()}
    ratios: dict[str, Any] = {}
    for name, result in sets.items():
        ratios[f"{name}_mb_per_cpu_s"] = result["chain"]["mb_per_cpu_s"]
        ratios[f"{name}_vs_jieba_engine"] = round(
            result["chain_jieba"]["cpu_seconds"] / result["chain"]["cpu_seconds"], 2
        )
    ratios["all_sets_reach_target"] = all(r["chain"]["mb_per_cpu_s"] >= TARGET_MB_PER_CPU_S for r in sets.values())
    return {
        "input": {"corpora": str(CORPORA), "batch_rows": BATCH_ROWS, "warm_up": "other documents, one pass"},
        "target_mb_per_cpu_s": TARGET_MB_PER_CPU_S,
        "sets": sets,
        "worker_peak_rss_mb": worker_peak_rss_mb(1),
        "worker_peak_rss_mb_twice": worker_peak_rss_mb(2),
        "ratios": ratios,
    }
