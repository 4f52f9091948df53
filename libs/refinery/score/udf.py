"""The score job's work on the executors (mapInPandas): featurizing the training rows into
shards, and scoring rows with the trained models broadcast.

The executors featurize, the driver trains, the executors predict. :func:`write_bag_shards`
writes each task's rows as one shard per group under the work folder
(:class:`refinery.score.dataset.ShardWriter`) and returns one small row per shard, so the
driver learns where the bags are without receiving a row. A model's weights travel once per
executor as a broadcast variable (embedding table in float16: half the bytes, and the mean
over a bag loses nothing a softmax would notice), each task rebuilds the model once and
scores its partition in Arrow batches. Rows of a group are scored by the mean of that
group's fold models' probabilities (an ensemble of the K cross-fitted models).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from pyspark import TaskContext
from pyspark.sql import DataFrame, SparkSession

from refinery.score.crossfit import row_keys
from refinery.score.dataset import ShardWriter, group_folder_name
from refinery.score.features import featurize
from refinery.score.model import FastTextClassifier, load_model
from refinery.score.options import FeatureOptions
from refinery.score.train import predict_proba

PROBS_SCHEMA = "id string, group string, probs array<double>"
SHARDS_SCHEMA = "group string, shard string, rows long"


@dataclass(frozen=True)
class GroupModels:
    """A group's class names, feature options and fold models' weights (serialized)."""

    classes: tuple[str, ...]
    features: FeatureOptions
    dim: int
    weights: tuple[bytes, ...]


def predicted_probabilities(
    spark: SparkSession, rows: DataFrame, models: dict[str, GroupModels], group_col: str | None
) -> DataFrame:
    """``id, group, probs`` for every row of ``rows`` (columns ``id``, ``text``, ``tokens`` and the
    group column) whose group has models: the mean probability vector of its group's
    models, in the order of the group's classes."""
    shared = spark.sparkContext.broadcast(models)

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        loaded: dict[str, list[FastTextClassifier]] = {}
        device = torch.device("cpu")
        for frame in batches:
            keys = frame[group_col].astype(str) if group_col else pd.Series("", index=frame.index)
            for key, part in frame.groupby(keys, sort=False):
                group = shared.value.get(key)
                if group is None:
                    continue
                if key not in loaded:
                    loaded[key] = [
                        load_model(w, group.features.buckets, group.dim, len(group.classes)) for w in group.weights
                    ]
                bags = featurize(part["text"].tolist(), part["tokens"].tolist(), group.features)
                probs = np.mean([predict_proba(m, bags, device) for m in loaded[key]], axis=0)
                yield pd.DataFrame({"id": part["id"].to_numpy(), "group": key, "probs": list(probs.astype(np.float64))})

    columns = ["id", "text", "tokens"] + ([group_col] if group_col else [])
    return rows.select(*columns).mapInPandas(score, PROBS_SCHEMA)


def write_bag_shards(
    rows: DataFrame, folder: Path, options: FeatureOptions, neighbour_options: FeatureOptions | None = None
) -> DataFrame:
    """Featurize ``rows`` (``id, text, tokens, _group, _class``: the group key and the class
    index) on the executors into shards under ``folder/<group folder>/part-<partition>``, also
    in the neighbour space when ``neighbour_options`` are given; ``group, shard, rows`` of
    every shard written. Nothing happens until the result is collected.

    A retried task rewrites its partition's shards (:meth:`ShardWriter.finish` replaces them
    whole), so the shards named in the result are exactly the rows of ``rows`` once each."""
    root = str(folder)

    def write(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        partition = TaskContext.get().partitionId()
        writers: dict[str, ShardWriter] = {}
        for frame in batches:
            for key, part in frame.groupby("_group", sort=False):
                writer = writers.get(key)
                if writer is None:
                    shard = Path(root) / group_folder_name(key) / f"part-{partition:05d}"
                    writer = writers[key] = ShardWriter(shard, options, neighbour_options)
                ids = part["id"].tolist()
                writer.append(
                    pa.array(ids, pa.string()),
                    part["text"].tolist(),
                    part["tokens"].tolist(),
                    part["_class"].to_numpy(),
                    row_keys(ids),
                )
        for key, writer in writers.items():
            shard = writer.finish()
            yield pd.DataFrame({"group": [key], "shard": [str(shard)], "rows": [writer.rows]})

    return rows.select("id", "text", "tokens", "_group", "_class").mapInPandas(write, SHARDS_SCHEMA)
