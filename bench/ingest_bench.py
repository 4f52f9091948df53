"""Ingest throughput on the real corpora, grown by repetition.

Input: THUCNews (TSV), AG News (CSV), the SMS collection (TSV with header) and ChnSentiCorp
(CSV with header) from ``../shared/corpora``, each file copied ``REFINERY_BENCH_COPIES`` times
(default 6, about 245k records in 24 files) so that every core has files to read.

Measured in one run, one SparkSession (local[2]):

* ``parse_one_core``: :func:`refinery.sources.records.parse_file` over every file in this
  process: the single-core limit of our Python parsing (records/s).
* ``plain_spark``: Spark's own CSV reader on the same files, columns selected and written to
  Delta, with no decoding checks, validation, ids or quarantine: the plain library call.
* ``ingest_job``: the full ``ingest`` job (decode, parse, validate, stable ids, duplicate-id
  checks, bronze + quarantine + metrics writes).

Ratios: ``ingest_vs_plain_spark`` = ingest / plain throughput (the price of the guarantees);
``ingest_vs_two_core_parse_limit`` = ingest / (2 x one-core parse) (how close the job gets to
the parse-bound ideal on this 2-core machine).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
SOURCES = ("thucnews", "ag_news", "sms_spam", "chnsenticorp")


def _grow(folder: Path, settings, copies: int) -> dict[str, list[str]]:
    """Copy each source's files ``copies`` times into ``folder``; return new paths by source."""
    from refinery.ingest.locations import source_locations

    grown: dict[str, list[str]] = {}
    for name, locations in source_locations(settings.ingest).items():
        target = folder / name
        target.mkdir(parents=True)
        for location in locations:
            for copy in range(copies):
                source = Path(location)
                shutil.copy(source, target / f"{copy:03d}-{source.name}")
        grown[name] = [str(target)]
    return grown


def _parse_one_core(settings, grown) -> tuple[int, float]:
    from refinery.sources.record_rows import Limits
    from refinery.sources.records import parse_file

    limits = Limits(settings.ingest.max_text_chars, settings.ingest.payload_max_chars)
    records, started = 0, time.perf_counter()
    for name, (folder,) in grown.items():
        spec = settings.ingest.sources[name]
        for path in sorted(Path(folder).iterdir()):
            records += sum(1 for _ in parse_file(path.read_bytes(), str(path), name, spec, limits))
    return records, time.perf_counter() - started


def _plain_spark(spark, settings, grown, target: str) -> tuple[int, float]:
    from pyspark.sql import functions as F

    started = time.perf_counter()
    frames = []
    for name, (folder,) in grown.items():
        spec = settings.ingest.sources[name]
        reader = spark.read.option("sep", spec.delimiter).option("header", spec.header)
        if spec.quoting == "none":
            reader = reader.option("quote", "")
        frame = reader.csv(folder)
        text = spec.columns.text if isinstance(spec.columns.text, list) else [spec.columns.text]
        names = [frame.columns[ref] if isinstance(ref, int) else ref for ref in [*text, spec.columns.label]]
        frames.append(
            frame.select(
                F.concat_ws("\n", *names[:-1]).alias("text"),
                F.col(names[-1]).alias("label"),
                F.lit(name).alias("source"),
            )
        )
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    union.write.format("delta").mode("overwrite").save(target)
    elapsed = time.perf_counter() - started
    return spark.read.format("delta").load(target).count(), elapsed


def _run(records: int, seconds: float) -> dict[str, float]:
    return {"records": records, "seconds": round(seconds, 3), "records_per_s": round(records / seconds)}


def run() -> dict:
    from refinery.config import TABLE_NAMES, load_settings
    from refinery.runtime.runner import run_one
    from refinery.spark.session import build_spark
    from refinery.spark.tables import read_table

    copies = int(os.environ.get("REFINERY_BENCH_COPIES", "6"))
    work = Path(tempfile.mkdtemp(prefix="refinery-bench-"))
    try:
        base = [f"tables.{t}={work / 'tables' / t}" for t in TABLE_NAMES]
        base += [f"ingest.input_root={CORPORA}", "ingest.only=[" + ",".join(SOURCES) + "]"]
        settings = load_settings([ROOT / "conf" / "local.yaml"], base)
        grown = _grow(work / "input", settings, copies)
        overrides = [f"ingest.sources.{name}.path={paths[0]}" for name, paths in grown.items()]
        settings = load_settings([ROOT / "conf" / "local.yaml"], base + overrides)

        parsed, parse_seconds = _parse_one_core(settings, grown)
        spark = build_spark(settings.spark, "refinery-bench")
        # Warm-up: JVM, Python workers and Delta's first commit, on the plain path.
        _plain_spark(spark, settings, grown, str(work / "warmup"))
        plain_rows, plain_seconds = _plain_spark(spark, settings, grown, str(work / "plain"))

        started = time.perf_counter()
        assert run_one("ingest", settings, spark, "bench-ingest") == 0
        ingest_seconds = time.perf_counter() - started
        bronze_rows = read_table(spark, settings.tables.bronze).count()
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    parse_rate = parsed / parse_seconds
    plain_rate = plain_rows / plain_seconds
    ingest_rate = parsed / ingest_seconds
    return {
        "input": {"sources": list(SOURCES), "copies": copies, "records": parsed, "bronze_rows": bronze_rows},
        "runs": {
            "parse_one_core": {
                "records": parsed,
                "seconds": round(parse_seconds, 3),
                "records_per_s": round(parse_rate),
            },
            "plain_spark": {
                "records": plain_rows,
                "seconds": round(plain_seconds, 3),
                "records_per_s": round(plain_rate),
            },
            "ingest_job": {"records": parsed, "seconds": round(ingest_seconds, 3), "records_per_s": round(ingest_rate)},
        },
        "ratios": {
            "ingest_vs_plain_spark": round(ingest_rate / plain_rate, 3),
            "ingest_vs_two_core_parse_limit": round(ingest_rate / (2 * parse_rate), 3),
        },
    }
