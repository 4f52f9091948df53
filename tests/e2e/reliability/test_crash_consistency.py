"""Crash consistency (issue 9, part 2): ``kill -9`` the driver of ``clean`` and of ``score``
(its whole process group: Python, JVM, workers) at random moments of their Delta writes. After
each kill every table the job writes reads at its newest commit, with exactly the content from
before the run or from after an uninterrupted run; a rerun with the same run id then yields
exactly the uninterrupted run's content (a content hash).

This test runs one trial per job with a fixed seed, to keep the suite's time in bounds;
``bench/crash_bench.py`` runs ten per job spread over the kill window, from the MERGE's file
writes to the last commit (``bench/results/crash.json``). The method is
documented in :mod:`bench.crash`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from pyspark.sql import functions as F

from bench.crash import Lab, Trial, consistency_problems, prepare, run_trials
from refinery.spark.tables import delta_table, read_table

#: Recorded seeds of the trials this test runs (the bench uses others).
SEEDS = {"clean": (11,), "score": (21,)}


@pytest.fixture(scope="module")
def labs(spark, tmp_path_factory) -> dict[str, Lab]:
    return prepare(spark, tmp_path_factory.mktemp("crash"))


def test_the_reference_runs_write_inside_the_watched_window(labs: dict[str, Lab]) -> None:
    """The kill schedule rests on the reference runs: each wrote silver's data files before its
    commit, and changed the content of every table the job writes."""
    for job, lab in labs.items():
        assert 0 < lab.window_s < lab.reference.end_s, (job, lab.reference)
        assert all(lab.before[name] != lab.after[name] for name in lab.columns), job


@pytest.mark.parametrize("job", sorted(SEEDS))
def test_a_killed_run_leaves_consistent_tables_and_a_rerun_the_reference_content(
    spark, labs: dict[str, Lab], job: str
) -> None:
    trials = run_trials(spark, labs[job], SEEDS[job])
    for trial in trials:
        print(json.dumps(asdict(trial)))
    assert [t.problems for t in trials] == [[] for _ in trials]
    assert all(t.consistent and t.rerun_hash_equal and t.rerun_exit == 0 for t in trials)
    # every trial really was killed during the write: after silver's first new file
    assert all(t.killed_at_s > 0 and t.delay_s >= 0 for t in trials)


def test_the_consistency_check_finds_a_wrong_state_and_an_unreadable_table(
    spark, labs: dict[str, Lab], tmp_path: Path
) -> None:
    """The check after a kill is not vacuous: a silver that lost a row (content neither before
    nor after the run) is reported, and so is one whose newest version lost a data file."""
    lab = labs["clean"]
    tables = tmp_path / "tables"
    shutil.copytree(lab.root / "reference" / "tables", tables)
    assert consistency_problems(spark, lab, tables, Trial(job="clean", seed=0, stratum="-", delay_s=0)) == []

    silver = str(tables / "silver")
    delta_table(spark, silver).delete(F.col("id") == read_table(spark, silver).first()["id"])
    trial = Trial(job="clean", seed=0, stratum="-", delay_s=0)
    assert [p.split(":")[0] for p in consistency_problems(spark, lab, tables, trial)] == ["silver"]
    assert trial.states_after_kill == {"quarantine": "after", "silver": "neither"}

    Path(unquote(urlparse(read_table(spark, silver).inputFiles()[0]).path)).unlink()
    problems = consistency_problems(spark, lab, tables, Trial(job="clean", seed=0, stratum="-", delay_s=0))
    assert any(p.startswith("silver: does not read") for p in problems), problems
