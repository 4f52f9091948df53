"""The score feature's plain options: what goes into a bag, how one model is trained, how the
folds are cross-fitted. No numpy, no torch: ``refinery.score.settings`` reads its defaults from
here before anything heavy is imported, so each default is stated once."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FeatureOptions:
    """What goes into a document's bag (see :mod:`refinery.score.features`). ``buckets`` is
    the library's default; the config's ``score.features.buckets`` has its own (a smaller
    table for the per-group models)."""

    buckets: int = 1 << 20
    word_ngrams: int = 2
    char_ngrams: tuple[int, ...] = (1, 2, 3)
    char_max_chars: int = 64
    lowercase: bool = True


@dataclass(frozen=True)
class TrainOptions:
    """How one model is trained (``score.model`` in the config)."""

    dim: int = 64
    epochs: int = 10
    lr: float = 0.003
    batch_size: int = 64
    #: Label smoothing ε of the cross-entropy: the target puts 1 - ε on the given label and
    #: spreads ε over all classes, so no sample's loss pushes towards certainty.
    label_smoothing: float = 0.0
    amp: bool = True


@dataclass(frozen=True)
class CrossFitOptions:
    """``score.folds`` and ``score.ema_momentum`` with the model's own options."""

    folds: int = 5
    momentum: float = 0.9
    seed: int = 13
    #: Weight features by inverse document frequency (:func:`refinery.score.features.idf_weights`).
    idf: bool = True
    #: Stop each fold at the epoch whose held-out loss is lowest (see :mod:`refinery.score.crossfit`).
    early_stopping: bool = False
    train: TrainOptions = field(default_factory=TrainOptions)
