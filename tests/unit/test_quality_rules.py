"""The annotation rules (:mod:`refinery.clean.annotation_rules`) without Spark: every operator on string,
number and meta fields, missing and non-numeric values, scope, several violations per row, and
an error naming the rule and the fix for each kind of invalid rule."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

from refinery.clean.annotation_checks import evaluate
from refinery.clean.annotation_rules import AnnotationRuleError, RuleSet, load_rules, parse_rules
from tests.support.paths import ROOT


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def documents(**columns) -> pd.DataFrame:
    """A frame with every field the shipped rules read; ``columns`` override the defaults."""
    n = len(next(iter(columns.values())))
    base = {"label": None, "source": None, "lang": "en", "lang_score": 0.9, "text": "x" * 50, "n_tokens": 9}
    base = {key: [value] * n for key, value in base.items()} | {"meta": [None] * n}
    return pd.DataFrame(base | columns)


def rule(require: list[dict], where: list[dict] | None = None, name: str = "r", severity: str = "flag") -> dict:
    raw = {"name": name, "severity": severity, "require": require}
    if where is not None:
        raw["where"] = where
    return raw


def violated(rules: list[dict], data: pd.DataFrame) -> list[list[str]]:
    return evaluate(parse_rules(rules), data)["violated"].tolist()


def holds(condition: dict, data: pd.DataFrame) -> list[bool]:
    """Per row: does ``condition`` hold, as a one-condition ``require`` sees it."""
    return [not names for names in violated([rule([condition])], data)]


LABELS = frame(label=["World", "Sports", "1", "Sci/Tech"])
META = frame(meta=[{"ratio": "0.45"}, {"ratio": "0.3"}, {"ratio": "0.05"}, {"ratio": "1e-1"}])
NUMBERS = frame(n_tokens=pd.array([3, 10, 20, 7], dtype="Int32"))


@pytest.mark.parametrize(
    ("condition", "data", "expected"),
    [
        ({"field": "label", "eq": "World"}, LABELS, [True, False, False, False]),
        ({"field": "label", "eq": 1}, LABELS, [False, False, True, False]),  # a YAML number means the label "1"
        ({"field": "label", "ne": "World"}, LABELS, [False, True, True, True]),
        ({"field": "label", "in": ["World", "Sci/Tech"]}, LABELS, [True, False, False, True]),
        ({"field": "label", "not_in": ["World", "Sci/Tech"]}, LABELS, [False, True, True, False]),
        ({"field": "label", "matches": "^S"}, LABELS, [False, True, False, True]),
        ({"field": "label", "matches": "orl"}, LABELS, [True, False, False, False]),  # searched, not anchored
        ({"field": "label", "not_matches": "(?i)^s"}, LABELS, [True, False, True, False]),
        ({"field": "n_tokens", "eq": 10}, NUMBERS, [False, True, False, False]),
        ({"field": "n_tokens", "ne": 10}, NUMBERS, [True, False, True, True]),
        ({"field": "n_tokens", "in": [3, 20]}, NUMBERS, [True, False, True, False]),
        ({"field": "n_tokens", "not_in": [3, 20]}, NUMBERS, [False, True, False, True]),
        ({"field": "n_tokens", "gt": 7}, NUMBERS, [False, True, True, False]),
        ({"field": "n_tokens", "ge": 7}, NUMBERS, [False, True, True, True]),
        ({"field": "n_tokens", "lt": 7}, NUMBERS, [True, False, False, False]),
        ({"field": "n_tokens", "le": 7}, NUMBERS, [True, False, False, True]),
        ({"field": "n_tokens", "between": [7, 10]}, NUMBERS, [False, True, False, True]),  # inclusive
        ({"field": "meta.ratio", "gt": 0.3}, META, [True, False, False, False]),
        ({"field": "meta.ratio", "le": 0.1}, META, [False, False, True, True]),  # "1e-1" is a number
        ({"field": "meta.ratio", "eq": 0.3}, META, [False, True, False, False]),  # numeric comparison
        ({"field": "meta.ratio", "eq": "0.3"}, META, [False, True, False, False]),  # string comparison
        ({"field": "meta.ratio", "eq": "1e-1"}, META, [False, False, False, True]),
        ({"field": "meta.ratio", "in": [0.45, 0.1]}, META, [True, False, False, True]),
        ({"field": "meta.ratio", "matches": r"^0\.\d+$"}, META, [True, True, True, False]),
    ],
)
def test_each_operator(condition: dict, data: pd.DataFrame, expected: list[bool]) -> None:
    assert holds(condition, data) == expected


def test_n_chars_counts_characters_of_the_text() -> None:
    data = frame(text=["房间很干净", "ok", "a b c"])
    assert holds({"field": "n_chars", "ge": 5}, data) == [True, False, True]
    assert holds({"field": "n_chars", "eq": 2}, data) == [False, True, False]


def test_a_missing_value_is_no_violation_and_puts_no_row_in_scope() -> None:
    data = frame(
        label=["spam", None, "spam", "spam"],
        lang_score=[0.9, 0.9, None, 0.1],
        meta=[{"ratio": "0.5"}, {"ratio": "0.5"}, {}, None],
    )
    # require on a missing value: unknown, so no violation (GE / SQL CHECK semantics)
    assert holds({"field": "label", "in": ["ham"]}, data) == [False, True, False, False]
    assert holds({"field": "label", "ne": "spam"}, data) == [False, True, False, False]
    assert holds({"field": "label", "not_matches": "spam"}, data) == [False, True, False, False]
    assert holds({"field": "lang_score", "ge": 0.5}, data) == [True, True, True, False]
    assert holds({"field": "meta.ratio", "lt": 0.3}, data) == [False, False, True, True]
    # where on a missing value: not in scope
    in_scope = rule([{"field": "text", "not_null": True}], where=[{"field": "meta.ratio", "ge": 0}])
    assert violated([in_scope], data.assign(text=None)) == [["r"], ["r"], [], []]
    unlabelled = rule([{"field": "label", "eq": "never"}], where=[{"field": "label", "ne": "ham"}])
    assert violated([unlabelled], data) == [["r"], [], ["r"], ["r"]]
    # the null tests see missing values
    assert holds({"field": "label", "not_null": True}, data) == [True, False, True, True]
    assert holds({"field": "meta.ratio", "is_null": True}, data) == [False, False, True, True]
    assert holds({"field": "lang_score", "is_null": True}, data) == [False, False, True, False]


def test_a_present_value_that_is_not_a_number_fails_numeric_comparisons() -> None:
    data = frame(label=["pedestrian"] * 4, meta=[{"ratio": "high"}, {"ratio": ""}, {"ratio": "0.6"}, {}])
    for condition in (
        {"field": "meta.ratio", "between": [0, 1]},
        {"field": "meta.ratio", "ne": 2},
        {"field": "meta.ratio", "not_in": [2, 3]},
    ):
        # require: "high" and "" are violations; the absent key is not
        assert holds(condition, data) == [False, False, True, True], condition
    # where: a non-numeric value is out of scope, like a missing one
    scoped = rule([{"field": "label", "eq": "occluded_pedestrian"}], where=[{"field": "meta.ratio", "gt": 0.3}])
    assert violated([scoped], data) == [[], [], ["r"], []]


def test_the_spec_example_occluded_pedestrian() -> None:
    rules = load_rules(ROOT / "conf" / "rules.yaml")
    data = documents(
        label=["pedestrian", "pedestrian", "occluded_pedestrian", "pedestrian", "pedestrian", "car"],
        meta=[{"occlusion_ratio": r} for r in ("0.45", "0.3", "0.6", "0.1")] + [{}, {"occlusion_ratio": "0.9"}],
    )
    out = evaluate(rules, data)
    assert out["violated"].tolist() == [["occluded_pedestrian"], [], [], [], [], []]
    assert out["blocking"].tolist() == [["occluded_pedestrian"], [], [], [], [], []]


def test_scope_needs_every_where_condition_and_require_every_condition() -> None:
    data = frame(
        source=["sms", "sms", "sms", "news"],
        label=["spam", "spam", "ham", "spam"],
        text=["win £100 now", "hi", "hi", "hi"],
    )
    spam_offer = rule(
        [{"field": "text", "matches": r"\d"}, {"field": "n_chars", "ge": 5}],
        where=[{"field": "source", "eq": "sms"}, {"field": "label", "eq": "spam"}],
    )
    assert violated([spam_offer], data) == [[], ["r"], [], []]


def test_several_violations_in_rule_order_and_which_of_them_block() -> None:
    rules = [
        rule([{"field": "n_chars", "ge": 3}], name="too_short", severity="flag"),
        rule([{"field": "label", "in": ["a", "b"]}], name="label_set", severity="block"),
        rule([{"field": "text", "not_matches": "x"}], name="no_x", severity="flag"),
        {**rule([{"field": "text", "eq": "never"}], name="off"), "enabled": False},
    ]
    data = frame(label=["a", "z", "z", "b"], text=["x", "xyz", "abcd", "abc"], index=None)
    data.index = [40, 7, 12, 3]  # any index: the result follows it
    out = evaluate(parse_rules(rules), data)
    assert list(out.index) == [40, 7, 12, 3]
    assert out["violated"].tolist() == [["too_short", "no_x"], ["label_set", "no_x"], ["label_set"], []]
    assert out["blocking"].tolist() == [[], ["label_set"], ["label_set"], []]


def test_a_column_the_rules_read_must_be_there() -> None:
    with pytest.raises(KeyError, match="no column 'text'.*field n_chars"):
        evaluate(parse_rules([rule([{"field": "n_chars", "ge": 1}])]), frame(label=["a"]))


def test_no_active_rules_and_an_empty_frame() -> None:
    data = frame(label=["a"])
    assert evaluate(parse_rules([]), data)["violated"].tolist() == [[]]
    disabled = {**rule([{"field": "label", "eq": "b"}]), "enabled": False}
    assert evaluate(parse_rules([disabled]), data)["violated"].tolist() == [[]]
    empty = evaluate(parse_rules([rule([{"field": "label", "eq": "b"}])]), frame(label=pd.Series([], dtype=object)))
    assert len(empty) == 0


def test_the_shipped_rules_load_and_survive_pickling() -> None:
    rules = load_rules(ROOT / "conf" / "rules.yaml")
    names = [r.name for r in rules.rules]
    assert "occluded_pedestrian" in names and "ag_news_label_set" in names and len(set(names)) == len(names)
    assert {r.severity for r in rules.rules} == {"block", "flag"}
    assert rules.meta_keys == {"occlusion_ratio"}
    copy = pickle.loads(pickle.dumps(rules))
    assert copy == rules and isinstance(copy, RuleSet)
    data = documents(source=["ag_news", "ag_news"], label=["World", "Sci/Tech"], text=["a <b>bold</b> claim " * 3] * 2)
    assert evaluate(copy, data)["violated"].tolist() == evaluate(rules, data)["violated"].tolist()
    assert evaluate(rules, data)["violated"].tolist() == [["ag_news_html_markup"]] * 2


# --------------------------------------------------------------------------------------------
# Invalid rules: each names the rule and the fix


def condition_rule(condition: dict) -> list[dict]:
    return [rule([condition], name="bad_rule")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (condition_rule({"field": "labl", "eq": "a"}), "unknown field 'labl'"),
        (condition_rule({"field": "meta.", "eq": "a"}), "unknown field 'meta.'"),
        (condition_rule({"field": "label", "equals": "a"}), "unknown operator(s) equals"),
        (condition_rule({"field": "label", "eq": "a", "ne": "b"}), "2 operators in one condition"),
        (condition_rule({"field": "label"}), "0 operators in one condition"),
        (condition_rule({"field": "text", "matches": "(unclosed"}), "does not compile"),
        (condition_rule({"field": "text", "matches": ""}), "needs a regex string"),
        (condition_rule({"field": "label", "in": "World"}), "needs a non-empty list"),
        (condition_rule({"field": "label", "in": []}), "needs a non-empty list"),
        (condition_rule({"field": "text", "gt": 5}), "n_chars for the length of text"),
        (condition_rule({"field": "n_chars", "matches": "1"}), "needs a string field"),
        (condition_rule({"field": "n_chars", "gt": "5"}), "needs a number"),
        (condition_rule({"field": "n_chars", "eq": "five"}), "is not a number"),
        (condition_rule({"field": "n_chars", "between": [10]}), "two numbers"),
        (condition_rule({"field": "n_chars", "between": [10, 2]}), "low bound first"),
        (condition_rule({"field": "label", "eq": True}), "YAML boolean"),
        (condition_rule({"field": "label", "in": ["yes", False]}), "YAML boolean"),
        (condition_rule({"field": "label", "eq": None}), "use is_null"),
        (condition_rule({"field": "label", "eq": ["a"]}), "a string or a number"),
        (condition_rule({"field": "label", "is_null": False}), "takes only true"),
        (condition_rule({"field": "meta.k", "in": [1, "a"]}), "mixes numbers and strings"),
        (condition_rule("label == a"), "expected a mapping"),
        ([{"name": "bad_rule", "severity": "flag", "require": []}], "require is empty"),
        ([{"name": "bad_rule", "severity": "flag"}], "require is empty"),
        ([{"name": "bad_rule", "severity": "flag", "require": {"field": "label", "eq": "a"}}], "must be a list"),
        ([{**rule([{"field": "label", "eq": "a"}], name="bad_rule"), "where": "source"}], "must be a list"),
        ([{**rule([{"field": "label", "eq": "a"}], name="bad_rule"), "severity": "warn"}], "severity 'warn'"),
        ([{**rule([{"field": "label", "eq": "a"}], name="bad_rule"), "severty": "flag"}], "unknown key(s) severty"),
        ([{**rule([{"field": "label", "eq": "a"}], name="bad_rule"), "enabled": "no"}], "enabled must be"),
        ([{**rule([{"field": "label", "eq": "a"}], name="bad_rule"), "description": 3}], "description"),
    ],
)
def test_an_invalid_rule_is_named_with_the_fix(raw: list, expected: str) -> None:
    with pytest.raises(AnnotationRuleError) as info:
        parse_rules(raw, origin="test.yaml")
    message = str(info.value)
    assert message.startswith("rule 'bad_rule' (test.yaml):"), message
    assert expected in message
    assert "; fix: " in message


def test_duplicate_and_invalid_names() -> None:
    first = rule([{"field": "label", "eq": "a"}], name="same")
    with pytest.raises(AnnotationRuleError, match=r"rule 'same' \(inline\): duplicate name \(rules #1 and #3\)"):
        parse_rules([first, rule([{"field": "label", "eq": "b"}], name="other"), first])
    with pytest.raises(AnnotationRuleError, match=r"rule #2 \(inline\): name 'Bad Name' .*fix: use 1-64 characters"):
        parse_rules([first, rule([{"field": "label", "eq": "a"}], name="Bad Name")])
    with pytest.raises(AnnotationRuleError, match=r"rule #1 \(inline\): name None"):
        parse_rules([{"severity": "flag", "require": [{"field": "label", "eq": "a"}]}])
    with pytest.raises(AnnotationRuleError, match="expected a list of rules"):
        parse_rules({"name": "x"})


def test_rules_files_that_cannot_be_used(tmp_path: Path) -> None:
    with pytest.raises(AnnotationRuleError, match="cannot read it"):
        load_rules(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(AnnotationRuleError, match="not valid YAML"):
        load_rules(broken)
    other = tmp_path / "other.yaml"
    other.write_text("rule:\n  - name: x\n", encoding="utf-8")
    with pytest.raises(AnnotationRuleError, match="expected one top-level key 'rules'.*found keys rule"):
        load_rules(other)
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {name: short_titles, severity: flag, require: [{field: n_chars, ge: x}]}\n")
    with pytest.raises(AnnotationRuleError, match=rf"rule 'short_titles' \({bad}\): require #1: ge needs a number"):
        load_rules(bad)
