"""The pins before and after a Spark / Delta upgrade, in one run: the whole pipeline under the
previous pins (:data:`BASELINE`: pyspark 4.0.1 with Delta 4.0.1) against the pins of
``requirements.txt`` (pyspark 4.1.x with Delta 4.4), on the same inputs, on this machine, in
turn.

The baseline is built once under ``$REFINERY_BENCH_TMP`` (or the system's temp folder):
``pip install --target`` of its pyspark and delta-spark (put first on ``PYTHONPATH``, so the
driver, ``spark-submit`` and the Python workers all run the baseline's pyspark), its Delta jars
from Maven (``mvn dependency:copy``) and ingest's JVM reader compiled against its Spark jars.
The refinery code is the same on both sides.

Each size runs every job as its own process (:func:`bench.scale.measure`: wall seconds, CPU
seconds of the JVM, the driver and the workers, peak memory), baseline first at one size and
current first at the next, so a drift of the machine's load does not favour one side. Sizes
(``REFINERY_PINS_RUNS``, default ``short:2,32``): 2 MB of short documents is mostly the jobs'
fixed cost (JVM start, query planning, Delta log), 32 MB shows the per-row cost.

Ratios: ``<size>_cpu_seconds`` and ``<size>_seconds`` = current / baseline for the whole
pipeline, and per job in ``per_job`` (below 1.0: the upgrade is cheaper). CPU seconds do not
depend on what else the machine runs; wall seconds do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.scale import ROOT, measure, parse_runs

#: The pins before issue 23, and the Delta jar that matched them.
BASELINE = {"pyspark": "4.0.1", "delta-spark": "4.0.1", "importlib_metadata": "8.7.1"}
BASELINE_DELTA_JARS = ("io.delta:delta-spark_2.13:4.0.1", "io.delta:delta-storage:4.0.1")
DEFAULT_RUNS = "short:2,32"


def baseline_pins(cache: Path) -> tuple[Path, Path]:
    """The baseline's site folder (pyspark, delta-spark) and jars folder, built once."""
    site, jars = cache / "site", cache / "jars"
    if not (site / "pyspark").is_dir():
        pins = [f"{name}=={version}" for name, version in BASELINE.items()]
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), *pins], check=True
        )
    if not (jars / "refinery-jvm.jar").exists():
        jars.mkdir(parents=True, exist_ok=True)
        for artifact in BASELINE_DELTA_JARS:
            command = ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={jars}"]
            subprocess.run(command, check=True, cwd=cache)
        env = {**os.environ, "PYTHONPATH": str(site)}
        build = [str(ROOT / "scripts" / "build_jvm.sh"), sys.executable, str(jars / "refinery-jvm.jar")]
        subprocess.run(["bash", *build], check=True, env=env)
    return site, jars


def side_env(site: Path | None) -> dict[str, str]:
    """The environment of one side's job processes: the baseline's pyspark first, or none."""
    paths = ([str(site)] if site else []) + [str(ROOT / "libs")]
    env = {**os.environ, "REFINERY_HOME": str(ROOT), "PYTHONPATH": os.pathsep.join(paths)}
    env.pop("SPARK_HOME", None)  # each side's spark-submit is the one its pyspark ships
    return env


def ratios(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """current / baseline, for the pipeline and per job."""

    def ratio(a: float, b: float) -> float:
        return round(a / b, 3) if b else float("nan")

    return {
        "seconds": ratio(current["total"]["seconds"], baseline["total"]["seconds"]),
        "cpu_seconds": ratio(current["total"]["cpu_seconds"], baseline["total"]["cpu_seconds"]),
        "per_job": {
            job: {
                "seconds": ratio(run["seconds"], baseline["jobs"][job]["seconds"]),
                "cpu_seconds": ratio(run["cpu_seconds"]["total"], baseline["jobs"][job]["cpu_seconds"]["total"]),
            }
            for job, run in current["jobs"].items()
        },
    }


def run() -> dict:
    from importlib.metadata import version

    cache = Path(os.environ.get("REFINERY_BENCH_TMP", tempfile.gettempdir())) / "refinery-pins-baseline"
    site, jars = baseline_pins(cache)
    sides = {
        "baseline": (side_env(site), [f"spark.jars_dir={jars}"]),
        "current": (side_env(None), []),
    }
    runs = parse_runs(os.environ.get("REFINERY_PINS_RUNS", DEFAULT_RUNS))
    work = Path(tempfile.mkdtemp(prefix="refinery-pins-", dir=os.environ.get("REFINERY_BENCH_TMP")))
    measured: dict[str, dict[str, Any]] = {}
    result_ratios: dict[str, Any] = {}
    try:
        turn = 0
        for shape, sizes in runs:
            for megabytes in sizes:
                size = f"{shape}_{megabytes}mb"
                order = ["baseline", "current"] if turn % 2 == 0 else ["current", "baseline"]
                turn += 1
                measured[size] = {}
                for name in order:
                    env, extra = sides[name]
                    measured[size][name] = measure(work / name, shape, megabytes, env, extra)
                result_ratios[size] = ratios(measured[size]["current"], measured[size]["baseline"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "pins": {
            "baseline": {**BASELINE, "delta_jars": list(BASELINE_DELTA_JARS)},
            "current": {"pyspark": version("pyspark"), "delta-spark": version("delta-spark")},
        },
        "input": {"runs": dict(runs)},
        "sizes": measured,
        "ratios": {
            **{f"{size}_cpu_seconds": r["cpu_seconds"] for size, r in result_ratios.items()},
            **{f"{size}_seconds": r["seconds"] for size, r in result_ratios.items()},
        },
        "per_job_ratios": {size: r["per_job"] for size, r in result_ratios.items()},
    }
