"""Kinds of bad JSON lines: broken structure (truncated, nested past any parser, not an object)
and values of the wrong kind."""

from __future__ import annotations

from tests.support.bad_inputs.corpus import DEEP, Writer, jsonl, nested


def json_structure(w: Writer) -> None:
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


def json_values(w: Writer) -> None:
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
