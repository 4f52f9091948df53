"""``score``: out-of-sample confidence of every labelled silver row (see :mod:`refinery.score.job`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from refinery.config.base import Strict
from refinery.config.paths import resolve_path
from refinery.score.options import CrossFitOptions, FeatureOptions, TrainOptions

# Each default is stated once: where the score's options dataclasses have one, it is read there.
_F, _T, _X = FeatureOptions, TrainOptions, CrossFitOptions


def ngram_sizes(value: list[int]) -> list[int]:
    """Character n-gram sizes, sorted and unique; each between 1 and 10."""
    if any(n < 1 or n > 10 for n in value):
        raise ValueError("character n-gram sizes must be between 1 and 10, e.g. [1, 2, 3]")
    return sorted(set(value))


class ScoreFeatureSettings(Strict):
    """``score.features``: the hashed n-gram bags (see :mod:`refinery.score.features`)."""

    #: Size of the hashed feature space (rows of the embedding table).
    buckets: int = Field(default=1 << 18, ge=1 << 10, le=1 << 26)
    #: Word n-grams of 1 … this many tokens.
    word_ngrams: int = Field(default=_F.word_ngrams, ge=1, le=5)
    #: Character n-gram sizes, used on texts of at most ``char_max_chars`` characters.
    char_ngrams: list[int] = Field(default_factory=lambda: list(_F.char_ngrams))
    char_max_chars: int = Field(default=_F.char_max_chars, ge=0)
    lowercase: bool = _F.lowercase
    #: Weight each feature by its inverse document frequency in the group (a weighted mean
    #: of embeddings instead of a plain one; it raised AUPRC on AG News when tried, a comparison
    #: no bench result keeps: ``bench/score_bench.py`` with ``idf: false`` would measure it).
    idf: bool = _X.idf

    @field_validator("char_ngrams")
    @classmethod
    def _positive_sizes(cls, value: list[int]) -> list[int]:
        return ngram_sizes(value)

    def options(self) -> FeatureOptions:
        """The featurizer's options (``idf`` is the cross-fitting's)."""
        return FeatureOptions(**self.model_dump(exclude={"idf", "char_ngrams"}), char_ngrams=tuple(self.char_ngrams))


class ScoreNeighbourSettings(Strict):
    """``score.neighbours``: the label vote of each row's nearest neighbours in TF-IDF space,
    blended into the cross-fitted probabilities (see :mod:`refinery.score.neighbours`)."""

    #: Neighbours per row; 0 turns the vote off (the model's probabilities alone).
    k: int = Field(default=10, ge=0, le=200)
    #: w of the blend ``(p_model + w · q_neighbours) / (1 + w)``.
    weight: float = Field(default=0.75, ge=0.0, le=100.0)
    #: Character n-gram sizes of the neighbour space, on texts up to ``char_max_chars``
    #: (its word n-grams are ``score.features.word_ngrams``).
    char_ngrams: list[int] = Field(default_factory=lambda: [1, 2, 3, 4])
    char_max_chars: int = Field(default=1024, ge=0)
    #: A feature in more rows than this is not indexed: each row meets at most
    #: ``query_features · max_df`` candidates, so the cost grows linearly with the rows.
    max_df: int = Field(default=2000, ge=1)
    query_features: int = Field(default=256, ge=1)
    #: α: smoothing of the neighbour label distribution towards uniform.
    smoothing: float = Field(default=0.1, gt=0.0, le=10.0)

    @field_validator("char_ngrams")
    @classmethod
    def _positive_sizes(cls, value: list[int]) -> list[int]:
        return ngram_sizes(value)


class ScoreModelSettings(Strict):
    """``score.model``: the fastText-style classifier and its training
    (see :mod:`refinery.score.train`)."""

    dim: int = Field(default=_T.dim, ge=2, le=1024)
    epochs: int = Field(default=_T.epochs, ge=1, le=200)
    lr: float = Field(default=_T.lr, gt=0.0, le=10.0)
    batch_size: int = Field(default=_T.batch_size, ge=1)
    label_smoothing: float = Field(default=_T.label_smoothing, ge=0.0, lt=1.0)
    #: bf16 autocast on CUDA (ignored on CPU).
    amp: bool = _T.amp

    def options(self) -> TrainOptions:
        """The trainer's options."""
        return TrainOptions(**self.model_dump())


class ScoreSettings(Strict):
    """The ``score`` job: out-of-sample confidence of every labelled silver row, written back
    to ``silver`` as filter columns (see :mod:`refinery.score.job`)."""

    #: One model per value of this silver column (each source has its own label set);
    #: ``None`` trains one model over every label.
    group_by: str | None = "source"
    #: K of the K-fold cross-fitting: each row is scored by a model that never saw it.
    folds: int = Field(default=_X.folds, ge=2, le=50)
    #: Momentum m of the per-sample EMA over epochs: ema = m * ema + (1 - m) * p.
    ema_momentum: float = Field(default=_X.momentum, ge=0.0, lt=1.0)
    #: ``label_quality``: the given label's probability, or p(given) - max other p.
    label_quality: Literal["self_confidence", "normalized_margin"] = "normalized_margin"
    #: How ``is_noisy`` is decided: one of confident learning's filters (cleanlab's
    #: ``filter_by`` names, see :mod:`refinery.labels.confident_learning`), or
    #: ``threshold``: ``confidence < threshold``.
    noise_method: Literal[
        "prune_by_noise_rate",
        "prune_by_class",
        "both",
        "confident_learning",
        "predicted_neq_given",
        "low_self_confidence",
        "low_normalized_margin",
        "threshold",
        "outvoted",
        "noise_rate_or_outvoted",
    ] = "noise_rate_or_outvoted"
    #: τ of ``noise_method: threshold``.
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    #: δ of ``noise_method: outvoted`` (and ``noise_rate_or_outvoted``): a row is noisy when
    #: another class beats its given label by more than δ, ``max_{j≠y} p_j − p_y > δ``.
    outvoted_by: float = Field(default=0.15, ge=0.0, lt=1.0)
    #: Keep each fold's model and EMA as of its epoch of lowest held-out loss (helps with
    #: systematic, class-conditional noise; costs a little with uniform noise).
    early_stopping: bool = _X.early_stopping
    #: Which out-of-sample probabilities the noise flags and label_quality use.
    probabilities: Literal["ema", "final"] = "ema"
    #: Classes with fewer labelled rows than this are not trained on; their rows are
    #: counted as filtered (``class_too_small``). At least ``folds``.
    min_class_rows: int = Field(default=10, ge=2)
    device: Literal["auto", "cuda", "cpu"] = "auto"
    seed: int = _X.seed
    #: Rows per Arrow batch an executor featurizes (``arrow.maxRecordsPerBatch`` for that
    #: step): a Python worker's memory grows with it and with the documents' length.
    batch_rows: int = Field(default=10_000, ge=1)
    #: Torch threads on CPU; ``None`` = torch's default (all cores).
    threads: int | None = Field(default=None, ge=1)
    #: Training processes. 1 trains in the driver; more start Spark's ``TorchDistributor``
    #: (on the driver's machine in local mode, on executors in cluster mode; one GPU each
    #: with ``device: cuda``), which trains on shards and averages the weights every epoch.
    processes: int = Field(default=1, ge=1, le=1024)
    #: Scratch folder for the featurized bags and the scores before the MERGE; it must be
    #: readable by the executors (a shared path on a cluster). Relative to the working folder.
    work_dir: str = "data/_score_work"
    features: ScoreFeatureSettings = Field(default_factory=ScoreFeatureSettings)
    model: ScoreModelSettings = Field(default_factory=ScoreModelSettings)
    neighbours: ScoreNeighbourSettings = Field(default_factory=ScoreNeighbourSettings)

    @field_validator("work_dir")
    @classmethod
    def _resolved(cls, value: str) -> str:
        return resolve_path(value)

    @model_validator(mode="after")
    def _enough_rows_per_fold(self) -> ScoreSettings:
        if self.min_class_rows < self.folds:
            raise ValueError(f"min_class_rows ({self.min_class_rows}) must be at least folds ({self.folds})")
        return self
