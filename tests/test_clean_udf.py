"""The Spark wrapper of the clean chain (:func:`refinery.spark.clean_udf.clean_records`) on a
small DataFrame: one output row per input row, carried columns intact, the raw text gone."""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.sql.types import StructField, StructType

from refinery.spark.clean_udf import clean_records
from refinery.spark.schemas import BRONZE, CLEANED
from refinery.text.chain import CleanOptions

pytestmark = pytest.mark.slow

MOBILE = "13812345678"


def bronze_rows() -> list[tuple]:
    texts = [f"手机{MOBILE}，房间很干净。", "Great value, friendly staff.", "\u200b", None]
    return [
        (
            f"r{i}",
            text,
            "positive",
            "unit",
            datetime(2026, 1, i + 1),
            "b1",
            {"row": str(i)},
            f"h{i}",
            "/in/unit.jsonl",
            i + 1,
            "utf-8",
            "run-0",
        )
        for i, text in enumerate(texts)
    ]


def test_clean_records_keeps_every_row_and_drops_the_raw_text(spark):
    # Every column nullable: a missing text must come out quarantined, not crash the batch.
    schema = StructType([StructField(f.name, f.dataType, True) for f in BRONZE.fields])
    bronze = spark.createDataFrame(bronze_rows(), schema)
    out = clean_records(bronze, CleanOptions(allowed_languages=("zh", "en")))
    assert "text" not in out.columns and set(CLEANED.names) <= set(out.columns)
    rows = {r.id: r for r in out.collect()}
    assert sorted(rows) == ["r0", "r1", "r2", "r3"]
    assert MOBILE not in rows["r0"].clean_text and rows["r0"].pii_counts == {"CN_MOBILE": 1}
    assert rows["r0"].meta == {"row": "0"} and rows["r0"].event_ts == datetime(2026, 1, 1)
    assert (rows["r1"].lang, rows["r1"].outcome, rows["r1"].n_tokens) == ("en", "ok", len(rows["r1"].tokens))
    assert [rows[k].reason for k in ("r2", "r3")] == ["empty_after_normalize"] * 2
