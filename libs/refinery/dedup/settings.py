"""``dedup``: exact and near duplicates in ``silver`` (see :mod:`refinery.dedup.job`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator

from refinery.config.base import Strict
from refinery.text.canonical import CanonicalOptions
from refinery.text.minhash import MinHashOptions
from refinery.text.shingles import ShingleOptions

# Each default is stated once: the pure layer's options dataclasses hold the shared ones.
_C, _M, _SH = CanonicalOptions, MinHashOptions, ShingleOptions


class ExactDedupSettings(Strict):
    """``dedup.exact``: the canonical form whose hash defines an exact duplicate
    (see :mod:`refinery.text.canonical`)."""

    lowercase: bool = _C.lowercase
    strip_punct: bool = _C.strip_punct
    strip_whitespace: bool = _C.strip_whitespace
    #: Fold Traditional into Simplified Chinese before comparing.
    t2s: bool = _C.t2s

    def options(self) -> CanonicalOptions:
        """This section as the pure layer's options."""
        return CanonicalOptions(**self.model_dump())


class NearDedupSettings(Strict):
    """``dedup.near``: MinHash LSH (see :mod:`refinery.text.minhash` for the trade-off)."""

    enabled: bool = True
    #: Jaccard similarity of shingle sets at or above which two documents are near duplicates.
    threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    num_perm: int = Field(default=_M.num_perm, ge=8, le=1024)
    bands: int = Field(default=_M.bands, ge=1)
    #: Character n-gram size for Chinese, Japanese, Thai …; word n-gram size for the rest.
    char_ngram: int = Field(default=_SH.char_ngram, ge=1)
    word_ngram: int = Field(default=_SH.word_ngram, ge=1)
    seed: int = _M.seed
    #: LSH buckets with more members than this pair each member only with the bucket's
    #: smallest id (a star), so one boilerplate bucket cannot blow up into n² pairs.
    max_bucket: int = Field(default=200, ge=2)

    @model_validator(mode="after")
    def _bands_divide_perms(self) -> NearDedupSettings:
        if self.num_perm % self.bands:
            raise ValueError(
                f"bands ({self.bands}) must divide num_perm ({self.num_perm}); e.g. num_perm 128, bands 16"
            )
        return self

    def minhash(self) -> MinHashOptions:
        """The signature length, banding and seed as the pure layer's options."""
        return MinHashOptions(**self.model_dump(include={"num_perm", "bands", "seed"}))

    def shingles(self, canonical: CanonicalOptions) -> ShingleOptions:
        """The n-gram sizes as the pure layer's options, cut from ``canonical``."""
        return ShingleOptions(char_ngram=self.char_ngram, word_ngram=self.word_ngram, canonical=canonical)


class DedupSettings(Strict):
    """The ``dedup`` job: flags exact and near duplicates in ``silver``."""

    #: The ``ingest_batch`` deduplicated against itself and all of silver; ``None`` redoes all.
    batch: str | None = None
    exact: ExactDedupSettings = Field(default_factory=ExactDedupSettings)
    near: NearDedupSettings = Field(default_factory=NearDedupSettings)
    #: A batch's hashes, band keys, neighbourhood ids and flags are broadcast to the tasks that
    #: scan silver when there are at most this many rows of each (50-100 bytes a row in the
    #: broadcast table; a 10k-row batch has 160k band keys); more are joined by shuffling.
    broadcast_max_rows: int = Field(default=500_000, ge=0)

    @field_validator("batch", mode="before")
    @classmethod
    def _date_as_string(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value
