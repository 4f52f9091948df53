"""Commit retries without Spark: conflicts recognised by JVM class or error class in a message, and
the backoff's jitter. With Delta's conflict classes: tests/spark/test_commit_retry.py."""

from __future__ import annotations

import random

from refinery.spark.commit_retry import (
    backoff_seconds,
    is_commit_conflict,
)


def test_a_conflict_wrapped_in_another_error_is_recognised_by_its_jvm_class_or_error_class() -> None:
    wrapped = RuntimeError("py4j: io.delta.exceptions.ConcurrentAppendException: Files were added ...")
    assert is_commit_conflict(wrapped)
    assert is_commit_conflict(RuntimeError("[DELTA_CONCURRENT_DELETE_READ] This transaction attempted to read"))
    assert is_commit_conflict(RuntimeError("[DELTA_PROTOCOL_CHANGED] The protocol version has changed"))


def test_backoff_doubles_within_its_jitter() -> None:
    rng = random.Random(7)
    for attempt in range(1, 6):
        wait = backoff_seconds(attempt, 0.5, rng)
        assert 0.5 * 2 ** (attempt - 1) * 0.5 <= wait <= 0.5 * 2 ** (attempt - 1) * 1.5
