"""Crash consistency (issue 9, part 2): ``kill -9`` a job's driver while it writes its Delta
tables, then check that every table reads at a consistent version and that a rerun yields
exactly the content of an uninterrupted run.

Shared by ``tests/e2e/reliability/test_crash_consistency.py`` (a few trials per job) and
``bench/crash_bench.py`` (ten per job, ``bench/results/crash.json``).

**Setup** (:func:`prepare`, once): 200 SMS messages are ingested as batch ``b1`` and cleaned,
then 100 more are ingested as batch ``b2``, in the caller's SparkSession. Those tables are
``clean``'s template: its trial run MERGEs 300 rows into a 200-row silver (updates and
inserts), replaces clean's quarantine slice and writes a metrics row. An uninterrupted
``clean`` on a copy of them is the reference; its output is ``score``'s template, and an
uninterrupted ``score`` on a copy of that is score's reference (ADD COLUMNS, training, then a
MERGE of the score columns into silver). Every template table gets
``delta.checkpointInterval = 1``: each commit is followed by a checkpoint write, so kills
after a commit also land while Delta writes its checkpoint (by default only every tenth commit
has one).

**A trial** (:func:`run_trial`): the template tables are copied, the job is started as the
command a user runs (``python -m refinery.cli <job> --conf … --run-id …``) in a session of its
own, and silver's folder is polled. When the first new data file appears (the MERGE has begun
writing), the harness sleeps ``delay`` and then sends SIGKILL to the whole process group: the
Python driver, its JVM and the Python workers, with no chance to clean up. ``delay`` is drawn
from ``random.Random(seed)`` within stratum ``i`` of ``n`` equal strata of ``[0, span]``, where
``span`` is twice the reference run's write window (first data file to silver's new commit):
the first strata kill during the MERGE's file writes, the last ones after the commit (during
the checkpoint, the quarantine and metrics writes, or the shutdown). Whether the kill came
before or after the commit is read from the table afterwards (its version advanced or not).

**Checks after the kill**: each written table's newest ``_delta_log`` commit is the version
Delta reads (``DESCRIBE HISTORY``), the table reads, silver's ids are unique, and each table's
content hash is exactly that of the template (before) or of the reference run (after): no
partial commit. The metrics table holds at most one row for the run. Files that the killed
writer left but no commit references (orphans, which Delta ignores and ``VACUUM`` removes) are
counted; an uninterrupted run leaves some too (Spark writes a file for an empty partition, Delta
commits no file without rows), counted in the reference.

**The rerun** is the same command with the same ``--run-id`` (what the Airflow DAG does on a
retry: ``--run-id refinery-<ds>-<job>``). It must exit 0, and every table's content hash must
equal the reference's; the run has exactly one metrics row and score's scratch folder is empty.

The content hash (:func:`content_hash`) is SHA-256 over the sorted JSON of every row, maps as
sorted entries, without the columns that legitimately differ between two runs of the same
run id (:data:`VOLATILE`): the time a row was cleaned or quarantined, and ``score_version``
(the silver version a score run read: a rerun after a committed MERGE reads the version that
MERGE made, see :mod:`refinery.score.job`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote

import yaml
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

from refinery.config import TABLE_NAMES, load_settings
from refinery.runtime.runner import run_one
from refinery.spark.tables import delta_table, read_table, set_properties

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
SMS = Path("sms_spam_collection") / "SMSSpamCollection"
FIRST_BATCH, SECOND_BATCH = 200, 100
#: Job under test → the tables whose content it changes (checked against before/after states).
WRITTEN: dict[str, tuple[str, ...]] = {"clean": ("silver", "quarantine"), "score": ("silver",)}
#: The table watched for the first new data file, and keyed by ``id``.
WATCHED = "silver"
#: Job → table → columns that legitimately differ between two runs with the same run id.
VOLATILE: dict[str, dict[str, tuple[str, ...]]] = {
    "clean": {"silver": ("cleaned_at",), "quarantine": ("quarantined_at",)},
    "score": {"silver": ("score_version",)},
}
POLL_S = 0.01
RUN_TIMEOUT_S = 900.0
_COMMIT = re.compile(r"^(\d{20})\.json$")


@dataclass
class Timeline:
    """Seconds since a job's process started: when silver got its first new data file, when
    each table's new commits appeared, and when the process ended (or was killed)."""

    first_data_s: float | None = None
    #: silver's version when its first new data file appeared (the one the MERGE builds on)
    data_version: int | None = None
    commits_s: dict[str, list[float]] = field(default_factory=dict)
    end_s: float = 0.0
    killed: bool = False

    @property
    def data_commit_s(self) -> float | None:
        """When silver's first commit after its first new data file appeared (score's ADD
        COLUMNS commit comes before any data file)."""
        if self.first_data_s is None:
            return None
        return next((t for t in self.commits_s.get(WATCHED, []) if t >= self.first_data_s), None)


@dataclass(frozen=True)
class Lab:
    """One job's experiment: the template tables it starts from, its command's config and run
    id, the expected contents before and after, and the reference run's timeline."""

    job: str
    root: Path
    template: Path
    run_id: str
    columns: dict[str, tuple[str, ...]]
    before: dict[str, str]
    after: dict[str, str]
    reference: Timeline
    reference_orphans: dict[str, int]

    @property
    def window_s(self) -> float:
        """The reference's MERGE window: silver's first new data file to its new commit."""
        return self.reference.data_commit_s - self.reference.first_data_s

    @property
    def writes_s(self) -> float:
        """The reference's writes: silver's first new data file to the run's last commit
        (quarantine, metrics)."""
        return max(t for times in self.reference.commits_s.values() for t in times) - self.reference.first_data_s


@dataclass
class Trial:
    """What one kill did (JSON-ready with :func:`dataclasses.asdict`)."""

    job: str
    seed: int
    stratum: str
    delay_s: float
    killed: bool = False
    killed_at_s: float = 0.0
    killed_after_commit: bool = False
    versions_before: dict[str, int] = field(default_factory=dict)
    versions_after_kill: dict[str, int] = field(default_factory=dict)
    versions_after_rerun: dict[str, int] = field(default_factory=dict)
    states_after_kill: dict[str, str] = field(default_factory=dict)
    orphan_files: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    consistent: bool = False
    rerun_exit: int | None = None
    rerun_hash_equal: bool = False
    scratch_files_left: int = 0
    seconds: float = 0.0


# --- the command and its environment --------------------------------------------------------


def write_conf(folder: Path, tables: Path, input_root: Path | None = None) -> Path:
    """The overlay YAML of a run in ``folder``: tables under ``tables``, Spark's and score's
    scratch inside ``folder`` (other processes on the machine clean /tmp), a small score."""
    folder.mkdir(parents=True, exist_ok=True)
    overlay = {
        "extends": str(ROOT / "conf" / "local.yaml"),
        "spark": {
            "progress_bar": False,
            "shuffle_partitions": 2,
            "conf": {"spark.local.dir": str(folder / "spark"), "spark.ui.enabled": "false"},
        },
        "tables": {name: str(tables / name) for name in TABLE_NAMES},
        "ingest": {"input_root": str(input_root or folder / "input"), "only": ["sms_spam"]},
        # short and non-English messages go to quarantine: clean then writes a quarantine slice;
        # fastText alone: its model loads in a moment, the ensemble's take most of a small run
        "clean": {"on_disallowed_language": "quarantine", "langid": {"backend": "fasttext"}},
        "score": {"work_dir": str(folder / "score_work"), "device": "cpu", "threads": 1},
        "select": {"export_dir": str(folder / "exports")},
        "report": {"dir": str(folder / "reports")},
    }
    conf = folder / "crash.yaml"
    conf.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    return conf


def job_env(folder: Path) -> dict[str, str]:
    """The job's environment: this interpreter for driver and workers, TMPDIR in ``folder``."""
    scratch = folder / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "libs"), str(ROOT), os.environ.get("PYTHONPATH")])),
        REFINERY_HOME=str(ROOT),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        TMPDIR=str(scratch),
    )
    return env


def start_job(job: str, folder: Path, run_id: str, log_name: str) -> subprocess.Popen:
    """``python -m refinery.cli <job>`` on ``folder``'s config, in a new session (its own
    process group, which the JVM and the Python workers join), output to a log file."""
    command = [sys.executable, "-m", "refinery.cli", job, "--conf", str(folder / "crash.yaml"), "--run-id", run_id]
    with (folder / log_name).open("w", encoding="utf-8") as log:
        return subprocess.Popen(
            command, cwd=folder, env=job_env(folder), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def group_alive(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def kill_group(proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """SIGKILL to ``proc``'s whole process group (driver, JVM, workers); waits until none is
    left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + timeout_s
    while group_alive(proc.pid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of group {proc.pid} survived SIGKILL: {group_alive(proc.pid)}")
        time.sleep(0.05)


# --- watching a table's folder ----------------------------------------------------------------


def latest_version(table: Path) -> int:
    """The newest commit in ``table/_delta_log`` (-1 for no table)."""
    log = table / "_delta_log"
    if not log.is_dir():
        return -1
    versions = [int(m.group(1)) for name in os.listdir(log) if (m := _COMMIT.match(name))]
    return max(versions, default=-1)


def data_files(table: Path) -> set[str]:
    """Data files under ``table`` (relative paths), hidden files and the log excluded."""
    if not table.is_dir():
        return set()
    found = set()
    for folder, dirs, files in os.walk(table):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
        rel = Path(folder).relative_to(table)
        found.update(str(rel / name) if str(rel) != "." else name for name in files if not name.startswith(("_", ".")))
    return found


def committed_files(table: Path) -> set[str]:
    """Every data file some commit of ``table`` added (whether or not a later one removed it)."""
    added = set()
    for name in os.listdir(table / "_delta_log"):
        if _COMMIT.match(name):
            for line in (table / "_delta_log" / name).read_text(encoding="utf-8").splitlines():
                action = json.loads(line) if line.strip() else {}
                if "add" in action:
                    added.add(unquote(action["add"]["path"]))
    return added


def new_orphans(template: Path, table: Path) -> set[str]:
    """Data files of ``table`` that ``template`` (the table it was copied from) lacks and no
    commit references."""
    return data_files(table) - data_files(template) - committed_files(table)


def follow(
    proc: subprocess.Popen,
    tables: Path,
    started: float,
    kill_delay_s: float | None = None,
    timeout_s: float = RUN_TIMEOUT_S,
) -> Timeline:
    """Poll ``tables``' folders until ``proc`` ends, recording silver's first new data file and
    each table's first new commit; with ``kill_delay_s``, SIGKILL the group that long after silver's
    first new data file (``end_s`` is then the kill's time)."""
    names = [p.name for p in sorted(tables.iterdir()) if p.is_dir()]
    known = data_files(tables / WATCHED)
    versions = {name: latest_version(tables / name) for name in names}
    timeline = Timeline(commits_s={name: [] for name in names})
    while proc.poll() is None:
        now = time.monotonic() - started
        if timeline.first_data_s is None and data_files(tables / WATCHED) - known:
            timeline.first_data_s, timeline.data_version = now, latest_version(tables / WATCHED)
        for name in names:
            newest = latest_version(tables / name)
            timeline.commits_s[name] += [round(now, 3)] * (newest - versions[name])
            versions[name] = max(versions[name], newest)
        if kill_delay_s is not None and timeline.first_data_s is not None:
            remaining = timeline.first_data_s + kill_delay_s - (time.monotonic() - started)
            if remaining <= POLL_S:
                time.sleep(max(remaining, 0.0))
                timeline.end_s = time.monotonic() - started
                kill_group(proc)
                timeline.killed = True
                return timeline
        if now > timeout_s:
            kill_group(proc)
            raise TimeoutError(f"{proc.args} ran over {timeout_s} s")
        time.sleep(POLL_S)
    timeline.end_s = time.monotonic() - started
    return timeline


# --- contents ----------------------------------------------------------------------------------


def content_hash(frame: DataFrame, columns: Sequence[str]) -> str:
    """SHA-256 of the sorted JSON rows of ``frame``'s ``columns`` (maps as sorted entries; a
    column the frame lacks reads as null, like a column added and never set)."""
    types = {f.name: f.dataType for f in frame.schema.fields}
    parts = []
    for name in columns:
        if name not in types:
            parts.append(F.lit(None).cast("string").alias(name))
        elif isinstance(types[name], MapType):
            parts.append(F.array_sort(F.map_entries(F.col(name))).alias(name))
        else:
            parts.append(F.col(name))
    rows = sorted(r[0] for r in frame.select(F.to_json(F.struct(*parts))).collect())
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode("utf-8") + b"\n")
    return digest.hexdigest()


def table_hashes(spark: SparkSession, tables: Path, columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """:func:`content_hash` of each table named in ``columns``."""
    return {name: content_hash(read_table(spark, str(tables / name)), cols) for name, cols in columns.items()}


def hashed_columns(spark: SparkSession, job: str, tables: Path) -> dict[str, tuple[str, ...]]:
    """The columns hashed per written table: all of ``tables``' (the reference's output, the
    widest schema) but the volatile ones."""
    volatile = VOLATILE[job]
    return {
        name: tuple(c for c in read_table(spark, str(tables / name)).columns if c not in volatile.get(name, ()))
        for name in WRITTEN[job]
    }


def metrics_rows(spark: SparkSession, tables: Path, job: str, run_id: str) -> int:
    """Rows of ``metrics`` for this run of ``job``."""
    frame = read_table(spark, str(tables / "metrics"))
    return frame.where((F.col("run_id") == run_id) & (F.col("job") == job)).count()


def consistency_problems(spark: SparkSession, lab: Lab, tables: Path, trial: Trial) -> list[str]:
    """What is wrong with ``tables`` right after a kill (empty: consistent). Records each
    written table's state (``before``, ``after`` or ``neither``) in ``trial``."""
    problems = []
    for name in sorted({*WRITTEN[lab.job], "metrics"}):
        try:
            problems += table_problems(spark, lab, tables, name, trial)
        except Exception as exc:  # the point of the check: any failure to read is a finding
            newest = latest_version(tables / name)
            problems.append(f"{name}: does not read at version {newest}: {type(exc).__name__}: {exc}"[:500])
    return problems


def table_problems(spark: SparkSession, lab: Lab, tables: Path, name: str, trial: Trial) -> list[str]:
    """:func:`consistency_problems` of one table; raises when it does not read."""
    problems = []
    location, newest = str(tables / name), latest_version(tables / name)
    history = int(delta_table(spark, location).history(1).first()["version"])
    if history != newest:
        problems.append(f"{name}: history says version {history}, the log's newest commit is {newest}")
    frame = read_table(spark, location)
    if name == WATCHED:
        ids = [r.id for r in frame.select("id").collect()]  # reads every file (a count may not)
        if len(set(ids)) != len(ids):
            problems.append(f"{name}: duplicate ids ({len(ids)} rows, {len(set(ids))} ids)")
    if name in lab.columns:
        state = {lab.before[name]: "before", lab.after[name]: "after"}.get(
            content_hash(frame, lab.columns[name]), "neither"
        )
        trial.states_after_kill[name] = state
        if state == "neither":
            problems.append(f"{name}: content is neither the state before the run nor after it")
    if name == "metrics" and (count := metrics_rows(spark, tables, lab.job, lab.run_id)) > 1:
        problems.append(f"metrics: {count} rows for run {lab.run_id}")
    return problems


# --- setup -------------------------------------------------------------------------------------


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """Two input roots of the ``sms_spam`` source: the first :data:`FIRST_BATCH` messages,
    and the next :data:`SECOND_BATCH` (each file with the corpus's header)."""
    header, *lines = (CORPORA / SMS).read_text(encoding="utf-8").splitlines()
    roots = []
    for name, part in (("b1", lines[:FIRST_BATCH]), ("b2", lines[FIRST_BATCH : FIRST_BATCH + SECOND_BATCH])):
        target = folder / name / SMS
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join([header, *part]) + "\n", encoding="utf-8")
        roots.append(folder / name)
    return roots[0], roots[1]


def run_in_process(spark: SparkSession, job: str, conf: Path, run_id: str, *overrides: str) -> None:
    """Run ``job`` in this process's SparkSession (setup only: faster than a new JVM)."""
    code = run_one(job, load_settings([conf], list(overrides)), spark, run_id)
    if code != 0:
        raise RuntimeError(f"setup: {job} exited {code}")


def checkpoint_every_commit(spark: SparkSession, tables: Path) -> None:
    """``delta.checkpointInterval = 1`` on every table under ``tables``."""
    for table in sorted(p for p in tables.iterdir() if (p / "_delta_log").is_dir()):
        set_properties(spark, str(table), {"delta.checkpointInterval": "1"})


def reference_run(spark: SparkSession, job: str, template: Path, folder: Path, run_id: str) -> Lab:
    """An uninterrupted run of ``job`` on a copy of ``template``: the expected after-state."""
    tables = folder / "tables"
    shutil.copytree(template, tables)
    write_conf(folder, tables)
    started = time.monotonic()
    proc = start_job(job, folder, run_id, "reference.log")
    timeline = follow(proc, tables, started)
    if proc.returncode != 0:
        log = (folder / "reference.log").read_text(encoding="utf-8", errors="replace")
        raise RuntimeError(f"reference {job} exited {proc.returncode}: {log[-3000:]}")
    if timeline.data_commit_s is None:
        raise RuntimeError(f"reference {job} wrote no new {WATCHED} file and commit: {timeline}")
    columns = hashed_columns(spark, job, tables)
    return Lab(
        job=job,
        root=folder.parent,
        template=template,
        run_id=run_id,
        columns=columns,
        before=table_hashes(spark, template, columns),
        after=table_hashes(spark, tables, columns),
        reference=timeline,
        reference_orphans={p.name: len(new_orphans(template / p.name, p)) for p in sorted(tables.iterdir())},
    )


def prepare(spark: SparkSession, root: Path) -> dict[str, Lab]:
    """Inputs, both templates and both reference runs under ``root`` (see the module doc)."""
    first, second = write_inputs(root / "input")
    clean_template = root / "templates" / "clean"
    conf = write_conf(root / "setup", clean_template, first)
    run_in_process(spark, "ingest", conf, "crash-setup-ingest-b1", "ingest.batch=b1")
    run_in_process(spark, "clean", conf, "crash-setup-clean-b1")
    run_in_process(spark, "ingest", conf, "crash-setup-ingest-b2", "ingest.batch=b2", f"ingest.input_root={second}")
    checkpoint_every_commit(spark, clean_template)
    clean = reference_run(spark, "clean", clean_template, root / "clean" / "reference", "crash-clean")
    score_template = root / "templates" / "score"
    shutil.copytree(root / "clean" / "reference" / "tables", score_template)
    score = reference_run(spark, "score", score_template, root / "score" / "reference", "crash-score")
    return {"clean": clean, "score": score}


# --- a trial -----------------------------------------------------------------------------------


def kill_delay(lab: Lab, seed: int, stratum: int, strata: int) -> tuple[float, str]:
    """A delay after silver's first new data file, drawn from ``random.Random(seed)`` within
    stratum ``stratum`` (from 0) of ``strata``, and the stratum's name. The first half of the
    strata split the reference's MERGE window (first data file to commit, ``merge i/k``), the
    others the rest of its writes up to its last commit (``after i/k``)."""
    during = (strata + 1) // 2
    if stratum < during:
        low, width, name = lab.window_s * stratum / during, lab.window_s / during, f"merge {stratum + 1}/{during}"
    else:
        index, after = stratum - during, strata - during
        width = (lab.writes_s - lab.window_s) / after
        low, name = lab.window_s + width * index, f"after {index + 1}/{after}"
    return low + width * random.Random(seed).random(), name


def run_trial(spark: SparkSession, lab: Lab, seed: int, stratum: int, strata: int) -> Trial:
    """Kill ``lab.job`` once, check the tables, rerun it, compare (see the module doc)."""
    trial_started = time.monotonic()
    folder = lab.root / f"trial-{seed}"
    tables = folder / "tables"
    shutil.copytree(lab.template, tables)
    write_conf(folder, tables)
    delay, name = kill_delay(lab, seed, stratum, strata)
    trial = Trial(job=lab.job, seed=seed, stratum=name, delay_s=delay)
    names = sorted({*WRITTEN[lab.job], "metrics"})
    trial.versions_before = {name: latest_version(tables / name) for name in names}
    started = time.monotonic()
    proc = start_job(lab.job, folder, lab.run_id, "killed.log")
    timeline = follow(proc, tables, started, kill_delay_s=trial.delay_s)
    # not killed: the run finished before the moment drawn (a fast run, a late stratum)
    trial.killed, trial.killed_at_s = timeline.killed, round(timeline.end_s, 3)
    trial.versions_after_kill = {name: latest_version(tables / name) for name in names}
    if timeline.data_version is not None:
        trial.killed_after_commit = trial.versions_after_kill[WATCHED] > timeline.data_version
    trial.orphan_files = {name: len(new_orphans(lab.template / name, tables / name)) for name in names}
    trial.problems += consistency_problems(spark, lab, tables, trial)
    trial.consistent = not trial.problems

    rerun = start_job(lab.job, folder, lab.run_id, "rerun.log")
    try:
        trial.rerun_exit = rerun.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill_group(rerun)
        trial.rerun_exit = None
    trial.versions_after_rerun = {name: latest_version(tables / name) for name in names}
    if trial.rerun_exit == 0:
        rerun_hashes = table_hashes(spark, tables, lab.columns)
        trial.rerun_hash_equal = rerun_hashes == lab.after
        if not trial.rerun_hash_equal:
            differ = sorted(n for n in lab.after if rerun_hashes[n] != lab.after[n])
            trial.problems.append(f"rerun: content differs from the reference in {differ}")
        if (count := metrics_rows(spark, tables, lab.job, lab.run_id)) != 1:
            trial.problems.append(f"rerun: {count} metrics rows for the run")
    else:
        log = (folder / "rerun.log").read_text(encoding="utf-8", errors="replace")
        trial.problems.append(f"rerun exited {trial.rerun_exit}: {log[-2000:]}")
    scratch = folder / "score_work"
    trial.scratch_files_left = sum(1 for p in scratch.rglob("*") if p.is_file()) if scratch.exists() else 0
    if trial.scratch_files_left:
        trial.problems.append(f"rerun: {trial.scratch_files_left} files left in score.work_dir")
    trial.delay_s = round(trial.delay_s, 3)
    trial.seconds = round(time.monotonic() - trial_started, 1)
    return trial


def run_trials(spark: SparkSession, lab: Lab, seeds: Iterable[int]) -> list[Trial]:
    """One trial per seed, the i-th of n in stratum i (see :func:`kill_delay`); each trial's
    folder is removed once checked, unless it found a problem."""
    seeds = list(seeds)
    trials = []
    for stratum, seed in enumerate(seeds):
        trial = run_trial(spark, lab, seed, stratum, len(seeds))
        if not trial.problems:
            shutil.rmtree(lab.root / f"trial-{seed}", ignore_errors=True)
        trials.append(trial)
    return trials


def summary(lab: Lab, trials: Sequence[Trial]) -> dict[str, object]:
    """Totals of one job's trials, with its reference timeline and every trial record."""
    return {
        "trials": len(trials),
        "killed": sum(t.killed for t in trials),  # the others finished before their moment came
        "killed_before_commit": sum(t.killed and not t.killed_after_commit for t in trials),
        "killed_after_commit": sum(t.killed and t.killed_after_commit for t in trials),
        "all_consistent": all(t.consistent for t in trials),
        "all_rerun_hashes_equal": all(t.rerun_hash_equal for t in trials),
        "orphan_files": sum(sum(t.orphan_files.values()) for t in trials),
        "problems": sum(len(t.problems) for t in trials),
        "reference": asdict(lab.reference)
        | {
            "merge_window_s": round(lab.window_s, 3),
            "writes_s": round(lab.writes_s, 3),
            "orphan_files": lab.reference_orphans,
        },
        "records": [asdict(t) for t in trials],
    }
