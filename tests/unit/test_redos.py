"""ReDoS (issue 9, part 4): every PII pattern, and ``pii.find`` as a whole, stays linear on
adversarial input. ``bench/redos_bench.py`` measures 100 kB against 1 MB (``make bench``,
``bench/results/redos.json``); this test runs the same matrix at 10 kB against 100 kB, so it
fits in seconds, and asserts the same loose bound: time(10x the text) <= 12x the time. Absolute
times are the bench's (``slowest_1mb``): a unit test asserts the shape of the cost, not a speed."""

from __future__ import annotations

from bench.redos_bench import INPUTS, RATIO_BOUND, measure, patterns
from refinery.text import pii


def test_the_bench_covers_every_recogniser_and_the_shared_gates() -> None:
    covered = set(patterns())
    assert set(pii._RECOGNIZERS) == set(pii.ALL_TYPES)  # every type has its recognisers
    assert {f"pattern:{rec.types[0]}" for group in pii._RECOGNIZERS.values() for rec in group} <= covered
    assert {"gate:digits", "gate:phone", "gate:dotted", "gate:hex_colon", "gate:iban", "prefilter"} <= covered
    assert len(INPUTS) >= 40


def test_every_pii_pattern_is_linear_on_adversarial_input() -> None:
    cells = measure(small=10_000, large=100_000, min_seconds=0.005, retries=8)
    assert len(cells) == len(INPUTS) * (len(patterns()) + 1)
    over = [f"{c.target} on {c.input}: x{c.ratio:.1f}" for c in cells if c.ratio > RATIO_BOUND]
    worst = max(cells, key=lambda c: c.ratio)
    print(f"{len(cells)} cells, worst x{worst.ratio:.2f} ({worst.target} on {worst.input})")
    assert not over, over
