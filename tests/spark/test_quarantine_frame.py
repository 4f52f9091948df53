"""``quarantine_frame``: the one layout of quarantine rows the three refusing jobs share."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from refinery.spark.quarantine import quarantine_frame
from refinery.spark.schemas import QUARANTINE


def test_rows_take_the_tables_columns_from_keywords_their_own_columns_or_null(spark):
    rows = spark.createDataFrame([("r1", "sms", "too_long", 7)], "id string, source string, reason string, line int")
    frame = quarantine_frame(rows, run_id="run-1", stage="clean", batch=F.lit("b1"), record_id=F.col("id"))
    assert [(f.name, f.dataType) for f in frame.schema.fields] == [(f.name, f.dataType) for f in QUARANTINE.fields]
    (row,) = frame.collect()
    assert (row.run_id, row.stage, row.batch, row.record_id) == ("run-1", "clean", "b1", "r1")
    assert (row.source, row.reason) == ("sms", "too_long")  # the rows' own columns
    assert row.detail is None and row.payload is None and row.source_line is None  # `line` is not a column of it
    assert row.quarantined_at is not None


def test_a_name_that_is_not_a_quarantine_column_is_refused(spark):
    rows = spark.createDataFrame([("r1",)], "id string")
    with pytest.raises(ValueError, match="record"):
        quarantine_frame(rows, run_id="run-1", stage="clean", batch="b1", record=F.col("id"))
