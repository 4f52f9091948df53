"""Nearest neighbours in TF-IDF space and their label vote (no Spark): the bounded search
finds what brute force finds, the bounds do what they say, and the vote is a distribution
that follows the neighbours' labels."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa
import pytest

from refinery.score.crossfit import row_keys
from refinery.score.dataset import ShardWriter, gather_group
from refinery.score.features import featurize, idf_weights
from refinery.score.neighbours import (
    NeighbourOptions,
    blended,
    heaviest_features,
    nearest_neighbours,
    neighbour_label_probs,
    tfidf_rows,
)
from refinery.score.options import FeatureOptions
from tests.support.paths import corpora_dir

OPTIONS = FeatureOptions(buckets=1 << 18, char_ngrams=(1, 2, 3, 4), char_max_chars=1024)
UNBOUNDED = NeighbourOptions(k=5, max_df=10**9, query_features=10**9, block_rows=97)


def ag_news(n: int) -> tuple[list[str], np.ndarray]:
    """The first ``n`` AG News test texts (title and description) and their 0-based labels."""
    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8") as f:
        rows = [row for _, row in zip(range(n), csv.reader(f), strict=False)]
    return [f"{r[1]}\n{r[2]}" for r in rows], np.asarray([int(r[0]) - 1 for r in rows])


@pytest.fixture(scope="module")
def vectors():
    texts, labels = ag_news(400)
    bags = featurize(texts, None, OPTIONS)
    return tfidf_rows(bags, idf_weights(bags, OPTIONS.buckets)), labels


def test_vectors_are_unit_length_log_tf_idf(vectors):
    matrix, _ = vectors
    np.testing.assert_allclose(np.sqrt(matrix.multiply(matrix).sum(axis=1)).A.ravel(), 1.0, rtol=1e-5)
    bags = featurize(["a a a b"], None, FeatureOptions(buckets=1 << 18, char_ngrams=()))
    idf = np.ones(1 << 18, dtype=np.float32)
    row = tfidf_rows(bags, idf).toarray().ravel()
    weights = np.sort(row[row > 0])
    # a (tf 3), b (tf 1), and the bigrams "a a" (tf 2) and "a b" (tf 1), before scaling
    raw = np.sort(np.log1p([3.0, 1.0, 2.0, 1.0]))
    np.testing.assert_allclose(weights, raw / np.linalg.norm(raw), rtol=1e-6)


def test_unbounded_search_finds_the_brute_force_neighbours(vectors):
    matrix, _ = vectors
    weights = nearest_neighbours(matrix, UNBOUNDED)
    dense = (matrix @ matrix.T).toarray()
    np.fill_diagonal(dense, -1.0)
    for i in range(matrix.shape[0]):
        row = weights.getrow(i)
        expected = np.sort(dense[i])[::-1][:5]
        np.testing.assert_allclose(np.sort(row.data)[::-1], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(dense[i, row.indices], row.data, rtol=1e-5, atol=1e-6)
        assert i not in row.indices


def test_copies_tied_at_the_kth_place_share_it():
    from scipy import sparse

    # rows 0-5 are copies of one text (similarity 1), row 6 a near one, row 7 unrelated
    dense = np.zeros((8, 3), dtype=np.float32)
    dense[:6, 0] = 1.0
    dense[6] = [0.8, 0.6, 0.0]
    dense[7, 2] = 1.0
    weights = nearest_neighbours(sparse.csr_matrix(dense), NeighbourOptions(k=2, max_df=10, query_features=3))
    # row 0: five copies tie for two places: each weighs 2/5
    np.testing.assert_array_equal(np.sort(weights.getrow(0).indices), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(weights.getrow(0).data, 0.4)
    # row 6: its two best are copies too (0.8 each), and all six tie
    np.testing.assert_allclose(weights.getrow(6).sum(), 2 * 0.8, rtol=1e-6)
    assert weights.getrow(7).nnz == 0
    labels = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    probs = neighbour_label_probs(weights, labels, 2, smoothing=0.0)
    # the copies' vote is their label share, not the labels of the first two copies
    np.testing.assert_allclose(probs[0], [2 / 5, 3 / 5], rtol=1e-6)
    np.testing.assert_allclose(probs[6], [0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(probs[7], [0.5, 0.5])


def test_the_bounds_leave_out_common_features_and_light_query_features(vectors):
    matrix, _ = vectors
    # documents sharing only a feature three documents hold: not neighbours under max_df 2
    from scipy import sparse

    tiny = sparse.csr_matrix(np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32))
    assert nearest_neighbours(tiny, NeighbourOptions(k=2, max_df=2, query_features=3)).nnz == 0
    found = nearest_neighbours(tiny, NeighbourOptions(k=2, max_df=3, query_features=3))
    assert set(found.getrow(0).indices) == {1, 2} and found.getrow(3).nnz == 0
    # querying with fewer of a row's features finds fewer of the exact neighbours (these
    # documents hold about 700 features each)
    exact = nearest_neighbours(matrix, UNBOUNDED)
    shared = {}
    for query in (64, 256, 512):
        bounded = nearest_neighbours(matrix, NeighbourOptions(k=5, max_df=2000, query_features=query))
        overlap = [
            len(set(bounded.getrow(i).indices) & set(exact.getrow(i).indices)) / 5 for i in range(matrix.shape[0])
        ]
        shared[query] = np.mean(overlap)
    assert shared[64] < shared[256] < shared[512] and shared[256] > 0.5


def test_heaviest_features_keep_each_rows_largest_entries():
    from scipy import sparse

    matrix = sparse.csr_matrix(np.array([[0.1, 0.5, 0.3, 0.0], [0.0, 0.2, 0.0, 0.0], [0.4, 0.4, 0.1, 0.9]]))
    kept = heaviest_features(matrix, 2).toarray()
    np.testing.assert_array_equal(kept, [[0, 0.5, 0.3, 0], [0, 0.2, 0, 0], [0.4, 0, 0, 0.9]])


def test_the_vote_is_the_smoothed_similarity_weighted_label_share():
    from scipy import sparse

    weights = sparse.csr_matrix(
        (np.array([0.5, 0.3, 0.2, 0.4]), np.array([1, 2, 3, 0]), np.array([0, 3, 4, 4, 4])), shape=(4, 4)
    )
    labels = np.array([0, 1, 1, 2])
    probs = neighbour_label_probs(weights, labels, 3, smoothing=0.1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    # row 0: class 1 holds 0.8 of the weight, class 2 holds 0.2
    np.testing.assert_allclose(probs[0], (np.array([0.0, 0.8, 0.2]) + 0.1 / 3) / 1.1, rtol=1e-6)
    np.testing.assert_allclose(probs[1], (np.array([1.0, 0.0, 0.0]) + 0.1 / 3) / 1.1, rtol=1e-6)
    np.testing.assert_allclose(probs[2], 1 / 3)  # no neighbour: says nothing


def test_neighbours_vote_for_the_topic_of_real_news(vectors):
    matrix, labels = vectors
    weights = nearest_neighbours(matrix, NeighbourOptions(k=10, max_df=2000, query_features=256))
    probs = neighbour_label_probs(weights, labels, 4, smoothing=0.1)
    # far better than the 0.25 of chance on four balanced topics
    assert (probs.argmax(axis=1) == labels).mean() > 0.6


def test_the_blend_is_the_weighted_mean_and_can_be_memory_mapped(tmp_path):
    rng = np.random.default_rng(0)
    model, vote = rng.dirichlet(np.ones(3), 50).astype(np.float32), rng.dirichlet(np.ones(3), 50).astype(np.float32)
    in_memory = blended(model, vote, 0.75)
    np.testing.assert_allclose(in_memory, (model + 0.75 * vote) / 1.75, rtol=1e-6)
    mapped = blended(model, vote, 0.75, tmp_path)
    assert isinstance(mapped, np.memmap) and (tmp_path / "blended.npy").exists()
    np.testing.assert_array_equal(np.asarray(mapped), in_memory)


def test_shards_carry_the_neighbour_bags_into_the_group_folder(tmp_path):
    texts, _ = ag_news(30)
    near = FeatureOptions(buckets=1 << 12, char_ngrams=(3, 4), char_max_chars=1024)
    model = FeatureOptions(buckets=1 << 12)
    for part, (start, stop) in enumerate([(0, 12), (12, 30)]):
        writer = ShardWriter(tmp_path / "s" / f"part-{part:05d}", model, near)
        ids = [str(i) for i in range(start, stop)]
        writer.append(pa.array(ids), texts[start:stop], [None] * (stop - start), np.zeros(stop - start), row_keys(ids))
        writer.finish()
    group = gather_group(tmp_path / "g", sorted((tmp_path / "s").iterdir()))
    whole = featurize(texts, None, near)
    np.testing.assert_array_equal(group.neighbour_bags.offsets, whole.offsets)
    np.testing.assert_array_equal(group.neighbour_bags.ids, whole.ids)
    np.testing.assert_array_equal(group.bags.ids, featurize(texts, None, model).ids)
    # without neighbour options there are none
    plain = ShardWriter(tmp_path / "t" / "part-00000", model)
    plain.append(pa.array(["x"]), ["x y"], [None], np.zeros(1), row_keys(["x"]))
    plain.finish()
    assert gather_group(tmp_path / "h", [tmp_path / "t" / "part-00000"]).neighbour_bags is None
