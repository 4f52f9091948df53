"""Helpers shared by the test tiers (``tests/unit``, ``tests/spark``, ``tests/e2e``): paths, corpora
builders, Spark and subprocess helpers, the report-page reader. Fixtures live in ``tests/conftest.py``."""
