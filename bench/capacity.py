"""A capacity model: core-hours per TB of text for each job, and the wall time of a terabyte on a
cluster, computed from the measured rates in ``bench/results/`` (nothing here is measured).

Every rate is read from a result file and named with its path (``file.json:key.key``), so a
figure in ``capacity.json`` can be traced to the run that measured it, and rerunning a
benchmark and then this script updates the model.

**Model.** For a job measured at ``r`` MB per second per core (or per CPU second),

    core-hours per TB = 10^6 MB / r / 3600

and a job measured in rows per second is first converted with the mean document size ``s``
(bytes): rows per TB = 10^12 / s. Two document shapes are modelled, because per-row costs
(score) and per-byte costs (clean, dedup) weigh them differently: short documents (the dedup
bench's grown rows: titles and news descriptions) and web-sized ones (3.7 KB). The cluster's
wall time is the sum of the jobs' core-hours over its cores, plus the GPU hours of score's
training on one GPU (or, for comparison, score's training on the cluster's cores instead).

**Assumptions** (each also written into the output):

* rates measured on this 2-core machine in local mode hold per core on a cluster (no network
  cost for shuffles, executors as fast as these cores); cost is linear in the input, which
  ``bench/scale.py`` checks (``scale.json``: from 100 MB to 1 GB each job's time grew less than
  the bytes, because fixed costs weigh on the small run, so linear rates are an upper bound);
* clean's rate is its Python chain's CPU time (``chain.json``); the JVM's share of the Spark
  job (reading bronze, Arrow transfer, Delta writes) is not in it;
* score cross-fits ``folds`` models for ``epochs`` epochs: each row is trained on
  ``(folds - 1) · epochs`` times and scored ``epochs`` times; on a GPU, training dominates;
  its neighbour search (``score.neighbours``) runs once per row on one core, at the rate the
  score bench measured on short titles (THUCNews) for the short shape and on news (AG News)
  for the web shape;
* rebalance, drift, select and report work on per-class and per-row summaries and are left out.

**Measured end to end** (``measured_core_hours_per_tb``): beside the model built from the
component benches, each shape's whole pipeline as ``bench/scale.py`` ran it at its largest size,
every process counted (the JVM's reading, shuffles and Delta writes included):

    core-hours per TB = (CPU seconds per MB of input) · 10^6 / 3600

per job and in total. Its score is featurize + one epoch on two folds on CPU (the bench's
setting), not the full cross-fit the GPU line models, and it includes the four summary jobs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
MB_PER_TB = 1e6
#: Mean document sizes modelled (bytes).
SHAPES = {"short": None, "web": 3700}  # None: the dedup bench's measured mean
CLUSTER = {"nodes": 10, "cores_per_node": 16, "gpus": 1}


def _read(name: str, path: str) -> tuple[float, str]:
    """The number at ``path`` (dot-separated keys) of ``results/name``, and its citation."""
    value: Any = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    for key in path.split("."):
        value = value[key]
    return float(value), f"{name}:{path}"


def _core_hours_per_tb(mb_per_core_second: float) -> float:
    return MB_PER_TB / mb_per_core_second / 3600


def measured_pipeline(shape: str) -> dict[str, Any] | None:
    """Core-hours per TB of each job and of the whole pipeline as ``scale.json`` measured it at
    the largest size of ``shape`` (see the module doc); ``None`` if that shape was not run."""
    path = RESULTS / "scale.json"
    sizes = json.loads(path.read_text(encoding="utf-8")).get("shapes", {}).get(shape) if path.exists() else None
    if not sizes:
        return None
    size = max(sizes, key=lambda name: int(name.removesuffix("mb")))
    measured = sizes[size]
    to_hours = MB_PER_TB / 3600
    return {
        "size": size,
        "jobs": {job: round(r["cpu_seconds_per_mb"] * to_hours, 1) for job, r in measured["jobs"].items()},
        "total": round(measured["total"]["cpu_seconds_per_mb"] * to_hours, 1),
        "source": f"scale.json:shapes.{shape}.{size}.jobs.*.cpu_seconds_per_mb",
    }


def model() -> dict[str, Any]:
    """The capacity model from the result files (see the module docstring)."""
    ingest, ingest_src = _read("ingest_scale.json", "sizes.1024mb.one_file.ingest.mb_per_s_per_core")
    clean_short, clean_short_src = _read("chain.json", "ratios.short_mixed_mb_per_cpu_s")
    clean_long = min(
        _read("chain.json", f"ratios.{name}_mb_per_cpu_s")
        for name in ("fudan_zh_articles", "twenty_newsgroups", "ruanyf_weekly")
    )
    dedup, dedup_src = _read("dedup.json", "ratios.full_recompute_mb_per_s_per_core")
    short_bytes = _read("dedup.json", "scale.1000000.text_mb")[0] * 1e6 / 1_000_000
    featurize, featurize_src = _read("gpu_check_h200_batch16384.json", "featurize_rows_per_s_cpu_1_process")
    train, train_src = _read("gpu_check_h200_batch16384.json", "train_rows_per_s_one_epoch")
    infer, infer_src = _read("gpu_check_h200_batch16384.json", "infer_rows_per_s")
    folds, folds_src = _read("score.json", "model.folds")
    epochs, epochs_src = _read("score.json", "model.train.epochs")
    cpu_train, cpu_train_src = _read("score.json", "cpu_throughput.ag_news.train_and_score_rows_per_s")
    cpu_threads = _read("score.json", "cpu_throughput.ag_news.torch_threads")[0]
    # the neighbour search's rate per shape: short titles (THUCNews) and longer news (AG News,
    # whose character n-grams reach the 1,024-character cap of the neighbour space)
    neighbours = {
        "short": _read("score.json", "cpu_throughput.thucnews.neighbour_search_rows_per_s"),
        "web": _read("score.json", "cpu_throughput.ag_news.neighbour_search_rows_per_s"),
    }

    cores = CLUSTER["nodes"] * CLUSTER["cores_per_node"]
    measured = {shape: measured_pipeline(shape) for shape in SHAPES}
    shapes: dict[str, Any] = {}
    for shape, size in SHAPES.items():
        mean_bytes = size or short_bytes
        rows = 1e12 / mean_bytes
        core_hours = {
            "ingest": _core_hours_per_tb(ingest),
            "clean": _core_hours_per_tb(clean_short if shape == "short" else clean_long[0]),
            "dedup": _core_hours_per_tb(dedup),
            "score_featurize": rows / featurize / 3600,
            "score_neighbours": rows / neighbours[shape][0] / 3600,
        }
        gpu_hours = rows * ((folds - 1) * epochs / train + epochs / infer) / 3600
        # the CPU rate counts training row-epochs (scoring each epoch included) on its threads
        cpu_score_core_hours = rows * (folds - 1) * epochs * cpu_threads / cpu_train / 3600
        total = sum(core_hours.values())
        shapes[shape] = {
            "mean_doc_bytes": round(mean_bytes, 1),
            "rows_per_tb": round(rows),
            "core_hours_per_tb": {k: round(v, 1) for k, v in core_hours.items()},
            "core_hours_per_tb_total": round(total, 1),
            "score_gpu_hours_per_tb": round(gpu_hours, 2),
            "score_on_cpu_instead_core_hours_per_tb": round(cpu_score_core_hours),
            "cluster_wall_hours_per_tb": round(total / cores + gpu_hours / CLUSTER["gpus"], 2),
            "cluster_wall_hours_per_tb_score_on_cpus": round((total + cpu_score_core_hours) / cores, 2),
        }
        if measured[shape]:
            shapes[shape]["measured_core_hours_per_tb"] = measured[shape]
    return {
        "cluster": {**CLUSTER, "cores": cores},
        "shapes": shapes,
        "sources": {
            "ingest_mb_per_s_per_core": [ingest, ingest_src],
            "clean_short_mb_per_cpu_s": [clean_short, clean_short_src],
            "clean_long_mb_per_cpu_s": [clean_long[0], clean_long[1]],
            "dedup_mb_per_s_per_core": [dedup, dedup_src],
            "score_featurize_rows_per_s_per_core": [featurize, featurize_src],
            "score_neighbours_short_rows_per_s_per_core": list(neighbours["short"]),
            "score_neighbours_web_rows_per_s_per_core": list(neighbours["web"]),
            "score_gpu_train_rows_per_s": [train, train_src],
            "score_gpu_infer_rows_per_s": [infer, infer_src],
            "score_cpu_train_and_score_rows_per_s": [cpu_train, cpu_train_src],
            "score_folds": [folds, folds_src],
            "score_epochs": [epochs, epochs_src],
        },
        "assumptions": [
            "per-core rates from local[2] hold on a cluster's executors; shuffles cost no more",
            "linear scaling in the input size (an upper bound: see scale.json's curves)",
            "clean: the Python chain's CPU only, not the JVM's share of the Spark job",
            "score: (folds-1)*epochs training passes and epochs scoring passes per row, one GPU"
            " (or, in *_score_on_cpus, the cluster's cores at the CPU rate of score.json)",
            "rebalance, drift, select and report left out (they work on summaries)",
        ],
    }


def run() -> dict[str, Any]:
    """Entry point of ``bench/run.py`` (``python -m bench.run capacity`` writes
    ``bench/results/capacity.json``)."""
    return model()
