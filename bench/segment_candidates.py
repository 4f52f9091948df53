"""Chinese segmenters whose model ships inside a PyPI package, against jieba (issue 21, part 4).

The question: does a segmenter installable from PyPI alone (no model downloaded from anywhere
else) beat jieba's SIGHAN 2005 word F1 by at least 5 points? Only then is it worth an engine.
Packages checked (``pip download --no-deps``, wheel / sdist contents listed):

* ``thulac`` 0.2.2: the model is inside the wheel (53 MB wheel, 510 MB unpacked; licence field
  "UNKNOWN"; per its project README free for research, commercial use needs a licence from
  Tsinghua). Measured.
* ``snownlp`` 0.12.3: sdist only; its character-based generative segmenter (``seg.marshal``,
  trained on the 1998 People's Daily corpus, the source of SIGHAN's PKU training data) is
  inside. Measured; its PKU figure is therefore optimistic.
* ``spacy-pkuseg`` 1.0.2: the wheel holds the code and a dictionary but no model
  (``models/`` has only ``tagIndex.txt``); models are downloaded from GitHub releases. Excluded.
* ``pkuseg`` 0.0.25: no wheel for Python 3.11; the sdist (48.8 MB) fails to build (its build
  imports numpy without declaring it). Excluded.
* ``pywordseg`` 0.1.4: a 10 kB wheel whose ``download.py`` fetches the ELMo model. Excluded.
* ``hanlp`` (downloads models), ``LAC`` (PaddlePaddle): excluded by the brief.

None of them is a project dependency: they are installed for this script only, outside the
virtualenv (``pip install --no-deps --target DIR thulac snownlp``) and put on the path with
``--site DIR``. F1 is computed exactly as ``bench/segment_bench.py`` does (gold line with its
spaces removed, :func:`refinery.text.segment_score.corpus_word_f1`). The bar is the best jieba row of
the same run, per test set: plain ``jieba.lcut`` / ``rjieba.cut``, and :func:`segment` with rjieba
(HMM on, the default, and off: the best on both sets; jieba and rjieba segment alike,
``bench/results/segment.json``). ``adopt`` is true only for a gain of ``MIN_GAIN`` on both sets.
MB/s: CPU time of this process, best of ``REPEATS`` passes over the first ``SPEED_LINES`` lines
of each test set (MB = 10^6 UTF-8 bytes), every system timed in the same process; run it pinned
(``taskset -c 1``). ``load``: seconds and resident MB a worker pays to load a candidate's model.

Outcome (``bench/results/segment_candidates.json``): thulac clears the bar on PKU, whose
segmentation standard it follows, but not on MSR, at a small fraction of rjieba's MB/s and with
hundreds of MB of model per worker; snownlp clears neither. So no engine is added and rjieba
stays the default.

Run: ``python -m bench.segment_candidates --site /tmp/segcheck/site`` (writes
``bench/results/segment_candidates.json``).
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.segment_bench import sighan_gold
from refinery.text.segment import SegmentOptions, segment
from refinery.text.segment_score import corpus_word_f1

RESULTS = Path(__file__).resolve().parent / "results"
SPEED_LINES = 400
#: The issue's bar: F1 at least this much above jieba's best configuration, on both test sets.
MIN_GAIN = 0.05
REPEATS = 2
#: Load time and resident memory each candidate's model costs a worker process, filled by systems().
LOAD: dict[str, dict[str, float]] = {}

EXCLUDED = {
    "spacy-pkuseg": "wheel has no model (models/ holds only tagIndex.txt); models download from GitHub releases",
    "pkuseg": "no Python 3.11 wheel; the sdist fails to build (imports numpy undeclared)",
    "pywordseg": "10 kB wheel; download.py fetches the ELMo model",
    "hanlp": "downloads its models",
    "LAC": "needs PaddlePaddle",
}


def systems(cache_dir: str) -> dict[str, Callable[[str], list[str]]]:
    """Every importable system: jieba (HMM on and off), rjieba, and the candidates found."""
    import jieba
    import rjieba

    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = cache_dir
    out: dict[str, Callable[[str], list[str]]] = {
        "plain_jieba_lcut_hmm": lambda text: tokenizer.lcut(text, HMM=True),
        "plain_jieba_lcut_no_hmm": lambda text: tokenizer.lcut(text, HMM=False),
        "plain_rjieba_cut_hmm": lambda text: rjieba.cut(text),
        "segment_rjieba_hmm": functools.partial(segment, lang="zh", options=SegmentOptions(engine="rjieba")),
        "segment_rjieba_no_hmm": functools.partial(
            segment, lang="zh", options=SegmentOptions(engine="rjieba", hmm=False)
        ),
    }
    try:
        import thulac

        started = time.perf_counter()
        rss = _rss_mb()
        model = thulac.thulac(seg_only=True)
        LOAD["thulac"] = {"seconds": round(time.perf_counter() - started, 2), "rss_mb": round(_rss_mb() - rss)}
        out["thulac"] = lambda text: [word for word, _ in model.cut(text)]
    except ImportError:
        pass
    try:
        from snownlp import seg

        out["snownlp"] = seg.seg
    except ImportError:
        pass
    return out


def _rss_mb() -> float:
    """Resident memory of this process in MB (Linux ``/proc``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def run() -> dict[str, Any]:
    golds = {name: sighan_gold(name) for name in ("pku", "msr")}
    with tempfile.TemporaryDirectory(prefix="refinery-jieba-") as cache_dir:
        cuts = systems(cache_dir)
        f1: dict[str, dict[str, dict[str, float]]] = {}
        for corpus, gold in golds.items():
            f1[corpus] = {}
            for name, cut in cuts.items():
                p, r, f = corpus_word_f1((cut("".join(tokens)), tokens) for tokens in gold)
                f1[corpus][name] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}
        docs = ["".join(tokens) for gold in golds.values() for tokens in gold[:SPEED_LINES]]
        megabytes = sum(len(doc.encode("utf-8")) for doc in docs) / 1e6
        best = dict.fromkeys(cuts, float("inf"))
        for _ in range(REPEATS):
            for name, cut in cuts.items():
                started = time.process_time()
                for doc in docs:
                    cut(doc)
                best[name] = min(best[name], time.process_time() - started)
    speed = {name: round(megabytes / seconds, 3) for name, seconds in best.items()}
    baselines = [name for name in cuts if "jieba" in name]
    jieba_best = {corpus: max(f1[corpus][name]["f1"] for name in baselines) for corpus in f1}
    gain = {
        name: {corpus: round(f1[corpus][name]["f1"] - jieba_best[corpus], 4) for corpus in f1}
        for name in cuts
        if name not in baselines
    }
    return {
        "question": "beats jieba's SIGHAN 2005 F1 by >= 0.05 on both PKU and MSR, model inside the PyPI package",
        "versions": {name: _version(name) for name in ("jieba", "rjieba", "thulac", "snownlp")},
        "excluded": EXCLUDED,
        "f1": f1,
        "jieba_best_f1": jieba_best,
        "f1_gain_vs_jieba_best": gain,
        "adopt": {name: all(g >= MIN_GAIN for g in gains.values()) for name, gains in gain.items()},
        "load": LOAD,
        "mb_per_s_cpu": speed,
        "speed_docs": len(docs),
        "speed_mb": round(megabytes, 4),
        "speed_vs_segment_rjieba": {name: round(speed[name] / speed["segment_rjieba_hmm"], 4) for name in speed},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", help="folder the candidates were installed into (pip --target)")
    args = parser.parse_args()
    if args.site:
        sys.path.append(args.site)
    result = run()
    result.update(benchmark="segment_candidates", measured_at=datetime.now(UTC).isoformat())
    path = RESULTS / "segment_candidates.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
