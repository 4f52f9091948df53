"""Pure dedup maths: canonical form and hash, shingles, MinHash signatures, LSH bands."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from refinery.text.canonical import CanonicalOptions, canonical, canonical_hash, canonical_hash_series
from refinery.text.minhash import (
    EMPTY,
    MinHashOptions,
    band_keys,
    candidate_probability,
    estimated_jaccard,
    false_negative_rate,
    s_curve_threshold,
    signatures,
)
from refinery.text.shingles import ShingleOptions, jaccard, shingle_hashes, shingles


def test_canonical_form_folds_case_punctuation_and_space_but_keeps_symbols():
    assert canonical("Hello, World!") == canonical("hello   world") == canonical("HELLO\u3000WORLD。") == "helloworld"
    assert canonical("房间很大，服务好！") == "房间很大服务好"
    assert canonical("$5 off") != canonical("5 off")  # symbols and digits stay
    assert canonical("Straße") == "strasse"
    kept = CanonicalOptions(lowercase=False, strip_punct=False, strip_whitespace=False)
    assert canonical("Hi, you!", kept) == "Hi, you!"


def test_canonical_hash_is_stable_and_separates_different_texts():
    assert canonical_hash("Hello, World!") == canonical_hash("hello world") == canonical_hash("HELLO WORLD.")
    assert canonical_hash("hello world") != canonical_hash("hello word")
    assert len(canonical_hash("x")) == 32
    # the documented definition (stored in silver: it must not drift between releases)
    assert canonical_hash("Hello World") == hashlib.blake2b(b"helloworld", digest_size=16).hexdigest()
    series = canonical_hash_series(pd.Series(["a b", None, "A-B"]))
    assert series.iloc[0] == series.iloc[2] and series.iloc[1] is None


def test_traditional_and_simplified_fold_together_only_when_asked():
    assert canonical("後來的發展") != canonical("后来的发展")
    assert canonical("後來的發展", CanonicalOptions(t2s=True)) == canonical("后来的发展", CanonicalOptions(t2s=True))


def test_chinese_is_shingled_by_characters_other_languages_by_words():
    assert shingles("我爱北京。", "zh") == {"我爱北", "爱北京"}
    assert shingles("Hello, big world!", "en") == {"hello\x1fbig", "big\x1fworld"}
    tokens = ["Hello", ",", "big", "world", "!"]
    assert shingles("ignored when tokens exist", "en", tokens) == {"hello\x1fbig", "big\x1fworld"}
    assert shingles("短", "zh") == {"短"} and shingles("", "zh") == set()
    assert shingles("one", "en") == {"one"}
    assert shingles("Hello big world", "en", options=ShingleOptions(word_ngram=1)) == {"hello", "big", "world"}


def test_jaccard_on_sets_and_hash_arrays_agree():
    a, b = shingles("今天天气很好我们去公园", "zh"), shingles("今天天气很好我们去公园散步", "zh")
    expected = len(a & b) / len(a | b)
    assert jaccard(a, b) == pytest.approx(expected)
    assert jaccard(shingle_hashes(a), shingle_hashes(b)) == pytest.approx(expected)
    assert jaccard(set(), set()) == 0.0


def test_minhash_estimates_jaccard_within_its_standard_error():
    rng = np.random.default_rng(7)
    universe = rng.choice(10**9, size=3000, replace=False).astype(np.uint64)
    pairs = []
    for share in (0.2, 0.5, 0.8, 0.95):
        common = int(400 * share)
        a = np.unique(universe[:400])
        b = np.unique(np.concatenate([universe[:common], universe[1000 : 1000 + 400 - common]]))
        pairs.append((a, b))
    options = MinHashOptions(num_perm=256, bands=32)
    sigs = signatures([h for pair in pairs for h in pair], options)
    for i, (a, b) in enumerate(pairs):
        truth = jaccard(a, b)
        error = np.sqrt(truth * (1 - truth) / options.num_perm)
        assert abs(estimated_jaccard(sigs[2 * i], sigs[2 * i + 1]) - truth) <= 4 * error + 0.01


def test_signatures_are_deterministic_batch_independent_and_empty_safe():
    docs = [shingle_hashes(shingles(t, "en")) for t in ("a b c d", "a b c e", "", "x y z")]
    whole = signatures(docs)
    one_by_one = np.vstack([signatures([d]) for d in docs])
    assert np.array_equal(whole, one_by_one)
    assert np.array_equal(whole, signatures(docs))
    assert (whole[2] == EMPTY).all() and (whole[[0, 1, 3]] < EMPTY).all()
    assert not np.array_equal(whole, signatures(docs, MinHashOptions(seed=2)))


def test_identical_band_contents_share_keys_and_different_ones_do_not():
    near = ["the quick brown fox jumps over the lazy dog", "the quick brown fox jumps over the lazy dog"]
    far = ["completely unrelated text about markets and prices today"]
    sigs = signatures([shingle_hashes(shingles(t, "en")) for t in near + far])
    keys = band_keys(sigs)
    assert keys.shape == (3, 16) and keys.dtype == np.int64
    assert (keys[0] == keys[1]).all() and not (keys[0] == keys[2]).any()
    assert len(set(keys[0])) == 16  # the band index is mixed in: equal rows in two bands differ


def test_s_curve_puts_the_threshold_where_the_docstring_says():
    assert s_curve_threshold(16, 8) == pytest.approx(0.707, abs=0.001)
    assert candidate_probability(0.8, 16, 8) == pytest.approx(0.947, abs=0.001)
    assert candidate_probability(0.5, 16, 8) == pytest.approx(0.061, abs=0.001)
    assert false_negative_rate(0.8, 16, 8) < 0.02 < false_negative_rate(0.8, 8, 16)


def test_bad_banding_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="must divide num_perm"):
        MinHashOptions(num_perm=128, bands=20)
