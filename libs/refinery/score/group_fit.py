"""The ``score`` job's training of one group: which classes are trained (from the group's
label counts), featurizing the training rows on the executors into the group's folder
(:mod:`refinery.score.dataset`), K-fold cross-fitting in this process or on
``score.processes`` processes (:mod:`refinery.score.crossfit`,
:mod:`refinery.score.distributed`), the blend with the neighbour vote
(:mod:`refinery.score.neighbour_vote`), staging the rows' scores as Parquet, and the options
these take from the config. The job is :mod:`refinery.score.job`."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from refinery.score.crossfit import crossfit, folds_of_keys
from refinery.score.dataset import GroupBags, gather_group, group_folder_name
from refinery.score.distributed import crossfit_on_workers, read_result, save_meta
from refinery.score.neighbour_vote import neighbour_vote
from refinery.score.neighbours import blended
from refinery.score.options import CrossFitOptions, FeatureOptions
from refinery.score.settings import ScoreSettings
from refinery.score.udf import GroupModels, write_bag_shards
from refinery.spark.session import session_settings

CLASS_TOO_SMALL, GROUP_NOT_TRAINABLE = "class_too_small", "group_not_trainable"
ALL_ROWS = ""


@dataclass
class GroupResult:
    """One group's outcome: its classes, scored rows (staged Parquet) and counts."""

    name: str
    classes: list[str]
    scored: int
    unlabelled: int
    filtered: Counter


def group_key(group_by: str | None) -> Column:
    """Each row's group: the ``score.group_by`` column as a string, null as ``""``; one group
    :data:`ALL_ROWS` without it."""
    return F.coalesce(F.col(group_by).cast("string"), F.lit("")) if group_by else F.lit(ALL_ROWS)


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


def neighbour_features(cfg: ScoreSettings) -> FeatureOptions | None:
    """The neighbour space's feature options (the model's word n-grams, the neighbours' own
    character n-grams); ``None`` when the neighbour vote is off."""
    near = cfg.neighbours
    if near.k == 0:
        return None
    return dataclasses.replace(
        feature_options(cfg), char_ngrams=tuple(near.char_ngrams), char_max_chars=near.char_max_chars
    )


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
