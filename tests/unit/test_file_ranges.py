"""Reading files in bounded chunks and byte ranges (no Spark): every line is read by exactly one
range, with the file's line numbers, whatever the range boundaries and chunk sizes; records
of a file split into ranges are the records of the whole file."""

from __future__ import annotations

import bz2
import gzip
import random
from itertools import pairwise

import pytest

from refinery.ingest.settings import SourceSettings
from refinery.sources import reasons
from refinery.sources.file_lines import FileRange, bytes_opener, compression_of, count_newlines, file_lines
from refinery.sources.record_rows import Limits
from refinery.sources.records import parse_file, parse_range
from refinery.sources.splits import InputFile, pack_tasks, plan_splits, splittable, with_newlines_before
from refinery.text.encoding import decode_lines
from refinery.text.line_split import byte_lines, wide_lines

LIMITS = Limits(max_text_chars=100_000, payload_max_chars=200, max_line_bytes=1 << 20)


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into chunks of the given sizes (cycled)."""
    chunks, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        chunks.append(data[pos : pos + size])
        pos, i = pos + size, i + 1
    return chunks


def reference_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Lines as ``bytes.split`` gives them: the rule the streaming splitter must keep."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [(i, p[:-1] if p.endswith(b"\r") else p) for i, p in enumerate(parts, start=1)]


def random_file(rng: random.Random, lines: int) -> bytes:
    pieces = []
    for _ in range(lines):
        kind = rng.random()
        if kind < 0.1:
            pieces.append(b"")
        elif kind < 0.2:
            pieces.append(b"crlf line\r")
        else:
            pieces.append(("行" * rng.randint(1, 40) + "x" * rng.randint(0, 30)).encode())
    data = b"\n".join(pieces)
    return data + (b"\n" if rng.random() < 0.5 else b"")


@pytest.mark.parametrize("seed", range(20))
def test_byte_lines_match_split_at_any_chunking(seed: int) -> None:
    rng = random.Random(seed)
    data = random_file(rng, rng.randint(0, 60))
    sizes = [rng.randint(1, 50) for _ in range(5)]
    got = [(line.line_no, line.raw) for line in byte_lines(chunked(data, sizes), 1 << 20)]
    assert got == reference_lines(data)


@pytest.mark.parametrize("seed", range(30))
def test_ranges_read_every_line_once_with_file_line_numbers(seed: int) -> None:
    rng = random.Random(seed)
    data = random_file(rng, rng.randint(1, 80))
    cuts = sorted(set(rng.sample(range(1, max(len(data), 2)), k=min(rng.randint(1, 8), max(len(data) - 1, 1)))))
    bounds = [0, *[c for c in cuts if c < len(data)], len(data)]
    got = []
    for start, end in pairwise(bounds):
        before = count_newlines(bytes_opener(data), 0, start)
        span = FileRange("f.txt", start, end, before)
        got += [(line.line_no, line.raw) for line in file_lines(bytes_opener(data), span, "utf-8", None, 1 << 20)]
    expected = [(n, raw) for n, raw in reference_lines(data)]
    assert got == expected


def test_a_range_that_starts_on_a_line_start_reads_that_line() -> None:
    data = b"aaaa\nbbbb\ncccc\n"
    span = FileRange("f.txt", 5, 10, newlines_before=1)
    assert [(x.line_no, x.text) for x in file_lines(bytes_opener(data), span, "utf-8", None, 1 << 20)] == [(2, "bbbb")]
    # a range inside a line reads nothing; the range holding the line's start reads it whole
    assert list(file_lines(bytes_opener(data), FileRange("f.txt", 6, 9, 1), "utf-8", None, 1 << 20)) == []


def test_an_overlong_line_keeps_its_head_and_length_only() -> None:
    data = b"short\n" + b"x" * 5000 + b"\nafter\n"
    lines = list(byte_lines(chunked(data, [7, 300]), max_line_bytes=1000))
    assert [(x.line_no, x.length) for x in lines] == [(1, None), (2, 5000), (3, None)]
    assert lines[1].raw == b"x" * len(lines[1].raw) and len(lines[1].raw) <= 5000
    assert lines[2].raw == b"after"


def test_an_overlong_line_is_quarantined_and_the_rest_read() -> None:
    spec = SourceSettings(path="x", format="text", label_required=False)
    data = b"good\n" + b"y" * (2 << 20) + b"\nalso good\n"
    rows = list(parse_file(data, "a.txt", "s", spec, Limits(100_000, 100, max_line_bytes=1 << 20)))
    assert [(r["line"], r["outcome"], r["reason"]) for r in rows] == [
        (1, "ok", None),
        (2, "quarantine", reasons.LINE_TOO_LONG),
        (3, "ok", None),
    ]
    assert len(rows[1]["payload"]) == 100 and "2097152 bytes" in rows[1]["detail"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
@pytest.mark.parametrize("seed", range(5))
def test_wide_lines_match_whole_decoding_at_any_chunking(codec: str, seed: int) -> None:
    rng = random.Random(seed)
    text = random_file(rng, rng.randint(1, 40)).decode()
    data = text.encode(codec)
    newline = "\n".encode(codec)
    sizes = [rng.randint(1, 33) for _ in range(4)]
    got = [line.raw.decode(codec) for line in wide_lines(chunked(data, sizes), newline, 1 << 20)]
    assert got == [t.removesuffix("\r") for t in text.split("\n")][: len(got)]
    assert len(got) == len([x for x in reference_lines(text.encode())])


def test_wide_overlong_line_is_counted_whole_and_the_next_line_found() -> None:
    text = "a\n" + "長" * 3000 + "\nend\n"
    data = text.encode("utf-16-le")
    lines = list(wide_lines(chunked(data, [5, 77]), "\n".encode("utf-16-le"), max_line_bytes=1000))
    assert [(x.line_no, x.length) for x in lines] == [(1, None), (2, 6000), (3, None)]
    assert lines[2].raw.decode("utf-16-le") == "end"


def test_decode_lines_of_a_utf16_file_ignores_range_ends() -> None:
    data = "one\ntwo\n".encode("utf-16")
    assert [x.text for x in decode_lines(data)] == ["one", "two"]
    later = FileRange("a.txt", 4, len(data), 0)
    assert list(file_lines(bytes_opener(data), later, "auto", None, 1 << 20)) == []


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_compressed_streams_are_read_whole_by_the_first_range(compress) -> None:
    data = b"".join(b'{"text": "row %d"}\n' % i for i in range(2000))
    packed = compress(data)
    name = "a.jsonl.gz" if compress is gzip.compress else "a.jsonl.bz2"
    lines = list(file_lines(bytes_opener(packed), FileRange(name, 0, 10), "auto", None, 1 << 20))
    assert [x.line_no for x in lines] == list(range(1, 2001))
    assert list(file_lines(bytes_opener(packed), FileRange(name, 10, None), "auto", None, 1 << 20)) == []


def test_compression_is_known_by_name_or_magic() -> None:
    assert compression_of("a.jsonl.gz", b"{") == "gzip"
    assert compression_of("a.jsonl", b"\x1f\x8bxxxx") == "gzip"
    assert compression_of("a.txt.bz2", b"") == "bz2"
    assert compression_of("a.txt", bz2.compress(b"hi")[:10]) == "bz2"
    assert compression_of("a.txt", b"BZh is a word") is None


def test_a_truncated_gzip_is_one_unreadable_record() -> None:
    spec = SourceSettings(path="x", format="jsonl", label_required=False)
    packed = gzip.compress(b'{"text": "fine"}\n' * 5000)
    rows = list(parse_file(packed[: len(packed) // 2], "cut.jsonl.gz", "s", spec, LIMITS))
    assert [(r["line"], r["reason"]) for r in rows] == [(0, reasons.UNREADABLE_FILE)]
    assert rows[0]["detail"].startswith("cannot decompress")


def split_records(data: bytes, path: str, spec: SourceSettings, split_bytes: int) -> list[dict]:
    """Records of ``data`` as the Spark layer reads it: planned ranges, newline counts, parse."""
    splits = plan_splits([InputFile(path, len(data), 0)], spec, split_bytes)
    counts = {(s.file.path, s.start): count_newlines(bytes_opener(data), s.start, s.end) for s in splits}
    rows = []
    for split in with_newlines_before(splits, counts):
        span = FileRange(path, split.start, split.end, split.newlines_before)
        rows += parse_range(bytes_opener(data), span, "s", spec, LIMITS)
    return rows


def without_content_position(rows: list[dict]) -> list[tuple]:
    return [(r["line"], r["outcome"], r["reason"], r["text"], r["label"], r["content_hash"]) for r in rows]


@pytest.mark.parametrize("split_bytes", [50, 333, 4096])
def test_a_split_jsonl_file_gives_the_whole_files_records(split_bytes: int) -> None:
    rng = random.Random(split_bytes)
    rows = []
    for i in range(300):
        roll = rng.random()
        if roll < 0.05:
            rows.append(b"")
        elif roll < 0.1:
            rows.append(b"{broken")
        elif roll < 0.13:
            rows.append(b"\xff\xfe not utf-8")
        else:
            rows.append(b'{"text": "%s %d", "label": "l%d"}' % ("文本".encode() * rng.randint(1, 9), i, i % 3))
    data = b"\n".join(rows) + b"\n"
    spec = SourceSettings(path="x", format="jsonl", encoding="utf-8")
    whole = list(parse_file(data, "a.jsonl", "s", spec, LIMITS))
    assert len(plan_splits([InputFile("a.jsonl", len(data), 0)], spec, split_bytes)) > 1
    split = split_records(data, "a.jsonl", spec, split_bytes)
    assert without_content_position(split) == without_content_position(whole)


@pytest.mark.parametrize("header", [True, False])
def test_a_split_csv_file_knows_its_header_in_every_range(header: bool) -> None:
    lines = ["text,label"] if header else []
    rows = [f"row number {i},{'pos' if i % 2 else 'neg'}" for i in range(200)]
    lines += ["", *rows[:5], "bad,row,extra", *rows[5:]]
    data = ("\n".join(lines) + "\n").encode()
    columns = {"text": "text", "label": "label"} if header else {"text": 0, "label": 1}
    spec = SourceSettings(path="x", format="csv", header=header, multiline=False, columns=columns)
    whole = list(parse_file(data, "a.csv", "s", spec, LIMITS))
    assert sum(r["outcome"] == "ok" for r in whole) == 200
    assert without_content_position(split_records(data, "a.csv", spec, 97)) == without_content_position(whole)


def test_only_line_per_record_sources_are_split() -> None:
    assert splittable(SourceSettings(path="x", format="jsonl"))
    assert splittable(SourceSettings(path="x", format="tsv", quoting="none"))
    assert not splittable(SourceSettings(path="x", format="csv"))  # quoted fields may hold newlines
    assert splittable(SourceSettings(path="x", format="csv", multiline=False))
    assert not splittable(SourceSettings(path="x", format="text", encoding="utf-16"))
    files = [InputFile("big.jsonl", 25, 0), InputFile("big.jsonl.gz", 25, 0), InputFile("small.jsonl", 5, 0)]
    splits = plan_splits(files, SourceSettings(path="x", format="jsonl"), 10)
    assert [(s.file.path, s.start, s.end) for s in splits] == [
        ("big.jsonl", 0, 10),
        ("big.jsonl", 10, 20),
        ("big.jsonl", 20, 25),
        ("big.jsonl.gz", 0, 25),
        ("small.jsonl", 0, 5),
    ]


def test_small_ranges_are_packed_into_tasks_up_to_the_budget() -> None:
    files = [InputFile(f"f{i}", 100 << 10, 0) for i in range(30)]
    tasks = pack_tasks(plan_splits(files, SourceSettings(path="x", format="jsonl"), 4 << 20), 4 << 20)
    # each range costs its 100 KiB plus 1 MiB to open: three fit in a 4 MiB task
    assert [s.task for s in tasks] == [i // 3 for i in range(30)]
