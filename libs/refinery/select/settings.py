"""``select``: active learning and QC routing into ``review_queue`` (see :mod:`refinery.select.job`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from refinery.config.base import Strict
from refinery.config.paths import resolve_path


class SelectQcSettings(Strict):
    """``select.qc``: labelled rows routed to review (the automated quality check)."""

    enabled: bool = True
    #: τ: labelled rows whose ``confidence`` (the score job's EMA) is below it are reviewed.
    min_confidence: float = Field(default=0.85, ge=0.0, le=1.0)
    #: Review rows whose exact duplicate carries another label (dedup's ``label_conflict``).
    label_conflict: bool = True
    #: Review rows with a flagged annotation-rule violation (``rule_violations``).
    rule_violations: bool = True
    #: At most this many QC rows per run, lowest confidence first; ``None`` = all.
    max_rows: int | None = Field(default=None, ge=0)


class SelectSettings(Strict):
    """The ``select`` job: active learning and QC routing into ``review_queue``
    (see :mod:`refinery.select.job`)."""

    #: Uncertainty sampling over unlabelled rows (see :mod:`refinery.labels.active_learning`).
    strategy: Literal["least_confidence", "margin", "entropy", "random"] = "margin"
    #: Unlabelled rows queued per run, or per group with ``group_by``.
    budget: int = Field(default=100, ge=0)
    #: ``None``: one budget over all unlabelled rows, ranked by raw uncertainty. A silver column
    #: (e.g. ``source``): each of its values gets its own ``budget`` (and its own ``quotas``),
    #: ranked within the group, so a source with many classes, whose uncertainties run higher
    #: (entropy up to ln C), does not take the whole budget from a two-class one.
    group_by: str | None = None
    #: At most this many queued rows per predicted class (``{Sports: 20}``); others unlimited.
    #: With ``group_by``, per class within each group.
    quotas: dict[str, int] = Field(default_factory=dict)
    #: At most one row per dedup cluster (the most uncertain one).
    skip_duplicates: bool = True
    #: Seed of the ``random`` strategy.
    seed: int = 23
    qc: SelectQcSettings = Field(default_factory=SelectQcSettings)
    #: Folder for the review files (``<run_id>/review_queue.jsonl``, ``.csv``,
    #: ``label_studio_tasks.json``); ``None`` writes none. Relative to the working folder.
    export_dir: str | None = "data/review_exports"

    @field_validator("quotas")
    @classmethod
    def _counts(cls, value: dict[str, int]) -> dict[str, int]:
        if any(v < 0 for v in value.values()):
            raise ValueError("quotas must be counts of at least 0, e.g. {Sports: 20}")
        return value

    @field_validator("export_dir")
    @classmethod
    def _resolved(cls, value: str | None) -> str | None:
        return resolve_path(value) if value is not None else None
