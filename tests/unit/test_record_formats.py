"""Unit tests of :mod:`refinery.sources.record_formats` (pure Python, no Spark): JSONL, CSV/TSV
and text files read into records, gzip, undecodable lines, and JSON the standard parser raises on."""

from __future__ import annotations

import gzip
import json

import pytest

from refinery.ingest.settings import SourceSettings
from refinery.sources import reasons
from refinery.sources.record_rows import Limits
from tests.support.record_parsing import JSONL, assert_row_contract, only, parse, spec

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
