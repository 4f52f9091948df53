"""Retrying a Delta write that lost a commit race to another writer.

Delta commits optimistically: a write reads a snapshot, writes its files, then tries to add
version ``n+1`` to ``_delta_log``. When another writer committed in between and the two touch
the same data (two ``clean`` runs whose batches overlap, a MERGE racing a ``replaceWhere``, two
first writes creating one table), Delta refuses the later commit with one of its concurrent
modification exceptions and the loser's files stay uncommitted (invisible, removed by
``VACUUM``). Nothing is half-written, so the loser may simply try again on the new snapshot.

Every Refinery write is idempotent by construction (it replaces or MERGEs exactly the slice it
owns), so repeating the whole write, table-existence check included, is safe: the final table
is the one the two runs would have left one after the other. :func:`retry_on_conflict` does
that up to ``spark.commit_retries`` times, waiting ``wait · 2^(k-1) · U(0.5, 1.5)`` seconds
before retry ``k`` (exponential backoff with jitter, so two losers do not collide again in
lock-step). Any other error is raised at once; after the last retry the conflict is raised
with a message that names the setting to raise.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import delta.exceptions.captured as delta_errors  # importing it makes PySpark raise Delta's own classes

T = TypeVar("T")

#: Spark properties through which the config (``spark.commit_retries``,
#: ``spark.commit_retry_wait_seconds``) reaches every write of the session.
RETRIES_PROPERTY = "spark.refinery.commitRetries"
WAIT_PROPERTY = "spark.refinery.commitRetryWaitSeconds"
DEFAULT_RETRIES, DEFAULT_WAIT_SECONDS = 4, 1.0

#: Delta's commit-conflict exceptions (Python classes; they share no base class but PySpark's).
CONFLICT_TYPES: tuple[type[BaseException], ...] = (
    delta_errors.DeltaConcurrentModificationException,
    delta_errors.ConcurrentWriteException,
    delta_errors.MetadataChangedException,
    delta_errors.ProtocolChangedException,
    delta_errors.ConcurrentAppendException,
    delta_errors.ConcurrentDeleteReadException,
    delta_errors.ConcurrentDeleteDeleteException,
    delta_errors.ConcurrentTransactionException,
)
#: The same conflicts by their JVM class names and Delta error classes, for a conflict that
#: reaches Python wrapped in another exception (then PySpark cannot convert it).
CONFLICT_MARKERS = (
    "io.delta.exceptions.Concurrent",
    "io.delta.exceptions.DeltaConcurrentModificationException",
    "io.delta.exceptions.MetadataChangedException",
    "io.delta.exceptions.ProtocolChangedException",
    "[DELTA_CONCURRENT_",
    "[DELTA_METADATA_CHANGED]",
    "[DELTA_PROTOCOL_CHANGED]",
)

_log = logging.getLogger("refinery.commit_retry")


class CommitConflictError(RuntimeError):
    """A Delta write still lost its commit race after every retry."""


def is_commit_conflict(error: BaseException) -> bool:
    """True when ``error`` is Delta refusing a commit because another writer committed first."""
    if isinstance(error, CONFLICT_TYPES):
        return True
    return any(marker in str(error) for marker in CONFLICT_MARKERS)


def backoff_seconds(attempt: int, wait_seconds: float, rng: random.Random) -> float:
    """Wait before retry ``attempt`` (1-based): ``wait · 2^(attempt-1) · U(0.5, 1.5)`` seconds."""
    return wait_seconds * 2 ** (attempt - 1) * rng.uniform(0.5, 1.5)


def retry_on_conflict(
    write: Callable[[], T],
    what: str,
    retries: int = DEFAULT_RETRIES,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``write`` (one whole, idempotent write of the table ``what``), running it again after
    a Delta commit conflict, at most ``retries`` more times. Returns what ``write`` returns.

    Raises :class:`CommitConflictError` (from the last conflict) when every try lost, and any
    other exception of ``write`` at once. Each retry is logged as a warning with the table, the
    attempt and the exception's class, never its message (it may quote a predicate's values).
    """
    rng = rng or random.Random()
    attempt = 0
    while True:
        try:
            return write()
        except Exception as error:
            if not is_commit_conflict(error):
                raise
            attempt += 1
            if attempt > retries:
                raise CommitConflictError(
                    f"write to {what} lost its Delta commit to concurrent writers {attempt} times "
                    f"({type(error).__name__}); fix: rerun it, or raise spark.commit_retries (now {retries})"
                ) from error
            pause = backoff_seconds(attempt, wait_seconds, rng)
            _log.warning(
                "Delta commit conflict, retrying the write",
                extra={
                    "table": what,
                    "attempt": attempt,
                    "retries": retries,
                    "conflict": type(error).__name__,
                    "wait_seconds": round(pause, 2),
                },
            )
            sleep(pause)


def session_retry_policy(spark) -> tuple[int, float]:
    """(retries, wait seconds) of the session: ``spark.commit_retries`` and
    ``spark.commit_retry_wait_seconds`` as :func:`refinery.spark.session.session_conf` set them."""
    retries = int(spark.conf.get(RETRIES_PROPERTY, str(DEFAULT_RETRIES)))
    wait = float(spark.conf.get(WAIT_PROPERTY, str(DEFAULT_WAIT_SECONDS)))
    return retries, wait
