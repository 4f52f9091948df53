"""Crash consistency bench (issue 9, part 2): ten ``kill -9`` trials each of ``clean`` and
``score`` during their Delta writes, with recorded seeds (:mod:`bench.crash` does the work and
documents the method). ``tests/e2e/reliability/test_crash_consistency.py`` runs a few of the same
trials in the test suite.

    python -m bench.crash_bench        # writes bench/results/crash.json (via bench.run)

Per job: trials, kills before and after silver's commit, whether every table read at a
consistent version after every kill, whether every rerun's content hash equalled the
uninterrupted run's, the orphan files the killed writers left, and one record per trial.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.crash import ROOT, prepare, run_trials, summary

TRIALS = 10
#: Seeds per job, recorded in the results; each trial draws its kill delay from its seed.
SEEDS = {"clean": range(101, 101 + TRIALS), "score": range(201, 201 + TRIALS)}


def run() -> dict[str, object]:
    from refinery.config import load_settings
    from refinery.spark.session import build_spark

    root = Path(tempfile.mkdtemp(prefix="refinery-crash-"))
    overrides = ["spark.shuffle_partitions=2", "spark.progress_bar=false"]
    overrides.append(f"spark.conf={json.dumps({'spark.local.dir': str(root / 'spark')})}")  # not /tmp/spark-*
    settings = load_settings([ROOT / "conf" / "local.yaml"], overrides)
    spark = build_spark(settings.spark, "refinery-crash-bench")
    started = time.monotonic()
    try:
        labs = prepare(spark, root)
        jobs = {job: summary(lab, run_trials(spark, lab, SEEDS[job])) for job, lab in labs.items()}
    finally:
        spark.stop()
    failed = any(not (j["all_consistent"] and j["all_rerun_hashes_equal"]) for j in jobs.values())
    if not failed:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "method": "SIGKILL to the job's process group (driver, JVM, workers) a delay after silver's first "
        "new data file: half the trials within the reference run's MERGE window (first data file to commit), "
        "half after it, up to its last commit; then a rerun with the same --run-id (see bench/crash.py)",
        "ratios": {job: {k: v for k, v in j.items() if k not in ("records", "reference")} for job, j in jobs.items()},
        "jobs": jobs,
        "seconds": round(time.monotonic() - started, 1),
        "kept_for_inspection": str(root) if failed else None,
    }


if __name__ == "__main__":
    from bench.run import main

    sys.exit(main(["crash"]))
