"""Batch shingle hashing and pair scoring equal the per-document definitions of
``refinery.text.shingles`` on real text, and the blocked MinHash equals the written formula."""

from __future__ import annotations

import csv
import json
import random
import sys
import unicodedata
import zlib
from itertools import islice

import numpy as np
import pytest

from refinery.text.minhash import (
    BLOCK_VALUES,
    EMPTY,
    MAX_HASH,
    MERSENNE_PRIME,
    MinHashOptions,
    flat_signatures,
    permutations,
    signatures,
)
from refinery.text.segment import segment
from refinery.text.shingle_hashes import PUNCTUATION, crc32_slices, pair_jaccards, shingle_hash_sets
from refinery.text.shingles import ShingleOptions, jaccard, shingle_hashes, shingles
from tests.support.paths import corpora_dir

ODD = [
    "",
    "a",
    "a b",
    "!!!",
    "... ,,, ;",
    "Hello, World!",
    " ...x... ",
    "«quoted» (paren) [x]",
    "ß Straße ΣΑΣ",
    "a\u00a0b\u3000c\u2028d",
    "—dash— word",
    "我",
    "我爱",
    "我爱北京天安门",
    "emoji 😀 test 😀😀",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def real_docs() -> list[tuple[str, str]]:
    """Chinese titles, English news descriptions and long English forum posts."""
    root = corpora_dir()
    docs: list[tuple[str, str]] = []
    with open(root / "thucnews_titles" / "test.txt", encoding="utf-8") as f:
        docs += [(line.split("\t")[0], "zh") for line in islice(f, 1500)]
    with open(root / "ag_news" / "test.csv", encoding="utf-8", newline="") as f:
        docs += [(row[1] + " " + row[2], "en") for row in islice(csv.reader(f), 1500)]
    with open(root / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl", encoding="utf-8") as f:
        docs += [(json.loads(line)["text"], "en") for line in islice(f, 300)]
    return docs


def _split(values: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    return np.split(values, np.cumsum(sizes)[:-1])


def _reference(texts, langs, tokens, options) -> list[np.ndarray]:
    return [
        shingle_hashes(shingles(t, lang, k, options)) if isinstance(t, str) else np.zeros(0, dtype=np.uint64)
        for t, lang, k in zip(texts, langs, tokens, strict=True)
    ]


def _assert_equal_sets(got: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(got) == len(expected)
    different = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not np.array_equal(g, e)]
    assert different == []


@pytest.mark.parametrize("options", [ShingleOptions(), ShingleOptions(char_ngram=5, word_ngram=3)])
def test_batch_hash_sets_equal_the_definition_on_real_text(real_docs, options):
    texts = [t for t, _ in real_docs] + ODD + ODD + [None]
    langs = [lang for _, lang in real_docs] + ["en"] * len(ODD) + ["zh"] * len(ODD) + ["en"]
    none = [None] * len(texts)
    values, sizes = shingle_hash_sets(texts, langs, None, options)
    assert values.dtype == np.uint64 and sizes.sum() == len(values)
    _assert_equal_sets(_split(values, sizes), _reference(texts, langs, none, options))


def test_batch_hash_sets_equal_the_definition_over_segmenter_tokens(real_docs):
    sample = real_docs[1400:1700] + [(t, "en") for t in ODD]
    texts, langs = [t for t, _ in sample], [lang for _, lang in sample]
    tokens = [segment(t, lang) for t, lang in sample]
    tokens[-1] = ["!", " ", "a", "?!", "b", "", " x "]  # punctuation-only and blank tokens are dropped
    values, sizes = shingle_hash_sets(texts, langs, tokens)
    _assert_equal_sets(_split(values, sizes), _reference(texts, langs, tokens, ShingleOptions()))


def test_an_empty_batch_and_a_batch_of_empty_documents_have_no_shingles():
    values, sizes = shingle_hash_sets([], [])
    assert len(values) == 0 and len(sizes) == 0
    values, sizes = shingle_hash_sets(["", None, "!!!"], ["zh", "en", "en"])
    assert len(values) == 0 and sizes.tolist() == [0, 0, 0]


def test_word_edges_strip_exactly_the_unicode_punctuation_categories():
    # the set the batch path strips with is every P* code point and nothing else
    assert all(unicodedata.category(c).startswith("P") for c in PUNCTUATION)
    every = sum(1 for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P"))
    assert len(PUNCTUATION) == every


def test_crc32_of_slices_equals_zlib():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, size=5000, dtype=np.uint8)
    starts = rng.integers(0, 4000, size=400)
    lengths = rng.integers(0, 1000, size=400)
    lengths[:3] = 0
    expected = [zlib.crc32(data[s : s + n].tobytes()) for s, n in zip(starts, lengths, strict=True)]
    assert crc32_slices(data, starts, lengths).tolist() == expected


def test_pair_scores_equal_the_exact_jaccard_of_the_shingle_strings(real_docs):
    rng = random.Random(5)
    a, b, langs = [], [], []
    for _ in range(1500):
        text, lang = rng.choice(real_docs)
        other = rng.choice([t for t, la in rng.sample(real_docs, 20) if la == lang] or [text])
        cut = max(1, len(text) - rng.randrange(0, 12))
        a.append(text)
        b.append(rng.choice([text[:cut], other, text + " extra words here", text]))
        langs.append(lang)
    a += ["", "!!!", None, "same"]
    b += ["", "x", "x", "same"]
    langs += ["en"] * 4
    got = pair_jaccards(a, langs, None, b, langs, None)
    expected = [
        jaccard(shingles(x, lang), shingles(y, lang)) if isinstance(x, str) and isinstance(y, str) else 0.0
        for x, y, lang in zip(a, b, langs, strict=True)
    ]
    np.testing.assert_array_equal(got, expected)
    assert 0.0 < np.mean(got) < 1.0  # the sample holds near, far and identical pairs


def _formula_signatures(hash_sets, options: MinHashOptions) -> np.ndarray:
    """The definition: ``((a·x + b) mod 2^64 mod p) mod 2^32``, minimised per document."""
    a, b = permutations(options.num_perm, options.seed)
    out = np.full((len(hash_sets), options.num_perm), EMPTY, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, values in enumerate(hash_sets):
            if len(values):
                permuted = ((values[:, None] * a[None, :] + b[None, :]) % MERSENNE_PRIME) & MAX_HASH
                out[i] = permuted.min(axis=0)
    return out


@pytest.mark.parametrize("options", [MinHashOptions(), MinHashOptions(num_perm=64, bands=8, seed=3)])
def test_blocked_signatures_equal_the_formula(options):
    rng = np.random.default_rng(11)
    sets = [np.unique(rng.integers(0, 1 << 32, size=rng.integers(0, 400), dtype=np.uint64)) for _ in range(600)]
    sets[0] = np.zeros(0, dtype=np.uint64)
    sets[1] = np.array([0, (1 << 32) - 1], dtype=np.uint64)
    sets[2] = np.unique(rng.integers(0, 1 << 32, size=BLOCK_VALUES + 10, dtype=np.uint64))  # larger than a block
    expected = _formula_signatures(sets, options)
    assert sum(map(len, sets)) > 2 * BLOCK_VALUES  # several blocks
    np.testing.assert_array_equal(signatures(sets, options), expected)
    sizes = np.array([len(s) for s in sets])
    np.testing.assert_array_equal(flat_signatures(np.concatenate(sets), sizes, options), expected)


def test_sketch_threshold_bounds_the_chance_of_dropping_a_pair_at_the_threshold():
    from math import comb

    from refinery.text.minhash import SKETCH_MISS, min_sketch_matches

    for threshold in (0.5, 0.8, 0.9):
        m = min_sketch_matches(threshold, 128)
        p = threshold + (1 - threshold) / 256
        below = sum(comb(128, x) * p**x * (1 - p) ** (128 - x) for x in range(m))
        assert below <= SKETCH_MISS  # dropping a pair at the threshold is that unlikely
        below_next = below + comb(128, m) * p**m * (1 - p) ** (128 - m)
        assert below_next > SKETCH_MISS  # and m is the largest such count
    assert min_sketch_matches(0.9, 128) > min_sketch_matches(0.8, 128) > min_sketch_matches(0.5, 128)


def test_sketches_keep_near_duplicates_and_drop_most_half_overlaps(real_docs):
    """On real English texts: a pair at J >= 0.8 always passes the sketch filter, a pair
    sharing half its shingles almost never does."""
    from refinery.text.minhash import min_sketch_matches, sketch_agreements, sketches

    options = MinHashOptions()
    texts = [t for t, lang in real_docs if lang == "en" and len(t.split()) > 30][:300]
    near = [t + " " + " ".join(t.split()[:2]) for t in texts]  # a few shingles added
    half = [
        " ".join(t.split()[: len(t.split()) // 2]) + " " + " ".join(u.split()[:20])
        for t, u in zip(texts, texts[1:] + texts[:1], strict=True)
    ]
    values, sizes = shingle_hash_sets(texts + near + half, ["en"] * (3 * len(texts)))
    sk = sketches(flat_signatures(values, sizes, options))
    n = len(texts)
    base, close, far = sk[:n], sk[n : 2 * n], sk[2 * n :]
    need = min_sketch_matches(0.8, options.num_perm)
    truth_close = [jaccard(shingles(a, "en"), shingles(b, "en")) for a, b in zip(texts, near, strict=True)]
    assert min(truth_close) >= 0.8
    assert (sketch_agreements(base, close) >= need).all()
    truth_far = [jaccard(shingles(a, "en"), shingles(b, "en")) for a, b in zip(texts, half, strict=True)]
    assert max(truth_far) < 0.7
    assert (sketch_agreements(base, far) >= need).mean() < 0.02


def test_a_pair_without_a_stored_sketch_is_kept_for_verification():
    import pandas as pd

    from refinery.dedup.udf import DedupOptions, sketch_kept

    same, other = bytes(range(128)), bytes(255 - i for i in range(128))
    frame = pd.DataFrame(
        {
            "a": ["p", "q", "r", "s"],
            "b": ["x", "y", "z", "w"],
            "sketch_a": [same, same, None, same],
            "sketch_b": [same, other, other, None],
        }
    )
    kept = sketch_kept(frame, DedupOptions(), 0.8)
    assert kept[["a", "b"]].values.tolist() == [["p", "x"], ["r", "z"], ["s", "w"]]


def test_pairs_beyond_one_call_s_key_space_are_scored_in_chunks_with_the_same_result(real_docs, monkeypatch):
    import refinery.text.shingle_hashes as shingle_hashes_module

    texts = [t for t, _ in real_docs[:40]]
    langs = [lang for _, lang in real_docs[:40]]
    other = texts[1:] + texts[:1]
    whole = pair_jaccards(texts, langs, None, other, langs, None)
    monkeypatch.setattr(shingle_hashes_module, "MAX_PAIRS", 7)  # 40 pairs: six chunks, the last short
    np.testing.assert_array_equal(pair_jaccards(texts, langs, None, other, langs, None), whole)
