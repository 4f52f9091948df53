"""``import_reviews``: corrected labels back into ``silver`` (see :mod:`refinery.reviews.job`)."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from refinery.config.base import Strict
from refinery.config.paths import resolve_path


class ImportReviewsSettings(Strict):
    """The ``import_reviews`` job: corrected labels back into ``silver``
    (see :mod:`refinery.reviews.job`)."""

    #: The reviewed file: a Label Studio JSON export, JSONL or CSV with ``id`` and ``label``.
    path: str | None = None
    format: Literal["auto", "label_studio", "jsonl", "csv"] = "auto"
    #: The name of the reviewer or tool recorded as the label's provenance.
    reviewer: str = "review"

    @field_validator("path")
    @classmethod
    def _resolved(cls, value: str | None) -> str | None:
        return resolve_path(value) if value is not None else None
