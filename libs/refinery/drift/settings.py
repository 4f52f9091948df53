"""``drift``: label and language distributions over time (see :mod:`refinery.drift.job`)."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from refinery.config.base import Strict
from refinery.config.errors import first_message


class DriftThresholds(Strict):
    """``drift.thresholds``: a comparison alerts when a statistic crosses its threshold
    (``null`` turns that statistic's alerts off; it is still computed and reported). The
    divergences are in nats (see :mod:`refinery.labels.drift_stats`)."""

    #: KL(window ‖ baseline) above this alerts.
    kl: float | None = Field(default=0.1, gt=0.0)
    #: Jensen–Shannon divergence above this alerts; 0.025 ≈ KL 0.1 for small shifts (JS ≈ KL/4).
    js: float | None = Field(default=0.025, gt=0.0, le=math.log(2))
    #: Population stability index above this alerts (the usual rule: > 0.2 is a significant shift).
    psi: float | None = Field(default=0.2, gt=0.0)
    #: α of the χ² test of homogeneity: a p-value below this alerts.
    p_value: float | None = Field(default=0.01, gt=0.0, lt=1.0)


class DriftDateRange(Strict):
    """``drift.reference: {start, end}``: the rows whose ``event_ts`` falls on these dates
    (both included, UTC) are the reference distribution."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DriftDateRange:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    def label(self) -> str:
        """``<start>..<end>``, the reference's name in the metrics."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


Distribution = Literal["label", "lang"]
#: The categorical distributions drift can compare.
DISTRIBUTIONS: tuple[Distribution, ...] = ("label", "lang")

#: The key of each time window: a day's date, an ISO week, a month.
DRIFT_WINDOW_KEYS = {
    "day": (r"\d{4}-\d{2}-\d{2}", "2024-01-29"),
    "week": (r"\d{4}-W\d{2}", "2024-W05"),
    "month": (r"\d{4}-\d{2}", "2024-01"),
    "batch": (r"[A-Za-z0-9_.:+-]{1,128}", "2024-01-29"),
}


class DriftSettings(Strict):
    """The ``drift`` job: label and language distributions per window of ``silver``, each
    compared with the previous window and a reference (see :mod:`refinery.drift.job`)."""

    #: ``day`` / ``week`` (ISO, Monday to Sunday) / ``month`` of ``event_ts`` (UTC), or
    #: ``batch``: one window per ``ingest_batch``, in order of their first ``event_ts``.
    window: Literal["day", "week", "month", "batch"] = "week"
    #: What every window is also compared with: ``first`` (each group's first window with at
    #: least ``min_rows`` rows), ``none`` (the previous window only), a window key
    #: (``2024-W05``, ``2024-01-29``, ``2024-01`` or a batch name) or ``{start, end}`` dates.
    reference: DriftDateRange | str = "first"
    #: Additive smoothing α per category of KL and PSI (0.5: Jeffreys / Krichevsky–Trofimov).
    smoothing: float = Field(default=0.5, gt=0.0, le=100.0)
    #: Comparisons where either window has fewer rows (in that distribution) are reported
    #: but never alert: sampling noise alone moves small windows.
    min_rows: int = Field(default=300, ge=1)
    #: χ² test: categories with an expected count under this are pooled (Cochran's rule).
    min_expected: float = Field(default=5.0, ge=0.0)
    #: Drift per value of this silver column (sources have their own label sets); ``None``:
    #: all rows together.
    group_by: str | None = "source"
    #: The categorical distributions compared: ``label`` (labelled rows) and ``lang``.
    distributions: list[Distribution] = Field(default_factory=lambda: list(DISTRIBUTIONS))
    thresholds: DriftThresholds = Field(default_factory=DriftThresholds)
    #: Report and alert on only the last N windows of each group (``None``: every window).
    #: Earlier windows are still counted and still serve as the ``previous`` window and the
    #: ``reference`` of the reported ones; their rows are counted as filtered
    #: (``before_last_windows``) and they get no window or statistic rows.
    last_windows: int | None = Field(default=None, ge=1)
    #: Exit with code 3 (:data:`refinery.runtime.runner.EXIT_ALERT`) when any reported comparison
    #: alerts, after the metrics are written, so a scheduler can fail the batch on drift.
    fail_on_alert: bool = False

    @field_validator("reference", mode="before")
    @classmethod
    def _reference_shape(cls, value: Any) -> Any:
        if isinstance(value, date):  # YAML reads an unquoted 2024-01-29 as a date
            return value.isoformat()
        if isinstance(value, dict):
            try:
                return DriftDateRange.model_validate(value)
            except ValidationError as exc:
                message = first_message(exc).replace("Value error, ", "")
                raise ValueError(f"a date range is {{start: 2024-01-01, end: 2024-01-31}}: {message}") from None
        if not isinstance(value, str | DriftDateRange):
            raise ValueError("use first, none, a window key or {start: DATE, end: DATE}")
        return value

    @field_validator("reference")
    @classmethod
    def _reference_key(cls, value: DriftDateRange | str, info: ValidationInfo) -> DriftDateRange | str:
        window = info.data.get("window")
        if isinstance(value, DriftDateRange) or value in ("first", "none") or window is None:
            return value
        pattern, example = DRIFT_WINDOW_KEYS[window]
        if not re.fullmatch(pattern, value):
            raise ValueError(
                f"{value!r} is not a {window} window key; use first, none, {{start: DATE, end: DATE}} "
                f"or a key like {example}"
            )
        return value

    @field_validator("distributions")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if not value or len(set(value)) != len(value):
            raise ValueError("list each distribution once, at least one: [label], [lang] or [label, lang]")
        return value
