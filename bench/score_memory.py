"""The score driver's memory per row while it cross-fits: does it grow with the rows?

    python -m bench.run score_memory        # → bench/results/score_memory.json

Score's featurized rows live on disk (a memory-mapped group folder,
:mod:`refinery.score.dataset`), so what the driver's Python *owns* is what
:func:`refinery.score.crossfit.crossfit` and the staging of its results allocate. For each
row count ``n`` and class count ``C``, a fresh process writes a synthetic group folder (bags of
40 random feature ids, uniform labels, keys from row ids: the shapes score sees, not its
accuracy), then runs :func:`refinery.score.group_fit.score_group` on it: one epoch of 5-fold
cross-fitting, then the staging of every row's scores as Parquet, while a thread samples the
process's ``RssAnon`` (anonymous resident memory, MB; file pages of the memory-mapped folder
are not in it) every 20 ms.

Reported per setting: the anonymous memory before (libraries loaded, the group folder
written), its peak during score, and ``score_mb`` = peak − before: what score itself took.
``growth`` compares the largest ``n`` with the smallest: the increase of ``score_mb`` per added
row, in bytes, which is what a terabyte of rows would multiply (the fixed part, the model and
its optimizer's state, is some 570 MB with the ``conf/local.yaml`` model; the resolution of
the difference is about ±30 bytes a row, from the allocator's noise).

Measured before score wrote its probability matrices to memory-mapped files (7 Dec 2026, the
same probe at 40,000 and 200,000 rows): 0 bytes per added row with 4 classes, 300 with 40.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

ROWS = (40_000, 400_000)
CLASSES = (4, 40)
BAG_IDS = 40

_PROBE = """
import json, sys, threading, time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from refinery.config import load_settings
from refinery.score.group_fit import GroupResult, score_group
from refinery.score.crossfit import row_keys
from refinery.score.dataset import gather_group

n, classes, bag_ids, root = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
torch.set_num_threads(2)

def anon_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

def write_shard(folder, rows, start):
    import pyarrow as pa
    rng = np.random.default_rng(start)
    folder.mkdir(parents=True)
    ids = [f"row-{i}" for i in range(start, start + rows)]
    bag = rng.integers(0, cfg.features.buckets, rows * bag_ids, dtype=np.int64)
    (folder / "bag_ids.bin").write_bytes(bag.tobytes())
    np.save(folder / "lengths.npy", np.full(rows, bag_ids, dtype=np.int64))
    np.save(folder / "labels.npy", rng.integers(0, classes, rows).astype(np.int16))
    np.save(folder / "keys.npy", row_keys(ids))
    schema = pa.schema([("id", pa.string())])
    with pa.ipc.new_file(str(folder / "ids.arrow"), schema) as out:
        out.write_batch(pa.record_batch([pa.array(ids)], schema=schema))

cfg = load_settings([Path("conf/local.yaml")]).score
cfg = cfg.model_copy(update={"folds": 5, "model": cfg.model.model_copy(update={"epochs": 1})})
shards = []
per = 100_000
for number, start in enumerate(range(0, n, per)):
    folder = root / "shards" / f"s{number:04d}"
    write_shard(folder, min(per, n - start), start)
    shards.append(folder)
store = gather_group(root / "bags" / "g", shards)
result = GroupResult("g", [f"c{i}" for i in range(classes)], n, 0, Counter())
import gc; gc.collect()
before = anon_mb()
peak = [before]
stop = threading.Event()
def watch():
    while not stop.is_set():
        peak[0] = max(peak[0], anon_mb())
        time.sleep(0.02)
thread = threading.Thread(target=watch, daemon=True)
thread.start()
started = time.process_time()
score_group(result, store, cfg, torch.device("cpu"), root)
seconds = time.process_time() - started
stop.set(); thread.join()
peak[0] = max(peak[0], anon_mb())
print(json.dumps({"rows": n, "classes": classes, "anon_before_mb": round(before, 1),
                  "anon_peak_mb": round(peak[0], 1), "score_mb": round(peak[0] - before, 1),
                  "cpu_seconds": round(seconds, 1)}))
"""


def probe(rows: int, classes: int) -> dict[str, Any]:
    """One fresh process's anonymous memory around :func:`refinery.score.group_fit.score_group`."""
    import tempfile

    from bench.chain_sets import ROOT

    with tempfile.TemporaryDirectory(prefix="score-memory-") as root:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(rows), str(classes), str(BAG_IDS), root],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> dict[str, Any]:
    settings = [probe(rows, classes) for classes in CLASSES for rows in ROWS]
    growth = {}
    for classes in CLASSES:
        small, large = (next(s for s in settings if s["rows"] == r and s["classes"] == classes) for r in ROWS)
        added = (large["score_mb"] - small["score_mb"]) * 2**20 / (large["rows"] - small["rows"])
        growth[f"classes_{classes}_bytes_per_added_row"] = round(added, 1)
    return {
        "input": {"rows": list(ROWS), "classes": list(CLASSES), "bag_ids": BAG_IDS, "folds": 5, "epochs": 1},
        "settings": settings,
        "growth": growth,
    }
