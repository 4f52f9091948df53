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
from conftest import corpora_dir

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
