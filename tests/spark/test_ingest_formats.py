"""Formats and encodings end to end: slices of the real corpora re-encoded as GB18030,
UTF-16 and UTF-8 with a BOM (all detected with ``encoding: auto``), gzip JSONL and Parquet,
ingested into real Delta ``bronze`` with the text intact."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pandas as pd
import pytest
from pyspark.sql import functions as F

from refinery.spark.tables import read_table
from tests.support.settings import settings_in
from tests.support.spark_helpers import ingest, metrics_by_stage, quarantine_reasons

ROWS = 40


def _chnsenticorp_rows(corpora) -> list[tuple[str, str]]:
    with open(corpora / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return [(label, text) for label, text in list(reader)[:ROWS]]


def _sms_rows(corpora) -> list[tuple[str, str]]:
    lines = (corpora / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines[1 : ROWS + 1]]


@pytest.fixture(scope="module")
def formats_run(spark, tmp_path_factory):
    """One ingest of every format, read by the module's tests (they do not write)."""
    from tests.support.paths import corpora_dir

    corpora = corpora_dir()
    tmp_path = tmp_path_factory.mktemp("formats")
    folder = tmp_path / "in"
    folder.mkdir()
    chn, sms = _chnsenticorp_rows(corpora), _sms_rows(corpora)

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([("label", "review"), *chn])
    (folder / "gb.csv").write_bytes(buffer.getvalue().encode("gb18030"))
    (folder / "bom.csv").write_bytes(buffer.getvalue().encode("utf-8-sig"))
    tsv = "Label\tSMS\n" + "".join(f"{label}\t{text}\n" for label, text in sms)
    (folder / "sms16.tsv").write_bytes(tsv.encode("utf-16"))  # with BOM, native byte order
    jsonl = "".join(
        json.dumps({"t": text, "y": label, "n": i}, ensure_ascii=False) + "\n" for i, (label, text) in enumerate(sms)
    )
    (folder / "sms.jsonl.gz").write_bytes(gzip.compress(jsonl.encode("utf-8")))
    frame = pd.DataFrame(
        {"body": [t for _, t in chn] + [None], "cls": [y for y, _ in chn] + ["1"], "k": range(ROWS + 1)}
    )
    frame.to_parquet(folder / "chn.parquet", index=False)

    def source(name, **spec):
        return [f"ingest.sources.{name}.{key}={json.dumps(value)}" for key, value in spec.items()]

    chn_spec = {"format": "csv", "header": True, "encoding": "auto", "columns": {"text": "review", "label": "label"}}
    overrides = [f"ingest.input_root={folder}", "ingest.only=[gb,bom,utf16,gz,pq]"]
    overrides += source("gb", path="gb.csv", **chn_spec)
    overrides += source("bom", path="bom.csv", **chn_spec)
    overrides += source(
        "utf16",
        path="sms16.tsv",
        format="tsv",
        header=True,
        quoting="none",
        encoding="auto",
        columns={"text": "SMS", "label": "Label"},
    )
    overrides += source("gz", path="sms.jsonl.gz", format="jsonl", columns={"text": "t", "label": "y"})
    overrides += source("pq", path="chn.parquet", format="parquet", columns={"text": "body", "label": "cls"})
    settings = settings_in(tmp_path, *overrides)
    run_id = ingest(spark, settings)
    return settings, run_id, chn, sms


def texts(spark, settings, source: str) -> list[tuple[str, str]]:
    rows = read_table(spark, settings.tables.bronze).where(F.col("source") == source).orderBy("source_line")
    return [(r.label, r.text) for r in rows.collect()]


def test_detected_encodings_give_back_the_original_text(spark, formats_run):
    settings, _, chn, sms = formats_run
    assert texts(spark, settings, "gb") == chn
    assert texts(spark, settings, "bom") == chn  # the BOM is not glued to the header's first name
    assert texts(spark, settings, "utf16") == sms
    encodings = dict(
        read_table(spark, settings.tables.bronze).groupBy("source").agg(F.first("source_encoding")).collect()
    )
    assert encodings["gb"] in {"gb18030", "gbk", "gb2312"}
    assert encodings["bom"] == "utf-8" and encodings["utf16"].startswith("utf-16")


def test_gzip_jsonl_keeps_extra_keys_in_meta(spark, formats_run):
    settings, _, _, sms = formats_run
    assert texts(spark, settings, "gz") == sms
    metas = [r.meta for r in read_table(spark, settings.tables.bronze).where(F.col("source") == "gz").collect()]
    assert sorted(int(m["n"]) for m in metas) == list(range(ROWS))


def test_parquet_rows_are_mapped_and_a_null_text_is_quarantined(spark, formats_run):
    settings, run_id, chn, _ = formats_run
    assert sorted(texts(spark, settings, "pq")) == sorted(chn)
    stage = metrics_by_stage(spark, settings, run_id)["ingest/pq"]
    assert (stage.rows_in, stage.rows_out, dict(stage.quarantined_by_reason)) == (ROWS + 1, ROWS, {"empty_text": 1})
    assert quarantine_reasons(spark, settings, run_id) == {"empty_text": 1}
    lines = [r.source_line for r in read_table(spark, settings.tables.bronze).where(F.col("source") == "pq").collect()]
    assert sorted(lines) == list(range(1, ROWS + 1))  # Parquet row index, 1-based
