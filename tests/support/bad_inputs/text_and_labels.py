"""Kinds of hard text and bad keys: Unicode that normalizes to nothing or to something else,
and ids and labels that are missing, repeated or outside the label set."""

from __future__ import annotations

from tests.support.bad_inputs.corpus import Writer, jsonl


def unicode(w: Writer) -> None:
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


def ids_labels(w: Writer) -> None:
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
