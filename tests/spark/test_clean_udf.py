"""The Spark wrapper of the clean chain (:func:`refinery.clean.udf.clean_records`) on a
small DataFrame: one output row per input row, carried columns intact, the raw text gone; the
annotation rules checked in the same pass (:func:`refinery.clean.udf.apply_rules`)."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql.types import StructField, StructType

from refinery.clean.udf import RULE_VIOLATION, clean_records
from refinery.spark.schemas import BRONZE, CLEANED
from refinery.text.chain import CleanOptions
from tests.support.annotation_rules_sample import RULES

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
    assert all(row.rule_violations is None for row in rows.values())  # no rules: not checked


def test_pii_in_meta_values_is_masked_unless_configured_off(spark):
    schema = StructType([StructField(f.name, f.dataType, True) for f in BRONZE.fields])
    rows = bronze_rows()[:2]
    rows[0] = (*rows[0][:6], {"contact": f"call {MOBILE}", "mail": "wang.fang@example.cn", "row": "0"}, *rows[0][7:])
    bronze = spark.createDataFrame(rows, schema)
    masked = {r.id: r.meta for r in clean_records(bronze, CleanOptions()).collect()}
    assert masked["r0"]["row"] == "0" and set(masked["r0"]) == {"contact", "mail", "row"}
    assert MOBILE not in masked["r0"]["contact"] and masked["r0"]["contact"].startswith("call [")
    assert "wang.fang" not in masked["r0"]["mail"]
    assert masked["r1"] == {"row": "1"}
    kept = {r.id: r.meta for r in clean_records(bronze, CleanOptions(mask_meta=False)).collect()}
    assert kept["r0"]["contact"] == f"call {MOBILE}" and kept["r0"]["mail"] == "wang.fang@example.cn"


def test_rules_run_in_the_python_workers_on_the_accepted_rows(spark):
    schema = StructType([StructField(f.name, f.dataType, True) for f in BRONZE.fields])
    out = clean_records(spark.createDataFrame(bronze_rows(), schema), CleanOptions(), RULES)
    rows = {r.id: r for r in out.collect()}
    # r0: its masked phone breaks the block rule (and it is not English: a flag too)
    assert (rows["r0"].outcome, rows["r0"].reason) == ("quarantine", RULE_VIOLATION)
    assert rows["r0"].detail == "block: no_phone; flag: english"
    assert rows["r0"].rule_violations == ["no_phone", "english"]
    # r1: meta.row "1" is compared as the number 1; its 28 characters break the flag rule
    assert (rows["r1"].outcome, rows["r1"].rule_violations) == ("ok", ["short_row_one"])
    # refused by the chain: not checked
    assert [rows[k].rule_violations for k in ("r2", "r3")] == [None, None]
