"""Scoring rows on the executors with trained models broadcast (mapInPandas).

The driver trains; the executors predict. A model's weights travel once per executor as a
broadcast variable (embedding table in float16: half the bytes, and the mean over a bag
loses nothing a softmax would notice), each task rebuilds the model once and scores its
partition in Arrow batches. Rows of a group are scored by the mean of that group's fold
models' probabilities (an ensemble of the K cross-fitted models).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from pyspark.sql import DataFrame, SparkSession

from refinery.scoring.features import FeatureOptions, featurize
from refinery.scoring.model import FastTextClassifier, load_model
from refinery.scoring.train import predict_proba

PROBS_SCHEMA = "id string, group string, probs array<double>"


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
