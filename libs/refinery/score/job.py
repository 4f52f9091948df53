"""The ``score`` job: out-of-sample confidence of every labelled ``silver`` row, written back
as filter columns.

read (one pinned ``silver`` version) → featurize (on the executors, into shards of bags under
``score.work_dir``, :func:`refinery.score.udf.write_bag_shards`; the driver receives
where the shards are, never a row) → train (per group, on its shards gathered into one
memory-mapped folder, :mod:`refinery.score.dataset`: K-fold cross-fitting with a per-sample
EMA over epochs, :mod:`refinery.score.crossfit`, blended with the label vote of each row's
nearest neighbours, :mod:`refinery.score.neighbours`) → stage (each shard's scores as Parquet,
reading back that shard's row ids only) → flag (confident learning with Spark aggregations,
:mod:`refinery.score.spark_confident_learning`, or a fixed threshold) → write (the
:data:`SCORE_COLUMNS` of every scored row by MERGE on ``id`` into the current ``silver``;
one ``metrics`` row).

Rows and what happens to them (the stage's counts reconcile: ``rows_in`` = the rows of the
pinned version, counted by Spark per group and label before anything is featurized; ``ok`` =
the rows that hold this run's :data:`DECIDED_COLUMNS` values in the silver version the MERGE
committed, read back, since the MERGE rewrites only rows whose values change; filtered as
decided):

* ``ok``: a labelled row of a trained class gets every column; an unlabelled row of a
  trained group gets ``pred_label``, ``pred_prob``, ``margin`` and ``entropy`` from its group's fold models,
  run on the executors (:mod:`refinery.score.udf`), and null confidence;
* filtered ``class_too_small``: a label with fewer than ``score.min_class_rows`` rows in its
  group (no model can learn it, so no confidence is given);
* filtered ``group_not_trainable``: a group with fewer than two trainable classes.

Columns: ``confidence`` = EMA of p(given label) across epochs (the model's alone);
``label_quality`` (config: self-confidence or normalized margin) and ``is_noisy`` of the
blended probabilities ``(p_model + w · q_neighbours) / (1 + w)`` (``score.neighbours``), as are
``pred_label``, ``pred_prob``, ``margin`` and ``entropy`` of labelled rows; ``pred_label`` =
argmax class, ``pred_prob`` its probability; ``margin`` = p₁ − p₂,
the gap between the two most probable classes; ``entropy`` = −Σ p log p (nats);
``is_noisy``; ``score_run`` (this run's id) and ``score_version`` (the silver version the
scores were computed on: time travel to it shows exactly the data the models saw).

A rerun with the same seed on the same version writes the same values (and the MERGE skips
rows whose values did not change).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.config import ConfigError
from refinery.runtime.context import JobContext, JobResult, check_group_by, silver_location
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.score.crossfit import crossfit, folds_of_keys
from refinery.score.dataset import GroupBags, gather_group, group_folder_name
from refinery.score.distributed import crossfit_on_workers, read_result, save_meta
from refinery.score.features import idf_weights
from refinery.score.model import resolve_device
from refinery.score.neighbours import NeighbourOptions, blended, nearest_neighbours, neighbour_label_probs, tfidf_rows
from refinery.score.options import CrossFitOptions, FeatureOptions
from refinery.score.settings import ScoreSettings
from refinery.score.spark_confident_learning import label_quality, noise_flags, outvoted
from refinery.score.udf import GroupModels, predicted_probabilities, write_bag_shards
from refinery.spark.committed import committed_rows, rows_holding
from refinery.spark.schemas import SILVER_SCORE
from refinery.spark.session import session_settings
from refinery.spark.snapshot import pin_snapshot
from refinery.spark.tables import add_missing_columns, update_rows

STAGE = "score"
CLASS_TOO_SMALL, GROUP_NOT_TRAINABLE = "class_too_small", "group_not_trainable"
#: The columns this job owns in silver (:data:`refinery.spark.schemas.SILVER_SCORE`): name → SQL type.
SCORE_COLUMNS = SILVER_SCORE.sql_types()
#: The columns that carry a decision (all but the run's id).
DECIDED_COLUMNS = [name for name in SCORE_COLUMNS if name != "score_run"]
ALL_ROWS = ""


@dataclass
class GroupResult:
    """One group's outcome: its classes, scored rows (staged Parquet) and counts."""

    name: str
    classes: list[str]
    scored: int
    unlabelled: int
    filtered: Counter


def run(ctx: JobContext) -> JobResult:
    """Score every labelled row of the latest silver version."""
    spark, cfg = ctx.spark, ctx.settings.score
    with stage(ctx, STAGE) as s:
        location = silver_location(ctx)
        add_missing_columns(spark, location, SCORE_COLUMNS)
        snapshot = pin_snapshot(spark, location)  # the version with the score columns: the MERGE adds no schema change
        check_group_by(snapshot.frame.columns, "score.group_by", cfg.group_by)
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("config key 'score.device': cuda, but torch sees no CUDA GPU here; fix: auto or cpu")
        device = resolve_device(cfg.device)
        if cfg.threads is not None:
            torch.set_num_threads(cfg.threads)
        ctx.log.info("score started", extra={"version": snapshot.version, "device": str(device)})

        work = Path(cfg.work_dir) / ctx.run_id
        shutil.rmtree(work, ignore_errors=True)
        created = [p for p in (work, *work.parents) if not p.exists()]  # removed again when empty
        try:
            with s.phase("count input"):
                counts = label_counts(snapshot.frame, cfg.group_by)
            s.rows_in = sum(sum(c.values()) for c in counts.values())
            results = [group_result(name, c, cfg.min_class_rows) for name, c in sorted(counts.items())]
            with s.phase("featurize"):
                stores = featurized_groups(spark, snapshot.frame, results, cfg, work)
            featurized = sum(len(store) for store in stores.values())
            ctx.log.info("featurized", extra={"rows": featurized, "seconds": round(s.elapsed, 1)})
            models = {}
            for result in results:
                if result.name not in stores:
                    continue
                trained_before = s.phases.get("train", 0.0)
                with s.phase("train"):
                    group_models = score_group(result, stores[result.name], cfg, device, work)
                ctx.log.info(
                    "group scored",
                    extra={
                        "group": result.name,
                        "rows": result.scored,
                        "classes": len(result.classes),
                        "seconds": round(s.phases["train"] - trained_before, 1),
                    },
                )
                if group_models is not None:
                    models[result.name] = group_models
            columns = score_columns(spark, work / "scores", snapshot.frame, results, models, cfg)
            updated = noisy = scored = 0
            if columns is not None:
                columns = columns.withColumn("score_version", F.lit(snapshot.version).cast("long")).withColumn(
                    "score_run", F.lit(ctx.run_id)
                )
                with s.phase("flags"):
                    columns = s.hold(drop_one_row(columns, STAGE))
                    noisy = columns.where("is_noisy").count()
                with s.phase("merge"):
                    commit = update_rows(spark, columns, location, changed=DECIDED_COLUMNS)
                updated = commit.rows_updated
                # the MERGE rewrites only changed rows: the scored rows are counted in what it left
                with s.phase("count committed"):
                    scored = rows_holding(committed_rows(spark, commit), columns, "id", DECIDED_COLUMNS)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            for folder in created[1:]:
                with contextlib.suppress(OSError):  # not empty: another run's scratch, or the user's
                    folder.rmdir()
        filtered = sum((r.filtered for r in results), Counter())
        s.out(scored)
        s.outcomes(("filter", reason, count) for reason, count in sorted(filtered.items()))
    s.details = {
        "silver_version": str(snapshot.version),
        "device": str(device),
        "processes": str(cfg.processes),
        "groups": str(len(results)),
        "labelled_scored": str(sum(r.scored for r in results)),
        "unlabelled_predicted": str(sum(r.unlabelled for r in results)),
        "is_noisy": str(noisy),
        "rows_updated": str(updated),
    }
    return JobResult(batch=f"v{snapshot.version}", stages=s.stages)


def group_key(group_by: str | None) -> Column:
    """Each row's group: the ``score.group_by`` column as a string, null as ``""``; one group
    :data:`ALL_ROWS` without it."""
    return F.coalesce(F.col(group_by).cast("string"), F.lit("")) if group_by else F.lit(ALL_ROWS)


def label_counts(frame: DataFrame, group_by: str | None) -> dict[str, Counter]:
    """Rows per group and given label (``None``: unlabelled), counted by Spark on the pinned
    version: the job's independent count of its input."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in frame.groupBy(group_key(group_by).alias("_group"), "label").count().collect():
        counts[row["_group"]][row["label"]] += row["count"]
    return dict(counts)


def group_result(name: str, counts: Counter, min_rows: int) -> GroupResult:
    """What happens to one group's rows, from its label counts: the classes with at least
    ``min_rows`` rows are trained on (sorted) when there are two or more; otherwise every row
    of the group is filtered ``group_not_trainable``."""
    labelled = {label: n for label, n in counts.items() if label is not None}
    classes = sorted(c for c, n in labelled.items() if n >= min_rows)
    if len(classes) < 2:
        return GroupResult(name, [], 0, 0, Counter({GROUP_NOT_TRAINABLE: sum(counts.values())}))
    small = Counter({CLASS_TOO_SMALL: sum(n for c, n in labelled.items() if c not in classes)})
    return GroupResult(name, classes, sum(labelled[c] for c in classes), counts.get(None, 0), small)


def featurized_groups(
    spark: SparkSession, frame: DataFrame, results: list[GroupResult], cfg: ScoreSettings, work: Path
) -> dict[str, GroupBags]:
    """Featurize the training rows (labelled with a trained class) on the executors into
    shards, then gather each group's shards into its group folder under ``work/bags``."""
    classes = [(r.name, c, i) for r in results for i, c in enumerate(r.classes)]
    if not classes:
        return {}
    table = spark.createDataFrame(classes, "_group string, label string, _class int")
    rows = frame.withColumn("_group", group_key(cfg.group_by)).join(F.broadcast(table), ["_group", "label"])
    with session_settings(spark, {"spark.sql.execution.arrow.maxRecordsPerBatch": str(cfg.batch_rows)}):
        written = write_bag_shards(rows, work / "shards", feature_options(cfg), neighbour_features(cfg)).collect()
    shards: dict[str, list[Path]] = defaultdict(list)
    for shard in written:
        shards[shard["group"]].append(Path(shard["shard"]))
    bags = work / "bags"
    return {name: gather_group(bags / group_folder_name(name), sorted(paths)) for name, paths in shards.items()}


def score_group(
    result: GroupResult, store: GroupBags, cfg: ScoreSettings, device: torch.device, work: Path
) -> GroupModels | None:
    """Cross-fit one group and stage its rows' scores as Parquet under ``work/scores``, one
    file per shard (``row_index``: the row's position in the group); the fold models when
    the group has unlabelled rows to predict."""
    if len(store) != result.scored:
        raise RuntimeError(f"group {result.name!r}: {len(store)} rows featurized, {result.scored} counted")
    labels = store.labels  # class indices, memory-mapped (int16)
    if cfg.processes == 1:
        keys = np.asarray(store.keys)
        folds = folds_of_keys(keys, cfg.folds)
        options = crossfit_options(cfg)
        classes, buckets, scratch = len(result.classes), cfg.features.buckets, store.folder / "fit"
        fit = crossfit(store.bags, labels, classes, folds, buckets, options, device, keys=keys, scratch=scratch)
    else:  # the workers derive keys and folds from the group folder themselves
        fit = crossfit_distributed(store.folder, len(result.classes), cfg, device)
    probs = fit.ema if cfg.probabilities == "ema" else fit.final
    if store.neighbour_bags is not None:  # written only with score.neighbours.k > 0
        vote = neighbour_vote(store, len(result.classes), cfg)
        probs = blended(probs, vote, cfg.neighbours.weight, store.folder / "fit")
    out = work / "scores"
    out.mkdir(parents=True, exist_ok=True)
    for number, (start, ids) in enumerate(store.shard_ids()):
        rows = slice(start, start + len(ids))
        given = np.asarray(labels[rows], dtype=np.int64)
        # confidence: the EMA of the given label's probability (the module doc)
        confidence = fit.ema[rows][np.arange(len(given)), given].astype(np.float64)
        table = pa.table(
            {
                "id": ids,
                "group": pa.array([result.name] * len(ids), pa.string()),
                "given": pa.array(given.astype(np.int32)),
                "confidence": pa.array(confidence),
                "probs": probability_lists(probs[rows]),
                "row_index": pa.array(np.arange(rows.start, rows.stop, dtype=np.int64)),
            }
        )
        pq.write_table(table, out / f"{group_folder_name(result.name)}-{number:05d}.parquet")
    if result.unlabelled == 0:
        return None  # nothing for the executors to predict: keep the weights off the broadcast
    return GroupModels(tuple(result.classes), feature_options(cfg), cfg.model.dim, tuple(fit.models))


def neighbour_vote(store: GroupBags, num_classes: int, cfg: ScoreSettings) -> np.ndarray:
    """The neighbour label distribution of every row of the group (``n × classes``):
    :func:`refinery.score.neighbours.neighbour_label_probs` over the group's rows in the
    neighbour space, each row's given label voting."""
    options = neighbour_options(cfg)
    bags = store.neighbour_bags
    assert bags is not None  # the vote runs only where the executors wrote neighbour bags
    vectors = tfidf_rows(bags, idf_weights(bags, cfg.features.buckets))
    labels = np.asarray(store.labels, dtype=np.int64)
    smoothing = cfg.neighbours.smoothing
    return neighbour_label_probs(nearest_neighbours(vectors, options), labels, num_classes, smoothing)


def probability_lists(probs: np.ndarray) -> pa.ListArray:
    """The rows of an ``n × classes`` matrix as an Arrow list<double> column."""
    flat = pa.array(np.ascontiguousarray(probs, dtype=np.float64).ravel())
    offsets = pa.array(np.arange(0, probs.size + 1, max(probs.shape[1], 1), dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, flat)


def crossfit_distributed(folder: Path, num_classes: int, cfg: ScoreSettings, device: torch.device):
    """:func:`refinery.score.crossfit.crossfit` of the group folder ``folder`` on
    ``score.processes`` processes started by Spark's ``TorchDistributor`` (see
    :mod:`refinery.score.distributed`)."""
    from pyspark.ml.torch.distributor import TorchDistributor

    save_meta(
        folder, num_classes=num_classes, buckets=cfg.features.buckets, options=crossfit_options(cfg), device=device.type
    )
    local = SparkSession.getActiveSession().conf.get("spark.master", "local").startswith("local")
    distributor = TorchDistributor(num_processes=cfg.processes, local_mode=local, use_gpu=device.type == "cuda")
    return read_result(Path(distributor.run(crossfit_on_workers, str(folder))))


def score_columns(
    spark: SparkSession,
    staged: Path,
    snapshot_frame: DataFrame,
    results: list[GroupResult],
    models: dict[str, GroupModels],
    cfg: ScoreSettings,
) -> DataFrame | None:
    """``id`` and the decided :data:`SCORE_COLUMNS` of every scored row: labelled rows from
    the staged cross-fitted probabilities (noise flags per group), unlabelled rows from the
    fold models run on the executors. ``None`` when nothing was scored."""
    classes = {r.name: r.classes for r in results if r.scored}
    parts = []
    if classes:
        scores = spark.read.parquet(str(staged))
        for name, names in sorted(classes.items()):
            group = flagged(scores.where(F.col("group") == name), len(names), cfg)
            group = label_quality(group, cfg.label_quality)
            parts.append(prediction_columns(group, class_names(names)))
    if models:
        rows = snapshot_frame.where(F.col("label").isNull()).withColumn("_group", group_key(cfg.group_by))
        # one pass of the executors' inference for every group: each row looks up its group's
        # class names (filtering the result per group would rerun the inference per group)
        names_by_group = F.create_map(
            *[part for name, group in sorted(models.items()) for part in (F.lit(name), class_names(group.classes))]
        )
        probs = predicted_probabilities(spark, rows, models, "_group").select(
            "id",
            "probs",
            F.lit(None).cast("double").alias("confidence"),
            F.lit(None).cast("double").alias("label_quality"),
            F.lit(None).cast("boolean").alias("is_noisy"),
            F.element_at(names_by_group, F.col("group")).alias("_classes"),
        )
        parts.append(prediction_columns(probs, F.col("_classes")))
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def flagged(group: DataFrame, num_classes: int, cfg: ScoreSettings) -> DataFrame:
    """``group`` (``id, given, confidence, probs, row_index``) with ``is_noisy``: confident
    learning's flags on the configured probabilities, ``confidence < threshold``, another
    class beating the given one by more than ``score.outvoted_by`` (``outvoted``), or either of
    prune-by-noise-rate and outvoted (``noise_rate_or_outvoted``, the default: the confident
    joint finds systematic confusions, the margin the errors a model trained on them agrees
    with; measured in ``bench/results/score.json``)."""
    if cfg.noise_method == "threshold":
        return group.withColumn("is_noisy", F.col("confidence") < F.lit(cfg.threshold))
    if cfg.noise_method == "outvoted":
        return group.withColumn("is_noisy", outvoted(cfg.outvoted_by))
    if cfg.noise_method == "noise_rate_or_outvoted":
        pruned = noise_flags(group, num_classes, "prune_by_noise_rate", order_col="row_index")
        return pruned.withColumn("is_noisy", F.col("is_noisy") | outvoted(cfg.outvoted_by))
    return noise_flags(group, num_classes, cfg.noise_method, order_col="row_index")


def class_names(classes: Sequence[str]) -> Column:
    """The class names as an array literal (index i = class i of the probability vectors)."""
    return F.array(*[F.lit(c) for c in classes])


def prediction_columns(frame: DataFrame, names: Column) -> DataFrame:
    """``id, confidence, label_quality, is_noisy`` of ``frame`` plus what its ``probs`` say,
    with ``names`` the array of class names:

    * ``pred_label`` = ``names[argmax p]`` and ``pred_prob`` = ``max p`` (1 − the least-
      confidence uncertainty the ``select`` job ranks by);
    * ``margin`` = p₍₁₎ − p₍₂₎, the two largest probabilities (0 for one class);
    * ``entropy`` = −Σ_j p_j ln p_j, in nats (0 … ln C)."""
    probs = F.col("probs")
    ranked = F.sort_array(probs, asc=False)
    entropy = F.aggregate(probs, F.lit(0.0), lambda acc, p: acc - F.when(p > 0, p * F.log(p)).otherwise(F.lit(0.0)))
    return frame.select(
        "id",
        "confidence",
        "label_quality",
        F.element_at(names, F.array_position(probs, F.array_max(probs)).cast("int")).alias("pred_label"),
        F.array_max(probs).alias("pred_prob"),
        (F.element_at(ranked, 1) - F.coalesce(F.element_at(ranked, 2), F.lit(0.0))).alias("margin"),
        entropy.alias("entropy"),
        "is_noisy",
    )


def neighbour_features(cfg: ScoreSettings) -> FeatureOptions | None:
    """The neighbour space's feature options (the model's word n-grams, the neighbours' own
    character n-grams); ``None`` when the neighbour vote is off."""
    near = cfg.neighbours
    if near.k == 0:
        return None
    return dataclasses.replace(
        feature_options(cfg), char_ngrams=tuple(near.char_ngrams), char_max_chars=near.char_max_chars
    )


def neighbour_options(cfg: ScoreSettings) -> NeighbourOptions:
    """The neighbour search's options from the validated config."""
    near = cfg.neighbours
    return NeighbourOptions(k=near.k, max_df=near.max_df, query_features=near.query_features)


def feature_options(cfg: ScoreSettings) -> FeatureOptions:
    """The featurizer's options from the validated config."""
    return cfg.features.options()


def crossfit_options(cfg: ScoreSettings) -> CrossFitOptions:
    """The cross-fitting options from the validated config."""
    return CrossFitOptions(
        folds=cfg.folds,
        momentum=cfg.ema_momentum,
        seed=cfg.seed,
        idf=cfg.features.idf,
        early_stopping=cfg.early_stopping,
        train=cfg.model.options(),
    )
