"""Incremental ingest of a Delta source against re-reading the whole table, on real text.

Input: a source Delta table (columns ``id``, ``text``, ``label``) whose rows cycle through a
pool of real records from ``../shared/corpora``: THUCNews titles (Chinese, short), AG News
(English, title and description) and Fudan articles (Chinese, long: about 5,700 characters on
average), shuffled once with a fixed seed so every version holds the same mix. Row ``n`` is
pool record ``n mod pool size`` with ``id = "r<n>"``, so repeated text stays a distinct
record (ingest keys it by its ``id`` column). ``REFINERY_BENCH_DELTA_ROWS`` rows in total
(default 200,000): version 0 holds 70% of them, three appended versions 10% each.

Measured in one run, one SparkSession (local[2]), after a warm-up (a small table ingested
as a snapshot, then one append, into tables of its own; not measured), for two copies of
that table: one without and one with the change data feed (``delta.enableChangeDataFeed``,
set when the table is created), so the incremental runs read the appended data files
(``read = appends``) or the feed's inserts (``read = cdf``), as metrics ``details`` report.
Each ingest run records its ``seconds`` (wall, around ``run_one``), ``rows_in``,
``rows_out``, ``rows_quarantined``, ``rows_filtered`` (its metrics row), ``bronze_rows``
(bronze rows with its ``run_id``), ``read``, ``versions`` and ``records_per_s``
(``rows_in / seconds``):

* ``initial``: the first ``ingest`` of version 0 (a snapshot read, fresh tables).
* ``incremental``: three runs, each after one appended version, each an ``auto`` batch; each
  run's ``rows_in`` / ``rows_out`` (metrics) and its bronze rows must equal the version's
  rows, and after the third bronze must hold every source id exactly once (counts and an
  ``exceptAll`` both ways), or the benchmark fails.
* ``rewrite``: a MERGE that updates the label of 1 row in 1,000 of the source, then one more
  ``ingest``: it must exit 2 with a message naming the version of the MERGE and
  ``ingest.sources.<name>.full_refresh``. The JSON keeps the exit code, the version, whether
  the message named both, and the reason kind; never the message or any text.

And once, on the final table of the appends copy (before its rewrite):

* ``full_reread``: ``ingest`` with ``full_refresh=true`` into fresh tables, so it reads,
  checks and writes every row (what a run costs when it cannot be incremental).
* ``plain_spark``: ``spark.read.format("delta")`` of the same table, ``id``, ``text``,
  ``label`` selected and written to a new Delta table: the plain library call, with no
  validation, ids, duplicate checks, quarantine, metrics or state.

Ratios: ``incremental_run_vs_full_reread`` = mean seconds of an incremental run / seconds of
the full re-read (``_cdf`` for the feed copy): below 1 is what incremental ingest saves per
run; ``ingest_full_vs_plain_spark`` = full re-read throughput / plain Spark throughput
(records/s): the price of ingest's guarantees on a Delta source.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
SOURCE = "delta_src"
#: Share of the rows in version 0; the rest is split evenly over the appended versions.
INITIAL_SHARE = 0.7
APPENDS = 3
#: Rows per data file written to the source (at least two files a version, one per core).
ROWS_PER_FILE = 25_000
#: One source row in this many gets a new label in the rewrite.
REWRITE_EVERY = 1_000
#: Rows of each of the two versions ingested to warm up (not measured).
WARM_UP_ROWS = 500
#: Tasks that write the record pool (keeps each task's serialised rows near Spark's 1 MiB advice).
POOL_SLICES = 128


def _pool() -> list[tuple[str, str]]:
    """``(text, label)`` of every record of the three corpora, shuffled with seed 0."""
    pool: list[tuple[str, str]] = []
    thuc = CORPORA / "thucnews_titles"
    classes = (thuc / "class.txt").read_text(encoding="utf-8").split()
    for name in ("dev.txt", "test.txt"):
        for line in (thuc / name).read_text(encoding="utf-8").splitlines():
            title, _, label = line.rpartition("\t")
            pool.append((title, classes[int(label)]))
    ag = CORPORA / "ag_news"
    ag_classes = (ag / "classes.txt").read_text(encoding="utf-8").splitlines()
    with (ag / "test.csv").open(encoding="utf-8", newline="") as handle:
        pool += [(f"{title}\n{body}", ag_classes[int(label) - 1]) for label, title, body in csv.reader(handle)]
    with (CORPORA / "fudan_zh_articles" / "fudan_test_every3rd.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            pool.append((article["text"], article["label"]))
    random.Random(0).shuffle(pool)
    return pool


def _version_ranges(total: int) -> list[tuple[int, int]]:
    """``[start, end)`` row numbers of version 0 and of each appended version."""
    initial = int(total * INITIAL_SHARE)
    step = (total - initial) // APPENDS
    bounds = [0, initial, *[initial + step * i for i in range(1, APPENDS)], total]
    return list(itertools.pairwise(bounds))


def _write_version(spark, pool, table: str, rows: tuple[int, int], cdf: bool) -> None:
    """Append rows ``[start, end)`` to the source table (creating it, with the change data
    feed when ``cdf``, for the first range)."""
    from pyspark.sql import functions as F

    start, end = rows
    size = pool.count()
    frame = (
        spark.range(start, end)
        .withColumn("k", F.col("id") % size)
        .join(pool, on="k")
        .select(F.concat(F.lit("r"), F.col("id").cast("string")).alias("id"), "text", "label")
        .repartition(max(2, -(-(end - start) // ROWS_PER_FILE)))
    )
    writer = frame.write.format("delta").mode("append" if start else "overwrite")
    if start == 0 and cdf:
        writer = writer.option("delta.enableChangeDataFeed", "true")
    writer.save(table)


def _settings(work: Path, table: str, *extra: str):
    from refinery.config import TABLE_NAMES, load_settings

    overrides = [f"tables.{t}={work / t}" for t in TABLE_NAMES]
    overrides += [
        f"ingest.input_root={CORPORA}",
        f"ingest.sources.{SOURCE}.path={table}",
        f"ingest.sources.{SOURCE}.format=delta",
        f'ingest.sources.{SOURCE}.columns={{"text": "text", "label": "label", "id": "id"}}',
        f"ingest.only=[{SOURCE}]",
        *extra,
    ]
    return load_settings([ROOT / "conf" / "local.yaml"], overrides)


def _ingest(spark, settings, run_id: str) -> tuple[int, float, str]:
    """Run ``ingest`` in this session: (exit code, seconds, what it wrote to stderr)."""
    from refinery.runtime.runner import run_one

    errors = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stderr(errors):
        code = run_one("ingest", settings, spark, run_id)
    return code, time.perf_counter() - started, errors.getvalue()


def _measured(spark, settings, run_id: str, expected_rows: int) -> dict:
    """One successful ingest run that must take exactly ``expected_rows`` new rows: its
    seconds and counts (metrics and bronze) and how it read the source."""
    from pyspark.sql import functions as F

    from refinery.spark.tables import read_table

    code, seconds, _ = _ingest(spark, settings, run_id)
    assert code == 0, f"ingest {run_id} exited {code}"
    stage = (
        read_table(spark, settings.tables.metrics)
        .where((F.col("run_id") == run_id) & (F.col("stage") == f"ingest/{SOURCE}"))
        .first()
    )
    batch = read_table(spark, settings.tables.bronze).where(F.col("run_id") == run_id)
    run = {
        "seconds": round(seconds, 3),
        "rows_in": stage.rows_in,
        "rows_out": stage.rows_out,
        "rows_quarantined": stage.rows_quarantined,
        "rows_filtered": stage.rows_filtered,
        "bronze_rows": batch.count(),
        "read": stage.details["read"],
        "versions": stage.details["versions"],
        "records_per_s": round(stage.rows_in / seconds),
    }
    counts = (run["rows_in"], run["rows_out"], run["rows_quarantined"], run["rows_filtered"], run["bronze_rows"])
    assert counts == (expected_rows, expected_rows, 0, 0, expected_rows), f"{run_id}: {counts} != {expected_rows} new"
    return run


def _check_exactly_once(spark, settings, table: str) -> int:
    """Bronze holds every source row exactly once: the same number of rows, distinct ids, and
    no id on one side only. Returns the row count."""
    from pyspark.sql import functions as F

    from refinery.spark.tables import read_table

    source = read_table(spark, table).select(F.concat(F.lit(f"{SOURCE}:"), F.col("id")).alias("id"))
    bronze = read_table(spark, settings.tables.bronze).select("id")
    rows = source.count()
    assert bronze.count() == rows == bronze.distinct().count(), "bronze does not hold each source row once"
    assert source.exceptAll(bronze).isEmpty() and bronze.exceptAll(source).isEmpty(), "bronze ids != source ids"
    return rows


def _rewrite(spark, settings, table: str, run_id: str) -> dict:
    """A MERGE relabelling 1 row in :data:`REWRITE_EVERY`, then an ingest that must refuse it."""
    from refinery.spark.tables import delta_table

    merged = spark.sql(
        f"MERGE INTO delta.`{table}` t USING (SELECT id FROM delta.`{table}` "
        f"WHERE CAST(substring(id, 2) AS BIGINT) % {REWRITE_EVERY} = 0) s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET t.label = concat(t.label, '-relabelled')"
    ).first()
    version = delta_table(spark, table).history(1).first().version
    code, seconds, message = _ingest(spark, settings, run_id)
    names_version = f"rewritten at version {version}" in message
    names_switch = f"ingest.sources.{SOURCE}.full_refresh" in message
    assert code == 2 and names_version and names_switch, f"the rewrite was not refused as expected (exit {code})"
    return {
        "operation": "MERGE (update)",
        "rows_updated": merged.num_updated_rows,
        "version": version,
        "exit_code": code,
        "seconds": round(seconds, 3),
        "reason": "rewritten",
        "message_names_version": names_version,
        "message_names_full_refresh": names_switch,
    }


def _incremental(spark, pool, work: Path, ranges, cdf: bool) -> tuple[dict, str]:
    """The source table built version by version, each version ingested as it lands."""
    kind = "cdf" if cdf else "appends"
    table = str(work / f"source_{kind}")
    settings = _settings(work / f"tables_{kind}", table)
    _write_version(spark, pool, table, ranges[0], cdf)
    initial = _measured(spark, settings, f"bench-delta-{kind}-v0", ranges[0][1] - ranges[0][0])
    runs = []
    for number, rows in enumerate(ranges[1:], start=1):
        _write_version(spark, pool, table, rows, cdf)
        runs.append(_measured(spark, settings, f"bench-delta-{kind}-v{number}", rows[1] - rows[0]))
    assert all(run["read"] == kind for run in runs), f"incremental runs did not read {kind}"
    result = {
        "change_data_feed": cdf,
        "initial": initial,
        "incremental": runs,
        "bronze_rows": _check_exactly_once(spark, settings, table),
    }
    return result, table


def _full_reread(spark, work: Path, table: str, rows: int) -> dict:
    """``ingest`` with ``full_refresh=true`` of the whole table into fresh tables."""
    settings = _settings(work / "tables_full", table, f"ingest.sources.{SOURCE}.full_refresh=true")
    return _measured(spark, settings, "bench-delta-full", rows)


def _plain_spark(spark, table: str, target: str) -> dict:
    started = time.perf_counter()
    spark.read.format("delta").load(table).select("id", "text", "label").write.format("delta").save(target)
    seconds = time.perf_counter() - started
    rows = spark.read.format("delta").load(target).count()
    return {"records": rows, "seconds": round(seconds, 3), "records_per_s": round(rows / seconds)}


def _warm_up(spark, pool, work: Path) -> None:
    """JVM, Python workers and both ingest paths (snapshot, appends) once, on a small table
    with its own tables, so that no measured run pays for the first run of the session."""
    table = str(work / "source")
    settings = _settings(work / "tables", table)
    for number, rows in enumerate([(0, WARM_UP_ROWS), (WARM_UP_ROWS, 2 * WARM_UP_ROWS)]):
        _write_version(spark, pool, table, rows, cdf=False)
        _measured(spark, settings, f"bench-delta-warmup-{number}", WARM_UP_ROWS)


def _mean_seconds(runs: list[dict]) -> float:
    return sum(run["seconds"] for run in runs) / len(runs)


def run() -> dict:
    from refinery.config import load_settings
    from refinery.spark.session import build_spark

    total = int(os.environ.get("REFINERY_BENCH_DELTA_ROWS", "200000"))
    ranges = _version_ranges(total)
    work = Path(tempfile.mkdtemp(prefix="refinery-bench-delta-"))
    try:
        records = _pool()
        spark = build_spark(load_settings([ROOT / "conf" / "local.yaml"]).spark, "refinery-bench")
        pool_path = str(work / "pool")
        rows = spark.sparkContext.parallelize(list(enumerate(records)), POOL_SLICES).map(lambda r: (r[0], *r[1]))
        spark.createDataFrame(rows, "k long, text string, label string").write.parquet(pool_path)
        pool = spark.read.parquet(pool_path)
        _warm_up(spark, pool, work / "warmup")
        appends, table = _incremental(spark, pool, work, ranges, cdf=False)
        cdf, cdf_table = _incremental(spark, pool, work, ranges, cdf=True)
        full = _full_reread(spark, work, table, total)
        plain = _plain_spark(spark, table, str(work / "plain"))
        appends["rewrite"] = _rewrite(spark, _settings(work / "tables_appends", table), table, "bench-delta-rw-a")
        cdf["rewrite"] = _rewrite(spark, _settings(work / "tables_cdf", cdf_table), cdf_table, "bench-delta-rw-c")
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    full_rate = full["rows_in"] / full["seconds"]
    return {
        "input": {
            "corpora": ["thucnews_titles", "ag_news", "fudan_zh_articles"],
            "pool_records": len(records),
            "rows": total,
            "version_rows": [end - start for start, end in ranges],
        },
        "runs": {"appends": appends, "cdf": cdf, "full_reread": full, "plain_spark": plain},
        "ratios": {
            "incremental_run_vs_full_reread": round(_mean_seconds(appends["incremental"]) / full["seconds"], 3),
            "incremental_run_vs_full_reread_cdf": round(_mean_seconds(cdf["incremental"]) / full["seconds"], 3),
            "ingest_full_vs_plain_spark": round(full_rate / plain["records_per_s"], 3),
        },
    }
