"""The whole pipeline at growing input sizes: does its cost grow linearly, and its memory not
at all?

For each shape of document and each size (default 100 MB, 300 MB and 1 GB of JSONL), one
input file is written and every job runs on it in order, each as its own ``refinery <job>``
process (``conf/local.yaml``: local[2], driver 2g), on fresh tables:

* ``short``: about 200-byte documents, each two real texts of one language joined (THUCNews
  titles, AG News descriptions, :func:`bench.dedup_evalset.base_documents`), and 10 % an edited
  copy of a recent one (:func:`bench.dedup_evalset.edit`), so dedup has real work;
* ``web``: about 3.7 KB documents, six slices of real long articles of one class
  (``fudan_zh_articles``, ``twenty_newsgroups_bydate``) joined, and 10 % edited copies.

Both generators stream to the file and keep a bounded window of recent rows, so the bench's own
memory does not grow with the size either.

Per job: wall seconds, CPU seconds by process kind and per MB of input, peak RSS (``VmHWM``)
and peak anonymous RSS (without mapped file pages: score's driver maps its bags) of the JVM,
the driver's Python and the largest Python worker (:mod:`bench.job_process`),
the bytes the job added under the tables folder (Delta files written), and the stage counts it
logged. ``score`` runs as *featurize + one epoch*: two folds of one epoch each, so every
labelled row is trained on once and scored once (the full cross-fit belongs on a GPU:
``bench/results/capacity.json``).

Targets (issue 20): the largest size's total wall time at most :data:`TARGET_TIME_RATIO` ×
the smallest's for 10.24 × the bytes, and peak memory flat (largest / smallest per process
kind, reported). ``REFINERY_SCALE_RUNS`` picks shapes and sizes: ``short:100,1024;web:100``.
Results are written after every size, so a run cut short keeps what it measured, and a run of
one shape keeps the other shapes' earlier results (named in ``carried_over``).
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.dedup_evalset import EDITS, base_documents, edit
from bench.job_process import stage_counts, timed_command

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
RESULTS = ROOT / "bench" / "results" / "scale.json"
DEFAULT_RUNS = "short:100,300,1024;web:100,300,1024"
JOBS = ("ingest", "clean", "dedup", "score", "rebalance", "drift", "select", "report")
#: Issue 20: time at 1 GB over time at 100 MB.
TARGET_TIME_RATIO = 10.5
DUP_SHARE = 0.1
#: Rows an edited copy may come from (the most recent ones).
RECENT_ROWS = 50_000
WEB_SLICES, WEB_SLICE_CHARS = 6, 300
CORES = 2


def short_documents(seed: int) -> Iterator[dict[str, str]]:
    """Endless short rows (see the module doc)."""
    rng = random.Random(seed)
    pools: dict[str, list[tuple[str, str]]] = {"zh": [], "en": []}
    for text, lang, label in base_documents(CORPORA, 20_000, 8_000, seed):
        pools[lang].append((text, label))
    yield from _with_copies(rng, lambda: _joined_short(rng, pools))


def _joined_short(rng: random.Random, pools: dict[str, list[tuple[str, str]]]) -> tuple[str, str, str]:
    lang = "zh" if rng.random() < 0.6 else "en"
    (first, label), (second, _) = rng.choice(pools[lang]), rng.choice(pools[lang])
    return first + ("，" if lang == "zh" else " ") + second, lang, label


def web_documents(seed: int) -> Iterator[dict[str, str]]:
    """Endless web-sized rows (see the module doc)."""
    rng = random.Random(seed)
    articles: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for lang, path in (
        ("zh", CORPORA / "fudan_zh_articles" / "fudan_test_every3rd.jsonl"),
        ("en", CORPORA / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl"),
    ):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if len(record["text"]) > WEB_SLICE_CHARS:
                    articles[(lang, str(record["label"]))].append(record["text"])
    classes = sorted(articles)
    yield from _with_copies(rng, lambda: _joined_web(rng, classes, articles))


def _joined_web(
    rng: random.Random, classes: list[tuple[str, str]], articles: dict[tuple[str, str], list[str]]
) -> tuple[str, str, str]:
    lang, label = rng.choice(classes)
    parts = []
    for _ in range(WEB_SLICES):
        text = rng.choice(articles[(lang, label)])
        start = rng.randrange(0, len(text) - WEB_SLICE_CHARS + 1)
        parts.append(text[start : start + WEB_SLICE_CHARS])
    return ("\n" if lang == "zh" else "\n\n").join(parts), lang, label


def _with_copies(rng: random.Random, fresh) -> Iterator[dict[str, str]]:
    """Rows from ``fresh()``, a :data:`DUP_SHARE` of them an edited copy of one of the last
    :data:`RECENT_ROWS` rows instead."""
    kinds = [k for k in EDITS if k != "traditional"]
    recent: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=RECENT_ROWS)
    index = 0
    while True:
        if recent and rng.random() < DUP_SHARE:
            text, lang, label = recent[rng.randrange(len(recent))]
            row = edit(text, lang, rng.choice(kinds), rng), lang, label
        else:
            row = fresh()
        recent.append(row)
        yield {"id": f"d{index:09d}", "text": row[0], "label": row[2]}
        index += 1


def write_input(path: Path, shape: str, megabytes: int, seed: int = 7) -> dict[str, Any]:
    """Write ``megabytes`` MB (2^20 bytes) of JSONL rows of ``shape``; rows and text MB."""
    rows = text_bytes = 0
    documents = short_documents(seed) if shape == "short" else web_documents(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in documents:
            if handle.tell() >= megabytes << 20:
                break
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            rows += 1
            text_bytes += len(row["text"].encode("utf-8"))
    return {"rows": rows, "file_mb": round(path.stat().st_size / (1 << 20), 1), "text_mb": round(text_bytes / 1e6, 1)}


def job_settings(work: Path, source: Path) -> list[str]:
    """``--set`` items: every table and folder under ``work``, the one source, and score as
    featurize + one epoch (see the module doc)."""
    from refinery.config import TABLE_NAMES

    sets = [f"tables.{t}={work / 'tables' / t}" for t in TABLE_NAMES]
    spec = "ingest.sources.scale."
    sets += [f"{spec}path={source}", f"{spec}format=jsonl", f"{spec}label_required=false"]
    sets += [f"{spec}columns.{c}={c}" for c in ("id", "text", "label")]
    sets += ["ingest.only=[scale]", "spark.progress_bar=false"]
    sets += [f"score.work_dir={work / 'score_work'}", f"report.dir={work / 'reports'}"]
    sets += [f"select.export_dir={work / 'exports'}"]
    sets += ["score.folds=2", "score.model.epochs=1"]
    return sets


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under ``folder`` (0 if it does not exist)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def run_job(job: str, work: Path, source: Path, env: dict[str, str], extra: Sequence[str] = ()) -> dict[str, Any]:
    """Run one job as its own process; its wall and CPU seconds, memory, bytes and counts.
    ``extra``: more ``--set`` items, after the bench's own."""
    command = [str(ROOT / ".venv" / "bin" / "refinery"), job, "--conf", str(ROOT / "conf" / "local.yaml")]
    for item in [*job_settings(work, source), *extra]:
        command += ["--set", item]
    before = folder_bytes(work / "tables")
    seconds, usage, output = timed_command(command, env)
    return {
        "seconds": round(seconds, 1),
        **usage,
        "delta_bytes_written": folder_bytes(work / "tables") - before,
        "stages": stage_counts(output),
    }


def measure(work: Path, shape: str, megabytes: int, env: dict[str, str], extra: Sequence[str] = ()) -> dict[str, Any]:
    """One shape and size through every job (``extra``: more ``--set`` items for each); the
    input is removed afterwards."""
    run = work / f"{shape}-{megabytes}"
    source = run / "input" / "corpus.jsonl"
    data = write_input(source, shape, megabytes)
    jobs = {}
    for job in JOBS:
        jobs[job] = run_job(job, run, source, env, extra)
        jobs[job]["cpu_seconds_per_mb"] = round(jobs[job]["cpu_seconds"]["total"] / data["file_mb"], 2)
    shutil.rmtree(run, ignore_errors=True)
    seconds = sum(j["seconds"] for j in jobs.values())
    cpu = sum(j["cpu_seconds"]["total"] for j in jobs.values())
    kinds = {kind for j in jobs.values() for kind in j["peak_rss_mb"]}
    return {
        "input": data,
        "jobs": jobs,
        "total": {
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "cpu_seconds_per_mb": round(cpu / data["file_mb"], 2),
            "mb_per_s_per_core": round(data["file_mb"] / seconds / CORES, 3),
            "peak_rss_mb": {k: max(j["peak_rss_mb"].get(k, 0) for j in jobs.values()) for k in sorted(kinds)},
            "peak_anon_mb": {k: max(j["peak_anon_mb"].get(k, 0) for j in jobs.values()) for k in sorted(kinds)},
        },
    }


def curve(sizes: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Largest size against smallest: bytes ratio, wall and CPU ratios in total and per job,
    and peak memory ratios per process kind (1.0 = flat)."""
    small, large = min(sizes), max(sizes)
    a, b = sizes[small], sizes[large]
    per_job = {
        job: {
            "seconds": round(b["jobs"][job]["seconds"] / a["jobs"][job]["seconds"], 2),
            "cpu_seconds": round(b["jobs"][job]["cpu_seconds"]["total"] / a["jobs"][job]["cpu_seconds"]["total"], 2),
        }
        for job in a["jobs"]
    }
    memory = {
        measure: {
            kind: round(b["total"][measure][kind] / a["total"][measure][kind], 2)
            for kind in a["total"][measure]
            if kind in b["total"][measure]
        }
        for measure in ("peak_rss_mb", "peak_anon_mb")
    }
    time_ratio = b["total"]["seconds"] / a["total"]["seconds"]
    return {
        "sizes_mb": [small, large],
        "bytes_ratio": round(b["input"]["file_mb"] / a["input"]["file_mb"], 2),
        "seconds_ratio": round(time_ratio, 2),
        "cpu_seconds_ratio": round(b["total"]["cpu_seconds"] / a["total"]["cpu_seconds"], 2),
        "per_job": per_job,
        "peak_rss_ratio": memory["peak_rss_mb"],
        "peak_anon_ratio": memory["peak_anon_mb"],
        "target_seconds_ratio": TARGET_TIME_RATIO,
        "meets_target": bool(time_ratio <= TARGET_TIME_RATIO) if large >= 10 * small else None,
    }


def parse_runs(spec: str) -> list[tuple[str, list[int]]]:
    """``short:100,300;web:100`` → ``[("short", [100, 300]), ("web", [100])]``."""
    runs = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        shape, _, sizes = part.partition(":")
        if shape not in ("short", "web") or not sizes:
            raise SystemExit(f"REFINERY_SCALE_RUNS: {part!r}; fix: shape:MB,MB with shape short or web")
        runs.append((shape, sorted(int(s) for s in sizes.split(","))))
    return runs


def run() -> dict:
    runs = parse_runs(os.environ.get("REFINERY_SCALE_RUNS", DEFAULT_RUNS))
    work = Path(tempfile.mkdtemp(prefix="refinery-scale-", dir=os.environ.get("REFINERY_BENCH_TMP")))
    env = {**os.environ, "REFINERY_HOME": str(ROOT), "PYTHONPATH": str(ROOT / "libs")}
    result: dict[str, Any] = {"input": {"runs": dict(runs), "jobs": list(JOBS)}, "shapes": {}, "curves": {}}
    result |= _earlier_shapes({shape for shape, _ in runs})
    try:
        for shape, sizes in runs:
            measured: dict[int, dict[str, Any]] = {}
            for megabytes in sizes:
                measured[megabytes] = measure(work, shape, megabytes, env)
                result["shapes"][shape] = {f"{mb}mb": m for mb, m in measured.items()}
                if len(measured) > 1:
                    result["curves"][shape] = curve(measured)
                _write_partial(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _earlier_shapes(measuring: set[str]) -> dict[str, Any]:
    """The shapes of the last result file that this run does not measure, kept as they were
    (``carried_over`` names when each was measured), so one shape can be rerun alone."""
    if not RESULTS.exists():
        return {}
    earlier = json.loads(RESULTS.read_text(encoding="utf-8"))
    kept = [shape for shape in earlier.get("shapes", {}) if shape not in measuring]
    when = earlier.get("carried_over", {})
    return {
        "shapes": {shape: earlier["shapes"][shape] for shape in kept},
        "curves": {shape: earlier["curves"][shape] for shape in kept if shape in earlier.get("curves", {})},
        "carried_over": {shape: when.get(shape, earlier.get("measured_at")) for shape in kept},
    }


def _write_partial(result: dict[str, Any]) -> None:
    """What is measured so far, where ``bench.run`` writes the whole result at the end."""
    from datetime import UTC, datetime

    from bench.run import machine

    stamp = {"benchmark": "scale", "measured_at": datetime.now(UTC).isoformat(), "machine": machine()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**result, "partial": True, **stamp}, indent=2, ensure_ascii=False) + "\n")
