"""Config fuzz (issue 9, part 6): every way a configuration can be wrong stops the job the same
way, from outside: a real ``refinery <job>`` process exits with code 2 before Spark starts,
its stderr names the offending key (or file and line) and says how to fix it, shows no Python
traceback, and no table, report or export folder appears."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from refinery.config import TABLE_NAMES
from tests.support.paths import ROOT, corpora_dir
from tests.support.subprocess_helpers import subprocess_env

LOCAL = ROOT / "conf" / "local.yaml"
#: Signs that a JVM was started: none of them may appear for a configuration error.
SPARK_MARKERS = ("log4j", "NativeCodeLoader", "SparkContext", "Ivy Default Cache", "py4j")


@dataclass(frozen=True)
class Case:
    """One broken configuration: ``conf`` (YAML text of the overlay; ``{base}`` is the working
    overlay that puts every table under the test's folder), ``sets`` (``--set`` arguments,
    ``{tmp}`` replaced by the test's folder), the job to run, and the substrings stderr must
    show: the key (or file/line) at fault and the fix."""

    id: str
    job: str
    expect: tuple[str, ...]
    conf: str = "extends: {base}\n"
    sets: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)


def Set(id: str, job: str, assignment: str, expect: tuple[str, ...]) -> Case:  # noqa: N802 (a Case constructor)
    """A case made by one ``--set``."""
    return Case(id, job, expect, sets=(assignment,))


CASES = [
    # --- YAML that does not parse, or is not a mapping
    Case("yaml-unclosed-flow", "ingest", ("conf.yaml", "line", "fix:"), conf="extends: {base}\nspark: {{mode: local\n"),
    Case(
        "yaml-bad-indent",
        "clean",
        ("conf.yaml", "line", "fix:"),
        conf="extends: {base}\nspark:\n  mode: local\n mast: x\n",
    ),
    Case("yaml-tab-indent", "ingest", ("conf.yaml", "line", "fix:"), conf="extends: {base}\nspark:\n\tmode: local\n"),
    Case("yaml-top-level-list", "clean", ("conf.yaml", "top level", "fix:"), conf="- extends: {base}\n- spark: {{}}\n"),
    Case("yaml-top-level-scalar", "ingest", ("conf.yaml", "top level", "fix:"), conf="just a sentence\n"),
    Case("yaml-undefined-alias", "ingest", ("conf.yaml", "fix:"), conf="extends: {base}\nspark: *nowhere\n"),
    # --- unknown keys at several depths
    Case("unknown-top", "ingest", ("'sparkk'", "check its spelling"), conf="extends: {base}\nsparkk: {{}}\n"),
    Set("unknown-depth2", "clean", "spark.shufle_partitions=4", ("'spark.shufle_partitions'", "check its spelling")),
    Set("unknown-depth3", "clean", "clean.pii.typez=[EMAIL]", ("'clean.pii.typez'", "check its spelling")),
    Case(
        "unknown-depth5",
        "ingest",
        ("'ingest.sources.sms_spam.columns.txt'", "check its spelling"),
        conf="extends: {base}\ningest:\n  sources:\n    sms_spam:\n      columns: {{txt: SMS}}\n",
    ),
    # --- wrong types
    Set("type-int", "ingest", "spark.shuffle_partitions=many", ("'spark.shuffle_partitions'", "fix:", "whole number")),
    Set("type-bool", "clean", "spark.progress_bar=maybe", ("'spark.progress_bar'", "fix:", "true or false")),
    Set("type-list", "ingest", "ingest.only=5", ("'ingest.only'", "fix:", "list")),
    Set("type-mapping", "clean", "clean.normalize=true", ("'clean.normalize'", "fix:", "mapping")),
    Case("type-tables-list", "ingest", ("'tables'", "fix:", "mapping"), conf="extends: {base}\ntables: [a, b]\n"),
    Set("type-literal", "ingest", "spark.mode=remote", ("'spark.mode'", "'local' or 'cluster'", "fix:")),
    Set("type-float", "clean", "clean.langid.min_score=high", ("'clean.langid.min_score'", "fix:", "number")),
    # --- numbers out of range
    Set(
        "range-zero-partitions", "ingest", "spark.shuffle_partitions=0", ("'spark.shuffle_partitions'", "fix:", ">= 1")
    ),
    Set("range-threshold", "clean", "dedup.near.threshold=1.5", ("'dedup.near.threshold'", "fix:", "<= 1")),
    Set("range-payload", "ingest", "ingest.payload_max_chars=3", ("'ingest.payload_max_chars'", "fix:", ">= 16")),
    Set("range-negative", "clean", "drift.smoothing=-1", ("'drift.smoothing'", "fix:", "> 0")),
    Set("range-bands", "clean", "dedup.near.bands=7", ("'dedup.near'", "bands", "e.g.")),
    # --- extends
    Case("extends-missing", "ingest", ("extends", "nowhere.yaml", "fix:"), conf="extends: nowhere.yaml\n"),
    Case("extends-not-string", "clean", ("extends", "fix:"), conf="extends: [{base}]\n"),
    Case(
        "extends-cycle",
        "ingest",
        ("extends", "cycle", "fix:"),
        conf="extends: other.yaml\n",
        files={"other.yaml": "extends: conf.yaml\n"},
    ),
    # --- table and output locations that cannot be written
    Set("path-under-file", "ingest", "tables.bronze={tmp}/a_file/bronze", ("'tables.bronze'", "not a folder", "fix:")),
    Set("path-is-file", "clean", "tables.silver={tmp}/a_file", ("'tables.silver'", "not a folder", "fix:")),
    Set(
        "path-file-uri",
        "ingest",
        "tables.quarantine=file://{tmp}/a_file/q",
        ("'tables.quarantine'", "not a folder", "fix:"),
    ),
    Set("path-read-only", "ingest", "tables.metrics={readonly}/metrics", ("'tables.metrics'", "cannot create", "fix:")),
    Set("path-report-dir", "report", "report.dir={tmp}/a_file/reports", ("'report.dir'", "not a folder", "fix:")),
    Set(
        "path-export-dir", "select", "select.export_dir={readonly}/x", ("'select.export_dir'", "cannot create", "fix:")
    ),
    Set("path-training-export-dir", "export", "export.dir={tmp}/a_file/e", ("'export.dir'", "not a folder", "fix:")),
    Set("export-splits-sum", "export", "export.splits={{train: 0.7, test: 0.2}}", ("export.splits", "sum to 1")),
    Set(
        "pipeline-gold-under-file", "pipeline", "tables.gold={tmp}/a_file/g", ("'tables.gold'", "not a folder", "fix:")
    ),
    Set("path-empty-table", "clean", "tables.gold= ", ("'tables.gold'", "non-empty", "fix:")),
    # --- --set and other arguments
    Set(
        "set-without-equals",
        "ingest",
        "spark.shuffle_partitions",
        ("spark.shuffle_partitions", "expected dotted.key=value"),
    ),
    Set("set-bad-yaml", "clean", "ingest.only=[sms_spam", ("ingest.only", "not valid YAML", "quote it")),
    Set("set-through-scalar", "ingest", "spark.mode.x=1", ("spark.mode", "not a mapping", "set spark.mode itself")),
    Set("only-unknown-source", "ingest", "ingest.only=[no_such_source]", ("'ingest'", "no_such_source", "fix:")),
    Set("rules-file-missing", "clean", "clean.rules=conf/no_rules.yaml", ("'clean.rules'", "no rules file", "fix:")),
    Set(
        "quality-unknown-signal",
        "clean",
        "clean.quality.add=[{{name: big, signal: size, op: gt, threshold: 9}}]",
        ("'clean.quality'", "clean.quality.add[0] ('big')", "unknown 'signal' 'size'", "fix: use one of"),
    ),
    Set(
        "quality-disable-unknown",
        "rebalance",
        "clean.quality.disable=[no_such_rule]",
        ("'clean.quality'", "unknown rule 'no_such_rule'", "fix: use one of"),
    ),
    Set(
        "bad-encoding",
        "ingest",
        "ingest.sources.sms_spam.encoding=klingon",
        ("'ingest.sources.sms_spam.encoding'", "codec"),
    ),
    Case("bad-run-id", "clean", ("--run-id", "A-Z a-z 0-9"), extra_args=("--run-id", "a b/c")),
    # --- inputs that are not there: found before Spark, like the outputs
    Set(
        "input-root-missing", "ingest", "ingest.input_root={tmp}/no_landing", ("'ingest.sources.", "nothing at", "fix:")
    ),
    Set("source-path-missing", "ingest", "ingest.sources.sms_spam.path=gone.tsv", ("'ingest.sources.sms_spam.path'",)),
]


def _unwritable_folder(tmp: Path) -> Path:
    """A folder where no sub-folder can be created: a read-only folder for an ordinary user;
    for root (whom permissions do not stop), a pseudo file system that refuses ``mkdir``."""
    readonly = tmp / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    for candidate in (readonly, Path("/proc"), Path("/sys")):
        probe = candidate / f"probe-{os.getpid()}"
        try:
            probe.mkdir()
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT):
                return candidate
            raise
        probe.rmdir()
    pytest.skip("no unwritable folder on this machine")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_config_exits_2_before_spark_naming_the_key_and_fix(case: Case, tmp_path: Path) -> None:
    tmp = tmp_path
    (tmp / "a_file").write_text("not a folder\n", encoding="utf-8")
    work = tmp / "work"  # the process's working folder: must stay empty (no spark-warehouse, no data/)
    work.mkdir()
    out = tmp / "out"  # every table, report, export and scratch folder of the base overlay
    base = {
        "extends": str(LOCAL),
        "tables": {name: str(out / "tables" / name) for name in TABLE_NAMES},
        "report": {"dir": str(out / "reports")},
        "select": {"export_dir": str(out / "exports")},
        "export": {"dir": str(out / "training_exports")},
        "score": {"work_dir": str(out / "score_work")},
        "spark": {"progress_bar": False},
        "ingest": {"input_root": str(corpora_dir())},
    }
    (tmp / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    readonly = _unwritable_folder(tmp) if "{readonly}" in "".join(case.sets) else None
    values = {"base": str(tmp / "base.yaml"), "tmp": str(tmp), "readonly": str(readonly)}
    (tmp / "conf.yaml").write_text(case.conf.format(**values), encoding="utf-8")
    for name, text in case.files.items():
        (tmp / name).write_text(text.format(**values), encoding="utf-8")
    command = [sys.executable, "-m", "refinery.cli", case.job, "--conf", str(tmp / "conf.yaml")]
    for assignment in case.sets:
        command += ["--set", assignment.format(**values)]
    command += list(case.extra_args)
    env = subprocess_env(PYTHONPATH=os.pathsep.join([str(ROOT / "libs"), os.environ.get("PYTHONPATH", "")]))

    started = time.monotonic()
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - started

    stderr = done.stderr
    assert done.returncode == 2, f"exit {done.returncode}\n{stderr[-3000:]}"
    assert "Traceback" not in stderr, stderr
    for expected in case.expect:
        assert expected in stderr, f"{expected!r} not in stderr:\n{stderr}"
    assert not any(marker in stderr + done.stdout for marker in SPARK_MARKERS), stderr
    assert not out.exists(), sorted(str(p) for p in out.rglob("*"))
    assert list(work.iterdir()) == []
    assert not (tmp / "a_file").is_dir()
    assert seconds < 60
