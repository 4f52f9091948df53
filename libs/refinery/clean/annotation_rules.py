"""Annotation rules: the labelling spec as declarative, checked rules over a document's fields.

A rules file (``clean.rules``, e.g. ``conf/rules.yaml``) holds a list under ``rules:``::

    rules:
      - name: occluded_pedestrian          # unique, [a-z0-9_]+ (at most 64 characters)
        description: heavily occluded pedestrians have their own class
        severity: block                    # block: quarantine the row | flag: keep it, listed
        enabled: true                      # optional; false keeps the rule but skips it
        where:                             # optional scope: every condition must hold
          - {field: label, eq: pedestrian}
          - {field: meta.occlusion_ratio, gt: 0.3}
        require:                           # non-empty: every condition must hold in scope
          - {field: label, eq: occluded_pedestrian}

A row *violates* a rule when it is in the rule's scope (every ``where`` condition holds) and
at least one ``require`` condition is false for it.

**Fields.** ``label``, ``source``, ``lang`` and ``text`` (the cleaned, PII-masked text) are
strings; ``n_chars`` (characters of ``text``), ``n_tokens`` (null when segmentation is off)
and ``lang_score`` are numbers; ``meta.<key>`` is the string that ingest kept under ``key`` in
the record's ``meta`` map (the source's extra columns or JSON keys).

**Operators**, one per condition: ``eq``, ``ne``, ``in``, ``not_in`` (a non-empty list),
``gt``, ``ge``, ``lt``, ``le``, ``between: [lo, hi]`` (inclusive), ``matches`` and
``not_matches`` (a Python regex, searched anywhere in the value: anchor it with ``^…$``;
``(?i)`` for case-insensitive), ``is_null: true``, ``not_null: true``. Comparisons on a
string field compare strings (a YAML number ``1`` means the label ``"1"``); on a number field
they compare numbers; on ``meta.<key>`` a number compares the value as a number and a
string compares it as a string. An unquoted YAML ``yes``/``no``/``true``/``false`` is a
boolean, never a label, and is refused: quote it.

**Missing values** (a null field, a ``meta`` key the row lacks) are *unknown*, as in SQL and
in the column checks of data-quality tools: a condition on a missing value puts no row in
scope (``where``) and is no violation (``require``). ``label in [...]`` therefore leaves
unlabelled rows alone; ``not_null`` / ``is_null`` test for presence. A value that is present
but not a number, under a numeric comparison (``meta.occlusion_ratio: "high"`` against
``gt: 0.3``), is *false*: out of scope in ``where``, a violation in ``require``.

Rules are validated when parsed: an unknown field, operator or key, a wrong value type, a
regex that does not compile, a duplicate name or an empty ``require`` raises
:class:`AnnotationRuleError` naming the rule and the fix. :func:`refinery.clean.annotation_checks.evaluate`
checks a pandas frame, one vectorised mask per condition. Pure Python, without pandas, so that
reading the configuration imports neither pandas nor numpy (a Python worker that only reads
files starts faster).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

BLOCK, FLAG = "block", "flag"
SEVERITIES = (BLOCK, FLAG)
STRING_FIELDS = ("label", "source", "lang", "text")
NUMBER_FIELDS = ("n_chars", "n_tokens", "lang_score")
META_PREFIX = "meta."
EQUALITY_OPS = ("eq", "ne")
SET_OPS = ("in", "not_in")
ORDER_OPS = ("gt", "ge", "lt", "le")
REGEX_OPS = ("matches", "not_matches")
NULL_OPS = ("is_null", "not_null")
OPERATORS = (*EQUALITY_OPS, *SET_OPS, *ORDER_OPS, "between", *REGEX_OPS, *NULL_OPS)
RULE_KEYS = ("name", "description", "severity", "enabled", "where", "require")
_NAME = re.compile(r"[a-z0-9_]{1,64}")
_GRAMMAR = "see the grammar at the top of conf/rules.yaml"


class AnnotationRuleError(ValueError):
    """An invalid rule; the message names the rule (``rule 'x'`` or ``rule #3``) and the fix."""


@dataclass(frozen=True)
class Condition:
    """One test of one field: ``{field: n_chars, ge: 8}``.

    ``value`` is normalised at parse time: a ``str`` or ``float`` for ``eq``/``ne`` and the
    order operators, a ``tuple`` for ``in``/``not_in``/``between``, a compiled pattern for
    the regex operators, ``True`` for the null tests. ``numeric`` says whether the field's
    value is compared as a number."""

    field: str
    op: str
    value: Any
    numeric: bool


@dataclass(frozen=True)
class Rule:
    """One named rule: rows in scope (all ``where`` hold) must meet every ``require``."""

    name: str
    severity: Literal["block", "flag"]
    require: tuple[Condition, ...]
    where: tuple[Condition, ...] = ()
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class RuleSet:
    """Validated rules, in file order; picklable, so it travels to Spark's Python workers."""

    rules: tuple[Rule, ...]
    #: Where the rules came from (a file path, or ``inline``), for messages.
    origin: str = "inline"

    @property
    def active(self) -> tuple[Rule, ...]:
        """The enabled rules, the ones :func:`refinery.clean.annotation_checks.evaluate` checks."""
        return tuple(rule for rule in self.rules if rule.enabled)

    @property
    def fields(self) -> frozenset[str]:
        """Every field the active rules read (``meta.<key>`` included)."""
        return frozenset(c.field for rule in self.active for c in (*rule.where, *rule.require))

    @property
    def meta_keys(self) -> frozenset[str]:
        """The ``meta`` keys the active rules read."""
        return frozenset(f[len(META_PREFIX) :] for f in self.fields if f.startswith(META_PREFIX))


# --------------------------------------------------------------------------------------------
# Parsing and validation


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules file (YAML, a ``rules:`` list). Raises :class:`AnnotationRuleError`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnnotationRuleError(
            f"rules file {path}: cannot read it ({exc.strerror}); fix: point to a readable file"
        ) from None
    except yaml.YAMLError as exc:
        raise AnnotationRuleError(f"rules file {path}: not valid YAML ({exc}); fix: correct the YAML syntax") from None
    if not isinstance(data, dict) or set(data) != {"rules"}:
        found = type(data).__name__ if not isinstance(data, dict) else "keys " + ", ".join(map(str, data))
        raise AnnotationRuleError(
            f"rules file {path}: expected one top-level key 'rules' (a list), found {found}; fix: {_GRAMMAR}"
        )
    return parse_rules(data["rules"], origin=str(path))


def parse_rules(raw: Any, origin: str = "inline") -> RuleSet:
    """Validate a list of rule mappings (as read from YAML) into a :class:`RuleSet`."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise AnnotationRuleError(
            f"rules ({origin}): expected a list of rules, got a {type(raw).__name__}; fix: {_GRAMMAR}"
        )
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        rule = _parse_rule(item, number, origin)
        if rule.name in seen:
            raise AnnotationRuleError(
                f"rule '{rule.name}' ({origin}): duplicate name (rules #{seen[rule.name]} and #{number}); "
                "fix: give each rule its own name"
            )
        seen[rule.name] = number
        rules.append(rule)
    return RuleSet(tuple(rules), origin)


def _parse_rule(item: Any, number: int, origin: str) -> Rule:
    label = f"rule #{number} ({origin})"
    if not isinstance(item, dict):
        raise AnnotationRuleError(f"{label}: expected a mapping with name, severity and require; fix: {_GRAMMAR}")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AnnotationRuleError(
            f"{label}: name {name!r} is missing or invalid; fix: use 1-64 characters from a-z 0-9 _"
        )
    label = f"rule '{name}' ({origin})"
    unknown = [str(k) for k in item if k not in RULE_KEYS]
    if unknown:
        raise AnnotationRuleError(f"{label}: unknown key(s) {', '.join(unknown)}; fix: use only {', '.join(RULE_KEYS)}")
    severity = item.get("severity")
    if severity not in SEVERITIES:
        raise AnnotationRuleError(
            f"{label}: severity {severity!r} is invalid; fix: use block (quarantine) or flag (keep, list)"
        )
    description = item.get("description", "")
    if not isinstance(description, str):
        raise AnnotationRuleError(f"{label}: description must be a string; fix: quote it")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise AnnotationRuleError(f"{label}: enabled must be true or false, got {enabled!r}; fix: write enabled: false")
    where = _parse_conditions(item.get("where"), "where", label, required=False)
    require = _parse_conditions(item.get("require"), "require", label, required=True)
    return Rule(name, severity, require, where, description, enabled)


def _parse_conditions(raw: Any, part: str, label: str, required: bool) -> tuple[Condition, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise AnnotationRuleError(
            f"{label}: {part} must be a list of conditions; fix: write it as - {{field: ..., eq: ...}}"
        )
    if required and not raw:
        raise AnnotationRuleError(
            f"{label}: require is empty, so the rule could never be violated; "
            "fix: add at least one condition, e.g. - {field: label, in: [a, b]}"
        )
    return tuple(_parse_condition(item, f"{label}: {part} #{i}", label) for i, item in enumerate(raw, start=1))


def _parse_condition(item: Any, where: str, label: str) -> Condition:
    if not isinstance(item, dict):
        raise AnnotationRuleError(
            f"{where}: expected a mapping, got {item!r}; fix: write it as {{field: label, eq: x}}"
        )
    field = str(item.get("field"))
    kind = _field_kind(field)
    if kind is None:
        raise AnnotationRuleError(
            f"{where}: unknown field {field!r}; fix: use one of {', '.join(STRING_FIELDS + NUMBER_FIELDS)} "
            "or meta.<key>"
        )
    ops = [k for k in item if k != "field"]
    unknown = [str(k) for k in ops if k not in OPERATORS]
    if unknown:
        raise AnnotationRuleError(
            f"{where}: unknown operator(s) {', '.join(unknown)}; fix: use one of {', '.join(OPERATORS)}"
        )
    if len(ops) != 1:
        raise AnnotationRuleError(
            f"{where}: {len(ops)} operators in one condition; fix: give exactly one "
            "(split several into separate conditions: all of them must hold)"
        )
    op = ops[0]
    value, numeric = _parse_value(op, item[op], field, kind, where)
    return Condition(field, op, value, numeric)


def _field_kind(field: Any) -> str | None:
    if field in STRING_FIELDS:
        return "string"
    if field in NUMBER_FIELDS:
        return "number"
    if isinstance(field, str) and field.startswith(META_PREFIX) and len(field) > len(META_PREFIX):
        return "meta"
    return None


def _parse_value(op: str, value: Any, field: str, kind: str, where: str) -> tuple[Any, bool]:
    """``(normalised value, numeric)`` for one operator, or :class:`AnnotationRuleError`."""
    if op in NULL_OPS:
        if value is not True:
            other = "not_null" if op == "is_null" else "is_null"
            raise AnnotationRuleError(
                f"{where}: {op} takes only true, got {value!r}; fix: write {op}: true (or use {other})"
            )
        return True, False
    if op in REGEX_OPS:
        if kind == "number":
            raise AnnotationRuleError(
                f"{where}: {op} needs a string field, {field} is a number; fix: use gt/ge/lt/le/between"
            )
        if not isinstance(value, str) or not value:
            raise AnnotationRuleError(f"{where}: {op} needs a regex string, got {value!r}; fix: quote the pattern")
        try:
            return re.compile(value), False
        except re.error as exc:
            raise AnnotationRuleError(
                f"{where}: regex {value!r} does not compile ({exc}); fix: correct the pattern"
            ) from None
    if op in ORDER_OPS or op == "between":
        if kind == "string":
            hint = " (n_chars for the length of text)" if field == "text" else ""
            raise AnnotationRuleError(
                f"{where}: {op} needs a number field, {field} is a string; fix: use a number field{hint}"
            )
        if op == "between":
            if not isinstance(value, list) or len(value) != 2 or not all(_is_number(v) for v in value):
                raise AnnotationRuleError(
                    f"{where}: between needs [low, high], two numbers, got {value!r}; fix: e.g. [4, 64]"
                )
            low, high = float(value[0]), float(value[1])
            if low > high:
                raise AnnotationRuleError(
                    f"{where}: between [{value[0]}, {value[1]}] is empty; fix: put the low bound first"
                )
            return (low, high), True
        if not _is_number(value):
            raise AnnotationRuleError(f"{where}: {op} needs a number, got {value!r}; fix: e.g. {op}: 0.3")
        return float(value), True
    # eq, ne, in, not_in
    values = value if op in SET_OPS else [value]
    if op in SET_OPS and (not isinstance(value, list) or not value):
        raise AnnotationRuleError(f"{where}: {op} needs a non-empty list, got {value!r}; fix: e.g. {op}: [a, b]")
    for v in values:
        if isinstance(v, bool):
            raise AnnotationRuleError(
                f"{where}: {v!r} is a YAML boolean (unquoted yes/no/true/false); fix: quote it, e.g. '{str(v).lower()}'"
            )
        if v is None:
            raise AnnotationRuleError(f"{where}: {op} with a null value; fix: use is_null: true or not_null: true")
        if not isinstance(v, str | int | float):
            raise AnnotationRuleError(
                f"{where}: {op} needs a string or a number, got {v!r}; fix: give one scalar value"
            )
    numbers = [_is_number(v) for v in values]
    if kind == "number" and not all(numbers):
        raise AnnotationRuleError(
            f"{where}: {field} is a number field, {value!r} is not a number; fix: compare with numbers"
        )
    numeric = kind == "number" or (kind == "meta" and all(numbers))
    if kind == "meta" and any(numbers) and not numeric:
        raise AnnotationRuleError(f"{where}: {value!r} mixes numbers and strings; fix: quote them all or none")
    normalised = tuple(float(v) if numeric else str(v) for v in values)
    return (normalised if op in SET_OPS else normalised[0]), numeric


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
