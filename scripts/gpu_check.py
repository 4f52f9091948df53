"""GPU check of the scorer: training and inference throughput on a 1M-row corpus of real texts.

    scripts/gpu_check.sh [--rows 1000000] [--device cuda] [--batch-size 4096]

Real texts (AG News descriptions and THUCNews titles from ``$REFINERY_CORPORA``), repeated
to ``--rows``, with their real topic labels (4 + 10 classes). It needs numpy, pandas and
torch only (no Spark, no segmenter: texts are split on whitespace, Chinese titles get
character n-grams), so it runs on any machine with a CUDA build of torch. Prints one JSON
object: featurization rows/s (CPU), training rows/s for one epoch, inference rows/s, the
out-of-sample cross-fit's time on a slice, and the peak GPU memory; also writes it to
``$OUT/gpu_check.json`` when ``$OUT`` is set, else to ``bench/results/gpu_check.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "libs"))

from refinery.score.crossfit import crossfit, folds_of_keys, row_keys  # noqa: E402
from refinery.score.features import Bags, featurize  # noqa: E402
from refinery.score.model import resolve_device, seed_everything  # noqa: E402
from refinery.score.options import CrossFitOptions, FeatureOptions, TrainOptions  # noqa: E402
from refinery.score.train import Trainer  # noqa: E402


def real_texts(corpora: Path) -> tuple[list[str], np.ndarray]:
    """AG News (title + description) and THUCNews titles with labels 0-3 and 4-13."""
    texts, labels = [], []
    with (corpora / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        for row in csv.reader(f):
            texts.append(f"{row[1]} {row[2]}")
            labels.append(int(row[0]) - 1)
    for part in ("dev.txt", "test.txt"):
        with (corpora / "thucnews_titles" / part).open(encoding="utf-8") as f:
            for line in f:
                title, label = line.rstrip("\n").split("\t")
                texts.append(title)
                labels.append(4 + int(label))
    return texts, np.asarray(labels, dtype=np.int64)


def repeated(bags: Bags, labels: np.ndarray, rows: int) -> tuple[Bags, np.ndarray]:
    """The corpus's bags repeated (whole copies, then a head) to ``rows`` bags."""
    index = np.resize(np.arange(len(bags)), rows)
    return bags.take(index), labels[index]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--lr", type=float, default=0.03, help="larger batches want a larger step")
    parser.add_argument("--crossfit-rows", type=int, default=200_000)
    args = parser.parse_args()
    corpora = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora"))
    device = resolve_device(args.device)
    seed_everything(1)
    report: dict[str, object] = {
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "rows": args.rows,
        "batch_size": args.batch_size,
    }
    texts, labels = real_texts(corpora)
    options = FeatureOptions()
    started = time.perf_counter()
    base = featurize(texts, None, options)
    report["featurize_rows_per_s_cpu_1_process"] = round(len(texts) / (time.perf_counter() - started))
    bags, y = repeated(base, labels, args.rows)
    report["features_per_row"] = round(len(bags.ids) / len(bags), 1)

    train = TrainOptions(epochs=1, lr=args.lr, batch_size=args.batch_size)
    steps = -(-len(bags) // args.batch_size)
    trainer = Trainer(options.buckets, 14, train, device, steps, seed=1)
    warm = bags.take(np.arange(min(len(bags), 20 * args.batch_size)))
    trainer.train_epoch(warm, y[: len(warm)])  # CUDA context, kernels, allocator
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    trainer = Trainer(options.buckets, 14, train, device, steps, seed=1)
    started = time.perf_counter()
    loss = trainer.train_epoch(bags, y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    report["train_rows_per_s_one_epoch"] = round(len(bags) / seconds)
    report["train_epoch_seconds"] = round(seconds, 2)
    report["train_loss"] = round(loss, 4)

    trainer.predict_proba(warm, batch_size=65536)
    started = time.perf_counter()
    probs = trainer.predict_proba(bags, batch_size=65536)
    seconds = time.perf_counter() - started
    report["infer_rows_per_s"] = round(len(bags) / seconds)
    report["train_accuracy_after_one_epoch"] = round(float((probs.argmax(1) == y).mean()), 4)

    n = min(args.crossfit_rows, len(texts))
    keys = row_keys([str(i) for i in range(n)])
    started = time.perf_counter()
    crossfit(
        base.take(np.arange(n)), labels[:n], 14, folds_of_keys(keys, 5), options.buckets,
        CrossFitOptions(folds=5, train=TrainOptions(epochs=10, lr=args.lr, batch_size=min(args.batch_size, 512))),
        device, keys=keys,
    )  # fmt: skip
    report["crossfit_5_folds_10_epochs"] = {"rows": n, "seconds": round(time.perf_counter() - started, 1)}
    if device.type == "cuda":
        report["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    report["targets"] = {"infer_rows_per_s": 1_000_000, "train_rows_per_s_one_epoch": 200_000}
    text = json.dumps(report, indent=2)
    print(text)
    out = Path(os.environ["OUT"]) if os.environ.get("OUT") else ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
