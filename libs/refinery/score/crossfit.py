"""Out-of-sample class probabilities by K-fold cross-fitting, tracked across epochs.

Every document belongs to one of ``K`` folds (:func:`fold_of`, a hash of its id, so the
split is the same on every machine and does not depend on row order). For each fold ``k`` a
fresh model trains on the other folds; after each of its epochs ``e`` it scores fold ``k``,
giving out-of-sample probabilities ``p_e(x)`` for documents it never trained on. Per
document we keep

    ema_1 = p_1,    ema_e = m · ema_{e-1} + (1 − m) · p_e        (m = ``momentum``)

and the last epoch's ``p_E``. Why the average over epochs: a network fits clean,
typical samples early and memorises the rest late (Arpit et al. 2017, "A Closer Look at
Memorization"); a mislabelled sample's given label is improbable at *every* epoch, while a
hard clean sample's given label is often probable at *some*. The EMA is also a cheap
ensemble of the K·E snapshots, which makes the probabilities better calibrated than the
last epoch's alone — what confident learning's thresholds need.

``confidence`` (the seed's ``running_conf``) is ``ema[given]``: the EMA of the given label's
probability, since the EMA is linear in ``p``.

**Early stopping** (off by default): each fold keeps the EMA, the probabilities and the model
as of the epoch with the lowest held-out loss against the *given* labels. Past that epoch
the model generalises worse to labels it has not seen, which is where it starts to fit the
noise: with class-conditional flips (annotators confusing two topics) it learns the
confusion itself and the flipped rows stop standing out. Measured once, it raised the
flags' F1 on AG News with class-conditional flips and lowered F1 and AUPRC on THUCNews titles
with uniform flips: on balance it loses, so it is an option for data whose noise is known to be
systematic. ``bench/results/score.json`` runs the defaults only; ``bench/score_bench.py`` with
``score.early_stopping`` on is where the comparison would be measured again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from refinery.score.features import Bags, idf_weights
from refinery.score.model import seed_everything, serialize_model
from refinery.score.options import CrossFitOptions
from refinery.score.process_group import average_parameters, shard_of, sum_over_processes, world
from refinery.score.train import Trainer

_FOLD_KEY = "refinery-folds01"


@dataclass
class CrossFit:
    """Out-of-sample probabilities of every document (``n × classes``, float32)."""

    ema: np.ndarray
    final: np.ndarray
    folds: np.ndarray
    #: Mean training loss per (fold, epoch).
    losses: list[list[float]]
    #: Each fold's model after its last (or, with early stopping, best) epoch
    #: (:func:`refinery.score.model.serialize_model`).
    models: list[bytes]
    #: Held-out loss per (fold, epoch): :func:`held_out_loss` against the given labels.
    held_out: list[list[float]]


def row_keys(ids: Sequence[str]) -> np.ndarray:
    """A 64-bit key per row id (keyed SipHash): the fold and the training order derive from
    it, so neither depends on where or in which order the rows are stored."""
    return pd.util.hash_array(np.asarray(ids, dtype=object), hash_key=_FOLD_KEY, categorize=False)


def held_out_loss(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy ``−(1/n) Σ ln p_i(y_i)`` of held-out probabilities against the given
    (possibly noisy) labels, with p floored at 1e-12."""
    return _cross_entropy_sum(probs, labels) / len(labels)


def _cross_entropy_sum(probs: np.ndarray, labels: np.ndarray) -> float:
    """``−Σ ln max(p_i(y_i), 1e-12)``, summed in float64 (so chunks' sums add up exactly as one)."""
    given = probs[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)]
    return -float(np.log(np.maximum(given, 1e-12)).sum(dtype=np.float64))


def folds_of_keys(keys: np.ndarray, folds: int) -> np.ndarray:
    """The fold (``0 … folds-1``) of each row key (:func:`row_keys`): the key modulo ``folds``."""
    return (keys % np.uint64(folds)).astype(np.int64)


def fold_of(ids: Sequence[str], folds: int) -> np.ndarray:
    """The fold (``0 … folds-1``) of each id: :func:`folds_of_keys` of its :func:`row_keys`."""
    return folds_of_keys(row_keys(ids), folds)


#: Held-out rows scored at once: what the driver holds of a fold's probabilities at a time.
SCORE_CHUNK_ROWS = 1 << 16


def output_matrix(scratch: Path | None, name: str, rows: int, num_classes: int) -> np.ndarray:
    """A zeroed ``rows × num_classes`` float32 matrix: ``scratch/<name>.npy``, memory-mapped,
    when ``scratch`` is given (the file's pages belong to the page cache, not the process);
    in memory otherwise."""
    if scratch is None:
        return np.zeros((rows, num_classes), dtype=np.float32)
    scratch.mkdir(parents=True, exist_ok=True)
    return np.lib.format.open_memmap(scratch / f"{name}.npy", "w+", np.float32, (rows, num_classes))


def mapped_output(scratch: Path, name: str) -> np.ndarray:
    """The matrix :func:`output_matrix` wrote to ``scratch/<name>.npy``, memory-mapped read-only."""
    return np.load(scratch / f"{name}.npy", mmap_mode="r")


def crossfit(
    bags: Bags,
    labels: np.ndarray,
    num_classes: int,
    folds: np.ndarray,
    buckets: int,
    options: CrossFitOptions,
    device: torch.device,
    trainable: np.ndarray | None = None,
    keys: np.ndarray | None = None,
    scratch: Path | None = None,
) -> CrossFit:
    """Train one model per fold on the other folds and score the held-out fold after every
    epoch (see the module doc). ``labels`` are int class indices; ``folds`` from
    :func:`fold_of`; ``buckets`` the feature space the bags were hashed into; ``keys``
    (:func:`row_keys`) fix the training order independently of the rows' order here, and
    ``trainable`` (boolean) excludes rows from every training set (they are still scored).

    With ``scratch`` (a folder), ``ema`` and ``final`` (and, with early stopping, the running
    EMA and last probabilities the best epoch's are copied from) are memory-mapped ``.npy``
    files there (``n × classes × 4`` bytes each), so the process's own memory does not grow
    with the rows by ``classes`` floats a row; held-out rows are scored
    :data:`SCORE_CHUNK_ROWS` at a time either way.

    Inside a torch process group (:mod:`refinery.score.process_group`) every process trains
    on its shard of the rows and the weights are averaged after each epoch; every process
    returns the same result."""
    seed_everything(options.seed)
    rank, size = world()
    n = len(bags)
    if keys is None:
        keys = np.arange(n, dtype=np.uint64)
    mine = shard_of(keys, size) == rank
    idf = idf_weights(bags, buckets) if options.idf else None
    ema = output_matrix(scratch, "ema", n, num_classes)
    final = output_matrix(scratch, "final", n, num_classes)
    # with early stopping the epochs run on in these, and the best epoch's rows are copied out
    running = output_matrix(scratch, "running", n, num_classes) if options.early_stopping else ema
    latest = output_matrix(scratch, "latest", n, num_classes) if options.early_stopping else final
    losses: list[list[float]] = []
    models: list[bytes] = []
    held_out: list[list[float]] = []
    for k in range(options.folds):
        held_rows = np.flatnonzero(folds == k)
        if not len(held_rows):
            losses.append([])
            held_out.append([])
            continue
        train = (folds != k) & mine if trainable is None else (folds != k) & mine & trainable
        # row numbers, not copies: each mini-batch is cut out of the (memory-mapped) bags
        train_rows = np.flatnonzero(train)
        steps = -(-len(train_rows) // options.train.batch_size)
        trainer = Trainer(buckets, num_classes, options.train, device, steps, options.seed + k, idf=idf)
        fold_losses, held_losses = [], []
        model = None
        for epoch in range(options.train.epochs):
            fold_losses.append(trainer.train_epoch(bags, labels, keys, rows=train_rows))
            average_parameters(trainer.model)
            momentum = options.momentum if epoch else None
            loss = _score_held_out(trainer, bags, labels, held_rows, mine, running, latest, momentum, device)
            held_losses.append(loss)
            if options.early_stopping and held_losses[-1] <= min(held_losses):
                _copy_rows(running, ema, held_rows)
                _copy_rows(latest, final, held_rows)
                model = serialize_model(trainer.model)
        if not options.early_stopping:
            model = serialize_model(trainer.model)
        assert model is not None  # the first epoch is always the best so far
        losses.append(fold_losses)
        held_out.append(held_losses)
        models.append(model)
    for matrix in (ema, final, running, latest):
        if isinstance(matrix, np.memmap):
            matrix.flush()
    return CrossFit(ema=ema, final=final, folds=folds, losses=losses, models=models, held_out=held_out)


def _score_held_out(
    trainer: Trainer,
    bags: Bags,
    labels: np.ndarray,
    held_rows: np.ndarray,
    mine: np.ndarray,
    running: np.ndarray,
    latest: np.ndarray,
    momentum: float | None,
    device: torch.device,
) -> float:
    """Score the held-out rows :data:`SCORE_CHUNK_ROWS` at a time: ``latest[rows] = p`` and
    ``running[rows] = m · running[rows] + (1 − m) · p`` (``= p`` on the first epoch, ``momentum``
    ``None``); each process scores its own rows and a sum over the processes fills in the
    rest. Returns :func:`held_out_loss` of all of them, summed chunk by chunk."""
    num_classes = latest.shape[1]
    total = 0.0
    for start in range(0, len(held_rows), SCORE_CHUNK_ROWS):
        rows = held_rows[start : start + SCORE_CHUNK_ROWS]
        own = mine[rows]
        if own.all():
            probs = trainer.predict_proba(bags, rows=rows)
        else:
            probs = np.zeros((len(rows), num_classes), dtype=np.float32)
            probs[own] = trainer.predict_proba(bags, rows=rows[own])
        probs = sum_over_processes(probs, device)
        latest[rows] = probs
        running[rows] = probs if momentum is None else momentum * running[rows] + (1.0 - momentum) * probs
        total += _cross_entropy_sum(probs, labels[rows])
    return total / len(held_rows)


def _copy_rows(source: np.ndarray, target: np.ndarray, rows: np.ndarray) -> None:
    """``target[rows] = source[rows]``, :data:`SCORE_CHUNK_ROWS` rows at a time."""
    for start in range(0, len(rows), SCORE_CHUNK_ROWS):
        chunk = rows[start : start + SCORE_CHUNK_ROWS]
        target[chunk] = source[chunk]
