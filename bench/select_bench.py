"""Active learning, simulated on real corpora (issue 7's evaluation): accuracy against labels used
for random, least-confidence, margin and entropy sampling.

Corpora: AG News (test split, 7,600 English news, 4 topics) and THUCNews titles (20,000 Chinese
headlines, 10 topics), normalized and segmented by the clean job's own functions
(:func:`bench.score_bench.load_corpus`). Protocol (:class:`Protocol`), for each corpus:

1. **Outer K-fold** (stratified by class, seeded): the rows are dealt into ``folds`` folds; in
   turn each fold is the held-out test set and the other K−1 folds the *pool*, whose gold labels
   the simulation hides until they are "bought". Every row is tested exactly once, so the mean
   test accuracy over the folds is the accuracy on the whole corpus (K = 5 on AG News: 7,600
   test rows instead of 1,520, the standard error √(p(1−p)/n) about 0.37 pt instead of 0.83).
2. **Start**: a stratified ``start_share`` (5%) of the pool is labelled; the same start for every
   strategy of a fold.
3. **Round**: train a model (:class:`refinery.score.train.Trainer`, features as
   :func:`refinery.score.features.featurize` with IDF weights, as the score job's) on the
   labelled rows only, record its accuracy on the test fold, score the unlabelled pool, rank it
   with :func:`refinery.labels.active_learning.uncertainty` and take a batch of
   ``batch_share`` of the pool with :func:`refinery.labels.active_learning.select`; reveal the
   batch's gold labels. Repeat until the whole pool is labelled. The model is trained from
   scratch every round (seeded), or with ``warm_start`` from the previous round's weights.
4. **Measure**: test accuracy against the labelled share of the pool (5%, 5% + batch, … 100%),
   averaged over the folds. From scratch, training is a function of the set of rows (seeded,
   the visiting order by row key), so with the whole pool labelled every strategy has the same
   model: *random's final accuracy*. (Warm-started, each strategy's last model differs and
   random's own last point is the reference.) Per strategy, the *labels needed* are the
   smallest labelled share whose mean accuracy reaches that (1.0: only with the whole pool).
   The issue's target: the best strategy needs at most 60% of the labels.

Nothing is tuned on the test folds: the training settings below were checked for convergence on
an inner validation split of one fold's pool (5%, 20%, 60% and 100% of it: 3 epochs with at
least 150 steps, lr 0.02, was within 0.5 pt of 5–20 epochs at lr 0.01–0.05), and every protocol
variant that was measured while building this is listed in ``VARIANTS_MEASURED`` and in
``select.md``, not only the chosen one.

Training: ``epochs`` epochs, but at least ``min_steps`` optimizer steps (a 5% start is a few
hundred rows: 3 epochs would be a dozen steps and a model at chance, which ranks nothing), Adam
with a linearly decaying learning rate, batches of 64. The feature space is 2^18 buckets instead
of the score job's 2^20: the corpora here have at most 20,000 rows, collisions stay negligible,
and a fresh model is built hundreds of times.

Reported: the mean curves over folds with their min–max, the labels needed per strategy (mean
curve and per fold), the paired difference between each strategy and random's final accuracy at
the target share (mean over the corpus's rows of ``correct_strategy − correct_final``, with its
standard error: the same rows, so most of the test noise cancels), the best strategy and
whether it meets the target, and the wall time of a round (train + score + select) with one
torch thread. Also written: ``bench/results/select_curves.png`` (one panel per corpus) and
``bench/results/select.md``.

    python -m bench.run select                       # the benchmark (results/select.json)
    python -m bench.select_bench --corpus ag_news --batch-share 0.05 --out /tmp/x
    python -m bench.select_bench --quick             # 2 folds, 20% batches, a temporary folder
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from bench.score_bench import load_corpus
from refinery.labels.active_learning import select, uncertainty
from refinery.score.features import Bags, featurize, idf_weights
from refinery.score.model import seed_everything
from refinery.score.options import FeatureOptions, TrainOptions
from refinery.score.train import Trainer

RESULTS = Path(__file__).resolve().parent / "results"
#: Output name → the name :func:`bench.score_bench.load_corpus` knows it by.
CORPORA = {"ag_news": "ag_news", "thucnews_titles": "thucnews"}
STRATEGIES = ("random", "least_confidence", "margin", "entropy")
TARGET_SHARE = 0.6
FEATURES = FeatureOptions(buckets=1 << 18)
#: Also reported: the labels needed to come within this much of random's final accuracy.
TOLERANCE = 0.005


@dataclass(frozen=True)
class Protocol:
    """Everything the simulation's result depends on (module doc)."""

    folds: int = 5
    #: Run only the first ``folds_run`` folds (``None``: all); each is still a 1/K test fold.
    folds_run: int | None = None
    seed: int = 7
    start_share: float = 0.05
    batch_share: float = 0.025
    warm_start: bool = False
    epochs: int = 3
    min_steps: int = 150
    lr: float = 0.02
    batch_size: int = 64
    strategies: tuple[str, ...] = STRATEGIES

    def train_options(self) -> TrainOptions:
        return TrainOptions(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size)


#: The protocol per corpus of ``python -m bench.run select``. THUCNews titles (pool 16,000, met
#: the target under the previous protocol) runs 2 of its 5 folds (8,000 test rows) with 5%
#: batches, to keep the whole benchmark near 30 CPU minutes on one core.
PROTOCOLS = {"ag_news": Protocol(), "thucnews_titles": Protocol(folds_run=2, batch_share=0.05)}

#: Every protocol measured while building the benchmark, so that the chosen one is read against
#: what else was tried. The new protocol was fixed before its first run (5 folds: the noise;
#: 2.5% batches: the usual advice for uncertainty sampling) and measured once on AG News.
VARIANTS_MEASURED: list[dict] = [
    {
        "corpus": "ag_news",
        "evaluation": "3 random stratified 80/20 splits (seeds 7, 8, 9), 1,520 test rows each",
        "batch_share": 0.05,
        "training": "from scratch",
        "random_final_accuracy": 0.8803,
        "labels_needed": {"least_confidence": 0.85, "margin": 0.95, "entropy": 1.0},
        "note": "the previous protocol (commit 54b9a24)",
    },
    {
        "corpus": "thucnews_titles",
        "evaluation": "3 random stratified 80/20 splits (seeds 7, 8, 9), 4,000 test rows each",
        "batch_share": 0.05,
        "training": "from scratch",
        "random_final_accuracy": 0.8817,
        "labels_needed": {"least_confidence": 0.6, "margin": 0.6, "entropy": 0.6},
        "note": "the previous protocol (commit 54b9a24)",
    },
]
#: Free-text notes appended to ``select.md`` (e.g. how the committed results were produced).
NOTES: list[str] = []


def stratified_sample(labels: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of ``round(share * n_c)`` rows drawn from every class ``c``."""
    chosen = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        chosen.append(rng.permutation(members)[: round(share * len(members))])
    return np.sort(np.concatenate(chosen))


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """The fold (0 … ``folds`` − 1) of every row: each class's rows in a seeded random order,
    dealt round-robin, so every fold holds ⌊n_c/K⌋ or ⌈n_c/K⌉ rows of class ``c``."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        fold[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)  # the next class starts where this one stopped: folds stay even
    return fold


class Model:
    """Trains a model on some pool rows; its test correctness and probabilities of other rows."""

    def __init__(self, bags: Bags, labels: np.ndarray, test: np.ndarray, seed: int, protocol: Protocol) -> None:
        self.bags, self.labels, self.seed, self.protocol = bags, labels, seed, protocol
        self.idf = idf_weights(bags, FEATURES.buckets)  # label-free: over every row, as the job
        self.keys = np.arange(len(labels), dtype=np.uint64)  # a row's key is its position
        self.test_bags, self.test_labels = bags.take(test), labels[test]
        self.classes = int(labels.max()) + 1

    def fit(
        self, rows: np.ndarray, score: np.ndarray, warm: Trainer | None = None
    ) -> tuple[np.ndarray, np.ndarray, Trainer]:
        """Which test rows a model trained on ``rows`` gets right, its probabilities of
        ``score``, and the trainer (for a warm start). ``warm``: start from its weights
        instead of the seeded initialization (fresh optimizer and learning-rate schedule)."""
        rows = np.sort(rows)
        base = self.protocol.train_options()
        steps = -(-len(rows) // base.batch_size)
        options = replace(base, epochs=max(base.epochs, -(-self.protocol.min_steps // steps)))
        seed_everything(self.seed)
        trainer = Trainer(FEATURES.buckets, self.classes, options, torch.device("cpu"), steps, self.seed, idf=self.idf)
        if warm is not None:
            trainer.model.load_state_dict(warm.model.state_dict())
        train_bags, train_labels, train_keys = self.bags.take(rows), self.labels[rows], self.keys[rows]
        for _ in range(options.epochs):
            trainer.train_epoch(train_bags, train_labels, train_keys)
        correct = trainer.predict_proba(self.test_bags).argmax(1) == self.test_labels
        probs = trainer.predict_proba(self.bags.take(score)) if len(score) else np.zeros((0, self.classes))
        return correct, probs, trainer


def simulate(bags: Bags, labels: np.ndarray, fold: int, folds: np.ndarray, protocol: Protocol) -> dict:
    """One outer fold of the protocol (module doc) for every strategy: labelled counts,
    accuracies, the test rows' correctness per round and the seconds of each round."""
    seed = protocol.seed * 100 + fold
    rng = np.random.default_rng(seed)
    test = np.flatnonzero(folds == fold)
    pool = np.flatnonzero(folds != fold)
    start = pool[stratified_sample(labels[pool], protocol.start_share, rng)]
    batch = round(protocol.batch_share * len(pool))
    model = Model(bags, labels, test, seed, protocol)

    started = time.perf_counter()
    start_correct, start_probs, start_trainer = model.fit(start, np.setdiff1d(pool, start))
    start_seconds = time.perf_counter() - started
    shared_final = None
    if not protocol.warm_start:  # one model for the whole pool, whatever the strategy
        started = time.perf_counter()
        shared_final = model.fit(pool, pool[:0])[0], time.perf_counter() - started

    curves = {}
    for strategy in protocol.strategies:
        labelled = np.isin(pool, start)
        counts, correct, seconds = [len(start)], [start_correct], []
        probs, trainer, round_no = start_probs, start_trainer, 0
        while not labelled.all():
            started = time.perf_counter()
            unlabelled = np.flatnonzero(~labelled)  # positions in pool, the rows of ``probs``
            scores = uncertainty(probs, strategy, seed=seed * 1000 + round_no)
            labelled[unlabelled[select(scores, batch)]] = True  # reveal the batch's gold labels
            if labelled.all() and shared_final is not None:  # the shared 100% point (module doc)
                right, took = shared_final[0], shared_final[1] + time.perf_counter() - started
            else:
                warm = trainer if protocol.warm_start else None
                right, probs, trainer = model.fit(pool[labelled], pool[~labelled], warm)
                took = time.perf_counter() - started
            counts.append(int(labelled.sum()))
            correct.append(right)
            seconds.append(took)
            round_no += 1
        curves[strategy] = {
            "labelled": counts,
            "accuracy": [float(c.mean()) for c in correct],
            "correct": np.array(correct),  # rounds × test rows; summarized, not written
            "round_seconds": seconds,
        }
    final = curves["random"]["correct"][-1] if "random" in curves else shared_final[0]
    return {
        "fold": fold,
        "seed": seed,
        "pool": len(pool),
        "test": len(test),
        "start": len(start),
        "batch": batch,
        "start_seconds": start_seconds,
        "final_correct": final,
        "final_accuracy": float(final.mean()),
        "curves": curves,
    }


def labels_needed(shares: list[float], accuracies: list[float], target: float) -> float | None:
    """The smallest labelled share whose accuracy reaches ``target`` (None: none does). On a
    curve that ends with the whole pool and ``target`` its accuracy, at most 1.0."""
    for share, accuracy in zip(shares, accuracies, strict=True):
        if accuracy >= target - 1e-12:
            return share
    return None


def paired_difference(runs: list[dict], strategy: str, index: int) -> tuple[float, float]:
    """Mean and standard error over all test rows of ``correct_strategy − correct_final`` at
    round ``index``: ``d̄ = Σd_i/n``, ``SE = s_d/√n`` (``s_d`` the sample standard deviation).
    The two models are scored on the same rows, so the test set's own sampling noise largely
    cancels; what remains is the noise of the comparison."""
    d = np.concatenate(
        [r["curves"][strategy]["correct"][index].astype(float) - r["final_correct"].astype(float) for r in runs]
    )
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))


def summarize(name: str, runs: list[dict], protocol: Protocol) -> dict:
    """Mean curves over the folds (weighted by test rows: the pooled accuracy), their spread,
    labels needed, the paired differences and the target's verdict."""
    first = runs[0]
    shares = [round(c / first["pool"], 4) for c in first["curves"][protocol.strategies[0]]["labelled"]]
    weights = np.array([r["test"] for r in runs], dtype=float)
    finals = [r["final_accuracy"] for r in runs]
    final = float(np.average(finals, weights=weights))
    at_target = _index_of(shares, TARGET_SHARE)
    strategies = {}
    for strategy in protocol.strategies:
        by_fold = np.array([r["curves"][strategy]["accuracy"] for r in runs])
        mean = np.average(by_fold, axis=0, weights=weights)
        needed = labels_needed(shares, mean.tolist(), final)
        diff, se = paired_difference(runs, strategy, at_target)
        strategies[strategy] = {
            "accuracy_mean": [round(float(a), 4) for a in mean],
            "accuracy_min": [round(float(a), 4) for a in by_fold.min(axis=0)],
            "accuracy_max": [round(float(a), 4) for a in by_fold.max(axis=0)],
            "labels_needed_share": needed,
            "labels_needed_share_by_fold": [
                labels_needed(shares, r["curves"][strategy]["accuracy"], r["final_accuracy"]) for r in runs
            ],
            "labels_needed_share_within_tolerance": labels_needed(shares, mean.tolist(), final - TOLERANCE),
            "accuracy_at_target_share": round(float(mean[at_target]), 4),
            "diff_vs_final_at_target_share": round(diff, 4),
            "diff_vs_final_at_target_share_se": round(se, 4),
        }
    candidates = [s for s in protocol.strategies if s != "random"] or list(protocol.strategies)
    best = min(
        candidates,
        key=lambda s: (
            math.inf if strategies[s]["labels_needed_share"] is None else strategies[s]["labels_needed_share"],
            -float(np.mean(strategies[s]["accuracy_mean"])),
        ),
    )
    needed = strategies[best]["labels_needed_share"]
    seconds = np.array([t for r in runs for s in protocol.strategies for t in r["curves"][s]["round_seconds"][:-1]])
    n_test = int(weights.sum())
    return {
        "corpus": name,
        "protocol": asdict(protocol),
        "rows": first["pool"] + first["test"],
        "pool": first["pool"],
        "test": first["test"],
        "test_rows_total": n_test,
        "start": first["start"],
        "batch": first["batch"],
        "folds": [r["fold"] for r in runs],
        "labelled_share": shares,
        "labelled": first["curves"][protocol.strategies[0]]["labelled"],
        "random_final_accuracy": round(final, 4),
        "random_final_accuracy_se": round(math.sqrt(final * (1 - final) / n_test), 4),
        "random_final_accuracy_by_fold": [round(a, 4) for a in finals],
        "strategies": strategies,
        "best": best,
        "best_labels_needed_share": needed,
        "target_met": needed is not None and needed <= TARGET_SHARE + 1e-9,
        "round_seconds": {
            "mean": round(float(seconds.mean()), 2),
            "min": round(float(seconds.min()), 2),
            "max": round(float(seconds.max()), 2),
            "start_model": round(float(np.mean([r["start_seconds"] for r in runs])), 2),
            "note": "train + score the unlabelled pool + select; 1 torch thread, shared CPU",
        },
    }


def _index_of(shares: list[float], share: float) -> int:
    """The point whose share is closest to ``share``."""
    return int(np.argmin(np.abs(np.asarray(shares) - share)))


def describe(protocol: Protocol, folds_run: int) -> str:
    """One sentence of the protocol, for the Markdown."""
    training = "warm-started from the previous round's weights" if protocol.warm_start else "retrained from scratch"
    return (
        f"outer stratified {protocol.folds}-fold (seed {protocol.seed}), {folds_run} fold(s) run, each once the "
        f"test set; start {protocol.start_share:.0%} of the pool labelled (stratified); batches of "
        f"{protocol.batch_share:.1%} of the pool; model {training} every round ({protocol.epochs} epochs, at least "
        f"{protocol.min_steps} steps, lr {protocol.lr}, batch {protocol.batch_size})"
    )


def table(summaries: list[dict]) -> str:
    """The results as Markdown."""
    lines = [
        "# Active-learning simulation (bench/select_bench.py)",
        "",
        "Each round selects a batch from the unlabelled pool, reveals its gold labels and retrains; test "
        "accuracy is averaged over the outer folds (weighted by test rows: the accuracy over every tested "
        "row), min–max over folds in brackets. Labels needed: the smallest labelled share of the pool at "
        "which the mean curve reaches random's final accuracy (the model with the whole pool labelled); "
        f"target ≤ {TARGET_SHARE:.0%}. Δ @ {TARGET_SHARE:.0%}: the strategy's accuracy minus random's final "
        "accuracy on the same test rows, ± its paired standard error.",
        "",
    ]
    for s in summaries:
        shares = s["labelled_share"]
        i20, i60 = _index_of(shares, 0.2), _index_of(shares, TARGET_SHARE)
        protocol = Protocol(**{**s["protocol"], "strategies": tuple(s["protocol"]["strategies"])})
        lines += [
            f"## {s['corpus']}: pool {s['pool']:,}, test {s['test']:,} per fold ({s['test_rows_total']:,} "
            f"tested), batch {s['batch']:,}, folds {s['folds']}",
            "",
            f"Protocol: {describe(protocol, len(s['folds']))}.",
            "",
            f"Random's final accuracy (100% of the pool): **{s['random_final_accuracy']:.4f}** "
            f"(± {s['random_final_accuracy_se']:.4f} standard error; by fold {s['random_final_accuracy_by_fold']}). "
            f"Best strategy: **{s['best']}**, labels needed {_share(s['best_labels_needed_share'])}: target "
            f"{'met' if s['target_met'] else 'NOT met'}. Round wall time {s['round_seconds']['mean']} s "
            f"(min {s['round_seconds']['min']}, max {s['round_seconds']['max']}).",
            "",
            f"| strategy | acc @ {shares[0]:.0%} | acc @ {shares[i20]:.0%} | acc @ {shares[i60]:.0%} | "
            f"Δ @ {shares[i60]:.0%} (pt) | best acc (at share) | labels needed (mean curve) | by fold | within "
            f"{TOLERANCE * 100:.1f} pt |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, st in s["strategies"].items():
            mean = st["accuracy_mean"]
            peak = int(np.argmax(mean))
            diff, se = st["diff_vs_final_at_target_share"] * 100, st["diff_vs_final_at_target_share_se"] * 100
            lines.append(
                f"| {name} | {mean[0]:.4f} | {_cell(st, i20)} | {_cell(st, i60)} | "
                f"{diff:+.2f} ± {se:.2f} | "
                f"{mean[peak]:.4f} ({shares[peak]:.1%}) | {_share(st['labels_needed_share'])} | "
                f"{', '.join(_share(v) for v in st['labels_needed_share_by_fold'])} | "
                f"{_share(st['labels_needed_share_within_tolerance'])} |"
            )
        lines.append("")
    if VARIANTS_MEASURED:
        lines += [
            "## Other protocols measured",
            "",
            "Labels needed on the mean curve under each (the protocol above was fixed before its first run "
            "and is the only one measured on these folds):",
            "",
            "| corpus | evaluation | batch | training | random's final acc | least conf. | margin | entropy | note |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for v in VARIANTS_MEASURED:
            needed = v["labels_needed"]
            lines.append(
                f"| {v['corpus']} | {v['evaluation']} | {v['batch_share']:.1%} | {v['training']} | "
                f"{v['random_final_accuracy']:.4f} | {_share(needed.get('least_confidence'))} | "
                f"{_share(needed.get('margin'))} | {_share(needed.get('entropy'))} | {v['note']} |"
            )
        lines.append("")
    if NOTES:
        lines += ["## Notes", "", *[f"- {n}" for n in NOTES], ""]
    return "\n".join(lines)


def _cell(strategy: dict, i: int) -> str:
    return f"{strategy['accuracy_mean'][i]:.4f} ({strategy['accuracy_min'][i]:.3f}–{strategy['accuracy_max'][i]:.3f})"


def _share(value: float | None) -> str:
    return "never" if value is None else f"{value:.1%}".replace(".0%", "%")


def plot(summaries: list[dict], path: Path) -> None:
    """One panel per corpus: mean test accuracy against labelled share, one line per strategy,
    the folds' min–max as a band, random's final accuracy and the target share as guides."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(summaries), figsize=(6.5 * len(summaries), 4.6), squeeze=False)
    for ax, s in zip(axes[0], summaries, strict=True):
        x = np.asarray(s["labelled_share"]) * 100
        for name, st in s["strategies"].items():
            (line,) = ax.plot(x, st["accuracy_mean"], marker="o", markersize=2, label=name)
            ax.fill_between(x, st["accuracy_min"], st["accuracy_max"], color=line.get_color(), alpha=0.12)
        ax.axhline(s["random_final_accuracy"], color="grey", linestyle="--", linewidth=1, label="random's final")
        ax.axvline(TARGET_SHARE * 100, color="grey", linestyle=":", linewidth=1, label=f"target {TARGET_SHARE:.0%}")
        ax.set_title(f"{s['corpus']} (pool {s['pool']:,}, {len(s['folds'])} test folds, mean)")
        ax.set_xlabel("labelled share of the pool (%)")
        ax.set_ylabel("test accuracy")
        low = min(min(st["accuracy_mean"]) for st in s["strategies"].values())
        ax.set_ylim(max(0.0, low - 0.02), None)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(protocols: dict[str, Protocol] | None = None, out_dir: Path = RESULTS) -> dict:
    """Simulate every corpus of ``protocols`` (default :data:`PROTOCOLS`); write the Markdown
    and the plot to ``out_dir`` and return the JSON result."""
    protocols = PROTOCOLS if protocols is None else protocols
    torch.set_num_threads(1)
    started = time.perf_counter()
    summaries = []
    seconds = {}
    for name, protocol in protocols.items():
        texts, tokens, labels = load_corpus(CORPORA[name])
        bags = featurize(texts, tokens, FEATURES)
        folds = stratified_folds(labels, protocol.folds, protocol.seed)
        runs = []
        for fold in range(protocol.folds_run or protocol.folds):
            runs.append(simulate(bags, labels, fold, folds, protocol))
            print(name, "fold", fold, "final", round(runs[-1]["final_accuracy"], 4), flush=True)
        summaries.append(summarize(name, runs, protocol))
        seconds[name] = round(time.perf_counter() - started - sum(seconds.values()), 1)
        print(name, "best", summaries[-1]["best"], summaries[-1]["best_labels_needed_share"], flush=True)
    return result(summaries, seconds, out_dir)


def result(summaries: list[dict], seconds: dict[str, float], out_dir: Path) -> dict:
    """Write the Markdown and the plot of ``summaries`` to ``out_dir``; the JSON result."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = table(summaries)
    (out_dir / "select.md").write_text(markdown + "\n", encoding="utf-8")
    plot(summaries, out_dir / "select_curves.png")
    ratios: dict[str, object] = {}
    for s in summaries:
        ratios[f"{s['corpus']}_best_labels_needed_share"] = s["best_labels_needed_share"]
        if "random" in s["strategies"]:
            ratios[f"{s['corpus']}_random_labels_needed_share"] = s["strategies"]["random"]["labels_needed_share"]
    ratios["target_met_everywhere"] = all(s["target_met"] for s in summaries)
    return {
        "protocol": {
            "target_share": TARGET_SHARE,
            "features": {**FEATURES.__dict__, "idf": True},
            "torch_threads": torch.get_num_threads(),
            "by_corpus": {s["corpus"]: s["protocol"] for s in summaries},
        },
        "corpora": summaries,
        "variants_measured": VARIANTS_MEASURED,
        "table_md": markdown,
        "seconds_by_corpus": seconds,
        "seconds_total": round(sum(seconds.values()), 1),
        "target": "the best strategy reaches random's final accuracy with <= 60% of the pool's labels",
        "ratios": ratios,
    }


def assemble(parts: list[Path], out_dir: Path) -> dict:
    """One result from the ``select.json`` files of runs of single corpora (run side by side on
    a shared machine): their summaries and seconds, in :data:`CORPORA` order, as :func:`run`
    would have written them; ``out_dir/select.json`` with the fields ``bench.run`` adds."""
    from datetime import UTC, datetime

    from bench.run import machine

    loaded = [json.loads(p.read_text(encoding="utf-8")) for p in parts]
    summaries = sorted((s for r in loaded for s in r["corpora"]), key=lambda s: list(CORPORA).index(s["corpus"]))
    seconds = {
        k: v
        for r in loaded
        for k, v in (r.get("seconds_by_corpus") or {r["corpora"][0]["corpus"]: r["seconds_total"]}).items()
    }
    combined = result(summaries, seconds, out_dir)
    combined.update(benchmark="select", measured_at=datetime.now(UTC).isoformat(), machine=machine())
    combined["assembled_from"] = "separate runs per corpus (python -m bench.select_bench --corpus NAME), combined"
    (out_dir / "select.json").write_text(json.dumps(combined, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return combined


def run_folds(name: str, protocol: Protocol, folds: list[int], parts: Path) -> None:
    """Simulate only ``folds`` of corpus ``name`` and save each fold's raw run (curves and the
    test rows' correctness) as ``parts/<name>_fold<k>.pkl``: folds of one corpus can run as
    separate processes and :func:`from_parts` summarizes them, exactly as :func:`run` would."""
    import pickle

    torch.set_num_threads(1)
    texts, tokens, labels = load_corpus(CORPORA[name])
    bags = featurize(texts, tokens, FEATURES)
    assignment = stratified_folds(labels, protocol.folds, protocol.seed)
    parts.mkdir(parents=True, exist_ok=True)
    for fold in folds:
        started, cpu = time.perf_counter(), time.process_time()
        one = simulate(bags, labels, fold, assignment, protocol)
        one.update(
            seconds=time.perf_counter() - started, cpu_seconds=time.process_time() - cpu, protocol=asdict(protocol)
        )
        (parts / f"{name}_fold{fold}.pkl").write_bytes(pickle.dumps(one))
        print(name, "fold", fold, "final", round(one["final_accuracy"], 4), flush=True)


def from_parts(name: str, protocol: Protocol, parts: Path) -> tuple[dict, float]:
    """The summary of corpus ``name`` from the fold runs :func:`run_folds` saved (every fold of
    ``protocol`` must be there, run under that protocol), and their summed wall seconds."""
    import pickle

    runs = []
    for fold in range(protocol.folds_run or protocol.folds):
        one = pickle.loads((parts / f"{name}_fold{fold}.pkl").read_bytes())
        if {**one["protocol"], "folds_run": None} != {**asdict(protocol), "folds_run": None}:  # a fold is a fold
            raise ValueError(f"{name} fold {fold} ran under another protocol: {one['protocol']}")
        runs.append(one)
    summary = summarize(name, runs, protocol)
    summary["cpu_seconds"] = round(sum(r["cpu_seconds"] for r in runs), 1)  # the folds' process time
    return summary, round(sum(r["seconds"] for r in runs), 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", choices=list(CORPORA), help="default: every corpus")
    parser.add_argument("--folds", type=int, help="outer K of the K-fold")
    parser.add_argument("--folds-run", type=int, help="run only the first N folds")
    parser.add_argument("--batch-share", type=float, help="batch size as a share of the pool")
    parser.add_argument("--warm-start", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--min-steps", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--strategies", help="comma-separated, e.g. random,least_confidence")
    parser.add_argument("--out", type=Path, help="output folder (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="2 of 5 folds, 20%% batches")
    parser.add_argument("--assemble", nargs="+", type=Path, metavar="JSON", help="combine per-corpus select.json")
    parser.add_argument("--fold", type=int, action="append", help="only this fold (repeatable), saved under --parts")
    parser.add_argument("--parts", type=Path, help="folder of per-fold runs (--fold writes, --from-parts reads)")
    parser.add_argument("--from-parts", action="store_true", help="summarize the saved folds of --corpus")
    parser.add_argument("--note", action="append", default=[], help="a line for select.md's notes (repeatable)")
    args = parser.parse_args(argv)
    NOTES.extend(args.note)
    if args.assemble:
        combined = assemble(args.assemble, args.out or RESULTS)
        print(combined["table_md"], f"\n{combined['seconds_total']} s")
        return
    overrides = {
        key: value
        for key, value in {
            "folds": args.folds,
            "folds_run": args.folds_run,
            "batch_share": args.batch_share,
            "warm_start": args.warm_start,
            "epochs": args.epochs,
            "min_steps": args.min_steps,
            "lr": args.lr,
            "strategies": tuple(args.strategies.split(",")) if args.strategies else None,
        }.items()
        if value is not None
    }
    if args.quick:
        overrides = {"folds_run": 2, "batch_share": 0.2, **overrides}
    protocols = {name: replace(PROTOCOLS[name], **overrides) for name in args.corpus or CORPORA}
    if args.fold:
        for name, protocol in protocols.items():
            run_folds(name, protocol, args.fold, args.parts)
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="refinery-bench-select-"))
    if args.from_parts:
        summaries, seconds = [], {}
        for name, protocol in protocols.items():
            summary, seconds[name] = from_parts(name, protocol, args.parts)
            summaries.append(summary)
        combined = result(summaries, seconds, out)
        (out / "select.json").write_text(json.dumps(combined, indent=2) + "\n", encoding="utf-8")
        print(combined["table_md"], f"\n{combined['seconds_total']} s -> {out}")
        return
    outcome = run(protocols, out)
    (out / "select.json").write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    print(outcome["table_md"], f"\n{outcome['seconds_total']} s -> {out}")


if __name__ == "__main__":
    main()
