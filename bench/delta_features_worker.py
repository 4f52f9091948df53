"""One variant of :mod:`bench.delta_features_bench`, in its own process (one SparkSession):
``clean`` and ``dedup`` on batch ``day1``, then on batch ``day2``, into a fresh silver written
with the variant's ``delta.silver`` features; then what a downstream reader pays.

    python -m bench.delta_features_worker [--set key=value ...]

Prints one JSON object: seconds per step, the MERGE metrics of the day-2 commits, silver's
files and bytes, and the reads (the whole table; the rows changed since day 1 through the
change feed where it is on; the files a ``source = 'web'`` query reads, before and after
``OPTIMIZE``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

#: OPTIMIZE's target file size here (Delta's default, 1 GiB, would leave this bench's silver one
#: file, where clustering can skip nothing): 8 MiB.
OPTIMIZE_FILE_BYTES = 8 << 20
MERGE_METRICS = (
    "numTargetFilesAdded",
    "numTargetFilesRemoved",
    "numTargetRowsCopied",
    "numTargetRowsUpdated",
    "numTargetRowsInserted",
    "numTargetDeletionVectorsAdded",
    "numTargetBytesAdded",
    "numTargetBytesRemoved",
    "numTargetChangeFilesAdded",
)


def silver_files(location: str) -> dict[str, int]:
    """Parquet files and bytes under silver now (live and not yet vacuumed), and deletion-vector
    and change-data files."""
    root = Path(location)
    data = list(root.glob("*.parquet"))
    vectors = list(root.glob("deletion_vector_*.bin"))
    changes = list((root / "_change_data").glob("*.parquet")) if (root / "_change_data").exists() else []
    return {
        "data_files": len(data),
        "data_bytes": sum(p.stat().st_size for p in data),
        "deletion_vector_files": len(vectors),
        "change_data_files": len(changes),
    }


def main(argv: list[str]) -> int:
    from delta.tables import DeltaTable

    from refinery.config import load_settings
    from refinery.runtime.runner import new_run_id, run_one
    from refinery.spark.session import build_spark

    overrides = [item for flag, item in zip(argv[0::2], argv[1::2], strict=True) if flag == "--set"]
    settings = load_settings([str(Path(__file__).resolve().parent.parent / "conf" / "local.yaml")], overrides)
    spark = build_spark(settings.spark, "bench-delta-features")
    silver = settings.tables.silver
    steps: dict[str, float] = {}
    versions: dict[str, int] = {}
    for day in ("day1", "day2"):
        for job in ("clean", "dedup"):
            day_settings = settings.model_copy(update={job: getattr(settings, job).model_copy(update={"batch": day})})
            started = time.perf_counter()
            code = run_one(job, day_settings, spark, new_run_id(job))
            steps[f"{job}_{day}"] = round(time.perf_counter() - started, 2)
            if code != 0:
                raise SystemExit(f"{job} {day} exited {code}")
            versions[f"{job}_{day}"] = DeltaTable.forPath(spark, silver).history(1).first().version
    history = {r.version: r for r in DeltaTable.forPath(spark, silver).history().collect()}
    merges = {
        step: {k: int(history[v].operationMetrics.get(k, 0)) for k in MERGE_METRICS}
        for step, v in versions.items()
        if step.endswith("day2")
    }
    reads: dict[str, Any] = {}
    started = time.perf_counter()
    reads["table_rows"] = spark.read.format("delta").load(silver).count()
    reads["table_seconds"] = round(time.perf_counter() - started, 2)
    if settings.delta.silver.change_data_feed:
        started = time.perf_counter()
        feed = (
            spark.read.format("delta")
            .option("readChangeFeed", "true")
            .option("startingVersion", versions["dedup_day1"] + 1)
            .load(silver)
        )
        reads["changed_rows_since_day1"] = feed.where("_change_type != 'update_preimage'").count()
        reads["change_feed_seconds"] = round(time.perf_counter() - started, 2)

    def web():  # built anew after OPTIMIZE, so it reads the new snapshot
        return spark.read.format("delta").load(silver).where("source = 'web'")

    reads["web_files_read"] = scanned_files(web())
    started = time.perf_counter()
    # files of at most OPTIMIZE_FILE_BYTES, so a table of this size is laid out in several
    spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(OPTIMIZE_FILE_BYTES))
    spark.sql(f"OPTIMIZE delta.`{silver}`").collect()
    reads["optimize_seconds"] = round(time.perf_counter() - started, 2)
    reads["web_files_read_after_optimize"] = scanned_files(
        spark.read.format("delta").load(silver).where("source = 'web'")
    )
    reads["files_after_optimize"] = DeltaTable.forPath(spark, silver).detail().first().numFiles
    print(json.dumps({"steps": steps, "day2_merges": merges, "silver": silver_files(silver), "reads": reads}))
    spark.stop()
    return 0


def scanned_files(frame) -> int:
    """Files a sum over ``frame``'s text lengths read, after Delta's data skipping: the
    ``numFiles`` metric of the file scans in its executed plan. (Not a plain count: Delta
    answers ``count(*)`` from its log's statistics and reads no file at all.)"""
    from pyspark.sql import functions as F

    jdf = frame.agg(F.sum(F.length("text")))._jdf
    jdf.collect()
    total = 0
    stack = [jdf.queryExecution().executedPlan()]
    while stack:
        node = stack.pop()
        name = node.getClass().getSimpleName()
        if name == "AdaptiveSparkPlanExec":
            stack.append(node.executedPlan())
            continue
        if name in ("QueryStageExec", "ShuffleQueryStageExec", "BroadcastQueryStageExec", "TableCacheQueryStageExec"):
            stack.append(node.plan())
            continue
        metrics = node.metrics()
        if name.endswith("ScanExec") and metrics.contains("numFiles"):
            total += int(metrics.apply("numFiles").value())
        children = node.children()
        stack.extend(children.apply(i) for i in range(children.size()))
    return total


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
