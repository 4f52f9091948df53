"""The JVM reader of UTF-8 JSONL (``ingest.jvm_reader``) gives exactly the records the Python
parser gives: the same bronze rows (ids, texts, labels, meta, hashes, lines) and the same
quarantine rows (reasons, details, payloads), on JSONL made of every shared corpus's lines
(broken encodings included, some lines raw) and on lines built to hit each rule the fast
path must hand to Python, in a file split into several byte ranges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spark_helpers import ingest

from refinery.spark.tables import read_table

pytestmark = pytest.mark.slow

LINES_PER_FILE = 1500

#: Lines the JVM reader must hand to Python, or must get right itself.
EDGE_LINES = [
    b'{"text": "plain", "label": "a"}',
    b'{"text": "crlf ends", "label": "a"}\r',
    b"",
    b"   ",
    b'\xef\xbb\xbf{"text": "bom inside", "label": "a"}',
    b'{\x00"text": "nul"}',
    b'{"text": "float", "label": "a", "x": 1.5}',
    b'{"text": "big float", "label": "a", "x": 1e400}',
    b'{"text": "nan", "label": "a", "x": NaN}',
    b'{"text": "nested", "label": "a", "x": {"b": [1, 2]}}',
    b'{"text": "dup", "text": "dup2"}',
    b'{"text": "lone \\ud800 surrogate", "label": "a"}',
    b'{"text": "pair \\ud83d\\ude00 ok", "label": "a"}',
    b'{"text": "escaped \\\\u0041 not an escape", "label": "a"}',
    b'{"text": "ints", "label": "a", "z": -0, "y": 123456789012345678901234567890, "w": true, "v": false}',
    b'{"text": "null meta", "label": null, "m": null}',
    b'{"text": null, "label": "a"}',
    b'{"text": "  \\u3000 ", "label": "a"}',
    b'{"text": "", "label": "a"}',
    b'{"label": "no text"}',
    b'{"text": "padded label", "label": "  a\\u00a0"}',
    b'{"text": "mapped label", "label": "one"}',
    b'{"text": "unicode keys", "label": "a", "\\uff21": "1", "\\ud83d\\ude00": "2", "\\ue000": "3", "b": "4"}',
    b'{"text": "controls \\u0001\\u001f\\u000b\\"\\\\\\/\\b\\f\\n\\r\\t", "label": "a"}',
    b'{"text": "trailing"} x',
    b'{"text": "two"} {"text": "objects"}',
    b'["an", "array"]',
    b'"a string"',
    b'{"text": "raw \xe4\xb8\xad\xe6\x96\x87 utf8", "label": "a"}',
    b'{"text": "bad \xff utf8", "label": "a"}',
    b'{"text": "overlong \xc0\xaf", "label": "a"}',
    b'{"text": "surrogate bytes \xed\xa0\x80", "label": "a"}',
    b'{"text": "leading zero", "x": 01}',
    b'{"text": "tab\tinside"}',
    b'{"text": 42, "label": 7}',
    b'{"text": true, "label": "a"}',
    b'  \t{"text": "leading space", "label": "a"}',
    b'{"text": "x" , "label" : "a" }  ',
]


def _corpus_lines(root: Path) -> list[bytes]:
    """The first lines of every shared corpus file, mostly as JSON records of their text
    (ASCII-escaped every third line), every 37th as the raw bytes it is."""
    lines: list[bytes] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SOURCE.txt"):
        with path.open("rb") as handle:
            for k, raw in enumerate(handle):
                if k >= LINES_PER_FILE:
                    break
                raw = raw.rstrip(b"\n")
                if k % 37 == 0:
                    lines.append(raw)
                    continue
                record = {
                    "text": raw.decode("utf-8", "replace"),
                    "label": path.parent.name,
                    "n": k,
                    "even": k % 2 == 0,
                    "none": None,
                    "file": path.name,
                }
                lines.append(json.dumps(record, ensure_ascii=k % 3 == 0).encode())
    return lines


@pytest.fixture(scope="module")
def both_ways(spark, tmp_path_factory):
    from conftest import ROOT, corpora_dir

    from refinery.config import TABLE_NAMES, load_settings

    folder = tmp_path_factory.mktemp("jvm_lines")
    lines = _corpus_lines(corpora_dir())
    for i, edge in enumerate(EDGE_LINES):
        lines.insert((i * 997) % len(lines), edge)
    lines.append(b'{"text": "over the line limit ' + b"y" * (1_100_000) + b'", "label": "a"}')
    lines.append(b'{"text": "last line, no newline", "label": "a"}')
    (folder / "input").mkdir()
    (folder / "input" / "corpora.jsonl").write_bytes(b"\n".join(lines))
    (folder / "input" / "small.jsonl").write_bytes(b'{"text": "small file", "label": "a"}\n\n')
    results = {}
    for mode in ("always", "never"):
        tables = folder / f"tables-{mode}"
        overrides = [f"tables.{name}={tables / name}" for name in TABLE_NAMES]
        overrides += [
            f"ingest.sources.mixed.path={folder / 'input'}",
            "ingest.sources.mixed.format=jsonl",
            "ingest.sources.mixed.columns.text=text",
            "ingest.sources.mixed.columns.label=label",
            "ingest.sources.mixed.label_required=false",
            "ingest.sources.mixed.label_map={one: a}",
            "ingest.only=[mixed]",
            "ingest.batch=same",
            f"ingest.max_partition_bytes={1 << 20}",
            "ingest.max_line_bytes=1048576",
            f"ingest.jvm_reader={mode}",
            "spark.shuffle_partitions=2",
        ]
        settings = load_settings([ROOT / "conf" / "local.yaml"], overrides)
        ingest(spark, settings)
        results[mode] = settings
    return results


def _rows(spark, table: str, drop: list[str]) -> list[tuple]:
    frame = read_table(spark, table).drop(*drop)
    return sorted(tuple(tuple(sorted(v.items())) if isinstance(v, dict) else v for v in row) for row in frame.collect())


def test_bronze_rows_are_the_same_either_way(spark, both_ways):
    jvm = _rows(spark, both_ways["always"].tables.bronze, ["run_id"])
    python = _rows(spark, both_ways["never"].tables.bronze, ["run_id"])
    assert len(jvm) > 10_000
    assert jvm == python


def test_quarantine_rows_are_the_same_either_way(spark, both_ways):
    drop = ["run_id", "quarantined_at"]
    jvm = _rows(spark, both_ways["always"].tables.quarantine, drop)
    python = _rows(spark, both_ways["never"].tables.quarantine, drop)
    reasons = {row[3] for row in python}
    assert {"malformed_json", "undecodable", "line_too_long", "empty_text", "missing_column"} <= reasons
    assert jvm == python
