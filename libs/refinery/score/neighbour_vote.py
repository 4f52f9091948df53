"""The ``score`` job's neighbour vote: the label distribution of each row's nearest neighbours
in its group (:mod:`refinery.score.neighbours`), which :mod:`refinery.score.group_fit` blends
with the cross-fitted probabilities (``score.neighbours``), and the search options it takes
from the config."""

from __future__ import annotations

import numpy as np

from refinery.score.dataset import GroupBags
from refinery.score.features import idf_weights
from refinery.score.neighbours import NeighbourOptions, nearest_neighbours, neighbour_label_probs, tfidf_rows
from refinery.score.settings import ScoreSettings


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


def neighbour_options(cfg: ScoreSettings) -> NeighbourOptions:
    """The neighbour search's options from the validated config."""
    near = cfg.neighbours
    return NeighbourOptions(k=near.k, max_df=near.max_df, query_features=near.query_features)
