"""A pinned Delta snapshot: one version of a table and the frame that reads exactly it.

The ``score`` job trains on one fixed version of ``silver`` (Delta time travel), so every
score is traceable to the exact rows it saw, even while other jobs write the table. The
frame reads through Delta, so deletion vectors and column mapping are honoured.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from refinery.spark.tables import delta_table, is_catalog_name


@dataclass(frozen=True)
class Snapshot:
    """One version of a Delta table and the frame that reads it."""

    location: str
    version: int
    frame: DataFrame


def pin_snapshot(spark: SparkSession, location: str, version: int | None = None) -> Snapshot:
    """The table at ``location`` as of ``version`` (default: its latest version now)."""
    if version is None:
        version = int(delta_table(spark, location).history(1).first()["version"])
    if is_catalog_name(location):
        frame = spark.sql(f"SELECT * FROM {location.split(':', 1)[1]} VERSION AS OF {int(version)}")
    else:
        frame = spark.read.format("delta").option("versionAsOf", version).load(location)
    return Snapshot(location, version, frame)
