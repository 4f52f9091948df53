"""Checking annotation rules (:mod:`refinery.clean.annotation_rules`) against a pandas frame: one
vectorised mask per condition. Pure Python and pandas: no Spark, no torch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from refinery.clean.annotation_rules import BLOCK, META_PREFIX, REGEX_OPS, Condition, Rule, RuleSet


def evaluate(rules: RuleSet, frame: pd.DataFrame) -> pd.DataFrame:
    """Check every active rule against every row of ``frame``.

    ``frame`` has a column per field the rules read: ``label``, ``source``, ``lang``,
    ``text``, ``n_tokens``, ``lang_score`` (``n_chars`` is derived from ``text`` when absent)
    and ``meta`` (a mapping or ``None`` per row) for ``meta.<key>`` fields.

    Returns a frame on ``frame``'s index with ``violated`` (the names of the rules the row
    violates, in rule order; ``[]`` when none) and ``blocking`` (those of severity ``block``).
    Each condition is one vectorised mask over the whole frame."""
    active = rules.active
    cache: dict[str, pd.Series] = {}
    masks = [_violations(rule, frame, cache) for rule in active]
    n = len(frame)
    violated: list[list[str]] = [[] for _ in range(n)]
    blocking: list[list[str]] = [[] for _ in range(n)]
    if masks and n:
        matrix = np.column_stack(masks)
        for row in np.flatnonzero(matrix.any(axis=1)):
            for column in np.flatnonzero(matrix[row]):
                violated[row].append(active[column].name)
                if active[column].severity == BLOCK:
                    blocking[row].append(active[column].name)
    return pd.DataFrame({"violated": violated, "blocking": blocking}, index=frame.index)


def _violations(rule: Rule, frame: pd.DataFrame, cache: dict[str, pd.Series]) -> np.ndarray:
    """Rows in scope where a ``require`` condition is known and false."""
    scope = np.ones(len(frame), dtype=bool)
    for condition in rule.where:
        holds, known = _check(condition, frame, cache)
        scope &= holds & known
    failed = np.zeros(len(frame), dtype=bool)
    for condition in rule.require:
        holds, known = _check(condition, frame, cache)
        failed |= known & ~holds
    return scope & failed


def _check(condition: Condition, frame: pd.DataFrame, cache: dict[str, pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """``(holds, known)`` per row: whether the condition is true, and whether the field's
    value is present at all (a missing value makes the condition unknown)."""
    raw = _field_values(condition.field, frame, cache)
    present = raw.notna().to_numpy()
    op, value = condition.op, condition.value
    if op == "is_null":
        return ~present, np.ones_like(present)
    if op == "not_null":
        return present, np.ones_like(present)
    # String fields and meta values are strings already (meta is a map<string, string>).
    series = _as_numbers(condition.field, raw, cache) if condition.numeric else raw
    if op in REGEX_OPS:  # a missing value is unknown: its "holds" is never read
        found = [isinstance(v, str) and value.search(v) is not None for v in series]
        holds = pd.Series(found, index=series.index, dtype=bool)
        holds = holds if op == "matches" else ~holds
    else:
        holds = _COMPARISONS[op](series, value)
    # NaN (a present but non-numeric value) compares false under every operator but ne/not_in.
    if condition.numeric and op in ("ne", "not_in"):
        holds = holds & series.notna()
    return holds.to_numpy(dtype=bool), present


_COMPARISONS = {
    "eq": lambda s, v: s == v,
    "ne": lambda s, v: s != v,
    "in": lambda s, v: s.isin(v),
    "not_in": lambda s, v: ~s.isin(v),
    "gt": lambda s, v: s > v,
    "ge": lambda s, v: s >= v,
    "lt": lambda s, v: s < v,
    "le": lambda s, v: s <= v,
    "between": lambda s, v: (s >= v[0]) & (s <= v[1]),
}


def _field_values(field: str, frame: pd.DataFrame, cache: dict[str, pd.Series]) -> pd.Series:
    if field in cache:
        return cache[field]
    if field.startswith(META_PREFIX):
        key = field[len(META_PREFIX) :]
        metas = frame["meta"] if "meta" in frame else pd.Series([None] * len(frame), index=frame.index)
        values = pd.Series([_meta_value(m, key) for m in metas], index=frame.index, dtype=object)
    else:
        column = "text" if field == "n_chars" and "n_chars" not in frame else field
        if column not in frame:
            raise KeyError(f"the frame has no column {column!r}, which the rules read (field {field})")
        values = frame[column].str.len() if column != field else frame[field]
    cache[field] = values
    return values


def _meta_value(meta: Any, key: str) -> str | None:
    return meta.get(key) if isinstance(meta, Mapping) else None


def _as_numbers(field: str, raw: pd.Series, cache: dict[str, pd.Series]) -> pd.Series:
    key = f"#numbers:{field}"
    if key not in cache:
        cache[key] = pd.to_numeric(raw.astype(object), errors="coerce").astype(float)
    return cache[key]
