"""The JVM reader of UTF-8 line files (``ingest.jvm_reader``) gives exactly the records the
Python parser gives: the same bronze rows (ids, texts, labels, meta, hashes, lines) and the
same quarantine rows (reasons, details, payloads), on JSONL, CSV (with a header, read line by
line) and TSV (no header, no quoting) made of every shared corpus's lines (broken encodings
included, some lines raw) and on lines built to hit each rule the fast path must hand to
Python, in files split into several byte ranges, whether the lines it hands over are parsed
in the driver or in Python workers, in compressed files too (read through a decompressed copy
when they decompress and read as UTF-8); and it parses most lines itself."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from refinery.ingest import batch_reads
from refinery.sources.record_rows import Limits
from refinery.spark.tables import read_table
from tests.support.spark_helpers import ingest

#: Lines taken from the head of each shared corpus file: about 17,000 lines, 19 MiB, so the big
#: file still spans many 1 MiB read ranges (three ingests of it are the module's whole cost).
LINES_PER_FILE = 600

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
    # the text's literal decoded straight to UTF-8 (JsonStringBytes), and what it leaves to Jackson
    b'{"label": "a", "text": "after the label \\u00E9\\u00e9 \\/ \\" \\\\ del \x7f"}',
    b'{"text": "bad escape \\x41", "label": "a"}',
    b'{"text": "short escape \\u00", "label": "a"}',
    b'{"text": "pair then lone \\ud83d\\ude00\\udc00", "label": "a"}',
    b'{"text": "ends in a backslash\\',
    b'{"text": "no closing quote',
    b'{"text": "\\u0000 nul escape, \\u001f unit separator", "label": "a"}',
    b'{"text": "\\u3000\\u2028\\u0085 \\t", "label": "a"}',
    b'{"text": "\xe3\x80\x80\xe2\x80\xa8\xc2\x85", "label": "a"}',
    b'{"text": "astral \xf0\x9f\x98\x80 first", "label": "a"}',
    b'{"text": "\xf0\x9f\x98\x80", "label": "a"}',
    b'{"text": "truncated \xe4\xb8", "label": "a"}',
    b'{"text": "bad utf8 after the text", "label": "a\xff"}',
    b'{"l\xffabel": "a", "text": "bad utf8 before the text"}',
    b'{"text": "first", "label": "a", "text": "second"}',
    b'{"text": null, "label": "a", "x": "1"}',
    # the text's literal is decoded, then the line parsed again with it replaced by ""
    b'{"a": "1", "text": "between", "b": 2}',
    b'{"id": 3, "label": "a", "text": "last key"}',
    b'{"text": "text"}',
    b'{"label": "text", "text": "the key as a value"}',
    b'{"text": "missing comma" "label": "a"}',
    b'{"text": "trailing comma",}',
    b'{"text": "closed by a bracket"]',
    b'{"text": "then a bad value", "x": tru}',
    b'{"text": "\\u00e9scaped first", "label": "a"}',
    b'{"text": "escape at the end \\\\"}',
    # at max_text_chars (the default, 100,000) in code points but over it in bytes, and past it
    b'{"text": "' + "\u4e2d".encode() * 100_000 + b'", "label": "a"}',
    b'{"text": "' + "\u4e2d".encode() * 100_001 + b'", "label": "a"}',
    b'{"text": "' + b"a" * 100_001 + b'", "label": "a"}',
]


#: CSV lines (columns text, label, n) the JVM reader must hand to Python, or get right itself.
CSV_EDGE_LINES = [
    b"plain,a,1",
    b'"quoted, comma",a,2',
    b'"doubled ""quotes"" inside",a,3',
    b'"unterminated,a,4',
    b'"after quote"x,a,5',
    b'unquoted "quote" inside,a,6',
    b"crlf end,a,7\r",
    b"cr \r inside,a,8",
    b"nul \x00 inside,a,9",
    b"",
    b"   ",
    b",a,10",
    b"too,many,fields,here",
    b"few",
    b'"",a,11',
    b"no label,,12",
    b"bad \xff utf8,a,13",
    b"raw \xe4\xb8\xad\xe6\x96\x87,a,14",
    b"  padded label  ,  one ,15",
    b'"multi\nline",a,16',
    b"\xef\xbb\xbfbom,a,17",
    b"\t\x0b\xe3\x80\x80,a,18",
    b'"quoted at end",a,"19"',
    b"trailing delimiter,a,20,",
    b"\xe3\x80\x80\xe3\x80\x80,a,21",
]


def _corpus_texts(root: Path, per_file: int) -> list[tuple[str, bytes, int]]:
    """(corpus folder, raw line, line number) for the first ``per_file`` lines of every
    shared corpus file."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SOURCE.txt"):
        with path.open("rb") as handle:
            for k, raw in enumerate(handle):
                if k >= per_file:
                    break
                found.append((path.parent.name, raw.rstrip(b"\n"), k))
    return found


def _delimited_lines(root: Path, delimiter: str) -> list[bytes]:
    """Corpus lines as records of (text, label, n): written by ``csv.writer`` for ``,`` (quoted
    where needed), joined with tabs (tabs in the text made spaces) for ``\\t``; every 37th
    line raw, after the file's first 2 MiB (its head must read as UTF-8)."""
    lines: list[bytes] = []
    size = 0
    for folder, raw, k in _corpus_texts(root, 500):
        size += len(raw) + 1
        if k % 37 == 0 and size > 2 << 20:
            lines.append(raw)
            continue
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if delimiter == ",":
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow([text, folder, k])
            lines.append(out.getvalue().encode())
        else:
            lines.append("\t".join([text.replace("\t", " "), folder, str(k)]).encode())
    return lines


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
    from refinery.config import TABLE_NAMES, load_settings
    from tests.support.paths import ROOT, corpora_dir

    folder = tmp_path_factory.mktemp("jvm_lines")
    lines = _corpus_lines(corpora_dir())
    for i, edge in enumerate(EDGE_LINES):
        lines.insert((i * 997) % len(lines), edge)
    lines.append(b'{"text": "over the line limit ' + b"y" * (1_100_000) + b'", "label": "a"}')
    lines.append(b'{"text": "last line, no newline", "label": "a"}')
    (folder / "input").mkdir()
    (folder / "input" / "corpora.jsonl").write_bytes(b"\n".join(lines))
    (folder / "input" / "small.jsonl").write_bytes(b'{"text": "small file", "label": "a"}\n\n')
    # compressed: read by the JVM through a decompressed copy, split in ranges (an over-long
    # line inside), or left to Python (a stream that fails, another encoding)
    sliced = b"\n".join([*lines[:3000], lines[-2], *lines[3000:6000]])
    (folder / "input" / "slice.jsonl.gz").write_bytes(gzip.compress(sliced))
    (folder / "input" / "truncated.jsonl.gz").write_bytes(gzip.compress(sliced)[:-40])
    (folder / "input" / "trailing.jsonl.gz").write_bytes(gzip.compress(lines[5]) + b"junk")
    (folder / "input" / "wide.jsonl.gz").write_bytes(
        gzip.compress(b"\n".join(lines[:50]).decode("utf-8", "replace").encode("utf-16"))
    )
    (folder / "input" / "slice.jsonl.bz2").write_bytes(bz2.compress(b"\n".join(lines[6000:7000])))
    csv_lines = _delimited_lines(corpora_dir(), ",")
    for i, edge in enumerate(CSV_EDGE_LINES):  # in the second half: the head must read as UTF-8
        csv_lines.insert(len(csv_lines) // 2 + (i * 997) % (len(csv_lines) // 2), edge)
    # the header is the first record: a blank and a broken line before it
    csv_lines = [b"", b'"broken', b"text,label,n", *csv_lines]
    (folder / "table").mkdir()
    (folder / "table" / "corpora.csv").write_bytes(b"\n".join(csv_lines) + b"\n")
    (folder / "table" / "repeated_names.csv").write_bytes(b"text,label,text\nfirst,a,last\n,b,\n")
    (folder / "table" / "slice.csv.gz").write_bytes(gzip.compress(b"\n".join(csv_lines[:4000])))
    tsv_lines = _delimited_lines(corpora_dir(), "\t")
    for i, edge in enumerate(CSV_EDGE_LINES):
        tsv_lines.insert(len(tsv_lines) // 2 + (i * 991) % (len(tsv_lines) // 2), edge.replace(b",", b"\t"))
    (folder / "plain").mkdir()
    (folder / "plain" / "corpora.tsv").write_bytes(b"\n".join(tsv_lines))
    results = {}
    # "workers": the JVM reader, its handed-over lines parsed in Python workers, not the driver
    for way, mode in (("always", "always"), ("never", "never"), ("workers", "always")):
        tables = folder / f"tables-{way}"
        overrides = [f"tables.{name}={tables / name}" for name in TABLE_NAMES]
        overrides += [
            f"ingest.sources.mixed.path={folder / 'input'}",
            "ingest.sources.mixed.format=jsonl",
            "ingest.sources.mixed.columns.text=text",
            "ingest.sources.mixed.columns.label=label",
            "ingest.sources.mixed.label_required=false",
            "ingest.sources.mixed.label_map={one: a}",
            f"ingest.sources.table.path={folder / 'table'}",
            "ingest.sources.table.format=csv",
            "ingest.sources.table.header=true",
            "ingest.sources.table.multiline=false",
            "ingest.sources.table.columns.text=text",
            "ingest.sources.table.columns.label=label",
            "ingest.sources.table.label_required=false",
            "ingest.sources.table.label_map={one: a}",
            f"ingest.sources.plain.path={folder / 'plain'}",
            "ingest.sources.plain.format=tsv",
            "ingest.sources.plain.quoting=none",
            "ingest.sources.plain.columns.text=0",
            "ingest.sources.plain.columns.label=1",
            "ingest.sources.plain.label_required=false",
            "ingest.only=[mixed, table, plain]",
            "ingest.batch=same",
            f"ingest.max_partition_bytes={1 << 20}",
            "ingest.max_line_bytes=1048576",
            f"ingest.jvm_reader={mode}",
            "spark.shuffle_partitions=2",
        ]
        settings = load_settings([ROOT / "conf" / "local.yaml"], overrides)
        with pytest.MonkeyPatch.context() as patch:
            if way == "workers":
                patch.setattr(batch_reads, "HANDED_OVER_IN_DRIVER_ROWS", 0)
            ingest(spark, settings)
        results[way] = settings
    return results


def _rows(spark, table: str, drop: list[str]) -> list[tuple]:
    frame = read_table(spark, table).drop(*drop)
    return sorted(tuple(tuple(sorted(v.items())) if isinstance(v, dict) else v for v in row) for row in frame.collect())


@pytest.mark.parametrize("way", ["always", "workers"])
def test_bronze_rows_are_the_same_either_way(spark, both_ways, way):
    jvm = _rows(spark, both_ways[way].tables.bronze, ["run_id"])
    python = _rows(spark, both_ways["never"].tables.bronze, ["run_id"])
    per_source = read_table(spark, both_ways["never"].tables.bronze).groupBy("source").count().collect()
    sizes = {r.source: r["count"] for r in per_source}
    assert min(sizes[s] for s in ("mixed", "table", "plain")) > 5_000, sizes
    assert jvm == python


@pytest.mark.parametrize("way", ["always", "workers"])
def test_quarantine_rows_are_the_same_either_way(spark, both_ways, way):
    drop = ["run_id", "quarantined_at"]
    jvm = _rows(spark, both_ways[way].tables.quarantine, drop)
    python = _rows(spark, both_ways["never"].tables.quarantine, drop)
    reasons = {row[3] for row in python}
    assert {"malformed_json", "malformed_record", "undecodable", "line_too_long", "empty_text"} <= reasons
    assert "missing_column" in reasons
    assert jvm == python


@pytest.mark.parametrize("source", ["mixed", "table", "plain"])
def test_the_jvm_parses_most_lines_itself(spark, both_ways, source):
    from refinery.ingest.jvm_lines import jvm_lines_frame, jvm_rules
    from refinery.ingest.read import list_files, plan_reads
    from refinery.sources.splits import pack_tasks

    settings = both_ways["always"]
    spec, cfg = settings.ingest.sources[source], settings.ingest
    limits = Limits(cfg.max_text_chars, cfg.payload_max_chars, cfg.max_line_bytes)
    files = list_files(spark, [spec.path])
    splits, layouts = plan_reads(spark, files, spec, cfg.max_partition_bytes, limits, sniff=True)
    in_jvm = [s for s in splits if s.file.path in layouts]
    assert len(in_jvm) > len(files)  # every file, the big one in several ranges
    tasks = pack_tasks(in_jvm, cfg.max_partition_bytes)
    frame = jvm_lines_frame(spark, spec, tasks, jvm_rules(source, spec, limits), layouts)
    counts = frame.groupBy(F.col("_raw").isNull().alias("parsed")).count().collect()
    parsed = {r.parsed: r["count"] for r in counts}
    assert parsed[True] > 0.9 * (parsed[True] + parsed[False]), parsed
    # some lines are handed over, few enough to be parsed in the driver (the "workers" way
    # parses them in Python workers)
    assert 0 < parsed[False] <= batch_reads.HANDED_OVER_IN_DRIVER_ROWS / 3, parsed


@pytest.mark.parametrize("source", ["mixed", "table", "plain"])
def test_planning_in_the_jvm_and_the_driver_gives_the_python_workers_plan(spark, both_ways, source):
    from refinery.ingest import read as ingest_read
    from refinery.ingest.read import list_files, plan_reads

    settings = both_ways["always"]
    spec, cfg = settings.ingest.sources[source], settings.ingest
    limits = Limits(cfg.max_text_chars, cfg.payload_max_chars, cfg.max_line_bytes)
    files = list_files(spark, [spec.path])
    by_workers = plan_reads(spark, files, spec, cfg.max_partition_bytes, limits, sniff=True)
    by_jvm = plan_reads(spark, files, spec, cfg.max_partition_bytes, limits, sniff=True, count_in_jvm=True)
    with pytest.MonkeyPatch.context() as patch:  # counted in the JVM, heads read in workers
        patch.setattr(ingest_read, "HEADS_IN_DRIVER", 0)
        heads_in_workers = plan_reads(
            spark, files, spec, cfg.max_partition_bytes, limits, sniff=True, count_in_jvm=True
        )
    assert by_jvm == by_workers
    assert heads_in_workers == by_workers
    assert sum(s.newlines_before > 0 for s in by_jvm[0]) >= 2  # the big file is split, its lines counted
    assert by_jvm[1]  # some files read as plain UTF-8


def test_the_jvm_counts_newlines_as_python_does(spark, tmp_path):
    from refinery.ingest.jvm_lines import jvm_newline_counts
    from refinery.sources.file_lines import count_newlines, open_binary
    from refinery.sources.splits import InputFile, Split

    data = b"a\nb\r\n\n\n" + "\u4e2d\n".encode() * 5000 + b"no newline at the end"
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    file = InputFile(f"file:{path}", len(data), 0)
    # a newline at a range's first and last byte, an empty range, a range past the end
    cuts = [(0, 2), (1, 3), (3, 5), (5, 5), (6, 9000), (9000, len(data)), (len(data) - 5, len(data) + 100)]
    splits = [Split(file, start, end) for start, end in cuts]
    expected = {(file.path, s): count_newlines(lambda: open_binary(file.path), s, e) for s, e in cuts}
    assert jvm_newline_counts(spark, splits) == expected
    assert jvm_newline_counts(spark, [Split(file, 0, len(data))]) == {(file.path, 0): data.count(b"\n")}


def test_compressed_files_are_parsed_in_the_jvm_through_copies_the_run_removes(spark, both_ways, tmp_path):
    from pathlib import Path

    from refinery.ingest.read import read_source

    settings = both_ways["always"]
    spec, cfg = settings.ingest.sources["mixed"], settings.ingest
    limits = Limits(cfg.max_text_chars, cfg.payload_max_chars, cfg.max_line_bytes)
    staging = tmp_path / "staging"
    read = read_source(
        spark, "mixed", spec, [spec.path], limits, cfg.max_partition_bytes, "always", staging=str(staging)
    )

    def names(frame):
        return {Path(r.path).name for r in frame.select("path").distinct().collect()}

    # the copies are split: the slice's lines come from more than one read task
    slice_tasks = read.reread.where(F.col("path").endswith("slice.jsonl.gz")).rdd.glom().filter(bool).count()
    assert {"slice.jsonl.gz", "slice.jsonl.bz2", "corpora.jsonl"} <= names(read.reread)
    assert names(read.parsed) == {"truncated.jsonl.gz", "trailing.jsonl.gz", "wide.jsonl.gz"}
    assert slice_tasks > 1
    assert len(list(staging.iterdir())) == 2  # the two copies, while the frames are read
    # the ingest runs removed their copies
    run_root = Path(settings.tables.bronze).parent / "_ingest_staging"
    assert [p for p in run_root.rglob("*") if p.is_file()] == []
