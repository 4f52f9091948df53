"""Silver's Delta table features (``delta.silver``), each on its own against none, in one run:
what each costs the jobs that write silver and what it saves the readers.

Input: two sources, as two days. ``short`` (about 200-byte documents) and ``web`` (about 3.7 KB
documents), :func:`bench.scale.write_input`, ``REFINERY_FEATURES_MB`` MB each (default 8). Day 1
is each file; day 2 is a tenth as many rows per source, half of them new and half an edit of a
day-1 row (same id, new text): a re-delivered batch. ``ingest`` writes both days into one
``bronze`` once (it quarantines the edits as ``duplicate_id_conflict``: an id keeps its first
content, so day 2 adds new rows only, and the day-2 MERGEs insert; ``dedup``'s also flags day-1
rows that day-2 rows duplicate); every variant starts from a copy of it.

Variants: ``none`` (every feature off, the default), ``deletion_vectors``, ``row_tracking``,
``change_data_feed``, ``cluster_by_source`` (liquid clustering by ``source``), and ``all``.
Each runs in its own process (:mod:`bench.delta_features_worker`, CPU seconds of the JVM,
driver and workers from ``/proc``): ``clean`` and ``dedup`` on day 1, then on day 2 (the MERGEs
that write silver), then the readers: the whole table, the change feed since day 1 (where on),
and a ``source = 'web'`` query's files before and after ``OPTIMIZE``.

Ratios (variant / ``none``): ``<variant>_write_seconds`` (the four job runs),
``<variant>_cpu_seconds`` (the whole process), ``<variant>_day2_bytes_added`` (bytes the day-2
MERGEs wrote); ``change_feed_rows_vs_table`` (rows a consumer of day 2 reads from the feed / from
the table); ``clustered_web_files_vs_none`` (files the ``web`` query reads after ``OPTIMIZE``,
clustered / not).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.job_process import timed_command
from bench.scale import ROOT, write_input

VARIANTS: dict[str, list[str]] = {
    "none": [],
    "deletion_vectors": ["delta.silver.deletion_vectors=true"],
    "row_tracking": ["delta.silver.row_tracking=true"],
    "change_data_feed": ["delta.silver.change_data_feed=true"],
    "cluster_by_source": ["delta.silver.cluster_by=[source]"],
    "all": [
        "delta.silver.deletion_vectors=true",
        "delta.silver.row_tracking=true",
        "delta.silver.change_data_feed=true",
        "delta.silver.cluster_by=[source]",
    ],
}
SOURCES = ("short", "web")
DAY2_SHARE = 0.1


def write_days(folder: Path, megabytes: int) -> dict[str, Any]:
    """Day 1 and day 2 files of each source (see the module doc); rows per file."""
    rows: dict[str, int] = {}
    for source in SOURCES:
        day1 = folder / "day1" / f"{source}.jsonl"
        write_input(day1, source, megabytes, seed=7)
        lines = day1.read_text(encoding="utf-8").splitlines()
        extra = folder / "extra" / f"{source}.jsonl"
        write_input(extra, source, max(1, megabytes // 10), seed=11)
        fresh = extra.read_text(encoding="utf-8").splitlines()
        rng = random.Random(3)
        count = int(len(lines) * DAY2_SHARE)
        edited = [json.loads(line) for line in rng.sample(lines, count // 2)]
        for record in edited:
            record["text"] = record["text"] + (" (updated)" if source == "short" else "\n\nUpdated.")
        new = [json.loads(line) | {"id": f"n{i:09d}"} for i, line in enumerate(fresh[: count - len(edited)])]
        day2 = folder / "day2" / f"{source}.jsonl"
        day2.parent.mkdir(parents=True, exist_ok=True)
        day2.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [*edited, *new]), encoding="utf-8")
        rows |= {f"{source}_day1": len(lines), f"{source}_day2_edited": len(edited), f"{source}_day2_new": len(new)}
    return rows


def table_settings(tables: Path, inputs: Path, day: str = "day1") -> list[str]:
    """``--set`` items: every table under ``tables``, and both sources as files of ``day``."""
    from refinery.config import TABLE_NAMES

    sets = [f"tables.{t}={tables / t}" for t in TABLE_NAMES]
    sets += ["spark.progress_bar=false", "clean.rules=null", f"ingest.only=[{','.join(SOURCES)}]"]
    for source in SOURCES:
        spec = f"ingest.sources.{source}."
        sets += [f"{spec}path={inputs / day / f'{source}.jsonl'}", f"{spec}format=jsonl", f"{spec}label_required=false"]
        sets += [f"{spec}columns.{c}={c}" for c in ("id", "text", "label")]
    return sets


def ingest_day(inputs: Path, tables: Path, day: str, env: dict[str, str]) -> None:
    """``refinery ingest`` of one day's files into ``tables`` as batch ``day``."""
    sets = [*table_settings(tables, inputs, day), f"ingest.batch={day}"]
    command = [str(ROOT / ".venv" / "bin" / "refinery"), "ingest", "--conf", str(ROOT / "conf" / "local.yaml")]
    for item in sets:
        command += ["--set", item]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def run_variant(name: str, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """One variant's worker on a copy of the template's ``bronze``."""
    tables = work / name / "tables"
    shutil.copytree(work / "template" / "bronze", tables / "bronze")
    command = [sys.executable, "-m", "bench.delta_features_worker"]
    for item in [*table_settings(tables, work / "inputs"), *VARIANTS[name]]:
        command += ["--set", item]
    seconds, usage, output = timed_command(command, env)
    measured = json.loads(output.strip().splitlines()[-1])
    shutil.rmtree(work / name, ignore_errors=True)
    return {"seconds": round(seconds, 1), "cpu_seconds": usage["cpu_seconds"], **measured}


def run() -> dict:
    megabytes = int(os.environ.get("REFINERY_FEATURES_MB", "8"))
    work = Path(tempfile.mkdtemp(prefix="refinery-features-", dir=os.environ.get("REFINERY_BENCH_TMP")))
    env = {**os.environ, "REFINERY_HOME": str(ROOT), "PYTHONPATH": f"{ROOT / 'libs'}{os.pathsep}{ROOT}"}
    try:
        inputs = work / "inputs"
        rows = write_days(inputs, megabytes)
        for day in ("day1", "day2"):
            ingest_day(inputs, work / "template", day, env)
        variants = {name: run_variant(name, work, env) for name in VARIANTS}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"input": {"megabytes_per_source": megabytes, "rows": rows}, "variants": variants}
    return result | {"ratios": ratios(variants)}


def ratios(variants: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Each variant against ``none`` (see the module doc)."""
    base = variants["none"]

    def write_seconds(v: dict[str, Any]) -> float:
        return sum(v["steps"].values())

    def day2_bytes(v: dict[str, Any]) -> int:
        return sum(m["numTargetBytesAdded"] for m in v["day2_merges"].values())

    out: dict[str, float | None] = {}
    for name, v in variants.items():
        if name == "none":
            continue
        out[f"{name}_write_seconds"] = round(write_seconds(v) / write_seconds(base), 3)
        out[f"{name}_cpu_seconds"] = round(v["cpu_seconds"]["total"] / base["cpu_seconds"]["total"], 3)
        out[f"{name}_day2_bytes_added"] = round(day2_bytes(v) / max(1, day2_bytes(base)), 3)
    feed = variants["change_data_feed"]["reads"]
    out["change_feed_rows_vs_table"] = round(feed["changed_rows_since_day1"] / feed["table_rows"], 4)
    clustered = variants["cluster_by_source"]["reads"]["web_files_read_after_optimize"]
    unclustered = base["reads"]["web_files_read_after_optimize"]
    # no file read without clustering: the scan was answered without files, nothing to compare
    out["clustered_web_files_vs_none"] = round(clustered / unclustered, 3) if unclustered else None
    return out
