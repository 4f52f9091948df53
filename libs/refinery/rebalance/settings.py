"""``rebalance``: filtered silver rows, resampled per class, into ``gold``
(see :mod:`refinery.rebalance.job`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from refinery.config.base import Strict
from refinery.config.errors import first_message
from refinery.labels.resampling import ResamplePlan

Caps = int | dict[str, int] | None


class RebalancePlanSettings(Strict):
    """One group's resampling plan (see :mod:`refinery.labels.resampling` for the maths)."""

    strategy: Literal["none", "undersample", "oversample", "target", "smooth"] = ResamplePlan.strategy  # type: ignore[assignment]
    #: ``undersample``: keep at most this many rows per class; ``None`` = the smallest class.
    cap: int | None = Field(default=None, ge=0)
    #: ``oversample``: reach at least this many rows per class; ``None`` = the largest class.
    floor: int | None = Field(default=None, ge=0)
    #: ``target``: ``{counts: {label: n}}`` or ``{proportions: {label: share}}`` (shares sum to 1).
    target: dict[Literal["counts", "proportions"], dict[str, float]] = Field(default_factory=dict)
    #: ``target`` with proportions, and ``smooth``: gold rows per group; ``None`` = eligible rows.
    total: int | None = Field(default=None, ge=0)
    #: ``smooth``: p_c ∝ n_c^alpha (1 keeps the distribution, 0 makes it uniform).
    alpha: float = Field(default=ResamplePlan.alpha, ge=0.0, le=1.0)
    #: Per-class floor / ceiling after the strategy: one count for all, or ``{label: count}``.
    min: Caps = None
    max: Caps = None

    def plan(self):
        """This plan as a :class:`refinery.labels.resampling.ResamplePlan` (validated); the
        defaults of ``strategy`` and ``alpha`` are the plan's."""
        counts = self.target.get("counts")
        if counts is not None and any(v != int(v) for v in counts.values()):
            raise ValueError("target.counts must be whole numbers of rows")
        return ResamplePlan(
            strategy=self.strategy,
            cap=self.cap,
            floor=self.floor,
            counts={k: int(v) for k, v in counts.items()} if counts is not None else None,
            proportions=self.target.get("proportions"),
            total=self.total,
            alpha=self.alpha,
            min=self.min,
            max=self.max,
        )

    @model_validator(mode="after")
    def _consistent(self) -> RebalancePlanSettings:
        self.plan()  # ResamplePlan's checks: target kind, proportions summing to 1, caps
        return self


class RebalanceFilterSettings(Strict):
    """``rebalance.filters``: which silver rows may enter gold. A filter whose silver column
    does not exist yet (its job has not run) is skipped and reported in the metrics."""

    #: ``allowed``: rows whose language clean allowed (``lang_allowed``); ``any``; or a list of
    #: language codes.
    languages: Literal["allowed", "any"] | list[str] = "allowed"
    #: Drop duplicate non-keepers (``dup_of`` set by dedup); the cluster's keeper stays.
    duplicates: bool = True
    #: Drop rows that dedup found with an identical text and a different label.
    label_conflict: bool = False
    #: Drop rows with any flagged annotation-rule violation (``rule_violations``).
    rule_violations: bool = False
    #: Drop rows whose ``quality_flags`` hold a rule of severity ``drop`` (``clean.quality``'s
    #: rules as configured now); each is counted under ``low_quality:<first such rule>``.
    quality: bool = True
    #: ``is_noisy``: drop rows the score job flagged; ``confidence``: drop rows with
    #: ``confidence < min_confidence``; ``off``. Rows the scorer never scored are kept.
    noise: Literal["is_noisy", "confidence", "off"] = "is_noisy"
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class RebalanceSettings(RebalancePlanSettings):
    """The ``rebalance`` job: filtered silver rows, resampled per class, written to ``gold``
    (see :mod:`refinery.rebalance.job`)."""

    #: Each value of this silver column is its own training set (own label set), balanced on
    #: its own; ``None`` balances all labels together.
    group_by: str | None = "source"
    #: Balance ``(label, lang)`` cells instead of labels (e.g. the same share of every class in
    #: every language); ``target`` counts and shares are then split over a label's languages
    #: in proportion to their rows.
    stratify_by_lang: bool = False
    #: Seed of the row order: ``xxhash64(seed, id)``; the same seed keeps the same rows.
    seed: int = 17
    #: ``sample_weight``: none | inverse | sqrt_inverse | effective_number (Cui et al. 2019).
    weights: Literal["none", "inverse", "sqrt_inverse", "effective_number"] = "none"
    #: β of ``effective_number``: w_c ∝ (1 - β) / (1 - β^n_c).
    beta: float = Field(default=0.999, ge=0.0, lt=1.0)
    filters: RebalanceFilterSettings = Field(default_factory=RebalanceFilterSettings)
    #: Per-group overrides of the plan: ``{ag_news: {strategy: undersample, cap: 1000}}``;
    #: the keys given replace the top-level plan's for that group.
    per_group: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def plan_for(self, group: str | None):
        """The :class:`~refinery.labels.resampling.ResamplePlan` of ``group``."""
        return self.plan_settings(group).plan()

    def plan_settings(self, group: str | None) -> RebalancePlanSettings:
        """The plan settings of ``group``: the top-level plan with its ``per_group`` keys."""
        base = {name: getattr(self, name) for name in RebalancePlanSettings.model_fields}
        return RebalancePlanSettings.model_validate({**base, **self.per_group.get(str(group), {})})

    @model_validator(mode="after")
    def _valid_overrides(self) -> RebalanceSettings:
        for group in self.per_group:
            try:
                self.plan_settings(group)
            except (ValidationError, ValueError) as exc:
                raise ValueError(f"per_group.{group}: {first_message(exc)}") from None
        return self
