"""The scorer's pure parts (no Spark): hashed feature bags, the model's training loop and
K-fold cross-fitting with the per-sample EMA."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from refinery.score.crossfit import crossfit, fold_of, held_out_loss
from refinery.score.features import featurize, idf_weights
from refinery.score.model import load_model, serialize_model
from refinery.score.options import CrossFitOptions, FeatureOptions, TrainOptions
from refinery.score.train import Trainer, predict_proba

CPU = torch.device("cpu")
SMALL = FeatureOptions(buckets=1 << 12, word_ngrams=2, char_ngrams=(2,), char_max_chars=8)


def test_bags_hold_word_ngrams_and_short_text_char_ngrams():
    bags = featurize(["a b c", "a much longer text here", ""], [["a", "b", "c"], None, None], SMALL)
    lengths = np.diff(bags.offsets)
    # 3 unigrams + 2 bigrams + 4 character bigrams of "a b c" (5 characters, <= 8)
    assert lengths[0] == 3 + 2 + 4
    # whitespace words of a long text: 5 unigrams + 4 bigrams, no character n-grams (> 8 chars)
    assert lengths[1] == 5 + 4
    assert lengths[2] == 0
    assert bags.ids.min() >= 0 and bags.ids.max() < SMALL.buckets


def test_word_order_changes_bigrams_not_unigrams():
    options = FeatureOptions(buckets=1 << 20, char_ngrams=())
    a = featurize(["x"], [["new", "york"]], options).ids
    b = featurize(["x"], [["york", "new"]], options).ids
    assert sorted(a[:2]) == sorted(b[:2])  # the unigrams
    assert a[2] != b[2]  # the bigram


def test_feature_ids_are_the_same_in_another_process():
    """Python's own hash() is salted per process; the features must not be."""
    code = "from refinery.score.features import featurize;print(list(featurize(['北京 天气 晴朗'], None).ids))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert other.strip() == str(list(featurize(["北京 天气 晴朗"], None).ids))


def test_take_selects_bags_in_the_given_order():
    bags = featurize(["a b", "c d e", "f"], None, SMALL)
    picked = bags.take(np.array([2, 0]))
    assert list(picked.ids) == list(bags.ids[bags.offsets[2] : bags.offsets[3]]) + list(
        bags.ids[bags.offsets[0] : bags.offsets[1]]
    )
    assert list(bags.take(np.array([False, True, False])).ids) == list(bags.ids[bags.offsets[1] : bags.offsets[2]])


def test_folds_are_balanced_and_independent_of_order():
    ids = [f"row-{i}" for i in range(5000)]
    folds = fold_of(ids, 5)
    assert set(np.bincount(folds)) and np.bincount(folds).min() > 900
    assert list(fold_of(ids[::-1], 5)) == list(folds[::-1])


def keyword_corpus(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Documents whose class is told by one of its words among random filler."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    keys = ["alpha", "beta", "gamma"]
    texts = [" ".join([keys[c], *(f"w{rng.integers(200)}" for _ in range(6))]) for c in labels]
    return texts, labels


def test_training_learns_a_separable_task_and_weights_round_trip():
    texts, labels = keyword_corpus(600, seed=1)
    bags = featurize(texts, None, SMALL)
    trainer = Trainer(SMALL.buckets, 3, TrainOptions(epochs=5, lr=0.05, dim=16), CPU, steps_per_epoch=10, seed=3)
    for _ in range(5):
        trainer.train_epoch(bags, labels)
    probs = trainer.predict_proba(bags)
    assert (probs.argmax(1) == labels).mean() > 0.95
    reloaded = load_model(serialize_model(trainer.model), SMALL.buckets, 16, 3)
    assert np.allclose(predict_proba(reloaded, bags, CPU), probs, atol=2e-3)  # float16 embedding


def test_crossfit_scores_each_row_with_a_model_that_never_saw_it():
    """Random labels on unique texts: a model that trained on a row memorises its label; one
    that did not can only guess, so the out-of-sample p(given) stays near 1/C."""
    rng = np.random.default_rng(0)
    n, classes = 600, 3
    texts = [f"doc{i} tok{i}x tok{i}y" for i in range(n)]
    labels = rng.integers(0, classes, n)
    bags = featurize(texts, None, FeatureOptions(buckets=1 << 16, char_ngrams=()))
    train = TrainOptions(epochs=8, lr=0.05, dim=16)
    options = CrossFitOptions(folds=3, momentum=0.5, seed=5, early_stopping=False, train=train)
    folds = fold_of([str(i) for i in range(n)], 3)
    fit = crossfit(bags, labels, classes, folds, 1 << 16, options, CPU)
    given = fit.final[np.arange(n), labels]
    assert abs(given.mean() - 1 / classes) < 0.05
    # in-sample, the same training memorises: the fold models are right on their own rows
    trained_on = fit.folds != 0

    def memorised(fit) -> float:
        probs = predict_proba(load_model(fit.models[0], 1 << 16, 16, classes), bags, CPU)
        return (probs[trained_on].argmax(1) == labels[trained_on]).mean()

    assert memorised(fit) > 0.9
    # early stopping: held-out loss stops falling once the model fits random labels, so each
    # fold returns the probabilities of its epoch of lowest held-out loss, not its last
    stopped = crossfit(
        bags, labels, classes, folds, 1 << 16, CrossFitOptions(3, 0.5, 5, early_stopping=True, train=train), CPU
    )
    assert all(len(losses) == 8 for losses in stopped.held_out)
    for k in range(3):
        rows = folds == k
        assert int(np.argmin(stopped.held_out[k])) < 7
        assert held_out_loss(stopped.final[rows], labels[rows]) == pytest.approx(min(stopped.held_out[k]), rel=1e-6)


def test_crossfit_is_deterministic_and_the_ema_follows_its_formula():
    texts, labels = keyword_corpus(300, seed=2)
    bags = featurize(texts, None, SMALL)
    folds = fold_of([str(i) for i in range(300)], 3)
    options = CrossFitOptions(folds=3, momentum=0.0, seed=9, train=TrainOptions(epochs=3, lr=0.05, dim=8))
    first = crossfit(bags, labels, 3, folds, SMALL.buckets, options, CPU)
    again = crossfit(bags, labels, 3, folds, SMALL.buckets, options, CPU)
    assert np.array_equal(first.ema, again.ema) and np.array_equal(first.final, again.final)
    # momentum 0: the EMA is the last epoch's probabilities
    assert np.allclose(first.ema, first.final)
    smoothed = crossfit(
        bags, labels, 3, folds, SMALL.buckets, CrossFitOptions(folds=3, momentum=0.9, seed=9, train=options.train), CPU
    )
    assert np.array_equal(smoothed.final, first.final)  # the EMA does not change training
    assert not np.allclose(smoothed.ema, smoothed.final)
    assert np.allclose(smoothed.ema.sum(1), 1.0, atol=1e-5)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_crossfit_into_scratch_files_gives_the_same_probabilities(tmp_path, monkeypatch, early_stopping):
    """With a scratch folder the probability matrices are memory-mapped files there (the
    driver's own memory does not hold ``rows × classes`` floats) and hold exactly what the
    in-memory run computes, also when held-out rows are scored in several chunks and the
    best epoch's rows are copied out (early stopping)."""
    from refinery.score import crossfit as module

    monkeypatch.setattr(module, "SCORE_CHUNK_ROWS", 37)  # several chunks per fold
    texts, labels = keyword_corpus(300, seed=2)
    bags = featurize(texts, None, SMALL)
    folds = fold_of([str(i) for i in range(300)], 3)
    train = TrainOptions(epochs=4, lr=0.05, dim=8)
    options = CrossFitOptions(folds=3, momentum=0.9, seed=9, early_stopping=early_stopping, train=train)
    in_memory = crossfit(bags, labels.astype(np.int16), 3, folds, SMALL.buckets, options, CPU)
    on_disk = crossfit(bags, labels.astype(np.int16), 3, folds, SMALL.buckets, options, CPU, scratch=tmp_path)
    assert isinstance(on_disk.ema, np.memmap) and isinstance(on_disk.final, np.memmap)
    assert np.array_equal(np.load(tmp_path / "ema.npy"), in_memory.ema)
    assert np.array_equal(np.asarray(on_disk.final), in_memory.final)
    assert on_disk.held_out == in_memory.held_out and on_disk.losses == in_memory.losses
    assert not isinstance(in_memory.ema, np.memmap)


@pytest.mark.parametrize("device", ["cuda"])
def test_cuda_is_refused_clearly_without_a_gpu(device):
    from refinery.score.model import resolve_device

    if torch.cuda.is_available():
        assert resolve_device(device).type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="score.device"):
            resolve_device(device)


def test_idf_counted_in_runs_of_documents_equals_the_whole_count():
    texts, _ = keyword_corpus(300, seed=5)
    bags = featurize(texts, None, SMALL)
    whole = idf_weights(bags, SMALL.buckets, chunk_ids=len(bags.ids))
    # runs of a few documents, and runs smaller than one document (one document each)
    for chunk in (50, 7, 1):
        np.testing.assert_array_equal(idf_weights(bags, SMALL.buckets, chunk_ids=chunk), whole)
    assert whole.min() >= 1.0 and whole.max() == pytest.approx(np.log(301) + 1.0)


def test_training_on_row_numbers_equals_training_on_a_copy_of_those_rows():
    texts, labels = keyword_corpus(400, seed=2)
    bags = featurize(texts, None, SMALL)
    keys = np.arange(1000, 1400, dtype=np.uint64)
    rows = np.flatnonzero(np.arange(400) % 3 != 0)
    options = TrainOptions(dim=8, epochs=2, lr=0.05, batch_size=16)
    copied = Trainer(SMALL.buckets, 3, options, CPU, 20, seed=4)
    by_rows = Trainer(SMALL.buckets, 3, options, CPU, 20, seed=4)
    for _ in range(2):
        copied.train_epoch(bags.take(rows), labels[rows], keys[rows])
        by_rows.train_epoch(bags, labels, keys, rows=rows)
    held = np.flatnonzero(np.arange(400) % 3 == 0)
    np.testing.assert_array_equal(copied.predict_proba(bags.take(held)), by_rows.predict_proba(bags, rows=held))
