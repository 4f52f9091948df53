"""One refinery job run as its own process, measured from outside: CPU seconds and peak
memory of its whole process tree by process kind (the JVM, the driver's Python, Spark's Python
workers), sampled from ``/proc``, and the counts each stage logged. A Spark job's cost is spread
over processes a Python timer inside the driver cannot see."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path


class TreeUsage:
    """Peak RSS (``VmHWM``, MB), peak anonymous RSS (``RssAnon`` as sampled, MB: the memory a
    process owns, without the file pages it maps, which the kernel reclaims at will; a
    memory-mapped file read through counts in ``VmHWM`` whole) and CPU seconds (user +
    system) of a process tree by kind,
    sampled every 0.2 s from ``/proc``. CPU seconds do not depend on what else the machine
    runs, so their ratios hold on a busy machine where wall-clock ratios do not."""

    def __init__(self, root: int) -> None:
        self.root, self.peaks, self.anon, self._stop = root, {}, {}, threading.Event()
        self._cpu: dict[int, tuple[str, float]] = {}
        self._tick = os.sysconf("SC_CLK_TCK")
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for pid, kind in self._tree().items():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self._cpu[pid] = (kind, (int(fields[11]) + int(fields[12])) / self._tick)
                for line in status.splitlines():
                    for key, peaks in (("VmHWM:", self.peaks), ("RssAnon:", self.anon)):
                        if line.startswith(key):
                            mb = int(line.split()[1]) / 1024
                            peaks[kind] = round(max(peaks.get(kind, 0), mb), 1)

    def cpu_seconds(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for kind, seconds in self._cpu.values():
            totals[kind] = totals.get(kind, 0.0) + seconds
        return {kind: round(value, 1) for kind, value in sorted(totals.items())}

    def _tree(self) -> dict[int, str]:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(fields[1])
        tree, kinds = {self.root}, {}
        changed = True
        while changed:
            changed = False
            for pid, parent in parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    changed = True
        for pid in tree:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "java" in cmdline.split(" ")[0]:
                kinds[pid] = "jvm"
            elif "pyspark.daemon" in cmdline or "pyspark/worker" in cmdline or "pyspark.worker" in cmdline:
                kinds[pid] = "python_worker"
            elif "python" in cmdline:
                kinds[pid] = "driver_python"
        return kinds

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return dict(sorted(self.peaks.items()))


def timed_command(command: list[str], env: dict[str, str]) -> tuple[float, dict, str]:
    """Wall seconds, ``{"peak_rss_mb": …, "peak_anon_mb": …, "cpu_seconds": …}`` by process
    kind, and output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    usage = TreeUsage(process.pid)
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    peaks = usage.stop()
    if process.returncode != 0:
        kept = Path(tempfile.mkstemp(prefix="refinery-bench-failed-", suffix=".log")[1])
        kept.write_text(output, encoding="utf-8")
        head = next((line for line in output.splitlines() if "Error" in line or "Exception" in line), "")
        raise RuntimeError(f"{command[:3]} exited {process.returncode} (whole output: {kept}); first error: {head}")
    cpu = usage.cpu_seconds()
    usage_by_kind = {"peak_rss_mb": peaks, "peak_anon_mb": dict(sorted(usage.anon.items()))}
    return seconds, {**usage_by_kind, "cpu_seconds": {**cpu, "total": round(sum(cpu.values()), 1)}}, output


STAGE_COUNTS = ("rows_in", "rows_out", "rows_quarantined", "rows_filtered")


def stage_counts(output: str) -> dict[str, dict[str, int]]:
    """Stage → its row counts, from the ``stage finished`` lines of a job's JSON log."""
    stages = {}
    for line in output.splitlines():
        if '"stage finished"' in line:
            record = json.loads(line)
            stages[record["stage"]] = {k: record[k] for k in STAGE_COUNTS}
    return stages
