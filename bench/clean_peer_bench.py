"""The clean job against its peer, datatrove, on the same two million documents.

Input: the six real corpora of ``bench/clean_bench.py`` (``thucnews``, ``chnsenticorp``,
``waimai``, ``ag_news``, ``sms_spam``, ``mr_polarity``: 63,588 documents, about 62 % Chinese,
~120 characters a document) through the real ``ingest`` job into a ``unique`` bronze table
(every document once), and ``big``: ``unique`` repeated ``REFINERY_PEER_COPIES`` times (default
32: 2,034,816 rows; copy ``k`` gets the id ``<id>#k``), written as a Delta table of
:data:`BIG_FILES` files. Repetition does not help either side here: the subset has no per-text
cache in our chain (segmentation, the one step with a memo, is switched off) and none in
datatrove's steps.

The subset both sides run (the issue's "comparable subset"):

* datatrove (``bench/datatrove_peer.py``): ``JsonlReader`` → ``FTFYFormatter`` → fastText-lite
  language ID in a ``LambdaFilter`` keeping zh and en → ``PIIFormatter`` (e-mail + IP) →
  ``JsonlWriter``; ``LocalPipelineExecutor(tasks=2, workers=2)``, in its own process with Spark
  stopped, on the same rows exported as two JSON-lines files.
* ours: ``refinery.runtime.runner.run_one("clean")`` with :data:`PEER_SUBSET` (ftfy repair only,
  fastText, EMAIL/IPV4/IPV6 masking, zh/en kept and the rest quarantined, segmentation off),
  in a fresh SparkSession (cold Python workers, as datatrove's start cold), local[2]: Delta
  writes of silver and quarantine, the counts and the metrics row included.

Each side: wall seconds, and CPU seconds of its whole process tree (driver, JVM, Python
workers; datatrove's pool) from ``/proc``, which hold whatever else runs on the shared machine.
Ratios: ``ours_vs_datatrove_<size>`` = docs/s ours / theirs (target >= 1.5 on ``big``), and the
same per CPU second.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.clean_bench import ROOT, SOURCES, _layout, _timed, grown_sources, repeat_rows

COPIES = int(os.environ.get("REFINERY_PEER_COPIES", "32"))
#: Delta files of ``big`` (about 9 MB each): enough read tasks to keep both cores busy.
BIG_FILES = 16
PEER_TIMEOUT_S = 1800
TARGET_OURS_VS_PEER = 1.5
#: The clean job configured to what the datatrove pipeline does.
PEER_SUBSET = [
    "clean.normalize.mojibake=true",
    "clean.normalize.html=false",
    "clean.normalize.control=false",
    "clean.normalize.nfkc=false",
    "clean.normalize.whitespace=false",
    "clean.langid.backend=fasttext",
    "clean.pii.types=[EMAIL,IPV4,IPV6]",
    "clean.segment.enabled=false",
    "clean.allowed_languages=[zh,en]",
    "clean.on_disallowed_language=quarantine",
]


def _peer(input_dir: Path, work: Path) -> dict[str, Any]:
    """datatrove in its own process (bench/datatrove_peer.py); an error is reported, not raised."""
    import importlib.util

    if importlib.util.find_spec("datatrove") is None:
        return {"error": "datatrove is not installed: pip install -r requirements-bench.txt -c constraints.txt"}
    command = [sys.executable, "-m", "bench.datatrove_peer", str(input_dir), str(work)]
    command += ["--tasks", "2", "--workers", "2"]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=PEER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"datatrove did not finish within {PEER_TIMEOUT_S} s"}
    for line in done.stdout.splitlines():
        if line.startswith("PEER-RESULT "):
            return json.loads(line[len("PEER-RESULT ") :])
    return {"error": f"datatrove exited {done.returncode}: {done.stderr[-2000:]}"}


def run() -> dict:
    from refinery.config import TABLE_NAMES, load_settings
    from refinery.runtime.runner import run_one
    from refinery.spark.session import build_spark
    from refinery.spark.tables import read_table

    started_all = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="refinery-bench-peer-"))
    conf = [ROOT / "conf" / "local.yaml"]
    try:
        base = grown_sources(work, 1)
        settings = load_settings(conf, base)

        spark = build_spark(settings.spark, "refinery-bench-peer-input")
        if run_one("ingest", settings, spark, "bench-peer-ingest") != 0:
            raise RuntimeError("ingest job failed")
        paths = {"unique": settings.tables.bronze, "big": str(work / "derived" / "big")}
        unique = read_table(spark, paths["unique"])
        repeat_rows(unique, COPIES).repartition(BIG_FILES).write.format("delta").save(paths["big"])
        rows = {name: read_table(spark, path).count() for name, path in paths.items()}
        for name, path in paths.items():
            read_table(spark, path).select("id", "text").repartition(2).write.json(str(work / "peer_input" / name))
        layouts = {name: _layout(spark, path) for name, path in paths.items()}
        spark.stop()

        ours: dict[str, Any] = {}
        for name, path in paths.items():
            tables = [f"tables.{t}={work / 'runs' / name / t}" for t in TABLE_NAMES if t != "bronze"]
            job = load_settings(conf, [*base, *tables, f"tables.bronze={path}", *PEER_SUBSET])
            spark = build_spark(job.spark, "refinery-bench-peer")
            try:

                def clean(job=job, spark=spark) -> None:
                    if run_one("clean", job, spark, f"bench-peer-{time.monotonic_ns()}") != 0:
                        raise RuntimeError("clean job failed")

                ours[name] = _timed(clean, rows[name])
                ours[name]["silver_rows"] = read_table(spark, job.tables.silver).count()
                ours[name]["quarantine_rows"] = read_table(spark, job.tables.quarantine).count()
            finally:
                spark.stop()
        peer = {name: _peer(work / "peer_input" / name, work / "peer" / name) for name in paths}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratios: dict[str, float] = {}
    for name in paths:
        theirs = peer[name]
        if "error" in theirs or not theirs.get("docs_per_s"):
            continue
        ratios[f"ours_vs_datatrove_{name}"] = round(ours[name]["docs_per_s"] / theirs["docs_per_s"], 3)
        if ours[name].get("docs_per_cpu_s") and theirs.get("docs_per_cpu_s"):
            ratios[f"ours_vs_datatrove_{name}_per_cpu_s"] = round(
                ours[name]["docs_per_cpu_s"] / theirs["docs_per_cpu_s"], 3
            )
    measured = ratios.get("ours_vs_datatrove_big")
    return {
        "input": {
            "sources": list(SOURCES),
            "unique_rows": rows["unique"],
            "big_rows": rows["big"],
            "big_copies": COPIES,
            "layout": layouts,
        },
        "ours_config": PEER_SUBSET,
        "differences": (
            "ours also masks IPv6, keeps non-zh/en documents in quarantine (datatrove drops them), "
            "writes two Delta tables and a metrics row; datatrove runs ftfy with its defaults "
            "(HTML unescaping, terminal escapes) and writes JSON lines"
        ),
        "ours_clean_job": ours,
        "datatrove": peer,
        "ratios": ratios,
        "targets": {
            "ours_vs_datatrove_big": {
                "target": TARGET_OURS_VS_PEER,
                "measured": measured,
                "met": measured is not None and measured >= TARGET_OURS_VS_PEER,
            }
        },
        "load_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "total_seconds": round(time.perf_counter() - started_all, 1),
    }
