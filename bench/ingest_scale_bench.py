"""Ingest at file sizes real corpora ship in: one large JSONL file, the same bytes as ten files
and as one ``.gz``, and a large CSV; plain Spark alongside in the same run.

Input: web-sized documents (about 3.7 KB: real long articles from ``fudan_zh_articles`` and
``twenty_newsgroups_bydate`` in ``../shared/corpora``, cut or joined to that size), written with
a unique ``id`` each until the file reaches the run's size. ``REFINERY_BENCH_SCALE_RUNS`` picks
sizes and cases: ``MB:case,case;MB:case`` (default :data:`DEFAULT_RUNS`: the four cases at 1 GB,
then one file and one ``.gz`` at 4 GB). The cases:

* ``one_file``: one JSONL file of that size;
* ``ten_files``: the same records as ten files;
* ``one_gz``: the one file gzip-compressed (gzip cannot be split: ingest decompresses it once,
  in one task, to a staging copy that is then split; plain Spark reads it in one task). The
  case also times inflating the file alone, by Python's ``gzip`` and by ISA-L, which staging
  uses (``inflate_seconds``);
* ``one_csv``: one CSV file (``multiline: false``, so it is split like JSONL).

Each case runs twice, each time in a fresh ``spark-submit``-like process of its own
(``refinery ingest`` with ``conf/local.yaml``: driver 2g, local[2]): the full ingest job, and
the plain library call (``spark.read.json`` / ``.csv`` with the schema given, no inference,
written to Delta). Peak resident memory is sampled from ``/proc`` (``VmHWM``) for the JVM, the
driver's Python and the largest Python worker. Reported per case: seconds, MB/s per core,
records, peak RSS and CPU seconds per process kind, ``ingest_vs_plain_spark`` (wall-clock
throughput ratio) and ``ingest_vs_plain_spark_cpu`` (the same in CPU seconds, which holds on a
busy machine). Both include each process's start (JVM, session, first Delta commit). Each
case also records the machine's one-minute load average before it ran: on a shared machine, a
load above the two cores means the wall-clock figures of that case are slowed by others.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.job_process import stage_counts, timed_command

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
DOC_CHARS = 1800  # characters per document: about 3.7 KB of mixed Chinese and English UTF-8
CORES = 2
CASES = ("one_file", "ten_files", "one_gz", "one_csv")
DEFAULT_RUNS = "1024:one_file,ten_files,one_gz,one_csv;4096:one_file,one_gz"

_PLAIN = """
import sys, time
from pyspark.sql.types import StructType, StructField, StringType
from refinery.config import load_settings
from refinery.spark.session import build_spark
conf, fmt, src, out = sys.argv[1:5]
spark = build_spark(load_settings([conf], []).spark, "plain")
schema = StructType([StructField(n, StringType()) for n in ("id", "text", "label")])
reader = spark.read.schema(schema)
frame = reader.json(src) if fmt == "jsonl" else reader.option("header", "true").option("multiLine", "false").csv(src)
frame.write.format("delta").mode("overwrite").save(out)
print("ROWS", spark.read.format("delta").load(out).count())
spark.stop()
"""


def _documents() -> list[tuple[str, str]]:
    """(text, label) pairs of about :data:`DOC_CHARS` characters from the long-article corpora."""
    docs = []
    for path in (
        CORPORA / "fudan_zh_articles" / "fudan_test_every3rd.jsonl",
        CORPORA / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl",
    ):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                text = record["text"]
                for start in range(0, max(len(text) - DOC_CHARS // 2, 1), DOC_CHARS):
                    docs.append((text[start : start + DOC_CHARS], str(record["label"])))
    return docs


def _write_inputs(folder: Path, megabytes: int, cases: list[str]) -> dict[str, tuple[str, Path, int]]:
    """The input files of each case: case → (format, path, records)."""
    docs = _documents()
    target = megabytes << 20
    one = folder / "one" / "corpus.jsonl"
    one.parent.mkdir(parents=True)
    records = 0
    with one.open("w", encoding="utf-8") as handle:
        while handle.tell() < target:
            text, label = docs[records % len(docs)]
            handle.write(json.dumps({"id": f"d{records}", "text": text, "label": label}, ensure_ascii=False) + "\n")
            records += 1
    inputs: dict[str, tuple[str, Path, int]] = {"one_file": ("jsonl", one, records)}
    if "ten_files" in cases:
        ten = folder / "ten"
        ten.mkdir()
        outs = [(ten / f"part-{i:02d}.jsonl").open("wb") for i in range(10)]
        with one.open("rb") as handle:
            for index, line in enumerate(handle):
                outs[index * 10 // records].write(line)
        for out in outs:
            out.close()
        inputs["ten_files"] = ("jsonl", ten, records)
    if "one_gz" in cases:
        gz = folder / "gz" / "corpus.jsonl.gz"
        gz.parent.mkdir()
        with one.open("rb") as handle, gzip.open(gz, "wb", compresslevel=1) as out:
            shutil.copyfileobj(handle, out, 8 << 20)
        inputs["one_gz"] = ("jsonl", gz, records)
    if "one_csv" in cases:
        path = folder / "csv" / "corpus.csv"
        path.parent.mkdir()
        with one.open(encoding="utf-8") as handle, path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "text", "label"])
            for line in handle:
                record = json.loads(line)
                # one physical line per record, as a line-split CSV needs
                writer.writerow([record["id"], record["text"].replace("\r", " ").replace("\n", " "), record["label"]])
        inputs["one_csv"] = ("csv", path, records)
    return {case: inputs[case] for case in cases}


def _ingest(work: Path, case: str, fmt: str, path: Path, env: dict[str, str]) -> dict:
    tables = work / f"tables-{case}"
    sets = [f"tables.{t}={tables / t}" for t in ("bronze", "quarantine", "metrics")]
    sets += [
        f"ingest.sources.bench.path={path}",
        f"ingest.sources.bench.format={fmt}",
        "ingest.sources.bench.label_required=false",
        "ingest.only=[bench]",
    ]
    if fmt == "jsonl":
        sets += ["ingest.sources.bench.columns.text=text", "ingest.sources.bench.columns.label=label"]
    else:
        sets += ["ingest.sources.bench.header=true", "ingest.sources.bench.multiline=false"]
        sets += ["ingest.sources.bench.columns.text=text", "ingest.sources.bench.columns.label=label"]
    sets += ["ingest.sources.bench.columns.id=id", "spark.progress_bar=false"]
    events = work / f"events-{case}"
    shutil.rmtree(events, ignore_errors=True)  # a case's log from an earlier size
    events.mkdir()
    sets += ["spark.conf.spark.eventLog.enabled=true", f"spark.conf.spark.eventLog.dir={events}"]
    sets += ["spark.conf.spark.eventLog.compress=false"]
    command = [str(ROOT / ".venv" / "bin" / "refinery"), "ingest", "--conf", str(ROOT / "conf" / "local.yaml")]
    for item in sets:
        command += ["--set", item]
    seconds, usage, output = timed_command(command, env)
    counts = stage_counts(output).get("ingest", {})
    return {"seconds": round(seconds, 1), **usage, **counts, "where_the_time_goes": _phases(events)}


def _phases(events: Path) -> dict:
    """Where an ingest's wall-clock time went, from its Spark event log: the seconds of the
    Spark jobs of each phase (the job descriptions ingest sets, see ``job_phase``), and the
    time outside any job (process and session start, planning, Delta commits and log reads)."""
    jobs, starts, first, last = [], {}, None, None
    for log in events.rglob("events_*"):
        for line in log.open(encoding="utf-8"):
            event = json.loads(line)
            kind = event["Event"]
            if kind == "SparkListenerApplicationStart":
                first = event["Timestamp"]
            elif kind == "SparkListenerApplicationEnd":
                last = event["Timestamp"]
            elif kind == "SparkListenerJobStart":
                description = (event.get("Properties") or {}).get("spark.job.description") or ""
                ours = description.startswith("refinery ") and ": " in description
                phase = description.rsplit(": ", 1)[1] if ours else "other (Delta's own jobs, listing)"
                starts[event["Job ID"]] = (event["Submission Time"], phase)
            elif kind == "SparkListenerJobEnd" and event["Job ID"] in starts:
                began, phase = starts[event["Job ID"]]
                jobs.append((began, event["Completion Time"], phase))
    if first is None or last is None:
        return {}
    phases: dict[str, float] = {}
    covered, end = 0, first
    for began, done, phase in sorted(jobs):  # jobs may overlap: count the covered time once
        span = max(0, done - max(began, end))
        phases[phase] = phases.get(phase, 0) + span
        covered += span
        end = max(end, done)
    return {
        "spark_jobs_seconds": {phase: round(ms / 1000, 1) for phase, ms in phases.items()},
        "outside_jobs_seconds": round((last - first - covered) / 1000, 1),
        "spark_jobs": len(jobs),
    }


def _plain(work: Path, case: str, fmt: str, path: Path, env: dict[str, str]) -> dict:
    script = work / "plain.py"
    script.write_text(_PLAIN)
    conf = str(ROOT / "conf" / "local.yaml")
    command = [sys.executable, str(script), conf, fmt, str(path), str(work / f"plain-{case}")]
    seconds, usage, output = timed_command(command, env)
    rows = int(next(line.split()[1] for line in output.splitlines() if line.startswith("ROWS ")))
    return {"seconds": round(seconds, 1), **usage, "rows": rows}


def _inflate_seconds(path: Path) -> dict:
    """Seconds to inflate the ``.gz`` at ``path`` to its end, nothing kept, by Python's
    ``gzip`` and by ISA-L's ``igzip`` (one core each, one after the other), and their ratio."""
    from isal import igzip

    seconds = {}
    for name, opener in (("python_gzip", gzip.open), ("isal", igzip.open)):
        started = time.perf_counter()
        with opener(path, "rb") as stream:
            while stream.read(8 << 20):
                pass
        seconds[name] = round(time.perf_counter() - started, 2)
    return {**seconds, "isal_vs_python_gzip": round(seconds["python_gzip"] / seconds["isal"], 2)}


def _runs(spec: str) -> list[tuple[int, list[str]]]:
    """``"MB:case,case;MB:case"`` → ``[(MB, [case, …]), …]``, each case one of :data:`CASES`."""
    runs = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        size, _, names = part.partition(":")
        cases = [c for c in names.split(",") if c] or list(CASES)
        unknown = sorted(set(cases) - set(CASES))
        if unknown:
            raise SystemExit(f"REFINERY_BENCH_SCALE_RUNS: unknown case(s) {unknown}; fix: use {', '.join(CASES)}")
        runs.append((int(size), cases))
    return runs


def _measure(work: Path, megabytes: int, cases: list[str], env: dict[str, str]) -> dict:
    results = {}
    inputs = _write_inputs(work / f"input-{megabytes}", megabytes, cases)
    for case, (fmt, path, records) in inputs.items():
        size_mb = sum(p.stat().st_size for p in ([path] if path.is_file() else path.iterdir())) / (1 << 20)
        load = round(os.getloadavg()[0], 2)
        ingest = _ingest(work, case, fmt, path, env)
        plain = _plain(work, case, fmt, path, env)
        shutil.rmtree(work / f"tables-{case}", ignore_errors=True)
        shutil.rmtree(work / f"plain-{case}", ignore_errors=True)
        text_mb = megabytes if case == "one_gz" else size_mb
        results[case] = {
            "format": fmt,
            "file_mb": round(size_mb, 1),
            "records": records,
            "load_avg_1min_before": load,
            "ingest": {**ingest, "mb_per_s_per_core": round(text_mb / ingest["seconds"] / CORES, 2)},
            "plain_spark": {**plain, "mb_per_s_per_core": round(text_mb / plain["seconds"] / CORES, 2)},
            "every_line_accounted_for": ingest.get("rows_in") == records
            and ingest.get("rows_out", 0) + ingest.get("rows_quarantined", 0) + ingest.get("rows_filtered", 0)
            == records,
            "ingest_vs_plain_spark": round(plain["seconds"] / ingest["seconds"], 3),
            "ingest_vs_plain_spark_cpu": round(plain["cpu_seconds"]["total"] / ingest["cpu_seconds"]["total"], 3),
        }
        if case == "one_gz":
            results[case]["inflate_seconds"] = _inflate_seconds(path)
    shutil.rmtree(work / f"input-{megabytes}", ignore_errors=True)
    return results


def run() -> dict:
    runs = _runs(os.environ.get("REFINERY_BENCH_SCALE_RUNS", DEFAULT_RUNS))
    work = Path(tempfile.mkdtemp(prefix="refinery-scale-", dir=os.environ.get("REFINERY_BENCH_TMP")))
    env = {**os.environ, "REFINERY_HOME": str(ROOT), "PYTHONPATH": str(ROOT / "libs")}
    try:
        measured = {f"{megabytes}mb": _measure(work, megabytes, cases, env) for megabytes, cases in runs}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = {}
    for size, results in measured.items():
        for case, r in results.items():
            ratios[f"{size}_{case}_ingest_vs_plain_spark"] = r["ingest_vs_plain_spark"]
            ratios[f"{size}_{case}_ingest_vs_plain_spark_cpu"] = r["ingest_vs_plain_spark_cpu"]
    return {
        "input": {"doc_chars": DOC_CHARS, "runs": {f"{mb}mb": cases for mb, cases in runs}},
        "sizes": measured,
        "ratios": ratios,
    }
