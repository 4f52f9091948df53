"""Refinery: PySpark + Delta Lake batch jobs for clean, balanced, label-verified training data."""

__version__ = "0.1.0"
