"""Bad input never crashes ingest and never vanishes: one record of each bad kind lands in the
``quarantine`` Delta table with the right reason, and in = bronze + quarantined + filtered."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from pyspark.sql import functions as F

from refinery.spark.tables import read_table
from tests.support.spark_helpers import ingest, metrics_by_stage, quarantine_reasons

GOOD = [
    {"id": "g1", "text": "A perfectly fine sentence.", "label": "pos", "ts": "2026-01-02T03:04:05Z"},
    {"id": "g2", "text": "另一个正常的句子。", "label": "neg", "ts": "2026-01-03 00:00:00"},
    {"id": "g3", "text": "Third good one", "label": "pos", "ts": None},
]


def _jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records)


def write_bad_inputs(folder: Path) -> dict[str, int]:
    """Write a JSONL file with one record of each bad kind and a CSV with a broken row.
    Returns the expected quarantine reasons."""
    jsonl = _jsonl(GOOD)
    jsonl += _jsonl([{"id": "e1", "text": "", "label": "pos"}])  # empty_text
    jsonl += _jsonl([{"id": "e2", "text": None, "label": "pos"}])  # empty_text (null)
    jsonl += b'{"id": "m1", "text": "unterminated\n'  # malformed_json
    jsonl += b"[1, 2, 3]\n"  # malformed_json (not an object)
    jsonl += b'{"id": "u1", "text": "caf\xe9 \xff", "label": "pos"}\n'  # undecodable (not UTF-8)
    jsonl += _jsonl([{"id": "l1", "text": "x" * 300, "label": "pos"}])  # text_too_long
    jsonl += _jsonl([{"id": "b1", "text": "label outside the set", "label": "maybe"}])  # label_not_in_set
    jsonl += _jsonl([{"id": "g1", "text": "same id, other text", "label": "pos"}])  # duplicate_id_conflict
    jsonl += _jsonl([GOOD[2]])  # exact repeat of g3: filtered duplicate_record
    jsonl += _jsonl([{"id": "t1", "text": "bad time", "label": "pos", "ts": "not a time"}])  # bad_event_ts
    jsonl += _jsonl([{"id": " ", "text": "no id", "label": "pos"}])  # missing_id
    jsonl += _jsonl([{"id": "n1", "text": "no label field", "label": None}])  # missing_label
    jsonl += b"\n"  # blank line: filtered
    (folder / "records.jsonl").write_bytes(jsonl)
    (folder / "records.jsonl.gz").write_bytes(gzip.compress(_jsonl([{"id": "z1", "text": "zipped", "label": "neg"}])))
    csv = 'id,text,label\nc1,fine csv row,pos\nc2,too,many,fields,neg\nc3,"quoted, with comma",neg\n'
    (folder / "rows.csv").write_text(csv, encoding="utf-8")
    return {
        "empty_text": 2,
        "malformed_json": 2,
        "undecodable": 1,
        "text_too_long": 1,
        "label_not_in_set": 1,
        "duplicate_id_conflict": 1,
        "bad_event_ts": 1,
        "missing_id": 1,
        "missing_label": 1,
        "malformed_record": 1,
    }


def write_overlay(folder: Path, tables: Path) -> Path:
    from tests.support.paths import ROOT

    overlay = {
        "extends": str(ROOT / "conf" / "base.yaml"),
        "tables": {name: str(tables / name) for name in ("bronze", "silver", "quarantine", "gold", "metrics")}
        | {"review_queue": str(tables / "review_queue")},
        "spark": {"shuffle_partitions": 2},
        "ingest": {
            "input_root": str(folder),
            "batch": "bad-input",
            "max_text_chars": 200,
            "sources": {
                "jsonl": {
                    "path": ["records.jsonl", "records.jsonl.gz"],
                    "format": "jsonl",
                    "encoding": "utf-8",
                    "columns": {"text": "text", "label": "label", "id": "id", "event_ts": "ts"},
                    "labels": ["pos", "neg"],
                },
                "csv": {
                    "path": "rows.csv",
                    "format": "csv",
                    "header": True,
                    "columns": {"text": "text", "label": "label", "id": "id"},
                    "labels": ["pos", "neg"],
                },
            },
        },
    }
    path = folder / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bad_run(spark, tmp_path_factory):
    """One ingest of the bad inputs, read by the module's tests (they do not write)."""
    from refinery.config import load_settings

    tmp_path = tmp_path_factory.mktemp("bad_run")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    expected = write_bad_inputs(inputs)
    settings = load_settings([write_overlay(inputs, tmp_path / "tables")])
    run_id = ingest(spark, settings)
    return settings, run_id, expected


def test_each_bad_kind_is_quarantined_with_its_reason(spark, bad_run):
    settings, run_id, expected = bad_run
    assert quarantine_reasons(spark, settings, run_id) == Counter(expected)


def test_counts_reconcile_with_the_tables(spark, bad_run):
    settings, run_id, expected = bad_run
    total = metrics_by_stage(spark, settings, run_id)["ingest"]
    bronze = read_table(spark, settings.tables.bronze).count()
    assert bronze == 6  # g1, g2, g3, z1 (gzip), c1, c3
    assert total.rows_out == bronze
    assert total.rows_quarantined == sum(expected.values())
    assert dict(total.filtered_by_reason) == {"duplicate_record": 1, "blank_line": 1}
    assert total.rows_in == bronze + total.rows_quarantined + total.rows_filtered == 6 + 12 + 2


def test_quarantine_rows_keep_stage_payload_and_position(spark, bad_run):
    settings, run_id, _ = bad_run
    rows = read_table(spark, settings.tables.quarantine).where(F.col("run_id") == run_id).collect()
    assert {r.stage for r in rows} == {"ingest"} and {r.batch for r in rows} == {"bad-input"}
    by_reason = {r.reason: r for r in rows}
    assert by_reason["undecodable"].payload.startswith('{"id": "u1"') and "\\xff" in by_reason["undecodable"].payload
    assert by_reason["malformed_record"].payload == "c2,too,many,fields,neg"
    assert by_reason["malformed_record"].source_line == 3
    assert by_reason["duplicate_id_conflict"].record_id == "jsonl:g1"
    assert "same id, other text" in by_reason["duplicate_id_conflict"].payload
    assert len(by_reason["text_too_long"].payload) <= settings.ingest.payload_max_chars
    assert all(r.payload is not None and r.quarantined_at is not None for r in rows)


def test_good_rows_are_typed_and_keep_the_first_of_a_duplicated_id(spark, bad_run):
    settings, _, _ = bad_run
    bronze = {r.id: r for r in read_table(spark, settings.tables.bronze).collect()}
    assert set(bronze) == {"jsonl:g1", "jsonl:g2", "jsonl:g3", "jsonl:z1", "csv:c1", "csv:c3"}
    assert bronze["jsonl:g1"].text == "A perfectly fine sentence."
    assert bronze["jsonl:g1"].event_ts.isoformat() == "2026-01-02T03:04:05"
    assert bronze["csv:c3"].text == "quoted, with comma"
    assert bronze["jsonl:g3"].event_ts is not None  # no ts value: the file's modification time
