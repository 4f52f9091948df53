"""Confident learning in numpy against cleanlab, the oracle: the same confident joint, the same
flags for every method, the same label quality scores, element for element; plus the edges
(an absent class, one-example classes, ties, nothing to flag)."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest
from cleanlab.count import calibrate_confident_joint as cleanlab_calibrate
from cleanlab.count import compute_confident_joint, get_confident_thresholds
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

from refinery.labels import confident_learning as cl
from tests.support.paths import corpora_dir

METHODS = cl.METHODS
#: (seed, classes, examples): C = 2, 4, 10, n = 200..5000
CASES = [(0, 2, 200), (1, 2, 1500), (2, 4, 800), (3, 4, 5000), (4, 10, 3000), (5, 10, 400), (6, 3, 1200)]


def noisy_dataset(
    seed: int,
    num_classes: int,
    n: int,
    noise: float = 0.2,
    decimals: int | None = None,
    peak: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pred_probs, noisy labels, flipped)``: Dirichlet probabilities peaked on each example's
    true class (``peak`` against 0.6 elsewhere), and a ``noise`` share of labels moved to
    another class."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, num_classes, n)
    if peak is None:
        peak = rng.uniform(2.0, 6.0) * max(1.0, num_classes / 4)
    alpha = np.where(np.arange(num_classes)[None, :] == true[:, None], peak, 0.6)
    probs = np.stack([rng.dirichlet(a) for a in alpha])
    if decimals is not None:  # coarse probabilities: many exact ties in margins
        probs = np.round(probs, decimals)
    flipped = rng.random(n) < noise
    labels = true.copy()
    labels[flipped] = (true[flipped] + rng.integers(1, num_classes, flipped.sum())) % num_classes
    return probs, labels, flipped


def cleanlab_flags(probs: np.ndarray, labels: np.ndarray, method: str, **kwargs) -> np.ndarray:
    """cleanlab's mask with default arguments (``n_jobs=1``: the same computation, no fork)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_label_issues(labels, probs, filter_by=method, n_jobs=1, **kwargs)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("seed", "num_classes", "n"), CASES)
def test_find_noisy_equals_cleanlab(seed, num_classes, n, method):
    probs, labels, flipped = noisy_dataset(seed, num_classes, n)
    expected = cleanlab_flags(probs, labels, method)
    got = cl.find_noisy(probs, labels, method)
    assert got.dtype == bool and got.shape == (n,)
    assert 0 < expected.sum() < n  # there are issues to find, and not everything is one
    np.testing.assert_array_equal(got, expected)
    # and they are label errors far more often than chance
    assert (got & flipped).sum() / got.sum() > 2 * flipped.mean()


@pytest.mark.parametrize(("seed", "num_classes", "n"), CASES)
def test_confident_joint_and_thresholds_equal_cleanlab(seed, num_classes, n):
    probs, labels, _ = noisy_dataset(seed, num_classes, n)
    np.testing.assert_array_equal(cl.per_class_thresholds(probs, labels), get_confident_thresholds(labels, probs))
    for calibrate in (True, False):
        expected = compute_confident_joint(labels, probs, calibrate=calibrate)
        np.testing.assert_array_equal(cl.confident_joint(probs, labels, calibrate=calibrate), expected)
    calibrated = cl.confident_joint(probs, labels)
    assert calibrated.sum() == n
    np.testing.assert_array_equal(calibrated.sum(axis=1), np.bincount(labels, minlength=num_classes))
    own = np.linspace(0.3, 0.6, num_classes)  # thresholds given by the caller
    np.testing.assert_array_equal(
        cl.confident_joint(probs, labels, thresholds=own), compute_confident_joint(labels, probs, thresholds=own)
    )


@pytest.mark.parametrize("method", cl.QUALITY_METHODS)
@pytest.mark.parametrize(("seed", "num_classes", "n"), CASES[:4])
def test_label_quality_equals_cleanlab(seed, num_classes, n, method):
    probs, labels, flipped = noisy_dataset(seed, num_classes, n)
    got = cl.label_quality(probs, labels, method)
    np.testing.assert_array_equal(got, get_label_quality_scores(labels, probs, method=method))
    assert got[flipped].mean() < got[~flipped].mean()


def test_confident_classes_by_hand():
    """Thresholds 0.217, 0.297, 0.66. Row 6 is confident in 0 and 1 (0.31 each) but counted in
    its argmax 2, which is not confident; row 8 reaches no threshold and is counted nowhere."""
    probs = np.array(
        [
            [0.3, 0.2, 0.5],
            [0.3, 0.5, 0.2],
            [0.2, 0.3, 0.5],
            [0.5, 0.3, 0.2],
            [0.1, 0.1, 0.8],
            [0.1, 0.1, 0.8],
            [0.31, 0.31, 0.38],
            [0.05, 0.15, 0.8],
            [0.2, 0.29, 0.51],
        ]
    )
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1])
    thresholds = cl.per_class_thresholds(probs, labels)
    np.testing.assert_allclose(thresholds, [0.65 / 3, 0.89 / 3, 1.98 / 3])
    np.testing.assert_array_equal(cl.confident_classes(probs, thresholds), [0, 1, 1, 0, 2, 2, 2, 2, -1])
    raw = cl.confident_joint(probs, labels, calibrate=False)
    np.testing.assert_array_equal(raw, [[1, 1, 1], [1, 1, 0], [0, 0, 3]])
    np.testing.assert_array_equal(raw, compute_confident_joint(labels, probs, calibrate=False))
    np.testing.assert_array_equal(cl.confident_joint(probs, labels), compute_confident_joint(labels, probs))
    np.testing.assert_array_equal(cl.confident_joint(probs, labels).sum(axis=1), [3, 3, 3])
    # "p >= t" has 1e-6 of slack: 0.4999995 reaches 0.5
    close = np.array([[0.5 - 5e-7, 0.5 + 5e-7], [0.5 - 2e-6, 0.5 + 2e-6]])
    np.testing.assert_array_equal(cl.confident_classes(close, np.array([0.5, 0.9])), [0, -1])
    np.testing.assert_array_equal(
        cl.confident_joint(close, np.array([1, 1]), thresholds=np.array([0.5, 0.9]), calibrate=False),
        compute_confident_joint(np.array([1, 1]), close, thresholds=np.array([0.5, 0.9]), calibrate=False),
    )


def test_the_confident_joint_is_laid_out_like_cleanlabs_so_calibration_rounds_alike():
    """A case where the row-total rounding depends on the float sum's order: a C-ordered raw
    joint calibrates to a different matrix than cleanlab's column-major one."""
    rng = np.random.default_rng(7)
    n = int(rng.integers(100, 800))
    true = rng.integers(0, 10, n)
    probs = np.stack([rng.dirichlet(np.where(np.arange(10) == t, 3.0, 0.7)) for t in true])
    labels = true.copy()
    flip = rng.random(n) < 0.25
    labels[flip] = rng.integers(0, 10, flip.sum())
    raw = compute_confident_joint(labels, probs, calibrate=False)
    counts = cl.label_counts(labels, 10)
    assert not np.array_equal(
        cl.calibrate_confident_joint(np.ascontiguousarray(raw), counts), cleanlab_calibrate(raw, labels)
    )
    np.testing.assert_array_equal(
        cl.confident_joint_from_counts(np.ascontiguousarray(raw), counts), compute_confident_joint(labels, probs)
    )
    np.testing.assert_array_equal(cl.confident_joint(probs, labels), compute_confident_joint(labels, probs))
    for method in METHODS:
        np.testing.assert_array_equal(cl.find_noisy(probs, labels, method), cleanlab_flags(probs, labels, method))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("decimals", [1, 2])
def test_ties_are_broken_like_cleanlab_by_default(method, decimals):
    """Probabilities with one or two decimals: many equal margins, cut-offs fall inside ties; the
    default ranking calls np.argsort exactly as cleanlab does."""
    probs, labels, _ = noisy_dataset(7, 4, 3000, decimals=decimals)
    np.testing.assert_array_equal(cl.find_noisy(probs, labels, method), cleanlab_flags(probs, labels, method))


def stable_reference(probs: np.ndarray, labels: np.ndarray, method: str) -> np.ndarray:
    """prune_by_noise_rate / prune_by_class written out with Python's sorted (stable): per cell,
    the first F[k, j] examples by (key descending, row index ascending)."""
    num_classes = probs.shape[1]
    counts = cl.label_counts(labels, num_classes)
    flags = cl.flag_counts(cl.confident_joint(probs, labels), counts)
    mask = np.zeros(len(labels), dtype=bool)
    for k in range(num_classes):
        rows = [i for i in range(len(labels)) if labels[i] == k]
        for j in range(num_classes):
            if (j == k) != (method == "prune_by_class") or flags[k, j] == 0:
                continue
            key = (lambda i: probs[i, k]) if j == k else (lambda i: probs[i, k] - probs[i, j])  # noqa: B023
            for i in sorted(rows, key=key)[: flags[k, j]]:
                mask[i] = True
    bumped = probs.copy()
    bumped[np.arange(len(labels)), labels] += 1e-6
    return mask & (bumped.argmax(axis=1) != labels)


@pytest.mark.parametrize("method", ["prune_by_noise_rate", "prune_by_class"])
def test_stable_ties_rank_equal_keys_by_row_order(method):
    probs, labels, _ = noisy_dataset(7, 4, 3000, decimals=1)
    stable = cl.find_noisy(probs, labels, method, stable_ties=True)
    np.testing.assert_array_equal(stable, stable_reference(probs, labels, method))
    # here cut-offs fall inside ties, where cleanlab's unstable sort picks other examples
    assert not np.array_equal(stable, cleanlab_flags(probs, labels, method))


def test_without_ties_stable_ranking_changes_nothing():
    probs, labels, _ = noisy_dataset(3, 4, 5000)
    for method in METHODS:
        np.testing.assert_array_equal(
            cl.find_noisy(probs, labels, method, stable_ties=True), cl.find_noisy(probs, labels, method)
        )


def test_an_absent_class_behaves_as_in_cleanlab():
    probs, labels, _ = noisy_dataset(8, 6, 1500, noise=0.3, peak=1.0)  # flat: often several confident
    labels[labels == 2] = 3  # nobody is labelled 2, though the model predicts it
    thresholds = cl.per_class_thresholds(probs, labels)
    assert thresholds[2] == cl.ABSENT_CLASS_THRESHOLD
    joint = cl.confident_joint(probs, labels)
    np.testing.assert_array_equal(joint, compute_confident_joint(labels, probs))
    assert joint[2].sum() == 0
    # examples of other classes reach column 2 through the several-confident argmax rule
    raw = cl.confident_joint(probs, labels, calibrate=False)
    others = [0, 1, 3, 4, 5]
    assert raw[others, 2].sum() > 0 and joint[others, 2].sum() > 0
    assert cl.flag_counts(joint, cl.label_counts(labels, 6))[others, 2].sum() > 0  # flagged "really 2"
    for method in METHODS:
        got = cl.find_noisy(probs, labels, method)
        np.testing.assert_array_equal(got, cleanlab_flags(probs, labels, method))
    assert cl.find_noisy(probs, labels).any()


def small_classes_dataset() -> tuple[np.ndarray, np.ndarray, int]:
    """Four classes: class 1 is one confidently-class-0 example (mislabelled), class 2 has 8 of
    its own examples and 25 class-0 ones (few confidently correct: a small diagonal)."""
    probs, labels, _ = noisy_dataset(9, 4, 600, noise=0.1)
    rng = np.random.default_rng(9)
    zeros = np.flatnonzero((labels == 0) & (probs[:, 0] > 0.7))
    single = int(zeros[0])
    labels[labels == 1] = 0
    labels[single] = 1
    twos = np.flatnonzero(labels == 2)
    labels[twos[8:]] = 3
    labels[rng.choice(zeros[1:], 25, replace=False)] = 2
    return probs, labels, single


@pytest.mark.parametrize("min_examples", [0, 1, 5, 20, 40])
def test_min_examples_per_class_and_a_one_example_class(min_examples):
    probs, labels, single = small_classes_dataset()
    counts = cl.label_counts(labels, 4)
    assert counts[1] == 1 and counts[2] == 33
    joint = cl.confident_joint(probs, labels)
    assert joint[2, 2] < 20 < counts[2]  # at 20 the diagonal is raised, taken from the noise cells
    for method in cl.PRUNE_METHODS:
        expected = cleanlab_flags(probs, labels, method, min_examples_per_class=min_examples)
        got = cl.find_noisy(probs, labels, method, min_examples_per_class=min_examples)
        np.testing.assert_array_equal(got, expected)
        assert not got[single]  # cleanlab never flags a class of one
        if min_examples >= 33:
            assert not got[labels == 2].any()
        elif method == "prune_by_noise_rate":
            assert got[labels == 2].any()


def test_correct_labels_are_never_flagged():
    probs, _, _ = noisy_dataset(10, 4, 2000)
    labels = probs.argmax(axis=1)  # every given label is the model's prediction
    for method in METHODS:
        assert not cl.find_noisy(probs, labels, method).any(), method
        assert not cleanlab_flags(probs, labels, method).any(), method


def test_a_single_present_class_flags_nothing_but_disagreements_with_the_prediction():
    """With one given class every other threshold is 2: nothing is confidently elsewhere, so
    the confident-joint methods flag nothing. cleanlab agrees where it accepts the input (all
    labels 0, and not for predicted_neq_given or the low_* methods); we answer everywhere."""
    probs, _, _ = noisy_dataset(11, 3, 500)
    for present in (0, 1):
        labels = np.full(500, present)
        for method in METHODS:
            got = cl.find_noisy(probs, labels, method)
            if method == "predicted_neq_given":
                expected = (probs.argmax(axis=1) != present) & ~cl.kept_by_prediction(probs, labels)
                assert expected.any()
            else:
                expected = np.zeros(500, dtype=bool)
            np.testing.assert_array_equal(got, expected)
            if present == 0 and method not in ("predicted_neq_given", "low_normalized_margin", "low_self_confidence"):
                np.testing.assert_array_equal(got, cleanlab_flags(probs, labels, method))
            else:
                with pytest.raises(ValueError, match="2 classes"):
                    cleanlab_flags(probs, labels, method)


def test_flag_counts_split_the_counting_from_the_ranking():
    probs, labels, _ = noisy_dataset(2, 4, 800)
    counts = cl.label_counts(labels, 4)
    flags = cl.flag_counts(cl.confident_joint(probs, labels), counts)
    by_class = cl.find_noisy(probs, labels, "prune_by_class")
    by_noise = cl.find_noisy(probs, labels, "prune_by_noise_rate")
    kept = cl.kept_by_prediction(probs, labels)
    # before the kept-by-prediction rule, class k loses exactly F[k, k] examples
    bare = cl._flag_by_class(probs, labels, flags, None)
    np.testing.assert_array_equal(np.bincount(labels[bare], minlength=4), np.diagonal(flags))
    np.testing.assert_array_equal(by_class, bare & ~kept)
    # the noise-rate cells flag at most their counts (cells overlap), at least the largest
    bare = cl._flag_by_noise_rate(probs, labels, flags, None)
    off = flags - np.diag(np.diagonal(flags))
    per_class = np.bincount(labels[bare], minlength=4)
    assert np.all(per_class <= off.sum(axis=1)) and np.all(per_class >= off.max(axis=1))
    np.testing.assert_array_equal(by_noise, bare & ~kept)


def ag_news_probs(n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold probabilities of a TF-IDF naive Bayes on the first ``n`` AG News test rows,
    10% of the labels moved to another topic."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import cross_val_predict
    from sklearn.naive_bayes import MultinomialNB

    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        rows = [row for _, row in zip(range(n), csv.reader(f), strict=False)]
    true = np.array([int(row[0]) - 1 for row in rows])
    rng = np.random.default_rng(7)
    flipped = rng.random(n) < 0.1
    labels = true.copy()
    labels[flipped] = (true[flipped] + rng.integers(1, 4, flipped.sum())) % 4
    features = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform([f"{r[1]} {r[2]}" for r in rows])
    probs = cross_val_predict(MultinomialNB(alpha=0.1), features, labels, cv=5, method="predict_proba")
    return probs, labels, flipped


def test_real_text_classifier_probabilities():
    probs, labels, flipped = ag_news_probs()
    for method in METHODS:
        got = cl.find_noisy(probs, labels, method)
        np.testing.assert_array_equal(got, cleanlab_flags(probs, labels, method))
    np.testing.assert_array_equal(cl.confident_joint(probs, labels), compute_confident_joint(labels, probs))
    found = cl.find_noisy(probs, labels)
    assert (found & flipped).sum() > 0.6 * flipped.sum()  # most injected errors are found
    assert (found & flipped).sum() > 0.4 * found.sum()  # and flags are mostly real (base rate 10%)


def test_bad_inputs_are_refused():
    probs, labels, _ = noisy_dataset(0, 3, 50)
    with pytest.raises(ValueError, match="method"):
        cl.find_noisy(probs, labels, "prune_by_luck")
    with pytest.raises(ValueError, match="method"):
        cl.label_quality(probs, labels, "confidence_weighted_entropy")
    with pytest.raises(ValueError, match="0..2"):
        cl.find_noisy(probs, np.full(50, 3))
    with pytest.raises(ValueError, match="shape"):
        cl.find_noisy(probs, labels[:-1])
    with pytest.raises(ValueError, match="probabilities"):
        cl.find_noisy(probs * 2, labels)
    with pytest.raises(ValueError, match="integer"):
        cl.find_noisy(probs, labels + 0.5)


def test_outvoted_flags_exactly_the_rows_another_class_beats_by_the_margin():
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.45, 0.55, 0.0], [0.1, 0.1, 0.8]])
    labels = np.array([0, 0, 0, 2])
    # beaten by: -0.3 (given is best), 0.5, 0.1, -0.7
    np.testing.assert_array_equal(cl.outvoted(probs, labels, 0.0), [False, True, True, False])
    np.testing.assert_array_equal(cl.outvoted(probs, labels, 0.15), [False, True, False, False])
    np.testing.assert_array_equal(cl.outvoted(probs, labels, 0.5), [False, False, False, False])
    # a margin of 0 is "the argmax is not the given label" where no class ties with it
    rng = np.random.default_rng(4)
    random = rng.dirichlet(np.ones(5), 300)
    given = rng.integers(0, 5, 300)
    np.testing.assert_array_equal(cl.outvoted(random, given, 0.0), random.argmax(1) != given)
