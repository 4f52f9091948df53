"""Label agreement of each document's nearest neighbours in TF-IDF space (SimiFeat-style).

A classifier trained on noisy labels learns whatever the annotators did systematically: where
people mislabel ambiguous texts towards a plausible class (instance-dependent noise), the
cross-fitted model agrees with the wrong label, and its confidence cannot single the row out.
The labels *around* a document are a second, model-free witness: a text whose closest texts
mostly carry another label is suspect however a model scores it (Zhu et al. 2022, "Detecting
Corrupted Labels Without Training a Model to Predict", SimiFeat; Bahri et al. 2020, "Deep
k-NN for Noisy Labels").

**Space.** Each document is the vector of its feature bag (:mod:`refinery.score.features`:
word n-grams and character n-grams) weighted by ``log(1 + tf) · idf`` and scaled to unit
length, so the similarity of two documents is the cosine of their vectors, in ``[0, 1]``.
It needs no labels and no training, and the bags are already there.

**Bounded cost.** Exact all-pairs similarity costs ``n²``. Two bounds make the cost linear in
``n``: a feature held by more than ``max_df`` documents is left out of the index (it says
little, ``idf`` is near its floor, and its posting list is what makes all-pairs quadratic), and
each document queries the index with its ``query_features`` heaviest features only. A
document then meets at most ``query_features · max_df`` candidates, and its similarity to a
candidate is the part of the cosine that its heaviest features carry (the rest is small by
construction). Documents are queried ``block_rows`` at a time: memory is bounded by the block
and the index, never by ``n²``.

**Neighbour label distribution.** With ``N_k(i)`` the ``k`` most similar other documents and
``w_ij`` their weights (the similarity ``s_ij``; documents tied at the ``k``-th similarity share
its places, :func:`nearest_neighbours`),

    q_i(c) = (α / C · Σ_j w_ij + Σ_{j ∈ N_k(i)} w_ij · [y_j = c]) / ((1 + α) Σ_j w_ij)

the similarity-weighted share of neighbours labelled ``c``, smoothed towards uniform by ``α``
(so no class gets exactly zero). A document with no neighbour at all (no shared indexed
feature) gets the uniform distribution: its neighbours say nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from refinery.score.crossfit import SCORE_CHUNK_ROWS, output_matrix
from refinery.score.features import Bags


@dataclass(frozen=True)
class NeighbourOptions:
    """The search's bounds (see the module doc); their defaults are ``score.neighbours``'s in
    the config."""

    #: Neighbours per document.
    k: int
    #: A feature in more documents than this is not indexed.
    max_df: int
    #: Heaviest features of a document it queries the index with.
    query_features: int
    #: Documents queried at once.
    block_rows: int = 4096


def tfidf_rows(bags: Bags, idf: np.ndarray, rows: np.ndarray | None = None) -> sparse.csr_matrix:
    """The unit-length ``log(1 + tf) · idf`` vectors of the bags ``rows`` (all by default), one
    CSR row each over ``len(idf)`` columns."""
    part = bags if rows is None else bags.take(rows)
    n = len(part)
    doc = np.repeat(np.arange(n, dtype=np.int64), np.diff(part.offsets))
    ids = np.asarray(part.ids, dtype=np.int64)
    counts = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), (doc, ids)), shape=(n, len(idf)))
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data) * idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1), dtype=np.float64)).ravel()
    # scaled in place: a product with a diagonal matrix would hold a second copy of the matrix
    scale = (1.0 / np.maximum(norms, 1e-12)).astype(np.float32)
    counts.data *= np.repeat(scale, np.diff(counts.indptr))
    return counts


def heaviest_features(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """``matrix`` with only the ``keep`` largest entries of each row (ties: the lower column)."""
    matrix = matrix.tocsr()
    lengths = np.diff(matrix.indptr)
    if not len(lengths) or lengths.max() <= keep:
        return matrix
    row = np.repeat(np.arange(matrix.shape[0]), lengths)
    order = np.lexsort((matrix.indices, -matrix.data, row))
    rank = np.arange(len(order)) - np.repeat(matrix.indptr[:-1], lengths)
    kept = order[rank < keep]
    kept.sort()
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.minimum(lengths, keep), out=indptr[1:])
    return sparse.csr_matrix((matrix.data[kept], matrix.indices[kept], indptr), shape=matrix.shape)


def nearest_neighbours(vectors: sparse.csr_matrix, options: NeighbourOptions) -> sparse.csr_matrix:
    """The ``n × n`` neighbour weights: row ``i`` holds ``s_ij`` for the ``k`` rows ``j ≠ i``
    most similar to ``i`` under the bounds of the module doc (fewer where ``i`` has fewer
    candidates).

    **Ties** at the ``k``-th similarity share the remaining places: with ``a`` neighbours
    strictly above the ``k``-th value and ``t`` tied at it, each tied one weighs
    ``s · (k − a) / t``. Exact duplicates tie at similarity 1, and a text repeated more than
    ``k`` times would otherwise see an arbitrary ``k`` of its copies (say, the first ones);
    sharing lets every copy vote, so the vote is the copies' label shares."""
    n, k = vectors.shape[0], options.k
    df = np.bincount(vectors.indices, minlength=vectors.shape[1])
    indexed = vectors.multiply((df <= options.max_df)[None, :].astype(np.float32)).tocsr()
    indexed.eliminate_zeros()
    index = indexed.T.tocsr()
    queries = heaviest_features(indexed, options.query_features)
    columns, weights, lengths = [], [], np.zeros(n, dtype=np.int64)
    for start in range(0, n, options.block_rows):
        stop = min(n, start + options.block_rows)
        scores = (queries[start:stop] @ index).tocsr()
        for row in range(stop - start):
            found, weight = _top(scores, row, start + row, k)
            columns.append(found)
            weights.append(weight)
            lengths[start + row] = len(found)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    data = np.concatenate(weights) if weights else np.zeros(0, dtype=np.float32)
    indices = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    return sparse.csr_matrix((data.astype(np.float32), indices, indptr), shape=(n, n))


def _top(scores: sparse.csr_matrix, row: int, itself: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The neighbours of CSR row ``row`` (column ``itself`` left out) and their weights: the
    ``k`` largest entries, ties at the ``k``-th value sharing its places (see
    :func:`nearest_neighbours`). A partial selection, so the cost is linear in the row's
    candidates."""
    cells = slice(scores.indptr[row], scores.indptr[row + 1])
    columns, values = scores.indices[cells], scores.data[cells]
    keep = (columns != itself) & (values > 0)  # a document is not its own neighbour
    columns, values = columns[keep], values[keep]
    if len(values) <= k:
        return columns, values
    kth = np.partition(values, len(values) - k)[len(values) - k]
    above, tied = values > kth, values == kth
    share = (k - int(above.sum())) / int(tied.sum())
    chosen = above | tied
    return columns[chosen], np.where(above, values, values * share)[chosen]


def neighbour_label_probs(
    weights: sparse.csr_matrix, labels: np.ndarray, num_classes: int, smoothing: float
) -> np.ndarray:
    """``q`` of the module doc: each row's weighted, smoothed neighbour label distribution
    (``n × num_classes``, float32, rows sum to 1) from the weights of
    :func:`nearest_neighbours`."""
    n = weights.shape[0]
    given = np.asarray(labels, dtype=np.int64)
    onehot = sparse.csr_matrix((np.ones(n), (np.arange(n), given)), shape=(n, num_classes))
    votes = np.asarray((weights @ onehot).todense(), dtype=np.float64)
    total = np.asarray(weights.sum(axis=1), dtype=np.float64)
    probs = (votes + smoothing / num_classes * total) / np.maximum((1.0 + smoothing) * total, 1e-300)
    probs[total[:, 0] <= 0] = 1.0 / num_classes
    return probs.astype(np.float32)


def blended(model: np.ndarray, vote: np.ndarray, weight: float, scratch: Path | None = None) -> np.ndarray:
    """``(model + weight · vote) / (1 + weight)``, row-stochastic like both inputs: the
    cross-fitted probabilities with the neighbours' label vote. Written to
    ``scratch/blended.npy`` (memory-mapped) when ``scratch`` is given, a chunk of rows at a time."""
    out = output_matrix(scratch, "blended", *model.shape)
    for start in range(0, len(model), SCORE_CHUNK_ROWS):
        rows = slice(start, start + SCORE_CHUNK_ROWS)
        out[rows] = (np.asarray(model[rows]) + weight * np.asarray(vote[rows])) / (1.0 + weight)
    return out
