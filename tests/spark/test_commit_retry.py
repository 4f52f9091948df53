"""The retry policy for Delta commit conflicts: which errors it retries, how often, how long it
waits, and what it says when it gives up. Conflicts are Delta's own Python exception classes
(they need the session's JVM to exist), raised by a write function that loses a given number of
times; the race itself is provoked for real in tests/reliability/test_concurrent_writes.py."""

from __future__ import annotations

import random

import delta.exceptions.captured as delta_errors
import pytest

from refinery.spark.commit_retry import (
    CONFLICT_TYPES,
    CommitConflictError,
    is_commit_conflict,
    retry_on_conflict,
    session_retry_policy,
)


class LosingWrite:
    """A write that raises ``errors`` in turn, then returns ``"committed"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "committed"


@pytest.fixture
def conflicts(spark) -> list[BaseException]:
    """One instance of each of Delta's conflict classes (constructing one needs the JVM)."""
    return [kind("concurrent update", "stack") for kind in CONFLICT_TYPES]


def test_every_delta_conflict_class_is_a_conflict_and_other_errors_are_not(conflicts) -> None:
    assert len(conflicts) == 8
    assert all(is_commit_conflict(error) for error in conflicts)
    assert not is_commit_conflict(ValueError("Files were added"))
    assert not is_commit_conflict(RuntimeError("[DELTA_TABLE_NOT_FOUND] no table"))


def test_a_write_that_loses_twice_is_run_three_times_with_growing_waits(conflicts) -> None:
    write = LosingWrite(conflicts[4], conflicts[3])
    waits: list[float] = []
    result = retry_on_conflict(write, "silver", retries=4, wait_seconds=2.0, rng=random.Random(1), sleep=waits.append)
    assert result == "committed" and write.calls == 3
    assert len(waits) == 2
    assert 1.0 <= waits[0] <= 3.0 and 2.0 <= waits[1] <= 6.0  # 2·2^(k-1)·U(0.5, 1.5)


def test_any_other_error_is_raised_at_once_without_a_retry(conflicts) -> None:
    write = LosingWrite(OSError("disk full"), conflicts[0])
    with pytest.raises(OSError, match="disk full"):
        retry_on_conflict(write, "silver", retries=4, sleep=lambda _: None)
    assert write.calls == 1


def test_after_the_last_retry_the_error_names_the_table_and_the_setting(conflicts) -> None:
    write = LosingWrite(*conflicts[:3])
    message = r"write to /t/silver lost .* 3 times .*spark\.commit_retries \(now 2\)"
    with pytest.raises(CommitConflictError, match=message) as info:
        retry_on_conflict(write, "/t/silver", retries=2, sleep=lambda _: None)
    assert write.calls == 3
    assert isinstance(info.value.__cause__, delta_errors.MetadataChangedException)


def test_no_retries_fails_at_the_first_conflict(conflicts) -> None:
    write = LosingWrite(conflicts[5])
    with pytest.raises(CommitConflictError):
        retry_on_conflict(write, "quarantine", retries=0, sleep=lambda _: None)
    assert write.calls == 1


def test_the_session_carries_the_configured_policy(spark) -> None:
    # the test session is built from conf/local.yaml, which keeps base.yaml's defaults
    assert session_retry_policy(spark) == (4, 1.0)
