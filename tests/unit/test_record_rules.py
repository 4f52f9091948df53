"""Unit tests of :mod:`refinery.sources.record_rules` (pure Python, no Spark): label, text and
id rules, the content hash, and strings that have no UTF-8 form."""

from __future__ import annotations

import hashlib
import json

import pytest

from refinery.sources import reasons
from refinery.sources.record_rows import Limits
from refinery.sources.record_rules import content_hash
from refinery.sources.records import record_from_mapping
from tests.support.record_parsing import JSONL, LIMITS, assert_row_contract, only, parse, spec

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
# content_hash


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
# Strings that have no UTF-8 form (issue 9)


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
