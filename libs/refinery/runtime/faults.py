"""A fault only tests turn on: lose one row inside a job's transform.

The reconciliation check (``rows_in = rows_out + quarantined + filtered``, with ``rows_in``
counted from the input and the rest from what was committed) exists to catch a lost row, so
the test suite proves it catches one: with the environment variable :data:`FAULT_ENV` set to a
job's name (or a comma-separated list of names), that job drops one row of its transform's
output after it counted its input and before it writes, and must then exit 1 with a "counts do
not reconcile" line naming the stage and the difference.

**Test-only.** Never set :data:`FAULT_ENV` outside tests: it makes the job lose data on
purpose. Unset (the normal case), :func:`drop_one_row` and :func:`drop_one` return their
input untouched, so a job pays one environment lookup per call.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

#: The environment variable that turns the fault on for the jobs it names.
FAULT_ENV = "REFINERY_FAULT_DROP_ROW"
_ROW = "_fault_row"
T = TypeVar("T")


def fault_on(job: str) -> bool:
    """True when :data:`FAULT_ENV` names ``job``."""
    value = os.environ.get(FAULT_ENV)
    return bool(value) and job in {name.strip() for name in (value or "").split(",")}


def drop_one_row(frame: DataFrame, job: str) -> DataFrame:
    """``frame`` without one of its rows when the fault is on for ``job``, else ``frame``.

    The row is the first by a window over the whole frame (one partition: tiny test inputs
    only), so each evaluation of the result drops exactly one row; callers apply it to a frame
    they compute once (checkpointed or written once). An empty frame stays empty."""
    if not fault_on(job):
        return frame
    first = Window.orderBy(F.lit(1))
    return frame.withColumn(_ROW, F.row_number().over(first)).where(F.col(_ROW) > 1).drop(_ROW)


def drop_one(items: Sequence[T], job: str) -> list[T]:
    """``items`` without the first when the fault is on for ``job``, else all of them (for a
    transform whose output is driver-side data, such as the report's runs)."""
    return list(items[1:] if fault_on(job) else items)
