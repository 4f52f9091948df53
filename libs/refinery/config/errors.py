"""Configuration errors and their wording: every message names the dotted key and the fix."""

from __future__ import annotations

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails


class ConfigError(ValueError):
    """A configuration problem, with a message that names the key and the fix."""


def first_message(exc: Exception) -> str:
    """The first problem of ``exc``: ``where: message`` for a pydantic error."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return f"{where}: {error['msg']}" if where else error["msg"]
    return str(exc)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what a YAML syntax error is, without PyYAML's multi-line dump of the text."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    what = f"{problem} ({context})" if context else problem
    return (
        f"{where}not valid YAML: {what}; fix: correct the syntax there (indent with spaces, not tabs; "
        "close every bracket and quote; quote values that contain ': ' or start with * & ! % @)"
    )


#: The fix named for each kind of pydantic error (``{ge}`` etc. come from the error's context).
_FIXES = {
    "missing": "add it to your config file or pass --set {key}=VALUE",
    "extra_forbidden": "remove it, or check its spelling against conf/base.yaml",
    "literal_error": "use one of the allowed values",
    "greater_than_equal": "use a number >= {ge}",
    "greater_than": "use a number > {gt}",
    "less_than_equal": "use a number <= {le}",
    "less_than": "use a number < {lt}",
    "int_parsing": "use a whole number",
    "int_type": "use a whole number",
    "int_from_float": "use a whole number",
    "float_parsing": "use a number",
    "float_type": "use a number",
    "bool_parsing": "use true or false",
    "bool_type": "use true or false",
    "string_type": "use a string (quote it)",
    "list_type": "use a list, e.g. [a, b]",
    "dict_type": "use a mapping of 'key: value' lines",
    "model_type": "use a mapping of 'key: value' lines",
    "model_attributes_type": "use a mapping of 'key: value' lines",
    "date_from_datetime_parsing": "use a date like 2024-01-29",
    "date_parsing": "use a date like 2024-01-29",
}
_DEFAULT_FIX = "fix the value's type or range as described"


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("function-", "union")))
        # pydantic reports union members as loc parts like 'int' / 'str'; keep the user's key.
        key = ".".join(p for p in key.split(".") if p not in ("int", "str", "list[union[int,str]]")) or "(top level)"
        try:
            fix = _FIXES.get(error["type"], _DEFAULT_FIX).format(key=key, **error.get("ctx", {}))
        except (KeyError, IndexError):
            fix = _DEFAULT_FIX
        if "; fix: " in error["msg"]:  # the validator named the fix itself
            lines.append(f"config key '{key}': {error['msg']}")
        else:
            lines.append(f"config key '{key}': {error['msg']}{_given(error)}; fix: {fix}")
    return "invalid configuration:\n  " + "\n  ".join(dict.fromkeys(lines))


def _given(error: ErrorDetails) -> str:
    """`` (got 'many')`` for a scalar input; nothing for missing keys, mappings and lists."""
    value = error.get("input")
    if error["type"] in ("missing", "extra_forbidden") or not isinstance(value, str | int | float | bool):
        return ""
    shown = repr(value)
    return f" (got {shown[:40]}{'…' if len(shown) > 40 else ''})"
