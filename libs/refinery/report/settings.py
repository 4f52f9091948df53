"""``report``: one HTML page per run (see :mod:`refinery.report.job`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from refinery.config.base import Strict
from refinery.config.paths import CATALOG_PREFIX, resolve_path

#: Most examples per quality rule the report shows (``report.quality_examples``).
MAX_QUALITY_EXAMPLES = 20


class ReportSettings(Strict):
    """The ``report`` job: one self-contained HTML page per run (see :mod:`refinery.report.job`)."""

    #: Folder of the reports: each run writes ``<dir>/<run_id>/report.html``. A local folder
    #: (the driver writes the file), relative to the working folder.
    dir: str = "data/reports"
    #: Bins of the confidence histogram over [0, 1].
    confidence_bins: int = Field(default=20, ge=2, le=200)
    #: Examples per quality rule shown in the quality section: silver rows that broke the
    #: rule, their (PII-masked) text truncated. ``0`` shows counts only, no text.
    quality_examples: int = Field(default=2, ge=0, le=MAX_QUALITY_EXAMPLES)

    @field_validator("dir")
    @classmethod
    def _local(cls, value: str) -> str:
        if "://" in value or value.startswith((CATALOG_PREFIX, "file:")):
            raise ValueError(f"{value!r} is not a local folder; fix: name a folder on the driver, e.g. data/reports")
        return resolve_path(value)
