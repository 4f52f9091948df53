"""Unit tests of :mod:`refinery.sources.strict_json`: every bad JSON text is one
:class:`JsonError` with a reason, never another exception (no Spark)."""

from __future__ import annotations

import json
import sys

import pytest

from refinery.sources.strict_json import MAX_DEPTH, JsonError, loads


def test_well_formed_json_parses_as_json_loads_does() -> None:
    assert loads('{"text": "中文", "n": [1, 2.5, null, true], "m": {"k": "v"}}') == {
        "text": "中文",
        "n": [1, 2.5, None, True],
        "m": {"k": "v"},
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"text": "abc', "Unterminated string"),
        ('{"a": 1} trailing', "Extra data"),
        ("[" * 10_000 + "]" * 10_000, "nesting deeper"),
        ('{"a": ' * 10_000 + "1" + "}" * 10_000, "nesting deeper"),
        ('{"n": 1' + "0" * 5_000 + "}", "integer literal too long"),
        ('{"text": "a", "text": "b"}', "duplicate key 'text'"),
        ('{"m": [{"k": 1, "k": 1}]}', "duplicate key 'k'"),
    ],
    ids=["truncated", "trailing", "deep-array", "deep-object", "huge-int", "duplicate", "nested-duplicate"],
)
def test_bad_json_raises_json_error_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(JsonError, match=reason):
        loads(text)


def test_integer_just_under_the_digit_limit_still_parses() -> None:
    digits = sys.get_int_max_str_digits()
    assert loads("[" + "9" * digits + "]")[0] == int("9" * digits)


@pytest.mark.parametrize("depth", [2, 10, MAX_DEPTH])
def test_nesting_up_to_the_limit_parses_and_serialises_again(depth: int) -> None:
    value = loads('{"x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}")
    assert json.loads(json.dumps(value)) == value


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 990, 995, 1_000, 1_100])
def test_nesting_over_the_limit_is_a_json_error_at_any_depth(depth: int) -> None:
    # just under the recursion limit json.loads succeeds, and json.dumps of the value would
    # then raise RecursionError: the fixed limit refuses the whole range
    with pytest.raises(JsonError, match=f"nesting deeper than {MAX_DEPTH} levels"):
        loads("[" * depth + "]" * depth)


def test_nan_and_infinity_stay_accepted() -> None:
    value = loads('{"a": NaN, "b": Infinity, "c": -Infinity}')
    assert value["a"] != value["a"] and value["b"] == float("inf") and value["c"] == float("-inf")
