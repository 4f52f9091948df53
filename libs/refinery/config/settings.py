"""The root :class:`Settings`: one section per feature, each defined beside its feature."""

from __future__ import annotations

from pydantic import Field

from refinery.clean.settings import CleanSettings
from refinery.config.base import DeltaSettings, SparkSettings, Strict, TablesSettings
from refinery.dedup.settings import DedupSettings
from refinery.drift.settings import DriftSettings
from refinery.export.settings import ExportSettings
from refinery.ingest.settings import IngestSettings
from refinery.rebalance.settings import RebalanceSettings
from refinery.report.settings import ReportSettings
from refinery.reviews.settings import ImportReviewsSettings
from refinery.score.settings import ScoreSettings
from refinery.select.settings import SelectSettings


class Settings(Strict):
    """The whole configuration of a Refinery run."""

    app_name: str = "refinery"
    spark: SparkSettings = Field(default_factory=SparkSettings)
    tables: TablesSettings
    delta: DeltaSettings = Field(default_factory=DeltaSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    clean: CleanSettings = Field(default_factory=CleanSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    score: ScoreSettings = Field(default_factory=ScoreSettings)
    rebalance: RebalanceSettings = Field(default_factory=RebalanceSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    select: SelectSettings = Field(default_factory=SelectSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    import_reviews: ImportReviewsSettings = Field(default_factory=ImportReviewsSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
