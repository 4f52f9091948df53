"""The quality rules' tuning run on the shared corpora through the clean chain
(:mod:`bench.quality_bench`, whole corpora): the defaults flag < 1 % of each clean corpus and
> 95 % of a degenerate set built from them, languages detected, not assumed."""

from __future__ import annotations


def test_defaults_on_clean_corpora_and_degenerate_set() -> None:
    """Through the clean chain itself (languages detected, not assumed): < 1 % of each clean
    corpus and > 95 % of the degenerate set flagged; real French, Spanish, … sentences stay
    under 2 % (measured 1.1 % at most), so the Latin word-shape rules are not English-only traps."""
    from bench.quality_bench import CLEAN_CORPORA, KINDS, OTHER_LATIN, measure
    from tests.support.paths import corpora_dir

    result = measure(corpora_dir(), timed=False)
    print()
    for group in ("clean", "degenerate", "other_latin"):
        for name, rates in result[group].items():
            print(f"{group} {name}: n={rates['n']} flagged={rates['flagged']:.4f} per rule {rates['per_rule']}")
    overall = result["degenerate_overall"]
    print(f"degenerate overall: n={overall['n']} flagged={overall['flagged']:.4f}")

    assert set(result["clean"]) == set(CLEAN_CORPORA)
    for name, rates in result["clean"].items():
        assert rates["n"] >= 2000, name
        assert rates["flagged"] < 0.01, (name, rates)
    assert set(result["degenerate"]) == set(KINDS) | {"crowdflower_undecodable"}
    assert result["degenerate"]["crowdflower_undecodable"]["n"] > 0
    # the chain detected the languages itself: the mash is mostly "undetermined", not English
    assert result["degenerate"]["keyboard_mash"]["languages"].get("und", 0) > 100
    assert overall["flagged"] > 0.95, overall
    assert set(result["other_latin"]) == set(OTHER_LATIN)
    for code, rates in result["other_latin"].items():
        assert rates["n"] >= 900 and rates["flagged"] < 0.02, (code, rates)
