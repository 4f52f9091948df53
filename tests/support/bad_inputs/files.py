"""Kinds of bad bytes and files: broken and mixed encodings, giant lines and files, empty and
compressed files, delimited files that do not parse, Parquet of the wrong types."""

from __future__ import annotations

import codecs
import gzip
import random

import pyarrow as pa
import pyarrow.parquet as pq

from tests.support.bad_inputs.corpus import ANY, TEN_MB, Writer, byte_lines, jsonl, lines, pii_line


def encodings(w: Writer) -> None:
    utf8 = {"format": "text", "encoding": "utf-8"}
    w.add(
        "invalid_utf8",
        {"a.txt": lines(b"good line one", b"bad \xff\xfe byte", b"\xc3\x28 broken", b"overlong \xc0\xaf", b"good two")},
        5,
        {"ok": 2, "quarantine:undecodable": 3},
        "bytes that are not UTF-8, one bad line costs one record",
        **utf8,
    )
    mixed = lines("utf-8 café".encode(), "cp1252 “café”".encode("cp1252"), "中文 gbk 行".encode("gbk"))
    w.add(
        "mixed_encodings",
        {"a.txt": mixed},
        3,
        {"ok": 3},
        "UTF-8, Windows-1252 and GBK lines in one file; Latin-1 fallback keeps every line",
        format="text",
        encoding="utf-8",
        fallback_encoding="latin-1",
    )
    w.add(
        "mixed_encodings_auto",
        {"a.txt": mixed},
        3,
        ANY,
        "the same mixed file under encoding detection: lines may decode or be undecodable",
        format="text",
    )
    sample = "hello ham\r\n中文 line\r\nthird line café\r\n"
    w.add("utf16_bom", {"a.txt": sample.encode("utf-16")}, 3, {"ok": 3}, "UTF-16 with BOM, CRLF", format="text")
    ascii_only = "first plain line\nsecond plain line\nthird plain line\n"
    for order in ("le", "be"):
        w.add(
            f"utf16_{order}_no_bom",
            {"a.txt": ascii_only.encode(f"utf-16-{order}")},
            3,
            {"ok": 3},
            "UTF-16 without BOM: valid UTF-8 bytes (NUL every other byte), must be detected as UTF-16",
            format="text",
        )
    w.add(
        "utf16_lone_surrogate",
        {"a.txt": "good\n".encode("utf-16-le") + b"\x00\xd8x\x00\n\x00" + "fine\n".encode("utf-16-le")},
        3,
        {"ok": 2, "quarantine:undecodable": 1},
        "a lone surrogate code unit in UTF-16",
        format="text",
        encoding="utf-16-le",
    )
    w.add("utf32_bom", {"a.txt": "one\ntwo 二\n".encode("utf-32")}, 2, {"ok": 2}, "UTF-32 with BOM", format="text")
    w.add(
        "cesu8_surrogates",
        {"a.txt": lines(b"cesu \xed\xa0\x80 lone", b"pair \xed\xa0\xbd\xed\xb8\x80 emoji", b"fine")},
        3,
        {"ok": 1, "quarantine:undecodable": 2},
        "UTF-8-encoded surrogates (CESU-8), invalid in UTF-8",
        **utf8,
    )
    rng = random.Random(9)
    data = bytes(rng.randrange(256) for _ in range(4096))
    w.add(
        "random_binary",
        {"a.bin": b"x" + data},
        byte_lines(b"x" + data),
        ANY,
        "random bytes in a text source",
        **utf8,
    )


def sizes_and_files(w: Writer) -> None:
    w.add(
        "nul_bytes",
        {"a.txt": lines(b"hello\x00world", b"\x00\x00\x00", b"tab\x00\x00sep")},
        3,
        {"ok": 3},
        "NUL bytes inside lines (a NUL-only line is empty only after clean's normalization)",
        format="text",
        encoding="utf-8",
    )
    w.add(
        "ten_mb_line",
        {"a.txt": lines(b"spam " * (TEN_MB // 5), b"short good line")},
        2,
        {"ok": 1, "quarantine:text_too_long": 1},
        "a 10 MB single line",
        format="text",
    )
    w.add(
        "pii_digits_1mb",
        {"a.txt": lines(pii_line().encode())},
        1,
        {"ok": 1},
        "1 MB of PII-like digits, masked by clean",
        format="text",
    )
    good = jsonl({"text": "zipped fine", "label": "ham"}, {"text": "zipped two", "label": "spam"})
    many = gzip.compress(good * 50)
    w.add(
        "truncated_gzip",
        {"cut.jsonl.gz": many[: len(many) // 2], "good.jsonl.gz": gzip.compress(good)},
        3,
        {"ok": 2, "quarantine:unreadable_file": 1},
        "a gzip cut short: one unreadable_file record for the file",
        format="jsonl",
    )
    w.add(
        "not_gzip",
        {"plain.jsonl.gz": good, "magic.jsonl": b"\x1f\x8b" + b"not really gzip\n"},
        2,
        {"quarantine:unreadable_file": 2},
        "a .gz that is not gzip, and a file that starts with gzip's magic bytes",
        format="jsonl",
    )
    w.add(
        "gzip_multimember",
        {"a.jsonl.gz": gzip.compress(good) + gzip.compress(good[: good.index(b"\n") + 1])},
        3,
        {"ok": 3},
        "two gzip members in one file, both read (a repeat without an id is kept for dedup to judge)",
        format="jsonl",
    )
    w.add(
        "zero_byte",
        {"empty.txt": b"", "empty.txt.gz": b"", "bom_only.txt": codecs.BOM_UTF8},
        0,
        {},
        "zero-byte files (plain and .gz) and a file holding only a BOM: no records",
        format="text",
    )
    w.add(
        "blank_lines",
        {"a.txt": lines(b"first", b"", b"   ", b"\t", " \u3000 ".encode(), b"last")},
        6,
        {"ok": 2, "filter:blank_line": 4},
        "blank and whitespace-only lines (ideographic space included)",
        format="text",
    )
    w.add(
        "crlf_and_cr",
        {"a.txt": b"crlf one\r\ncrlf two\r\nlone\rcr inside\rline\r\n\r\n"},
        4,
        {"ok": 3, "filter:blank_line": 1},
        "CRLF endings and lone CRs (a lone CR does not end a line)",
        format="text",
    )


def delimited(w: Writer) -> None:
    csv_spec = {"format": "csv", "header": True, "columns": {"text": "text", "label": "label"}}
    w.add(
        "csv_embedded_newlines",
        {"a.csv": b'text,label\n"line one\nline two",ham\n"crlf\r\ninside",spam\nplain,ham\n'},
        3,
        {"ok": 3},
        "quoted CSV fields spanning lines",
        **csv_spec,
    )
    w.add(
        "csv_unbalanced_quotes",
        {"a.csv": b'text,label\ngood,ham\n"ab"c,ham\ngood two,spam\n"never closed,ham\nrest,spam\n'},
        4,
        {"ok": 2, "quarantine:malformed_record": 2},
        "a quote closed mid-field, and one never closed (it swallows the rest of the file)",
        **csv_spec,
    )
    w.add("csv_header_only", {"a.csv": b"text,label\n"}, 0, {}, "a CSV with its header only", **csv_spec)
    w.add(
        "csv_nul",
        {"a.csv": b"text,label\nnul\x00inside,ham\n\x00,spam\n"},
        2,
        {"ok": 2},
        "NUL bytes in CSV fields",
        **csv_spec,
    )
    w.add(
        "tsv_field_counts",
        {"a.tsv": b"text\tlabel\ngood\tham\na\tb\tham\nonly one field\nx\tham\textra\tmore\n"},
        4,
        {"ok": 1, "quarantine:malformed_record": 3},
        "TSV rows with too many and too few fields",
        format="tsv",
        header=True,
        quoting="none",
        columns={"text": "text", "label": "label"},
    )


def parquet(w: Writer) -> None:
    table = pa.table(
        {
            "text": pa.array([123, 456, None], pa.int64()),
            "label": ["ham", "spam", "ham"],
            "extra": pa.array([[1, 2], None, []], pa.list_(pa.int64())),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    w.add(
        "parquet_wrong_types",
        {"a.parquet": sink.getvalue().to_pybytes()},
        3,
        {"ok": 2, "quarantine:empty_text": 1},
        "Parquet with an integer text column, a null text and a list column",
        format="parquet",
    )
