"""Refinery benchmarks: ``make bench`` (``python -m bench.run``) writes JSON to bench/results/."""
