"""Label noise at a known rate, and how well a detector finds it (issue 5's benchmark).

Real corpora carry their own, unknown label errors; to measure a detector we flip a known set
of labels on top and score the detector against that set. Two kinds of flips:

* **uniform**: ``round(rate * n)`` samples, chosen uniformly, each get a different class drawn
  uniformly from the others (symmetric noise);
* **class-conditional**: from every class ``c``, ``round(rate * n_c)`` of its samples move to
  one fixed other class ``target(c)`` (a random derangement of the classes), as when two
  topics are confused by annotators (asymmetric noise: the harder case for a detector, whose
  model may learn the confusion);
* **instance-dependent**: the errors people make. A *weak model* (its out-of-sample
  probabilities ``Q``, ``n × classes``, passed in as ``confusion``) says which other class
  each sample could be mistaken for, ``c*(x) = argmax_{j ≠ y} Q[x, j]``, and how easily,
  ``q(x) = Q[x, c*(x)]``. ``round(rate * n)`` samples are drawn without replacement with
  probability proportional to ``q(x)`` (Efraimidis–Spirakis keys ``u^(1/q)``), and each
  moves to its ``c*(x)``: ambiguous texts are mislabelled often, clear ones rarely, and
  always towards a plausible class. The hardest case for a detector, since a flipped
  sample looks like its new class to any model that shares the weak model's view.

Scores: precision, recall and F1 of a boolean ``is_noisy`` against the flipped set, and the
average precision (area under the precision-recall curve) of a continuous ``label_quality``
where *low* quality means *likely flipped*. Pure numpy; no Spark, no model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KINDS = ("uniform", "class_conditional", "instance_dependent")


def inject_noise(
    labels: Sequence[str], rate: float, kind: str, seed: int, confusion: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(noisy_labels, flipped)``: ``labels`` with a ``rate`` share flipped (see the module
    doc for ``kind``), and the boolean mask of the flipped samples. The same seed gives the
    same flips. ``confusion``: the weak model's probabilities that ``instance_dependent``
    needs, one column per class in sorted order of the class names."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    given = np.asarray(labels, dtype=object)
    classes = np.array(sorted(set(given.tolist())), dtype=object)
    if len(classes) < 2:
        raise ValueError("label noise needs at least two classes")
    rng = np.random.default_rng(seed)
    noisy = given.copy()
    flipped = np.zeros(len(given), dtype=bool)
    if kind == "uniform":
        chosen = rng.choice(len(given), size=round(rate * len(given)), replace=False)
        for i in chosen:
            others = classes[classes != given[i]]
            noisy[i] = others[rng.integers(len(others))]
        flipped[chosen] = True
    elif kind == "class_conditional":
        target = dict(zip(classes.tolist(), _derangement(classes, rng).tolist(), strict=True))
        for c in classes:
            members = np.flatnonzero(given == c)
            chosen = rng.choice(members, size=round(rate * len(members)), replace=False)
            noisy[chosen] = target[c]
            flipped[chosen] = True
    elif kind == "instance_dependent":
        if confusion is None or np.shape(confusion) != (len(given), len(classes)):
            raise ValueError("instance_dependent noise needs confusion: n × classes weak-model probabilities")
        chosen, targets = _confused_choice(given, classes, np.asarray(confusion, dtype=float), rate, rng)
        noisy[chosen] = classes[targets]
        flipped[chosen] = True
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return noisy, flipped


def _confused_choice(
    given: np.ndarray, classes: np.ndarray, confusion: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The samples to flip and the class index each moves to, for instance-dependent noise
    (module doc): a weighted draw without replacement by ``q(x)``, the weak model's
    probability of the likeliest other class, each to that class."""
    index = np.searchsorted(classes, given)
    others = confusion.copy()
    others[np.arange(len(given)), index] = -np.inf
    targets = others.argmax(1)
    weight = np.maximum(others[np.arange(len(given)), targets], 1e-12)
    # Efraimidis–Spirakis: the k largest u^(1/w) are a weighted sample without replacement
    keys = np.log(rng.random(len(given))) / weight
    chosen = np.argsort(-keys, kind="stable")[: round(rate * len(given))]
    return chosen, targets[chosen]


def _derangement(classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``classes`` that moves every class: a cyclic shift of a
    shuffled order (so no class maps to itself)."""
    order = rng.permutation(len(classes))
    mapped = np.empty(len(classes), dtype=object)
    mapped[order] = classes[np.roll(order, -1)]
    return mapped


def detection_scores(is_noisy: Sequence[bool], flipped: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of the flagged samples against the flipped ones (0.0 where
    a ratio has an empty denominator)."""
    flagged, truth = np.asarray(is_noisy, dtype=bool), np.asarray(flipped, dtype=bool)
    hits = int(np.sum(flagged & truth))
    precision = hits / int(flagged.sum()) if flagged.any() else 0.0
    recall = hits / int(truth.sum()) if truth.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "flagged": int(flagged.sum()),
    }


def average_precision(label_quality: Sequence[float], flipped: Sequence[bool]) -> float:
    """Area under the precision-recall curve of ranking samples by *ascending*
    ``label_quality`` to find the flipped ones:

        AP = Σ_k (R_k − R_{k−1}) · P_k

    over the distinct quality values ``q_k`` in ascending order, where ``P_k`` and ``R_k`` are
    the precision and recall of flagging every sample with quality ``≤ q_k`` (tied samples
    enter together, as in scikit-learn's ``average_precision_score`` on ``-label_quality``).
    1.0 when every flipped sample ranks before every clean one; about the flipped share for a
    random ranking."""
    quality = np.asarray(label_quality, dtype=float)
    truth = np.asarray(flipped, dtype=bool)
    if not truth.any():
        raise ValueError("average precision needs at least one flipped sample")
    order = np.argsort(quality, kind="stable")
    quality, truth = quality[order], truth[order]
    # the last index of each run of equal quality values: one threshold per distinct value
    ends = np.flatnonzero(np.r_[quality[1:] != quality[:-1], True])
    hits = np.cumsum(truth)[ends]
    precision = hits / (ends + 1)
    recall = hits / truth.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
