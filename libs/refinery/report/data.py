"""What the run report shows, as plain Python data: counts, category names and statistics;
the only text from the tables is a few short, truncated examples of silver's (PII-masked)
``text`` per quality rule (:class:`QualityExample`, off with ``report.quality_examples: 0``).
:mod:`refinery.report.job` fills it from the Delta tables; :mod:`refinery.report.html`
renders it without Spark."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RunCounts:
    """The run row of one job's latest run (its stage without a ``/``): the reconciliation."""

    job: str
    run_id: str
    finished_at: str
    rows_in: int
    rows_out: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    filtered_by_reason: dict[str, int] = field(default_factory=dict)
    reconciled: bool = True

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def rows_filtered(self) -> int:
        return sum(self.filtered_by_reason.values())


@dataclass(frozen=True)
class RuleCount:
    """Rows that broke one annotation rule in the clean run: ``blocked`` (quarantined) or
    ``flagged`` (kept, named in ``rule_violations``)."""

    name: str
    severity: str
    rows: int


@dataclass(frozen=True)
class QualityRuleCount:
    """Accepted rows of the clean run whose ``quality_flags`` name one quality rule; severity
    ``flag`` (kept everywhere) or ``drop`` (kept in silver, filtered from gold)."""

    name: str
    severity: str
    rows: int


@dataclass(frozen=True)
class QualityExample:
    """One silver row that broke a quality rule: its id, source, language and ``text``
    (PII-masked by clean, already truncated for the page)."""

    rule: str
    record_id: str
    source: str | None
    lang: str | None
    text: str


@dataclass(frozen=True)
class ConfidenceHistogram:
    """Labelled rows per bin of ``confidence`` over [0, 1] (``edges`` has one more entry than
    each series), one series per outcome (``kept``, ``flagged noisy``), and the thresholds
    that act on confidence (label → value)."""

    edges: list[float]
    series: dict[str, list[int]]
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(sum(counts) for counts in self.series.values())


@dataclass(frozen=True)
class DriftWindow:
    """One window of one group in the drift run."""

    group: str
    window: str
    start: str
    rows: int
    alert: bool
    alerts: str = ""


@dataclass(frozen=True)
class DriftValue:
    """One statistic of one comparison in the drift run (``value`` None: not computable)."""

    group: str
    window: str
    distribution: str
    statistic: str
    baseline: str
    value: float | None
    threshold: float | None
    alert: bool


@dataclass
class ReportData:
    """Everything one report shows. Empty collections mean "no data" for their section."""

    #: The report run's id and when it was made (UTC, ISO).
    run_id: str
    generated_at: str
    #: The latest run of each job, in pipeline order.
    runs: list[RunCounts] = field(default_factory=list)
    #: Rows per table (None: not written yet) and its location.
    tables: list[tuple[str, int | None, str]] = field(default_factory=list)
    #: Clean run: accepted documents per language, PII found per type, rows per rule.
    languages: dict[str, int] = field(default_factory=dict)
    pii: dict[str, int] = field(default_factory=dict)
    rules: list[RuleCount] = field(default_factory=list)
    #: Clean run: rows per quality rule; ``flagged_rows`` / ``dropped_rows`` (rows with any
    #: quality flag / any drop-rule flag) and ``accepted_rows`` (the run's rows out) when known.
    quality: list[QualityRuleCount] = field(default_factory=list)
    quality_rows: dict[str, int] = field(default_factory=dict)
    #: Silver now: up to ``report.quality_examples`` rows per quality rule, and why a rule with
    #: rows has none shown (turned off, no ``quality_flags`` column), if so.
    quality_examples: dict[str, list[QualityExample]] = field(default_factory=dict)
    quality_examples_note: str = ""
    #: Silver now: duplicates (dedup) as counted by :func:`refinery.dedup.job.duplicate_counts`.
    duplicates: dict[str, int] = field(default_factory=dict)
    #: Rebalance run: group → label → rows, eligible (before) and in gold (after).
    classes_before: dict[str, dict[str, int]] = field(default_factory=dict)
    classes_after: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Gold now, per source: rows, copies, classes, smallest, largest, w_min, w_max.
    gold: list[dict[str, object]] = field(default_factory=list)
    #: Score run: the confidence histogram; per source: scored, noisy, confidence, accuracy.
    confidence: ConfidenceHistogram | None = None
    scores: list[dict[str, object]] = field(default_factory=list)
    #: Drift run: windows, statistics, the statistic plotted and the run's note.
    drift_windows: list[DriftWindow] = field(default_factory=list)
    drift_values: list[DriftValue] = field(default_factory=list)
    drift_note: str = ""
    #: review_queue now: reason → status → rows.
    review_queue: dict[str, dict[str, int]] = field(default_factory=dict)
