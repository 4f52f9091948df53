"""Clean throughput: every text function and the whole chain on one core, the clean job on
local[2], a row-at-a-time UDF and scaling with input size. (The peer, datatrove, is
``bench/clean_peer_bench.py``, on two million documents.)

Input: six real corpora from ``../shared/corpora`` (``$REFINERY_CORPORA``), as the ingest
sources of ``conf/corpora.yaml``: ``thucnews`` (THUCNews titles dev + test), ``chnsenticorp``,
``waimai`` (waimai_10k), ``ag_news``, ``sms_spam`` and ``mr_polarity`` (mr_rt_polarity): 63,588
documents, about 62 % Chinese. Each file is copied ``REFINERY_BENCH_COPIES`` times (default 5)
and the copies go through the real ``ingest`` job into a temporary ``bronze`` Delta table
(``full``, about 318k rows). Derived tables (same columns, 4 files each, as ingest writes):
``main`` = copies 0-1 (every document exactly twice, about 127k rows), ``s10k`` = the first
10,000 rows of ``main`` by id, and ``s1m`` = ``full`` repeated with new ids (``<id>#k``), the
first 1,000,000 rows by id (8 files).

Caches matter, so the benchmark says which state each number is in. A process's first pass
over the data builds a spaCy tokenizer for every language the language ID returns (19 here, fr
alone ~5 s) and fills spaCy's vocabulary and our memo of short runs; later passes skip that
("warm").

Measured in one run (local[2] on the shared 2-core machine):

1. ``single_core``, in the driver pinned to one core, CPU time (``time.process_time``), on the
   rows of ``main`` read back from Spark: ``clean_frame`` in batches of
   ``spark.sql.execution.arrow.maxRecordsPerBatch`` (10,000, what ``mapInPandas`` gets), first
   pass (cold) and best of ``REFINERY_BENCH_REPEATS`` (default 2; warm); then, warm,
   ``normalize_series``, ``detect_series`` (ensemble), ``mask_series`` (every type), the
   chain's segmentation loop (``segment_masked``), the quality signals and rules
   (``quality_signals_and_rules``), and ``clean_frame`` with segmentation
   switched off (``clean.segment.enabled: false``). docs/s and MB/s of UTF-8 input. Then
   ``two_process_chain`` (and ``_unsegmented``): two warm processes (``bench/chain_worker.py``),
   one pinned to each core, each on half of the rows, started together: what two *busy* cores
   of this machine give, the ceiling a two-worker job can reach.
2. ``spark_local2`` on ``main`` (after the Python workers loaded their models on 500 rows):
   ``identity_noop`` (identity ``mapInPandas`` into the ``noop`` sink: the read + Arrow floor),
   ``clean_records_noop_first_pass`` (the job's transform into ``noop``, workers cold),
   ``clean_records_noop`` (again, warm), ``chain_in_workers`` (the chain with a one-row-per-batch
   output carrying the CPU ``clean_frame`` used inside the worker), ``clean_job``
   (``run_one("clean")`` into an empty silver: Delta writes, counts, details, metrics row),
   ``clean_job_rerun_merge`` (the same job again: a Delta MERGE into the existing silver) and
   ``clean_job_unsegmented`` (the job with segmentation off, into an empty silver). Each run:
   wall seconds, and CPU seconds of the driver + JVM + Python workers from ``/proc``.
3. ``row_udf_noop``: a plain ``F.udf`` (pickled rows, no Arrow) returning the same struct by
   calling ``normalize``/``detect``/``mask``/``segment_masked`` per row, same rows, ``noop``.
4. ``scaling``: the clean job on ``s10k``, ``main``, ``full`` and ``s1m`` (10k → 127k → 318k →
   1M rows); seconds per 1k rows, and per 1k *added* rows between sizes (linear = equal).

Ratios: ``clean_job_vs_two_core_chain`` = job docs/s on ``main`` / (2 x warm single-core
``clean_frame`` docs/s), target >= 0.85; ``clean_job_full_vs_two_core_chain`` the same for the
job on ``full`` (318k rows: the per-run fixed cost, about 3 s, weighs less);
``clean_job_s1m_vs_two_core_chain`` on 1M rows; ``*_vs_two_process_chain`` the same against
the measured two-process ceiling, and ``two_process_chain_vs_two_core_chain`` how far that
ceiling is from twice one core; ``*_cpu_efficiency`` = single-core chain CPU / the run's CPU;
``pandas_udf_vs_row_udf`` (noop sinks); ``scaling_*`` = per-row time at the larger size / at the smaller (1.0 = linear).
``load_1m`` next to each run is the 1-minute load average (2.0 = both cores busy): another
user's work shows there, and the CPU seconds hold regardless.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
SOURCES = ("thucnews", "chnsenticorp", "waimai", "ag_news", "sms_spam", "mr_polarity")
COPIES = int(os.environ.get("REFINERY_BENCH_COPIES", "5"))
MAIN_COPIES = 2
SMALL_ROWS = 10_000
#: Rows of the largest scaling point (``full`` repeated with new ids, cut to this size).
LARGE_ROWS = 1_000_000
#: Rows that load the models (in the driver and in each Spark worker) before any clock starts.
WARMUP_ROWS = 500
REPEATS = int(os.environ.get("REFINERY_BENCH_REPEATS", "2"))
#: Files written for a derived table: as many as ``ingest`` writes (spark.shuffle_partitions).
DERIVED_FILES = 4
TARGET_JOB_VS_TWO_CORE = 0.85
#: The job / (2 x single-core chain) ratios checked against the target: 127k, 318k, 1M rows.
TARGET_RATIOS = ("clean_job_vs_two_core_chain", "clean_job_full_vs_two_core_chain", "clean_job_s1m_vs_two_core_chain")
#: The clean job with segmentation switched off (everything else as configured).
UNSEGMENTED = ["clean.segment.enabled=false"]


# --------------------------------------------------------------------------- input


def _grow(folder: Path, settings, copies: int) -> dict[str, str]:
    """Copy every file of each source ``copies`` times (``000-name`` …) into ``folder/source``;
    return the folder per source. Paths may be files or globs (mr_polarity)."""
    from refinery.ingest.locations import source_locations

    grown: dict[str, str] = {}
    for name, locations in source_locations(settings.ingest).items():
        target = folder / name
        target.mkdir(parents=True)
        for location in locations:
            for path in sorted(glob.glob(location)):
                for copy in range(copies):
                    shutil.copy(path, target / f"{copy:03d}-{Path(path).name}")
        grown[name] = str(target)
    return grown


def grown_sources(work: Path, copies: int) -> list[str]:
    """Config overrides for a benchmark: every table under ``work/tables``, and the six
    sources of :data:`SOURCES` copied ``copies`` times under ``work/input`` (see :func:`_grow`)."""
    from refinery.config import TABLE_NAMES, load_settings

    base = [f"tables.{t}={work / 'tables' / t}" for t in TABLE_NAMES]
    base += [f"ingest.input_root={CORPORA}", "ingest.only=[" + ",".join(SOURCES) + "]"]
    grown = _grow(work / "input", load_settings([ROOT / "conf" / "local.yaml"], base), copies)
    return base + [f"ingest.sources.{name}.path={folder}" for name, folder in grown.items()]


def _write_table(frame, path: Path, files: int = DERIVED_FILES) -> int:
    frame.repartition(files).write.format("delta").mode("overwrite").save(str(path))
    return frame.sparkSession.read.format("delta").load(str(path)).count()


def repeat_rows(frame, copies: int):
    """``frame`` ``copies`` times, copy ``k`` with the id ``<id>#k`` (ids stay unique)."""
    from pyspark.sql import functions as F

    copy = F.explode(F.sequence(F.lit(0), F.lit(copies - 1))).alias("copy")
    repeated = frame.select("*", copy)
    return repeated.withColumn("id", F.concat_ws("#", "id", F.col("copy").cast("string"))).drop("copy")


def _layout(spark, path: str) -> dict[str, int]:
    frame = spark.read.format("delta").load(path)
    return {"files": len(frame.inputFiles()), "read_partitions": frame.rdd.getNumPartitions()}


# --------------------------------------------------------------------------- one core


def _pin_one_core() -> set[int] | None:
    """Pin this thread to one CPU; return the previous affinity (to restore)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(previous)})
    return previous


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any, float]:
    """Fastest CPU time of ``repeats`` calls, the wall time of that call, the result, and the
    CPU time of the first call (the one that fills the caches)."""
    best_cpu, best_wall, result, first = float("inf"), float("inf"), None, None
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        first = cpu if first is None else first
        if cpu < best_cpu:
            best_cpu, best_wall = cpu, wall
    return best_cpu, best_wall, result, first


def _rate(docs: int, mbytes: float, cpu: float, wall: float) -> dict[str, float]:
    return {
        "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 3),
        "docs_per_s": round(docs / cpu),
        "mb_per_s": round(mbytes / cpu, 3),
        "us_per_doc": round(cpu / docs * 1e6, 2),
    }


def _single_core(texts, options, unsegmented, batch: int) -> dict[str, Any]:
    """The chain, then every text function, on ``texts`` (a pandas Series), one core."""
    import pandas as pd

    from refinery.text.chain import clean_frame, segment_masked
    from refinery.text.langid import detect_series, warm_up
    from refinery.text.normalize import normalize_series
    from refinery.text.pii import mask_series
    from refinery.text.quality import apply_quality_rules, quality_signals

    docs = len(texts)
    mbytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    # Load every model (jieba, spaCy, fastText, lingua) before any clock starts.
    warm_up(options.langid)
    clean_frame(pd.DataFrame({"text": texts.iloc[:WARMUP_ROWS]}), options)
    previous = _pin_one_core()
    try:
        out: dict[str, Any] = {"docs": docs, "mb": round(mbytes, 3), "repeats": REPEATS, "batch_rows": batch}
        frame = pd.DataFrame({"text": texts})
        chunks = [frame.iloc[start : start + batch] for start in range(0, docs, batch)]

        def chain() -> int:
            return sum(len(clean_frame(chunk, options)) for chunk in chunks)

        # First: the chain's first pass is the only one that starts with cold caches.
        cpu, wall, _, first = _best(chain, REPEATS)
        out["clean_frame"] = _rate(docs, mbytes, cpu, wall)
        out["clean_frame_first_pass"] = _rate(docs, mbytes, first, first)
        del out["clean_frame_first_pass"]["wall_seconds"]
        cpu, wall, normalized, _ = _best(lambda: normalize_series(texts, options.normalize), REPEATS)
        out["normalize_series"] = _rate(docs, mbytes, cpu, wall)
        cpu, wall, langs, _ = _best(lambda: detect_series(normalized["text"], options.langid), REPEATS)
        out["detect_series_ensemble"] = _rate(docs, mbytes, cpu, wall)
        cpu, wall, masked, _ = _best(lambda: mask_series(normalized["text"], options.pii), REPEATS)
        out["mask_series_all_types"] = _rate(docs, mbytes, cpu, wall)
        pairs = list(zip(masked["text"], langs["lang"], strict=True))

        def segment_all() -> list[list[str]]:
            return [segment_masked(t, lang, options) if isinstance(t, str) else [] for t, lang in pairs]

        cpu, wall, tokens, _ = _best(segment_all, REPEATS)
        out["segment_masked"] = _rate(docs, mbytes, cpu, wall)
        token_column = pd.Series(tokens, dtype=object)

        def quality_all() -> pd.Series:
            signals = quality_signals(masked["text"], token_column, langs["lang"])
            return apply_quality_rules(signals, langs["lang"], options.quality_rules)

        cpu, wall, _, _ = _best(quality_all, REPEATS)
        out["quality_signals_and_rules"] = _rate(docs, mbytes, cpu, wall)
        parts = (
            "normalize_series",
            "detect_series_ensemble",
            "mask_series_all_types",
            "segment_masked",
            "quality_signals_and_rules",
        )
        chain_us = out["clean_frame"]["us_per_doc"]
        out["chain_share"] = {name: round(out[name]["us_per_doc"] / chain_us, 3) for name in parts}
        out["chain_share"]["pandas_glue"] = round(1 - sum(out[name]["us_per_doc"] for name in parts) / chain_us, 3)

        # The same chain with segmentation switched off (clean.segment.enabled: false).
        cpu, wall, _, _ = _best(lambda: sum(len(clean_frame(chunk, unsegmented)) for chunk in chunks), REPEATS)
        out["clean_frame_unsegmented"] = _rate(docs, mbytes, cpu, wall)
    finally:
        if previous is not None:
            os.sched_setaffinity(0, previous)
    return out


def _two_process_chain(texts, work: Path, overrides: list[str]) -> dict[str, Any]:
    """The chain in two processes at once, one pinned to each core (``bench/chain_worker.py``),
    each on half of ``texts`` (contiguous halves, as Spark splits files), both warm: what two
    busy cores of this machine give, the real ceiling of a two-worker job."""
    import pandas as pd

    go = work / "chain_go"
    half = len(texts) // 2
    processes = []
    for core, part in enumerate((texts.iloc[:half], texts.iloc[half:])):
        path = work / f"chain_half_{core}.parquet"
        pd.DataFrame({"text": part.reset_index(drop=True)}).to_parquet(path)
        command = [sys.executable, "-m", "bench.chain_worker", str(path), str(core), str(go)]
        command += [arg for override in overrides for arg in ("--set", override)]
        processes.append(
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        )
    try:
        for process in processes:
            if process.stdout.readline().strip() != "READY":
                raise RuntimeError("bench.chain_worker did not start")
        go.touch()
        results = []
        for process in processes:
            out, _ = process.communicate(timeout=600)
            results += [
                json.loads(line[len("CHAIN-RESULT ") :]) for line in out.splitlines() if line.startswith("CHAIN-")
            ]
    finally:
        for process in processes:
            process.kill()
    if len(results) != 2:
        raise RuntimeError("bench.chain_worker gave no result")
    rows = sum(r["rows"] for r in results)
    wall = max(r["wall_seconds"] for r in results)
    cpu = sum(r["cpu_seconds"] for r in results)
    return {
        "rows": rows,
        "wall_seconds": round(wall, 3),
        "docs_per_s": round(rows / wall),
        "cpu_seconds": round(cpu, 3),
        "docs_per_cpu_s": round(rows / cpu),
    }


# --------------------------------------------------------------------------- Spark runs


def _timed(action: Callable[[], Any], rows: int) -> dict[str, Any]:
    """Wall time of ``action`` and the CPU time this process tree (driver, JVM, Python workers)
    spent meanwhile: the CPU figure holds whatever else runs on the shared machine."""
    from bench.datatrove_peer import tree_cpu_seconds

    cpu, started = tree_cpu_seconds(), time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    cpu_after = tree_cpu_seconds()
    out: dict[str, Any] = {
        "rows": rows,
        "seconds": round(seconds, 3),
        "docs_per_s": round(rows / seconds),
        "s_per_1k_rows": round(seconds / rows * 1000, 4),
    }
    if cpu is not None and cpu_after is not None:
        out["cpu_seconds"] = round(cpu_after - cpu, 2)
        out["docs_per_cpu_s"] = round(rows / (cpu_after - cpu))
    out["load_1m"] = round(os.getloadavg()[0], 2)
    if isinstance(result, dict):
        out.update(result)
    return out


def _noop(frame) -> None:
    frame.write.format("noop").mode("overwrite").save()


def _identity_noop(bronze) -> None:
    from pyspark.sql import functions as F

    carried = bronze.select(
        "id", "text", "label", "source", "event_ts", "ingest_batch", F.to_json("meta"), "content_hash"
    )

    def identity(frames):
        yield from frames

    _noop(carried.mapInPandas(identity, carried.schema))


def _chain_in_workers(bronze, options) -> dict[str, Any]:
    """The chain in ``mapInPandas`` as :func:`clean_records` runs it, each batch handing back
    one row: its size and the CPU time ``clean_frame`` took inside the Python worker. Shows
    how much of a run is the chain itself, and whether the chain is slower in a worker than
    in the driver; the output is tiny, so next to ``clean_records_noop`` it also prices the
    wide outputs (token arrays, maps) on their way from pandas through Arrow into Spark."""
    import pandas as pd
    from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType

    schema = StructType(
        [
            StructField("pid", IntegerType(), False),
            StructField("rows", IntegerType(), False),
            StructField("chain_cpu_s", DoubleType(), False),
        ]
    )

    def run(frames):
        from refinery.text.chain import clean_frame

        for frame in frames:
            started = time.process_time()
            clean_frame(frame, options)
            used = time.process_time() - started
            yield pd.DataFrame({"pid": [os.getpid()], "rows": [len(frame)], "chain_cpu_s": [used]})

    batches = bronze.select("id", "text").mapInPandas(run, schema).collect()
    rows = sum(b.rows for b in batches)
    cpu = sum(b.chain_cpu_s for b in batches)
    return {
        "batches": len(batches),
        "workers": len({b.pid for b in batches}),
        "chain_cpu_s_in_workers": round(cpu, 3),
        "chain_us_per_doc_in_workers": round(cpu / rows * 1e6, 2),
    }


def _job_steps(spark, job, options) -> dict[str, Any]:
    """The clean job's own steps (``refinery.clean.job.run``, same library calls, same
    order), each timed, with the transform materialised first (``count`` on the persisted
    frame) so that it is not charged to the silver write; then silver MERGEd once more from the
    same cache (the rerun's write path). Wall and CPU seconds per step."""
    from datetime import UTC, datetime

    from refinery.clean.job import STAGE, quarantine_rows, silver_properties, silver_rows, summarize
    from refinery.clean.udf import clean_records
    from refinery.runtime.metrics import StageMetrics
    from refinery.spark.metrics_table import write_metrics
    from refinery.spark.tables import merge_rows, read_table, replace_slice, sql_string

    run_id, started_at = f"bench-steps-{time.monotonic_ns()}", datetime.now(UTC)
    bronze = read_table(spark, job.tables.bronze)
    steps: dict[str, Any] = {}
    found: dict[str, Any] = {}

    def step(name: str, action: Callable[[], Any]) -> None:
        timed = _timed(action, 1)
        steps[name] = {"seconds": timed["seconds"], "cpu_seconds": timed.get("cpu_seconds")}

    cleaned = clean_records(bronze, options).persist()
    try:
        step("transform_and_cache", cleaned.count)
        step(
            "silver_first_write",
            lambda: merge_rows(
                spark,
                silver_rows(cleaned, run_id),
                job.tables.silver,
                scope="true",
                properties=silver_properties(job.delta.silver),
            ),
        )
        predicate = f"stage = {sql_string(STAGE)}"
        step(
            "quarantine_write",
            lambda: replace_slice(quarantine_rows(cleaned, run_id), job.tables.quarantine, predicate, ["stage"]),
        )
        step("counts_and_details", lambda: found.update(summary=summarize(cleaned)))
        step(
            "silver_merge_again",
            lambda: merge_rows(
                spark,
                silver_rows(cleaned, run_id),
                job.tables.silver,
                scope="true",
                properties=silver_properties(job.delta.silver),
            ),
        )
    finally:
        cleaned.unpersist()
    outcomes, details = found["summary"]
    stage = StageMetrics.from_outcomes(STAGE, outcomes)
    stage.details = details.to_map()
    step(
        "metrics_row",
        lambda: write_metrics(spark, job.tables.metrics, run_id, "clean", "*", started_at, datetime.now(UTC), [stage]),
    )
    return steps


def _row_udf(options):
    """A row-at-a-time UDF (pickled rows, no Arrow) with the chain's outputs, as a struct. The
    quality signals are computed per row; the rules over them are not (``quality_flags`` stays
    null): vectorised they cost about 3 µs a document, and a per-row copy of their logic would be
    a second implementation."""
    from pyspark.sql import functions as F

    from refinery.spark.schemas import CLEANED

    def clean_row(text):
        from refinery.text.chain import (
            EMPTY_AFTER_NORMALIZE,
            LANGUAGE_NOT_ALLOWED,
            LANGUAGE_UNDETERMINED,
            OK,
            QUARANTINE,
            segment_masked,
        )
        from refinery.text.langid import detect
        from refinery.text.normalize import normalize
        from refinery.text.pii import mask
        from refinery.text.quality import document_signals

        if text is None:
            return (
                None, [], "und", 0.0, False, {}, None, [], 0, None, None, QUARANTINE, EMPTY_AFTER_NORMALIZE, None, None
            )  # fmt: skip
        normalized = normalize(text, options.normalize)
        found = detect(normalized.text, options.langid)
        masked, counts = mask(normalized.text, options.pii)
        tokens = segment_masked(masked, found.lang, options)
        signals = document_signals(masked, tokens, found.lang)
        signals = {k: None if isinstance(v, float) and v != v else v for k, v in signals.items()}  # NaN → null
        outcome, reason, detail = OK, None, None
        if not masked.strip():
            outcome, reason = QUARANTINE, EMPTY_AFTER_NORMALIZE
        elif options.allowed_languages is not None:
            if found.lang == "und":
                reason = LANGUAGE_UNDETERMINED
            elif found.lang not in options.allowed_languages:
                reason, detail = LANGUAGE_NOT_ALLOWED, f"lang {found.lang}"
                if options.on_disallowed_language == "quarantine":
                    outcome = QUARANTINE
        return (
            masked,
            list(normalized.steps),
            found.lang,
            found.score,
            found.mixed,
            dict(found.shares),
            counts,
            tokens,
            len(tokens),
            signals,
            None,  # quality_flags: see the docstring
            outcome,
            reason,
            detail,
            None,  # rule_violations: no annotation rules here
        )

    return F.udf(clean_row, CLEANED, useArrow=False)


def _row_udf_noop(bronze, options) -> None:
    from pyspark.sql import functions as F

    carried = ["id", "label", "source", "event_ts", "ingest_batch", "meta", "content_hash"]
    cleaned = bronze.select(*carried, _row_udf(options)(F.col("text")).alias("c")).select(*carried, "c.*")
    _noop(cleaned)


# --------------------------------------------------------------------------- run


def run() -> dict:
    from pyspark.sql import functions as F

    from refinery.clean.job import clean_options
    from refinery.clean.udf import clean_records
    from refinery.config import TABLE_NAMES, load_settings
    from refinery.runtime.runner import run_one
    from refinery.spark.session import build_spark
    from refinery.spark.tables import read_table

    started_all = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="refinery-bench-clean-"))
    conf = [ROOT / "conf" / "local.yaml"]
    try:
        base = grown_sources(work, COPIES)
        settings = load_settings(conf, base)

        def job_settings(name: str, bronze: str, extra: list[str] | None = None):
            tables = [f"tables.{t}={work / 'runs' / name / t}" for t in TABLE_NAMES if t != "bronze"]
            return load_settings(conf, [*base, *tables, f"tables.bronze={bronze}", *(extra or [])])

        def clean_job(job: Any, session: Any) -> Callable[[], None]:
            def action() -> None:
                if run_one("clean", job, session, f"bench-clean-{time.monotonic_ns()}") != 0:
                    raise RuntimeError("clean job failed")

            return action

        spark = build_spark(settings.spark, "refinery-bench-clean")
        started = time.perf_counter()
        if run_one("ingest", settings, spark, "bench-clean-ingest") != 0:
            raise RuntimeError("ingest job failed")
        ingest_seconds = time.perf_counter() - started
        full_path = settings.tables.bronze
        full = read_table(spark, full_path)
        full_rows = full.count()
        per_source = {r.source: r["count"] for r in full.groupBy("source").count().collect()}
        paths = {name: work / "derived" / name for name in ("main", "s10k", "s1m")}
        first_copies = "|".join(f"{c:03d}" for c in range(MAIN_COPIES))
        main_rows = _write_table(full.where(F.col("source_path").rlike(f"/({first_copies})-[^/]*$")), paths["main"])
        main = spark.read.format("delta").load(str(paths["main"]))
        small_rows = _write_table(main.orderBy("id").limit(SMALL_ROWS), paths["s10k"])
        small = spark.read.format("delta").load(str(paths["s10k"]))
        copies = -(-LARGE_ROWS // full_rows)
        large_rows = _write_table(repeat_rows(full, copies).orderBy("id").limit(LARGE_ROWS), paths["s1m"], files=8)
        batch = int(spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch"))
        options = clean_options(settings.clean)
        unsegmented = clean_options(job_settings("unsegmented", full_path, UNSEGMENTED).clean)

        # 1. One core, on exactly the rows of `main`, in the driver (Spark idle meanwhile).
        texts = main.select("text").toPandas()["text"]
        single = _single_core(texts, options, unsegmented, batch)
        single["two_process_chain"] = _two_process_chain(texts, work, [])
        single["two_process_chain_unsegmented"] = _two_process_chain(texts, work, UNSEGMENTED)
        del texts

        # Python workers start and load jieba, spaCy, fastText and lingua before any clock.
        warm = small.limit(WARMUP_ROWS)
        _noop(clean_records(warm, options))

        # 2. Spark on `main`: the first pass fills the workers' caches; the rest run warm.
        runs: dict[str, Any] = {}
        runs["identity_noop"] = _timed(lambda: _identity_noop(main), main_rows)
        runs["clean_records_noop_first_pass"] = _timed(lambda: _noop(clean_records(main, options)), main_rows)
        runs["clean_records_noop"] = _timed(lambda: _noop(clean_records(main, options)), main_rows)
        runs["chain_in_workers"] = _timed(lambda: _chain_in_workers(main, options), main_rows)
        main_job = job_settings("main", str(paths["main"]))
        runs["clean_job"] = _timed(clean_job(main_job, spark), main_rows)
        runs["clean_job_rerun_merge"] = _timed(clean_job(main_job, spark), main_rows)
        silver_rows = read_table(spark, main_job.tables.silver).count()
        job_steps = _job_steps(spark, job_settings("main_steps", str(paths["main"])), options)
        unsegmented_job = job_settings("main_unsegmented", str(paths["main"]), UNSEGMENTED)
        runs["clean_job_unsegmented"] = _timed(clean_job(unsegmented_job, spark), main_rows)

        # 3. Row-at-a-time UDF on the same rows.
        runs["row_udf_noop"] = _timed(lambda: _row_udf_noop(main, options), main_rows)

        # 4. Scaling (the `main` point is the clean_job run above).
        scaling = {
            "s10k": _timed(clean_job(job_settings("s10k", str(paths["s10k"])), spark), small_rows),
            "main": runs["clean_job"],
            "full": _timed(clean_job(job_settings("full", full_path), spark), full_rows),
            "s1m": _timed(clean_job(job_settings("s1m", str(paths["s1m"])), spark), large_rows),
        }
        layouts = {name: _layout(spark, str(path)) for name, path in paths.items()}
        layouts["full"] = _layout(spark, full_path)
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    measured = {
        "single": single,
        "runs": runs,
        "scaling": scaling,
        "job_steps": job_steps,
        "full_rows": full_rows,
        "main_rows": main_rows,
        "small_rows": small_rows,
        "large_rows": large_rows,
        "per_source": per_source,
        "layouts": layouts,
        "ingest_seconds": ingest_seconds,
        "batch": batch,
        "silver_rows": silver_rows,
        "load_start": load_start,
        "started_all": started_all,
    }
    return _report(measured)


def _marginal(scaling: dict[str, Any]) -> dict[str, Any]:
    """Seconds per 1k *added* rows between successive sizes (fixed costs cancel out: equal
    values mean the job is linear past its fixed cost), and the fixed cost that implies."""
    points = sorted((run["rows"], run["seconds"]) for run in scaling.values())
    out: dict[str, Any] = {}
    for (rows_a, secs_a), (rows_b, secs_b) in itertools.pairwise(points):
        if rows_b > rows_a:
            out[f"s_per_1k_added_rows_{rows_a}_to_{rows_b}"] = round((secs_b - secs_a) / (rows_b - rows_a) * 1000, 4)
    (rows_a, secs_a), (rows_b, secs_b) = points[0], points[-1]
    if rows_b > rows_a:
        slope = (secs_b - secs_a) / (rows_b - rows_a)
        out["fixed_cost_s_implied"] = round(secs_a - slope * rows_a, 2)
    return out


def _report(m: dict[str, Any]) -> dict[str, Any]:
    """The result dict from what :func:`run` measured."""
    single, runs, scaling = m["single"], m["runs"], m["scaling"]
    two_core = 2 * single["clean_frame"]["docs_per_s"]
    two_core_cold = 2 * single["clean_frame_first_pass"]["docs_per_s"]
    two_process = single["two_process_chain"]["docs_per_s"]
    ratios: dict[str, Any] = {
        "clean_job_vs_two_core_chain": round(runs["clean_job"]["docs_per_s"] / two_core, 3),
        "clean_job_full_vs_two_core_chain": round(scaling["full"]["docs_per_s"] / two_core, 3),
        "clean_job_unsegmented_vs_two_core_unsegmented_chain": round(
            runs["clean_job_unsegmented"]["docs_per_s"] / (2 * single["clean_frame_unsegmented"]["docs_per_s"]), 3
        ),
        "two_process_chain_vs_two_core_chain": round(two_process / two_core, 3),
        "two_process_chain_unsegmented_vs_two_core_unsegmented_chain": round(
            single["two_process_chain_unsegmented"]["docs_per_s"]
            / (2 * single["clean_frame_unsegmented"]["docs_per_s"]),
            3,
        ),
        "clean_job_vs_two_process_chain": round(runs["clean_job"]["docs_per_s"] / two_process, 3),
        "clean_job_full_vs_two_process_chain": round(scaling["full"]["docs_per_s"] / two_process, 3),
        "clean_job_s1m_vs_two_process_chain": round(scaling["s1m"]["docs_per_s"] / two_process, 3),
        "clean_job_s1m_vs_two_core_chain": round(scaling["s1m"]["docs_per_s"] / two_core, 3),
        "clean_job_unsegmented_vs_clean_job": round(
            runs["clean_job_unsegmented"]["docs_per_s"] / runs["clean_job"]["docs_per_s"], 3
        ),
        "clean_job_rerun_merge_vs_two_core_chain": round(runs["clean_job_rerun_merge"]["docs_per_s"] / two_core, 3),
        "clean_records_noop_vs_two_core_chain": round(runs["clean_records_noop"]["docs_per_s"] / two_core, 3),
        "first_pass_noop_vs_two_core_chain_first_pass": round(
            runs["clean_records_noop_first_pass"]["docs_per_s"] / two_core_cold, 3
        ),
        "pandas_udf_vs_row_udf": round(
            runs["clean_records_noop"]["docs_per_s"] / runs["row_udf_noop"]["docs_per_s"], 3
        ),
        "scaling_main_vs_s10k_per_row": round(scaling["main"]["s_per_1k_rows"] / scaling["s10k"]["s_per_1k_rows"], 3),
        "scaling_full_vs_main_per_row": round(scaling["full"]["s_per_1k_rows"] / scaling["main"]["s_per_1k_rows"], 3),
        "scaling_s1m_vs_full_per_row": round(scaling["s1m"]["s_per_1k_rows"] / scaling["full"]["s_per_1k_rows"], 3),
        "scaling_s1m_vs_s10k_per_row": round(scaling["s1m"]["s_per_1k_rows"] / scaling["s10k"]["s_per_1k_rows"], 3),
    }
    marginal = [v for k, v in _marginal(scaling).items() if k.startswith("s_per_1k_added")]
    if len(marginal) >= 2 and marginal[0] > 0:
        ratios["scaling_marginal_cost_largest_vs_smallest_step"] = round(marginal[-1] / marginal[0], 3)
    wall = {name: run["seconds"] for name, run in runs.items()}
    in_workers = runs["chain_in_workers"]
    chain_cpu = single["clean_frame"]["cpu_seconds"]
    steps = {
        "chain_ideal": chain_cpu / 2,
        "chain_slower_in_workers": (in_workers["chain_cpu_s_in_workers"] - chain_cpu) / 2,
        "spark_read_arrow_and_imbalance": wall["chain_in_workers"] - in_workers["chain_cpu_s_in_workers"] / 2,
        "wide_output_conversion": wall["clean_records_noop"] - wall["chain_in_workers"],
        "delta_write_and_metrics": wall["clean_job"] - wall["clean_records_noop"],
    }
    where: dict[str, Any] = {
        "note": (
            "wall seconds of the clean job on `main` (warm workers), split: chain_ideal = single-core "
            "clean_frame CPU / 2; chain_slower_in_workers = (clean_frame CPU inside the workers - that) / 2; "
            "spark_read_arrow_and_imbalance = the chain_in_workers run's wall time - its in-worker chain CPU / 2; "
            "wide_output_conversion = clean_records into the noop sink - chain_in_workers (tiny output); "
            "delta_write_and_metrics = clean job - clean_records noop"
        ),
        "seconds": {name: round(value, 3) for name, value in steps.items()},
        "share_of_job": {name: round(value / wall["clean_job"], 3) for name, value in steps.items()},
        "job_steps": {
            "note": (
                "the job's steps replayed with the same library calls, each timed; the transform is "
                "materialised first (count on the persisted frame); silver_merge_again is the rerun's "
                "MERGE path from the same cache; compare their sum with clean_job"
            ),
            **m["job_steps"],
            "sum_without_merge_again_s": round(
                sum(v["seconds"] for k, v in m["job_steps"].items() if k != "silver_merge_again"), 3
            ),
        },
        "identity_mapinpandas_noop_s": wall["identity_noop"],
        "first_pass_minus_warm_noop_s": round(wall["clean_records_noop_first_pass"] - wall["clean_records_noop"], 3),
        "merge_rerun_minus_first_write_s": round(wall["clean_job_rerun_merge"] - wall["clean_job"], 3),
    }
    if all("cpu_seconds" in run for run in runs.values()):
        where["cpu_seconds"] = {
            "note": "CPU seconds of driver + JVM + Python workers per run (holds under other load)",
            "chain_single_core": chain_cpu,
            "chain_single_core_first_pass": single["clean_frame_first_pass"]["cpu_seconds"],
            "chain_inside_workers": in_workers["chain_cpu_s_in_workers"],
            **{name: run["cpu_seconds"] for name, run in runs.items()},
        }
        ratios["clean_job_cpu_efficiency"] = round(chain_cpu / runs["clean_job"]["cpu_seconds"], 3)
        ratios["clean_records_noop_cpu_efficiency"] = round(chain_cpu / runs["clean_records_noop"]["cpu_seconds"], 3)

    targets = {
        name: {
            "target": TARGET_JOB_VS_TWO_CORE,
            "measured": ratios[name],
            "met": ratios[name] >= TARGET_JOB_VS_TWO_CORE,
        }
        for name in (
            "clean_job_vs_two_core_chain",
            "clean_job_full_vs_two_core_chain",
            "clean_job_s1m_vs_two_core_chain",
        )
    }
    copies = COPIES
    return {
        "input": {
            "sources": list(SOURCES),
            "copies": copies,
            "repetition": (
                f"every source file copied {copies} times and ingested by the real ingest job "
                f"(bronze `full`); `main` = copies 0-{MAIN_COPIES - 1} (each document exactly {MAIN_COPIES} "
                "times); `s10k` = the first 10,000 rows of `main` by id; `s1m` = `full` repeated with "
                "new ids (`<id>#k`), the first 1,000,000 rows by id"
            ),
            "bronze_rows_full": m["full_rows"],
            "bronze_rows_per_source": m["per_source"],
            "main_rows": m["main_rows"],
            "s10k_rows": m["small_rows"],
            "s1m_rows": m["large_rows"],
            "layout": m["layouts"],
            "ingest_seconds": round(m["ingest_seconds"], 3),
            "arrow_max_records_per_batch": m["batch"],
        },
        "single_core": single,
        "spark_local2": runs,
        "silver_rows_main": m["silver_rows"],
        "where_the_time_goes": where,
        "scaling": {**scaling, "marginal": _marginal(scaling)},
        "ratios": ratios,
        "targets": targets,
        "load_1m": {"start": m["load_start"], "end": round(os.getloadavg()[0], 2)},
        "total_seconds": round(time.perf_counter() - m["started_all"], 1),
    }
