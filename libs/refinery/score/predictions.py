"""The ``score`` job's written columns: from each group's staged cross-fitted probabilities
(labelled rows: noise flags, :mod:`refinery.score.spark_confident_learning`, and label
quality) and from the fold models run on the executors (unlabelled rows,
:mod:`refinery.score.udf`), ``id`` and the decided columns of every scored row:
``pred_label``, ``pred_prob``, ``margin``, ``entropy``, ``confidence``, ``label_quality`` and
``is_noisy``. The job (:mod:`refinery.score.job`) adds the run's id and version and merges them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.score.group_fit import GroupResult, group_key
from refinery.score.settings import ScoreSettings
from refinery.score.spark_confident_learning import label_quality, noise_flags, outvoted
from refinery.score.udf import GroupModels, predicted_probabilities


def score_columns(
    spark: SparkSession,
    staged: Path,
    snapshot_frame: DataFrame,
    results: list[GroupResult],
    models: dict[str, GroupModels],
    cfg: ScoreSettings,
) -> DataFrame | None:
    """``id`` and the decided :data:`~refinery.score.job.SCORE_COLUMNS` of every scored row: labelled rows from
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
