"""Per-stage run counts and the reconciliation invariant, without Spark.

Every job stage reports how many rows came in, went out, were quarantined and were filtered,
the last two broken down by reason. The invariant checked for every stage is::

    rows_in = rows_out + Σ quarantined_by_reason + Σ filtered_by_reason

A stage whose counts do not reconcile has lost or invented rows; the runner fails the job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

OUT, QUARANTINED, FILTERED = "ok", "quarantine", "filter"


@dataclass
class StageMetrics:
    """Counts of one stage of one run (one row of the ``metrics`` table)."""

    stage: str
    rows_in: int
    rows_out: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    filtered_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float | None = None
    details: dict[str, str] = field(default_factory=dict)
    #: Written to ``metrics`` and checked, but not logged line by line (drift writes one row
    #: per statistic of every window; its run row carries the totals).
    quiet: bool = False

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def rows_filtered(self) -> int:
        return sum(self.filtered_by_reason.values())

    @property
    def rows_accounted(self) -> int:
        """``rows_out + rows_quarantined + rows_filtered``: the rows whose fate is known."""
        return self.rows_out + self.rows_quarantined + self.rows_filtered

    @property
    def reconciled(self) -> bool:
        """``rows_in == rows_out + rows_quarantined + rows_filtered``."""
        return self.rows_in == self.rows_accounted

    @classmethod
    def from_outcomes(
        cls, stage: str, counts: Iterable[tuple[str, str | None, int]], rows_in: int | None = None, **kwargs
    ) -> StageMetrics:
        """Build from ``(outcome, reason, count)`` triples, outcome one of ``ok``,
        ``quarantine``, ``filter``. ``rows_in`` defaults to the total, which makes the stage
        reconcile by construction: a job passes its independently counted input, so that the
        check can fail."""
        out, total = 0, 0
        quarantined: dict[str, int] = {}
        filtered: dict[str, int] = {}
        for outcome, reason, count in counts:
            total += count
            if outcome == OUT:
                out += count
            elif outcome == QUARANTINED:
                quarantined[reason or "unknown"] = quarantined.get(reason or "unknown", 0) + count
            elif outcome == FILTERED:
                filtered[reason or "unknown"] = filtered.get(reason or "unknown", 0) + count
            else:
                raise ValueError(f"unknown outcome {outcome!r}")
        return cls(stage, total if rows_in is None else rows_in, out, quarantined, filtered, **kwargs)


def merge_reasons(*maps: Mapping[str, int]) -> dict[str, int]:
    """Sum reason → count maps."""
    merged: dict[str, int] = {}
    for mapping in maps:
        for reason, count in mapping.items():
            merged[reason] = merged.get(reason, 0) + count
    return dict(sorted(merged.items()))
