"""The bad-input corpus (issue 9): a generator writing one ingest source per kind of malformed
input, each with what ingest is expected to make of it.

Every kind lives in its own sub-folder and is its own ingest source (``bad_<kind>``), so the
per-source metrics row ``ingest/<source>`` checks each kind on its own: ``rows_in`` must be
the generator's record count, and the split into out / quarantined / filtered must be the
expected one where it is determined. Where more than one outcome is defensible (random bytes,
encoding detection of a mixed file) the expectation is :data:`ANY`: the records must still be
counted and accounted for, but the split is not pinned.

What counts as a *record* is ingest's unit for the format: a physical line for text and JSONL
(split on the byte ``\\n``, a final empty line not counted), a CSV record (a quoted field may
span lines, a header is not a record), a Parquet row, and a whole file when it cannot be read
at all (one ``unreadable_file`` row per file).

The corpus is generated at test time (nothing here is stored as a data file) and is small
apart from two deliberate giants: a 10 MB single line and 1 MB of PII-like digits.
"""

from __future__ import annotations

import codecs
import gzip
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

#: Expectation "either outcome is fine, as long as every record is accounted for".
ANY = None
#: The labels of the SMS sample (source ``sms_spam``); labelled bad sources use the same set.
LABELS = ["ham", "spam"]
#: Longest text ingest accepts in the run over this corpus: above the 1 MB PII line (so it
#: reaches clean's masking), below the 10 MB line (quarantined as ``text_too_long``).
MAX_TEXT_CHARS = 2_000_000
#: Nesting that Python's JSON parser cannot follow (its recursion limit is about 1,000).
DEEP = 10_000
#: One PII-like digit group, repeated into :data:`PII_LINE_BYTES` of text.
PII_GROUPS = ("13912345678", "110101199001011237", "6222020200001234562", "+86 139 1234 5678")
PII_LINE_BYTES = 1 << 20
TEN_MB = 10 * (1 << 20)


@dataclass(frozen=True)
class BadKind:
    """One kind of bad input, written as its own ingest source.

    ``expected`` maps ``"ok"``, ``"quarantine:<reason>"`` and ``"filter:<reason>"`` to record
    counts (zero counts left out), or is :data:`ANY`."""

    name: str
    #: The ``ingest.sources`` settings of this kind's source (``path`` relative to input_root).
    settings: dict[str, Any]
    #: Files written, relative to the input root.
    files: tuple[str, ...]
    #: Input records ingest must count (``rows_in`` of ``ingest/<source>``).
    records: int
    expected: Mapping[str, int] | None
    #: Why the kind is here, in a few words (the test prints it on failure).
    note: str = ""

    @property
    def source(self) -> str:
        return f"bad_{self.name}"

    @property
    def outcome(self) -> str:
        """The expectation in words: ``any``, or ``ok 2, quarantine:malformed_json 1``."""
        if self.expected is None:
            return "any"
        return ", ".join(f"{key} {count}" for key, count in self.expected.items()) or "no records"


@dataclass
class _Writer:
    """Collects the kinds while writing their files under ``root``."""

    root: Path
    kinds: list[BadKind] = field(default_factory=list)

    def add(
        self,
        name: str,
        files: Mapping[str, bytes],
        records: int,
        expected: Mapping[str, int] | None,
        note: str,
        **settings: Any,
    ) -> None:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, data in files.items():
            (folder / file_name).write_bytes(data)
        settings.setdefault("label_required", False)
        if "columns" not in settings and settings["format"] in ("jsonl", "parquet"):
            settings["columns"] = {"text": "text", "label": "label"}
        if "labels" not in settings and settings["format"] != "text":
            settings["labels"] = LABELS
        settings["path"] = f"{self.root.name}/{name}"
        expected = None if expected is None else {k: v for k, v in expected.items() if v}
        kind = BadKind(name, settings, tuple(f"{self.root.name}/{name}/{f}" for f in files), records, expected, note)
        self.kinds.append(kind)


def jsonl(*records: Any) -> bytes:
    """JSON lines, non-ASCII written as UTF-8 (strings are taken as already-written lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def lines(*rows: bytes) -> bytes:
    return b"".join(row + b"\n" for row in rows)


def nested(depth: int, inner: str = "1") -> str:
    """JSON text of ``depth`` nested arrays around ``inner``."""
    return "[" * depth + inner + "]" * depth


def pii_line() -> str:
    """About 1 MB of PII-like digit groups (phones, ID numbers, bank cards)."""
    out, size, index = [], 0, 0
    while size < PII_LINE_BYTES:
        group = PII_GROUPS[index % len(PII_GROUPS)]
        out.append(f"call {group}")
        size += len(group) + 6
        index += 1
    return ", ".join(out)


def byte_lines(data: bytes) -> int:
    """Physical lines as ingest counts them: split on ``\\n``, a final empty line not counted."""
    parts = data.split(b"\n")
    return len(parts) - (parts[-1] == b"")


def write_bad_corpus(folder: Path) -> list[BadKind]:
    """Write every kind under ``folder/bad/<kind>/``; return the kinds (sources ``bad_<kind>``)."""
    w = _Writer(folder / "bad")
    _encodings(w)
    _sizes_and_files(w)
    _delimited(w)
    _json_structure(w)
    _json_values(w)
    _unicode(w)
    _ids_labels(w)
    _parquet(w)
    return w.kinds


# --------------------------------------------------------------------------------------------
# Kinds, by theme


def _encodings(w: _Writer) -> None:
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


def _sizes_and_files(w: _Writer) -> None:
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


def _delimited(w: _Writer) -> None:
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


def _json_structure(w: _Writer) -> None:
    fine = {"text": "a fine line", "label": "ham"}
    w.add(
        "json_broken",
        {
            "a.jsonl": jsonl(
                '{"text": "abc',
                '{"text": "a"} trailing',
                '{"text": "a"}{"text": "b"}',
                "{'text': 'x'}",
                '{"text": "a",}',
                fine,
            )
        },
        6,
        {"ok": 1, "quarantine:malformed_json": 5},
        "truncated objects, trailing garbage, single quotes, trailing comma",
        format="jsonl",
    )
    w.add(
        "json_not_object",
        {"a.jsonl": jsonl("[1, 2]", '"a string"', "42", "null", "true", fine)},
        6,
        {"ok": 1, "quarantine:malformed_json": 5},
        "JSON values that are not objects",
        format="jsonl",
    )
    w.add(
        "json_deep_nesting_text",
        {"a.jsonl": jsonl('{"text": ' + nested(DEEP) + "}", fine)},
        2,
        {"ok": 1, "quarantine:malformed_json": 1},
        "text nested 10,000 arrays deep (RecursionError in json.loads)",
        format="jsonl",
    )
    w.add(
        "json_deep_nesting_meta",
        {"a.jsonl": jsonl('{"text": "deep meta", "extra": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}", fine)},
        2,
        {"ok": 1, "quarantine:malformed_json": 1},
        "an extra field nested 10,000 objects deep",
        format="jsonl",
    )
    w.add(
        "json_nesting_at_recursion_limit",
        {"a.jsonl": jsonl('{"text": "just parses", "extra": ' + nested(992) + "}", fine)},
        2,
        {"ok": 1, "quarantine:malformed_json": 1},
        "992 levels: json.loads copes, turning the value into meta text overflowed the stack",
        format="jsonl",
    )
    w.add(
        "json_moderate_nesting",
        {"a.jsonl": jsonl('{"text": "deep but fine", "extra": ' + nested(400) + "}")},
        1,
        {"ok": 1},
        "400 levels: parses, and meta keeps it as JSON text",
        format="jsonl",
    )
    w.add(
        "json_duplicate_keys",
        {
            "a.jsonl": jsonl(
                '{"text": "first", "text": "second", "label": "ham"}',
                '{"text": "x", "label": "ham", "label": "spam"}',
                '{"text": "y", "m": {"k": 1, "k": 2}}',
                fine,
            )
        },
        4,
        {"ok": 1, "quarantine:malformed_json": 3},
        "duplicate keys: which text or label was meant is unknowable",
        format="jsonl",
    )
    w.add(
        "json_wide_meta",
        {"a.jsonl": jsonl({"text": "many extra keys", **{f"k{i}": i for i in range(3000)}})},
        1,
        {"ok": 1},
        "3,000 extra keys, all in meta",
        format="jsonl",
    )


def _json_values(w: _Writer) -> None:
    big = "1" + "0" * 5000
    w.add(
        "json_huge_int",
        {
            "a.jsonl": jsonl(
                '{"text": "big", "n": ' + big + "}",
                '{"text": ' + big + "}",
                '{"text": "under the limit", "n": ' + "9" * 4000 + "}",
                '{"text": "huge float", "x": 1e999}',
            )
        },
        4,
        {"ok": 2, "quarantine:malformed_json": 2},
        "integer literals over Python's 4,300-digit limit (ValueError, not JSONDecodeError)",
        format="jsonl",
    )
    w.add(
        "json_nan_infinity",
        {
            "a.jsonl": jsonl(
                '{"text": "nan meta", "score": NaN}',
                '{"text": "inf", "v": Infinity}',
                '{"text": "-inf", "v": -Infinity}',
                '{"text": NaN}',
            )
        },
        4,
        {"ok": 3, "quarantine:empty_text": 1},
        "NaN / Infinity literals (Python's json writes them): NaN reads as missing",
        format="jsonl",
    )
    w.add(
        "json_wrong_types",
        {"a.jsonl": jsonl({"text": ["a", "b"]}, {"text": {"k": "v"}}, {"text": True}, {"text": "fine", "m": [1, {}]})},
        4,
        {"ok": 4},
        "text as list / object / bool: kept as its JSON text",
        format="jsonl",
    )
    w.add(
        "numeric_text",
        {"a.jsonl": jsonl({"text": 12345}, {"text": "3.14159"}, {"text": 1e308}, {"text": -0})},
        4,
        {"ok": 4},
        "numbers as text",
        format="jsonl",
    )
    w.add(
        "missing_text",
        {"a.jsonl": jsonl({"label": "ham"}, {"text": ""}, {"text": "   \t"}, {"text": None})},
        4,
        {"quarantine:missing_column": 1, "quarantine:empty_text": 3},
        "no text key, empty, whitespace-only and null text",
        format="jsonl",
    )
    w.add(
        "html_only",
        {
            "a.jsonl": jsonl(
                {"text": "<div><br/></div>"},
                {"text": "<script>alert(1)</script>"},
                {"text": "&nbsp;&amp;"},
                {"text": "<p>real <b>text</b></p>"},
            )
        },
        4,
        {"ok": 4},
        "markup only: fine for ingest, judged by clean",
        format="jsonl",
    )
    w.add(
        "bad_event_ts",
        {
            "a.jsonl": jsonl(
                {"text": "a", "ts": "not a date"},
                {"text": "b", "ts": "2024-13-45T00:00:00"},
                {"text": "c", "ts": "2024-01-02T03:04:05Z"},
            )
        },
        3,
        {"ok": 1, "quarantine:bad_event_ts": 2},
        "event times that do not parse",
        format="jsonl",
        columns={"text": "text", "event_ts": "ts"},
    )


def _unicode(w: _Writer) -> None:
    w.add(
        "lone_surrogate_text",
        {
            "a.jsonl": jsonl(
                r'{"text": "bad \ud800 half"}',
                r'{"text": "\udfff"}',
                r'{"text": "swapped \ude00\ud83d"}',
                r'{"text": "a real pair \ud83d\ude00"}',
            )
        },
        4,
        {"ok": 1, "quarantine:undecodable": 3},
        "JSON escapes of half a UTF-16 pair: a str Python cannot encode to UTF-8",
        format="jsonl",
    )
    w.add(
        "lone_surrogate_label",
        {"a.jsonl": jsonl(r'{"text": "fine", "label": "\ud800"}', '{"text": "fine too", "label": "ham"}')},
        2,
        {"ok": 1, "quarantine:undecodable": 1},
        "a lone surrogate in a label of a source without a label set",
        format="jsonl",
        labels=None,
    )
    w.add(
        "lone_surrogate_meta",
        {
            "a.jsonl": jsonl(
                r'{"text": "fine", "note": "x\udc80"}',
                r'{"text": "fine", "\ud800key": "v"}',
                r'{"text": "fine", "deep": {"k": ["\udbff"]}}',
                '{"text": "clean meta", "note": "x"}',
            )
        },
        4,
        {"ok": 1, "quarantine:undecodable": 3},
        "lone surrogates in extra fields (values, keys, nested)",
        format="jsonl",
    )
    w.add(
        "lone_surrogate_id",
        {"a.jsonl": jsonl(r'{"id": "a\ud800", "text": "x"}', '{"id": "ok1", "text": "y"}')},
        2,
        {"ok": 1, "quarantine:undecodable": 1},
        "a lone surrogate in the id",
        format="jsonl",
        columns={"text": "text", "id": "id"},
    )
    w.add(
        "emoji",
        {
            "a.jsonl": jsonl(
                {"text": "smile 😀", "label": "ham"},
                {"text": "family 👨‍👩‍👧‍👦 flag 🇨🇳 👍🏽", "label": "ham"},
                r'{"text": "escaped pair \ud83d\ude00", "label": "spam"}',
                {"text": "😀" * 500},
            )
        },
        4,
        {"ok": 4},
        "emoji, ZWJ sequences, flags, skin tones, escaped surrogate pairs",
        format="jsonl",
    )
    w.add(
        "rtl_combining",
        {
            "a.jsonl": jsonl(
                {"text": "مرحبا بالعالم"},
                {"text": "שלום \u202eevil\u202c \u200fmark"},
                {"text": "Z" + "\u0301\u0316\u0327" * 100 + "algo"},
                {"text": "क्षत्रिय ज्ञ"},
            )
        },
        4,
        {"ok": 4},
        "right-to-left text, bidi overrides, stacked combining marks",
        format="jsonl",
    )
    w.add(
        "control_chars",
        {"a.txt": "ctrl \x01\x02\x1b[31m ansi \x7f del\nc1 \u0085\u009b controls\nbell\x07 vt\x0b ff\x0c\n".encode()},
        3,
        {"ok": 3},
        "C0 and C1 control characters, ANSI escapes",
        format="text",
        encoding="utf-8",
    )
    w.add(
        "zero_width_only",
        {"a.txt": "visible first line\n\u200b\u200c\u200d\n\ufeff\u2060\u00ad\n\x01\x02\x03\n".encode()},
        4,
        {"ok": 4},
        "text of zero-width / control characters only: empty only after clean's normalization",
        format="text",
        encoding="utf-8",
    )
    w.add(
        "line_separators",
        {
            "a.jsonl": jsonl(
                {"text": "a\u2028b\u2029c"},
                {"text": "nel\u0085inside"},
                {"text": "fs\u001cgs\u001d"},
                '{"text": "raw \x1c control"}',
            )
        },
        4,
        {"ok": 3, "quarantine:malformed_json": 1},
        "U+2028/U+2029/U+0085 raw inside a JSON line (not line ends); a raw control character in a string",
        format="jsonl",
    )


def _ids_labels(w: _Writer) -> None:
    with_id = {"format": "jsonl", "columns": {"text": "text", "label": "label", "id": "id"}}
    w.add(
        "long_id",
        {"a.jsonl": jsonl({"id": "x" * 10_000, "text": "long id", "label": "ham"}, {"id": "s", "text": "short"})},
        2,
        {"ok": 2},
        "a 10,000-character id",
        **with_id,
    )
    w.add(
        "id_wrong_type",
        {
            "a.jsonl": jsonl(
                {"id": 42, "text": "a"},
                {"id": {"k": 1}, "text": "b"},
                {"id": [1, 2], "text": "c"},
                {"id": None, "text": "d"},
                {"id": True, "text": "e"},
                {"id": "", "text": "f"},
            )
        },
        6,
        {"ok": 4, "quarantine:missing_id": 2},
        "ids as number / object / list / bool; null and empty ids",
        **with_id,
    )
    first = {"id": "d1", "text": "first", "label": "ham"}
    w.add(
        "duplicate_ids",
        {
            "a.jsonl": jsonl(
                first,
                {"id": "d1", "text": "other", "label": "ham"},
                first,
                {**first, "id": " d1 "},
                {"id": "d2", "text": "first", "label": "spam"},
            )
        },
        5,
        {"ok": 2, "quarantine:duplicate_id_conflict": 1, "filter:duplicate_record": 2},
        "one id with different content, and exact repeats",
        **with_id,
    )
    labelled = {"format": "jsonl", "label_required": True}
    w.add(
        "label_outside_set",
        {
            "a.jsonl": jsonl(
                {"text": "a", "label": "eggs"},
                {"text": "b", "label": "HAM"},
                {"text": "c", "label": " spam "},
                {"text": "d", "label": ""},
                {"text": "e"},
            )
        },
        5,
        {"ok": 1, "quarantine:label_not_in_set": 2, "quarantine:missing_label": 2},
        "labels outside {ham, spam}, blank and absent labels",
        **labelled,
    )
    w.add(
        "label_wrong_type",
        {
            "a.jsonl": jsonl(
                {"text": "a", "label": ["ham"]},
                {"text": "b", "label": 1},
                {"text": "c", "label": {"l": 1}},
                {"text": "d", "label": True},
            )
        },
        4,
        {"quarantine:label_not_in_set": 4},
        "labels as list / number / object / bool",
        **labelled,
    )
    w.add(
        "mixed_good",
        {
            "a.jsonl": jsonl(
                {"text": "Free entry to win a prize now", "label": "spam"},
                "",
                {"text": "see you at lunch", "label": "ham"},
                '{"text": "broken',
                {"text": "ok with meta", "label": "ham", "src": "x"},
                {"text": "no label"},
            )
        },
        6,
        {"ok": 3, "filter:blank_line": 1, "quarantine:malformed_json": 1, "quarantine:missing_label": 1},
        "good rows mixed with bad ones",
        **labelled,
    )


def _parquet(w: _Writer) -> None:
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
