"""The console script and the entry scripts without Spark: a bad config exits 2 before Spark
starts, no entry script shadows the standard library, every job has one. spark-submit itself:
tests/e2e/test_spark_submit.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.subprocess_helpers import subprocess_env


def test_bad_config_exits_2_before_spark_starts(tmp_path):
    from tests.support.paths import ROOT

    script = Path(sys.executable).with_name("refinery")
    bad = ["--set", "spark.shuffle_partitions=many", "--set", "ingest.sorces={}"]
    done = subprocess.run(
        [str(script), "ingest", "--conf", str(ROOT / "conf" / "local.yaml"), *bad],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "spark.shuffle_partitions" in done.stderr and "ingest.sorces" in done.stderr
    assert "Spark" not in done.stderr.split("refinery ingest:")[0]  # nothing started before the error


def test_entry_scripts_do_not_shadow_the_standard_library():
    # spark-submit puts jobs/ first on sys.path: a jobs/select.py broke every job (subprocess
    # imports the standard library's select)
    from tests.support.paths import ROOT

    scripts = {path.stem for path in (ROOT / "jobs").glob("*.py")}
    assert scripts and not scripts & set(sys.stdlib_module_names)


def test_every_job_has_an_entry_script_that_runs_it():
    from refinery.runtime.runner import ALL_JOBS, ENTRY_SCRIPTS
    from tests.support.paths import ROOT

    assert set(ENTRY_SCRIPTS) == set(ALL_JOBS)
    for job, script in ENTRY_SCRIPTS.items():
        assert f'main_for("{job}")' in (ROOT / script).read_text(encoding="utf-8"), script
