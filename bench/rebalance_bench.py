"""Exact class resampling (issue 6): our Spark draw against imbalanced-learn, at 100k and 1M rows.

Rows carry the real label mix of three imbalanced corpora (ChnSentiCorp 5,322 / 2,444, SMS
spam 4,827 / 747, waimai 4,000 / 7,987), repeated to the size, one group per corpus. For
``undersample`` and ``oversample`` (imbalanced-learn's ``RandomUnderSampler`` /
``RandomOverSampler`` with ``sampling_strategy="auto"``), in one run:

* **ours**: the rebalance job's transform in Spark ``local[2]`` (cells, counts, exact targets,
  the bucketed first-k draw, copies), run to the end with Spark's ``noop`` writer; and the
  same with gold written as a Delta table;
* **imbalanced-learn**: ``fit_resample`` per corpus on an in-memory ``(n, 1)`` index array and
  the label array (one core, everything in the driver's memory; the floor of what any
  resampler can cost).

Both must give the same class counts; the ratio is our seconds over theirs. Spark pays a fixed
cost per job (scheduling, several small stages) that in-memory numpy does not, and in
exchange never holds the table on one machine.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100_000, 1_000_000)
STRATEGIES = ("undersample", "oversample")


def label_mix() -> tuple[np.ndarray, np.ndarray]:
    """``(source, label)`` of every row of the three corpora (25,327 rows)."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from resampling_corpora import REAL_COUNTS, corpus_labels

    sources, labels = [], []
    for corpus in sorted(REAL_COUNTS):
        found = corpus_labels(corpus)
        sources += [corpus] * len(found)
        labels += found
    return np.asarray(sources), np.asarray(labels)


def frame_of(spark, size: int, work: Path):
    """A Parquet-backed frame of ``size`` rows with the corpora's label mix."""
    sources, labels = label_mix()
    index = np.resize(np.arange(len(labels)), size)
    pdf = pd.DataFrame({"id": [f"r{i}" for i in range(size)], "source": sources[index], "label": labels[index]})
    path = work / f"rows_{size}"
    spark.createDataFrame(pdf).write.mode("overwrite").parquet(str(path))
    return spark.read.parquet(str(path)), pdf


def imblearn_seconds(pdf: pd.DataFrame, strategy: str) -> tuple[float, dict]:
    """Seconds of imbalanced-learn's sampler over every corpus, and its class counts."""
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    sampler = RandomUnderSampler if strategy == "undersample" else RandomOverSampler
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for source, part in pdf.groupby("source"):
        x = np.arange(len(part)).reshape(-1, 1)
        _, y = sampler(random_state=0).fit_resample(x, part["label"].to_numpy())
        counts.update({f"{source}/{label}": n for label, n in Counter(y.tolist()).items()})
    return time.perf_counter() - started, counts


def ours_seconds(spark, frame, settings, gold_path: Path | None) -> tuple[float, dict]:
    """Seconds of our draw run to the end (``noop``, or a Delta write to ``gold_path``), and
    its class counts (from the targets; checked against the written table when written)."""
    from refinery.rebalance.job import cell_counts, draw_rows, group_weights, plan_targets, with_cells

    cfg = settings.rebalance
    started = time.perf_counter()
    eligible = with_cells(frame, cfg)
    targets = plan_targets(cell_counts(eligible), cfg)
    drawn = draw_rows(eligible, targets, group_weights(targets, cfg), cfg.seed, spark)
    if gold_path is None:
        drawn.write.format("noop").mode("overwrite").save()
    else:
        drawn.drop("_rb_group", "_rb_lang").write.format("delta").mode("overwrite").save(str(gold_path))
    seconds = time.perf_counter() - started
    counts = {f"{c.group}/{c.label}": c.t for c in targets}
    if gold_path is not None:
        written = spark.read.format("delta").load(str(gold_path)).groupBy("source", "label").count().collect()
        assert {f"{r.source}/{r.label}": r["count"] for r in written} == counts
    return seconds, counts


def run() -> dict:
    from refinery.config import TABLE_NAMES, load_settings
    from refinery.spark.session import build_spark

    work = Path(tempfile.mkdtemp(prefix="refinery-bench-rebalance-"))
    tables = [f"tables.{t}={work / t}" for t in TABLE_NAMES]

    def make(*overrides: str):
        return load_settings([ROOT / "conf" / "local.yaml"], [*tables, *overrides])

    results = []
    try:
        spark = build_spark(make().spark, "refinery-bench-rebalance")
        try:
            for size in SIZES:
                frame, pdf = frame_of(spark, size, work)
                for strategy in STRATEGIES:
                    settings = make(f"rebalance.strategy={strategy}")
                    ours_seconds(spark, frame, settings, None)  # warm: Python workers, code paths
                    ours, ours_counts = ours_seconds(spark, frame, settings, None)
                    delta, _ = ours_seconds(spark, frame, settings, work / f"gold_{size}_{strategy}")
                    theirs, their_counts = imblearn_seconds(pdf, strategy)
                    results.append(
                        {
                            "rows": size,
                            "strategy": strategy,
                            "gold_rows": sum(ours_counts.values()),
                            "same_class_counts_as_imblearn": ours_counts == their_counts,
                            "ours_seconds_noop": round(ours, 2),
                            "ours_seconds_delta_write": round(delta, 2),
                            "imblearn_seconds": round(theirs, 3),
                            "ours_over_imblearn": round(ours / theirs, 1),
                        }
                    )
                    print(results[-1], flush=True)
        finally:
            spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    big = [r for r in results if r["rows"] == max(SIZES)]
    return {
        "results": results,
        "ratios": {
            "all_class_counts_equal_imblearn": all(r["same_class_counts_as_imblearn"] for r in results),
            **{f"ours_over_imblearn_1m_{r['strategy']}": r["ours_over_imblearn"] for r in big},
            "ours_1m_over_100k_undersample": round(
                next(r["ours_seconds_noop"] for r in big if r["strategy"] == "undersample")
                / next(
                    r["ours_seconds_noop"]
                    for r in results
                    if r["rows"] == min(SIZES) and r["strategy"] == "undersample"
                ),
                2,
            ),
        },
    }
