"""One stage of a job, recorded: its time, its counts, its details and the frames it holds.

Every job reports its work as :class:`~refinery.runtime.metrics.StageMetrics` rows, and every
job used to assemble them by hand: a ``time.monotonic()`` at the top and another at the end, a
list of checkpointed frames released in a ``finally``, an input count kept in a local, the
outcome triples, and a dict of stringified details. :func:`stage` does that once, the way
datatrove's ``PipelineStep`` gives every step ``stat_update`` and ``track_time``::

    with stage(ctx, "clean") as s:
        s.rows_in = bronze.count()             # the input, counted on its own
        cleaned = s.hold(clean_records(...))   # checkpointed now, released when the block exits
        ...
        s.outcomes([("ok", None, merged.rows_written), ("quarantine", reason, n), ...])
        s.details = CleanDetails(...)          # a typed record (``to_map()``) or a string map
    return JobResult(batch=batch, stages=s.stages)

What it owns:

* **time**: ``seconds`` of the stage's row is the wall time from entering the block to
  leaving it; :meth:`Stage.phase` times a named part of it as well (``phase.<name>.ms``
  details, and a Spark job description while it runs);
* **the input count**: ``rows_in``, set by the job from the input it read, independently of
  the outcome counts, so that the reconciliation check (``rows_in = out + quarantined +
  filtered``) can fail;
* **the committed counts**: ``(outcome, reason, count)`` triples (:meth:`Stage.outcomes`),
  summed by outcome and reason as :meth:`StageMetrics.from_outcomes` does;
* **details**: a typed record with ``to_map()`` (each job's record spells its keys in one
  place) or a plain ``dict[str, str]``; the ``metrics`` table keeps its string map;
* **held frames**: :meth:`Stage.hold` checkpoints a frame
  (:func:`refinery.spark.checkpoint.checkpointed`) and every held frame is released
  (:func:`~refinery.spark.checkpoint.release`) when the block exits, on error too;
* **more rows**: a job that writes several rows (ingest: one per source; drift: one per
  window and statistic, ``quiet``) adds them with :meth:`Stage.add` or :meth:`Stage.child`;
  a job with several timed stages opens one block per stage and returns both blocks' rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from refinery.runtime.metrics import StageMetrics

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from refinery.runtime.context import JobContext


class Details(Protocol):
    """A stage's typed details: the one place its metrics keys are spelled."""

    def to_map(self) -> dict[str, str]: ...


class Stage:
    """The recorder :func:`stage` yields; :attr:`metrics` is the stage's ``metrics`` row."""

    def __init__(self, name: str, ctx: JobContext | None = None, quiet: bool = False) -> None:
        self.name = name
        self.ctx = ctx
        self.quiet = quiet
        #: The input, counted by the job on its own (``None``: the sum of the outcomes).
        self.rows_in: int | None = None
        #: A typed record with ``to_map()``, or a ``dict[str, str]``.
        self.details: Details | Mapping[str, str] = {}
        #: Wall seconds of each :meth:`phase`, in the order first entered.
        self.phases: dict[str, float] = {}
        #: Frames released when the block exits; a helper may append frames it stored itself.
        self.held: list[DataFrame] = []
        self._counts: list[tuple[str, str | None, int]] = []
        self._more: list[StageMetrics] = []
        self._started = time.monotonic()
        self._seconds: float | None = None

    @property
    def elapsed(self) -> float:
        """Wall seconds since the block was entered (until it exited, once it has)."""
        return self._seconds if self._seconds is not None else time.monotonic() - self._started

    def count_input(self, frame: DataFrame) -> int:
        """``rows_in`` = ``frame.count()``: the input, counted before the transform."""
        self.rows_in = frame.count()
        return self.rows_in

    def hold(self, frame: DataFrame) -> DataFrame:
        """``frame`` checkpointed now, released when the block exits."""
        from refinery.spark.checkpoint import checkpointed

        return self.keep(checkpointed(frame))

    def keep(self, frame: DataFrame) -> DataFrame:
        """``frame`` (already checkpointed or persisted), released when the block exits."""
        self.held.append(frame)
        return frame

    def release(self) -> None:
        """Release every held frame now (the block's exit does it anyway)."""
        from refinery.spark.checkpoint import release

        held, self.held = self.held, []
        release(*held)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a part of the stage: its wall seconds are added to ``phases[name]``
        (``phase.<name>.ms`` in the details) and Spark's jobs meanwhile carry its name
        (:func:`refinery.spark.session.timed_phase`)."""
        from refinery.spark.session import timed_phase

        if self.ctx is None:
            raise ValueError("a stage without a JobContext has no Spark session to time phases in")
        with timed_phase(self.ctx.spark, name, self.phases):
            yield

    def outcomes(self, counts: Iterable[tuple[str, str | None, int]]) -> None:
        """Record ``(outcome, reason, count)`` triples, outcome ``ok``, ``quarantine`` or ``filter``."""
        self._counts.extend(counts)

    def out(self, count: int) -> None:
        """Record ``count`` rows out."""
        self._counts.append(("ok", None, count))

    def quarantined(self, reason: str, count: int) -> None:
        """Record ``count`` rows quarantined for ``reason``."""
        self._counts.append(("quarantine", reason, count))

    def filtered(self, reason: str, count: int) -> None:
        """Record ``count`` rows filtered for ``reason``."""
        self._counts.append(("filter", reason, count))

    def add(self, *metrics: StageMetrics) -> None:
        """More rows of the job, after this stage's own (their counts and details as built)."""
        self._more.extend(metrics)

    def child(
        self,
        name: str,
        counts: Iterable[tuple[str, str | None, int]],
        rows_in: int | None = None,
        details: Details | Mapping[str, str] | None = None,
        quiet: bool = False,
    ) -> StageMetrics:
        """Add and return an untimed row ``name`` (e.g. ``ingest/<source>``) from outcome triples."""
        row = StageMetrics.from_outcomes(name, counts, rows_in=rows_in, details=_as_map(details), quiet=quiet)
        self._more.append(row)
        return row

    @property
    def metrics(self) -> StageMetrics:
        """This stage's row: its counts, ``seconds`` (the block's wall time; until now while
        inside it), details as a string map with each phase's ``phase.<name>.ms`` after them."""
        from refinery.spark.session import phase_details

        row = StageMetrics.from_outcomes(self.name, self._counts, rows_in=self.rows_in, seconds=self.elapsed)
        row.details = _as_map(self.details) | phase_details(self.phases)
        row.quiet = self.quiet
        return row

    @property
    def stages(self) -> list[StageMetrics]:
        """:attr:`metrics` and the rows added after it: what the job returns."""
        return [self.metrics, *self._more]

    def _close(self) -> None:
        self._seconds = time.monotonic() - self._started


@contextmanager
def stage(ctx: JobContext | None, name: str, quiet: bool = False) -> Iterator[Stage]:
    """Record stage ``name`` of ``ctx``'s job for the block; see the module docstring. The
    held frames are released and the clock stopped when the block exits, also on error."""
    recorder = Stage(name, ctx, quiet)
    try:
        yield recorder
    finally:
        try:
            recorder.release()
        finally:
            recorder._close()


def _as_map(details: Details | Mapping[str, str] | None) -> dict[str, str]:
    if details is None:
        return {}
    if hasattr(details, "to_map"):
        return details.to_map()
    return dict(details)
