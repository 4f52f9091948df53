"""Rows in ``quarantine``'s shape. Three jobs refuse rows (``ingest``, ``clean`` and
``import_reviews``); each names only what differs (its stage, where a record came from, what
the payload is) and :func:`quarantine_frame` lays the rows out in the columns, order and types
of :data:`~refinery.spark.schemas.QUARANTINE`, the one declaration of the table."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from refinery.spark.schemas import QUARANTINE


def quarantine_frame(rows: DataFrame, **columns: Column | str | int | None) -> DataFrame:
    """``rows`` as quarantine rows: for each column of :data:`QUARANTINE`, in its order and
    type, the Column or literal given by keyword; else ``rows``' own column of that name; else
    null. ``quarantined_at`` is the time of the write unless given.

    >>> quarantine_frame(refused, run_id=run, stage="clean", record_id=F.col("id"))  # doctest: +SKIP
    """
    unknown = set(columns) - set(QUARANTINE.fieldNames())
    if unknown:
        raise ValueError(f"not quarantine columns: {sorted(unknown)}; they are {QUARANTINE.fieldNames()}")
    present = set(rows.columns)
    picked = []
    for field in QUARANTINE.fields:
        if field.name in columns:
            value = columns[field.name]
            expr = value if isinstance(value, Column) else F.lit(value)
        elif field.name == "quarantined_at":
            expr = F.current_timestamp()
        elif field.name in present:
            expr = F.col(field.name)
        else:
            expr = F.lit(None)
        picked.append(expr.cast(field.dataType).alias(field.name))
    return rows.select(*picked)
