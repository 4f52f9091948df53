"""Dedup quality against datasketch, and how the dedup job scales.

1. ``quality``: the evaluation set of ``bench/dedup_evalset.py`` (THUCNews titles and AG News
   descriptions with controlled edits) through the real ``ingest`` → ``clean`` → ``dedup`` jobs;
   pair precision and recall of our clusters and of datasketch's ``MinHashLSH`` (same shingle
   sets, num_perm and bands, candidates verified by exact Jaccard, union-find), against exact
   ground truth over all pairs; per edit kind, the share of variants found with their base.
   Also wall seconds: our dedup job (local[2], Delta writes included) and datasketch (one
   process, in memory, no I/O).
2. ``scale``: the dedup job alone (``dedup.batch`` null: everything recomputed) on silver-shaped
   Delta tables of 10k, 100k and 1M rows grown from real texts (:func:`_grown_rows`: two real
   texts of one language joined, 10 % of rows an edited copy of an earlier row), segmentation
   off (word shingles from whitespace). Wall and CPU seconds, seconds per 1k rows, and the peak resident
   memory (VmHWM) of the JVM and of the largest Python worker after each size. Sizes run
   smallest first, so a growing JVM peak shows growth; the JVM's heap is capped by
   ``spark.driver_memory`` whatever the size, and no step collects rows to the driver.
   Then ``increment``: a new batch of 10k rows (the generator continued, so its edited copies
   point at earlier rows) appended to the largest table and deduplicated with ``dedup.batch``:
   only its signatures are computed, the stored ones are read back, and the transform runs on
   the batch's neighbourhood (rows sharing a hash, a bucket or a cluster with a new row).

The quality run is repeated with ``dedup.exact.t2s`` on (``with_t2s``): Traditional variants
are found with their Simplified base once both are folded.

Ratios: ``ours_vs_datasketch_precision`` / ``_recall`` differences (target >= -0.01 each),
``scaling_*`` per-row time at the larger size / at the smaller (1.0 = linear).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.clean_bench import CORPORA, ROOT, _timed
from bench.dedup_evalset import (
    EDITS,
    build,
    compare_with_datasketch,
    edit,
    union_find_clusters,
)

EVAL_ZH, EVAL_EN = 3000, 2000
SCALE_SIZES = tuple(int(x) for x in os.environ.get("REFINERY_DEDUP_SIZES", "10000,100000,1000000,3000000").split(","))
TARGET_DELTA = -0.01
#: Issue 20: a full recompute at the largest size, MB of text per wall second per core.
TARGET_MB_PER_S_PER_CORE = 1.0
#: Issue 20: a 10k-row batch against the largest table, as a share of its full recompute.
TARGET_INCREMENT_SHARE = 0.1
#: Documents timed for :func:`_signature_speed`.
SIGNATURE_ROWS = 20_000
#: Rows of the new batch deduplicated against the largest scale table.
INCREMENT_ROWS = 10_000


def _peak_rss_mb() -> dict[str, float]:
    """VmHWM (peak resident set, MB) of the JVM and of the largest Python worker under us."""
    peaks = {"jvm_mb": 0.0, "python_worker_mb": 0.0}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            cmdline = Path("/proc", entry, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = Path("/proc", entry, "status").read_text()
        except OSError:
            continue
        hwm = next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM")), 0.0)
        if "SparkSubmit" in cmdline:
            peaks["jvm_mb"] = max(peaks["jvm_mb"], hwm)
        elif "pyspark.daemon" in cmdline or "pyspark/daemon" in cmdline or "pyspark.worker" in cmdline:
            peaks["python_worker_mb"] = max(peaks["python_worker_mb"], hwm)
    return {k: round(v, 1) for k, v in peaks.items()}


def _quality(spark, make, work: Path) -> dict[str, Any]:
    from refinery.runtime.runner import run_one
    from refinery.spark.tables import read_table

    docs = build(CORPORA, EVAL_ZH, EVAL_EN, variant_share=0.5, seed=7)
    path = work / "eval.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    spec = "ingest.sources.eval."
    overrides = (
        "ingest.only=[eval]",
        f"{spec}path={path}",
        f"{spec}format=jsonl",
        f"{spec}columns={{text: text, label: label, id: id}}",
    )
    settings = make("quality", *overrides)
    for job in ("ingest", "clean"):
        if run_one(job, settings, spark, f"bench-dedup-{job}") != 0:
            raise RuntimeError(f"{job} failed")
    timed = _timed(lambda: run_one("dedup", settings, spark, "bench-dedup-quality"), len(docs))
    rows = read_table(spark, settings.tables.silver).orderBy("id").collect()

    scored = compare_with_datasketch(rows, settings)
    near = settings.dedup.near
    mllib = _mllib(spark, rows, settings)

    found_by_edit = _found_with_base(rows, docs)

    # The same silver with Traditional folded into Simplified before hashing and shingling.
    folded = make("quality", *overrides, "dedup.exact.t2s=true")
    if run_one("dedup", folded, spark, "bench-dedup-quality-t2s") != 0:
        raise RuntimeError("dedup with t2s failed")
    folded_rows = read_table(spark, folded.tables.silver).orderBy("id").collect()
    folded_scores = compare_with_datasketch(folded_rows, folded)
    with_t2s = {
        "ours": folded_scores["ours"],
        "datasketch": folded_scores["datasketch"],
        "found_with_base_by_edit": _found_with_base(folded_rows, docs),
    }
    return {
        "documents": len(docs),
        "silver_rows": len(rows),
        "threshold": near.threshold,
        "num_perm": near.num_perm,
        "bands": near.bands,
        "ours": {**scored["ours"], "dedup_job": timed},
        "datasketch": scored["datasketch"],
        "spark_mllib_minhashlsh": mllib,
        "found_with_base_by_edit": found_by_edit,
        "with_t2s": with_t2s,
    }


def _found_with_base(rows, docs: list[dict]) -> dict[str, dict[str, float]]:
    """Per edit kind: the variants, and the share of them in the same cluster as their base."""
    meta = {f"eval:{d['id']}": d for d in docs}  # ingest prefixes ids with the source name
    base_of = {d["group"]: f"eval:{d['id']}" for d in docs if d["edit"] == "base"}
    cluster_of = {r.id: r.dup_cluster for r in rows}
    found_by_edit: dict[str, dict[str, float]] = {}
    for kind in EDITS:
        variants = [r.id for r in rows if meta[r.id]["edit"] == kind]
        together = [
            v
            for v in variants
            if cluster_of.get(v) is not None and cluster_of[v] == cluster_of.get(base_of[meta[v]["group"]])
        ]
        found_by_edit[kind] = {
            "variants": len(variants),
            "found_with_base": round(len(together) / max(1, len(variants)), 3),
        }
    return found_by_edit


def _mllib(spark, rows, settings) -> dict[str, Any]:
    """Spark MLlib's ``MinHashLSH`` on the same shingles (CRC-32 hashes as sparse-vector
    indexes): ``approxSimilarityJoin`` at Jaccard distance ``1 - threshold`` (it verifies
    each candidate with the exact Jaccard of the vectors), clusters by union-find. MLlib's
    hash tables are OR-ed single MinHashes (r = 1), so ``numHashTables`` = our band count
    gives ``P(candidate) = 1 - (1 - s)^b``: nearly every pair sharing a shingle is compared.
    Seconds for fit + join + collecting the pairs."""
    from pyspark.ml.feature import MinHashLSH
    from pyspark.ml.linalg import SparseVector

    from bench.dedup_evalset import pairs_in_clusters, precision_recall, shingle_sets, true_pairs
    from refinery.text.shingles import shingle_hashes

    near = settings.dedup.near
    sets = shingle_sets(rows, settings)
    size = 1 << 30  # MLlib MinHash accepts dimensions up to its prime 2038074743
    indexes = [sorted({int(h) % size for h in shingle_hashes(s)}) for s in sets]
    vectors = [(i, SparseVector(size, idx, [1.0] * len(idx))) for i, idx in enumerate(indexes) if idx]
    frame = spark.createDataFrame(vectors, ["idx", "features"]).repartition(4)
    started = time.perf_counter()
    model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=near.bands, seed=near.seed).fit(frame)
    joined = model.approxSimilarityJoin(frame, frame, 1.0 - near.threshold, distCol="distance")
    pairs = [
        (r.a, r.b)
        for r in joined.where("datasetA.idx < datasetB.idx")
        .selectExpr("datasetA.idx AS a", "datasetB.idx AS b")
        .collect()
    ]
    seconds = time.perf_counter() - started
    clusters = union_find_clusters(len(sets), pairs)
    truth = true_pairs(sets, near.threshold)
    return {
        **precision_recall(pairs_in_clusters(clusters), truth),
        "num_hash_tables": near.bands,
        "verified_pairs": len(pairs),
        "seconds": round(seconds, 3),
    }


def _grown_rows(size: int, seed: int, dup_share: float = 0.1) -> list[dict]:
    """``size`` silver-shaped rows grown from real texts: each new row joins two random real
    texts of one language (a title and another title, a description and another one), so rows
    are distinct as real corpora mostly are; a ``dup_share`` of the rows are instead an edited
    copy (one random edit) of an earlier row, so duplicates exist at a realistic rate."""
    from bench.dedup_evalset import base_documents

    rng = random.Random(seed)
    by_lang: dict[str, list[tuple[str, str]]] = {"zh": [], "en": []}
    for text, lang, label in base_documents(CORPORA, 20_000, 8_000, seed):
        by_lang[lang].append((text, label))
    kinds = [k for k in EDITS if k != "traditional"]
    rows: list[dict] = []
    for i in range(size):
        if rows and rng.random() < dup_share:
            source = rows[rng.randrange(len(rows))]
            text, lang, label = (
                edit(source["text"], source["lang"], rng.choice(kinds), rng),
                source["lang"],
                source["label"],
            )
        else:
            lang = "zh" if rng.random() < 0.6 else "en"
            (first, label), (second, _) = rng.choice(by_lang[lang]), rng.choice(by_lang[lang])
            text = first + ("，" if lang == "zh" else " ") + second
        rows.append({"id": f"g{i:08d}", "text": text, "lang": lang, "label": label, "ts_minutes": i})
    return rows


def _silver_frame(spark, rows: list[dict], work: Path, name: str, batch: str):
    """``rows`` of :func:`_grown_rows` as a silver-shaped DataFrame (via a Parquet file)."""
    import pandas as pd
    from pyspark.sql import functions as F

    parquet = work / f"{name}.parquet"
    pd.DataFrame(rows).to_parquet(parquet)
    return spark.read.parquet(str(parquet)).select(
        "id",
        "text",
        "label",
        "lang",
        F.lit(None).cast("array<string>").alias("tokens"),
        F.timestamp_add("MINUTE", F.col("ts_minutes"), F.lit("2026-01-01").cast("timestamp")).alias("event_ts"),
        F.lit(batch).alias("ingest_batch"),
    )


def _dup_counts(frame) -> dict[str, int]:
    """The job's :func:`refinery.dedup.job.duplicate_counts` under this benchmark's keys."""
    from refinery.dedup.job import duplicate_counts

    counts = duplicate_counts(frame)
    return {"exact": counts["exact_duplicates"], "near": counts["near_duplicates"], "clusters": counts["clusters"]}


def _metrics_details(spark, settings, run_id: str) -> dict[str, str]:
    """The ``details`` of the dedup job's metrics row for ``run_id``."""
    from refinery.spark.tables import read_table

    return read_table(spark, settings.tables.metrics).where(f"run_id = '{run_id}' AND stage = 'dedup'").first().details


def _job_details(spark, settings, run_id: str, *keys: str) -> dict[str, int]:
    """Chosen details of the dedup job's metrics row for ``run_id``."""
    details = _metrics_details(spark, settings, run_id)
    return {key: int(details[key]) for key in keys}


def _text_megabytes(rows: list[dict]) -> float:
    """The rows' text in MB (10^6 bytes of UTF-8)."""
    return sum(len(row["text"].encode("utf-8")) for row in rows) / 1e6


def _per_core(megabytes: float, timed: dict[str, Any]) -> dict[str, float]:
    """Text MB, MB per wall second per core (the issue's unit: wall time on all the cores
    Spark had) and MB per CPU second of the whole process tree."""
    cores = os.cpu_count() or 1
    out = {"text_mb": round(megabytes, 2), "mb_per_s_per_core": round(megabytes / timed["seconds"] / cores, 3)}
    if timed.get("cpu_seconds"):
        out["mb_per_cpu_s"] = round(megabytes / timed["cpu_seconds"], 3)
    return out


def _pair_counts(spark, settings, run_id: str) -> dict[str, int]:
    return _job_details(spark, settings, run_id, "candidate_pairs", "verified_pairs")


def _phase_seconds(spark, settings, run_id: str) -> dict[str, float]:
    """The job's own ``phase.<name>.ms`` details, in seconds: where its wall time went."""
    return {
        key[len("phase.") : -len(".ms")]: round(int(value) / 1000, 2)
        for key, value in _metrics_details(spark, settings, run_id).items()
        if key.startswith("phase.")
    }


def _signature_speed(size: int = SIGNATURE_ROWS) -> dict[str, Any]:
    """CPU seconds per MB of text to turn documents into MinHash signatures, in this process:
    ours (the whole batch at once: :func:`refinery.text.shingle_hashes.shingle_hash_sets`
    and :func:`refinery.text.minhash.flat_signatures`), the per-document definition it
    replaces (``shingles`` → ``shingle_hashes`` per document, then ``signatures``), and
    datasketch's ``MinHash.bulk`` over the same shingle strings (its own hashing)."""
    from datasketch import MinHash

    from refinery.text.minhash import flat_signatures, signatures
    from refinery.text.shingle_hashes import shingle_hash_sets
    from refinery.text.shingles import shingle_hashes, shingles

    rows = _grown_rows(size, seed=3)
    texts, langs = [r["text"] for r in rows], [r["lang"] for r in rows]
    megabytes = _text_megabytes(rows)

    def ours() -> None:
        flat_signatures(*shingle_hash_sets(texts, langs))

    def per_document() -> None:
        signatures([shingle_hashes(shingles(t, lang)) for t, lang in zip(texts, langs, strict=True)])

    def datasketch() -> None:
        sets = [[s.encode("utf-8") for s in shingles(t, lang)] for t, lang in zip(texts, langs, strict=True)]
        MinHash.bulk(sets, num_perm=128)

    out: dict[str, Any] = {"rows": size, "text_mb": round(megabytes, 2)}
    for name, action in (("ours", ours), ("per_document_shingles", per_document), ("datasketch", datasketch)):
        started = time.process_time()
        action()
        out[f"{name}_mb_per_cpu_s"] = round(megabytes / (time.process_time() - started), 3)
    out["ours_vs_per_document_shingles"] = round(
        out["ours_mb_per_cpu_s"] / out["per_document_shingles_mb_per_cpu_s"], 2
    )
    out["ours_vs_datasketch"] = round(out["ours_mb_per_cpu_s"] / out["datasketch_mb_per_cpu_s"], 2)
    return out


def _scale(spark, make, work: Path) -> dict[str, Any]:
    from pyspark.sql import functions as F

    from refinery.runtime.runner import run_one
    from refinery.spark.tables import read_table

    out: dict[str, Any] = {}
    for size in SCALE_SIZES:
        settings = make(f"scale_{size}", "clean.segment.enabled=false")
        rows = _grown_rows(size, seed=size)
        megabytes = _text_megabytes(rows)
        grown = _silver_frame(spark, rows, work, f"grown_{size}", "grown")
        grown.repartition(8).write.format("delta").save(settings.tables.silver)
        del rows
        run_id = f"bench-dedup-{size}"
        timed = _timed(lambda s=settings, r=run_id: run_one("dedup", s, spark, r), size)
        out[str(size)] = {
            **timed,
            **_per_core(megabytes, timed),
            **_dup_counts(read_table(spark, settings.tables.silver)),
            **_pair_counts(spark, settings, run_id),
            "phase_seconds": _phase_seconds(spark, settings, run_id),
            "peak_rss": _peak_rss_mb(),
        }

    # A new batch against the largest silver: the same generator continued, so its edited
    # copies point at rows of the earlier batch; only the new rows get signatures.
    size = max(SCALE_SIZES)
    rows = _grown_rows(size + INCREMENT_ROWS, seed=size)[size:]
    settings = make(f"scale_{size}", "clean.segment.enabled=false", "dedup.batch=next")
    _silver_frame(spark, rows, work, "increment", "next").write.format("delta").mode("append").save(
        settings.tables.silver
    )
    timed = _timed(lambda: run_one("dedup", settings, spark, "bench-dedup-increment"), INCREMENT_ROWS)
    new = read_table(spark, settings.tables.silver).where(F.col("ingest_batch") == "next")
    out["increment"] = {
        **timed,
        **_per_core(_text_megabytes(rows), timed),
        "phase_seconds": _phase_seconds(spark, settings, "bench-dedup-increment"),
        "silver_rows_before": size,
        **_dup_counts(new),
        "new_rows_pointing_to_earlier_batch": new.where(F.col("dup_of") < F.lit(f"g{size:08d}")).count(),
        **_job_details(spark, settings, "bench-dedup-increment", "neighbourhood_rows", "rows_updated"),
        "peak_rss": _peak_rss_mb(),
    }
    return out


def run() -> dict:
    from refinery.config import TABLE_NAMES, load_settings
    from refinery.spark.session import build_spark

    started_all = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="refinery-bench-dedup-"))
    conf = [ROOT / "conf" / "local.yaml"]

    def make(name: str, *overrides: str):
        tables = [f"tables.{t}={work / name / t}" for t in TABLE_NAMES]
        return load_settings(conf, [*tables, f"ingest.input_root={CORPORA}", *overrides])

    try:
        spark = build_spark(make("session").spark, "refinery-bench-dedup")
        try:
            signature_speed = _signature_speed()
            quality = _quality(spark, make, work)
            scale = _scale(spark, make, work)
        finally:
            spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ours, peer = quality["ours"], quality["datasketch"]
    ratios: dict[str, float] = {
        "ours_minus_datasketch_precision": round(ours["precision"] - peer["precision"], 4),
        "ours_minus_datasketch_recall": round(ours["recall"] - peer["recall"], 4),
    }
    sizes = sorted((key for key in scale if key.isdigit()), key=int)
    for small, large in itertools.pairwise(sizes):
        ratios[f"scaling_{large}_vs_{small}_per_row"] = round(
            scale[large]["s_per_1k_rows"] / scale[small]["s_per_1k_rows"], 3
        )
    largest = scale[sizes[-1]]
    ratios["increment_seconds_vs_full_recompute_of_largest"] = round(
        scale["increment"]["seconds"] / largest["seconds"], 3
    )
    targets = {
        name: {"target": TARGET_DELTA, "measured": ratios[name], "met": ratios[name] >= TARGET_DELTA}
        for name in ("ours_minus_datasketch_precision", "ours_minus_datasketch_recall")
    }
    ratios["full_recompute_mb_per_s_per_core"] = largest["mb_per_s_per_core"]
    targets["full_recompute_mb_per_s_per_core"] = {
        "target": TARGET_MB_PER_S_PER_CORE,
        "measured": largest["mb_per_s_per_core"],
        "met": largest["mb_per_s_per_core"] >= TARGET_MB_PER_S_PER_CORE,
    }
    increment = ratios["increment_seconds_vs_full_recompute_of_largest"]
    targets["increment_seconds_vs_full_recompute_of_largest"] = {
        "target": TARGET_INCREMENT_SHARE,
        "measured": increment,
        "met": increment <= TARGET_INCREMENT_SHARE,
    }
    return {
        "signatures": signature_speed,
        "quality": quality,
        "scale": scale,
        "ratios": ratios,
        "targets": targets,
        "total_seconds": round(time.perf_counter() - started_all, 1),
    }
