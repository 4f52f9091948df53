"""One JSON text → one Python value, or a :class:`JsonError` saying why not; never anything else.

``json.loads`` signals bad input in more ways than ``JSONDecodeError``, and each of them
reached ingest's Spark task as a crash, failing the whole job for one bad line:

* ``RecursionError`` for nesting deeper than the interpreter's recursion limit (about 1,000
  levels; a line of 10,000 ``[`` is enough). Nesting just under that limit parses, and then
  fails in the next recursive step (``json.dumps`` of a value into ``meta``), so values
  deeper than :data:`MAX_DEPTH` are refused outright: whatever this module returns can be
  walked recursively again with room to spare;
* ``ValueError`` for an integer literal longer than ``sys.get_int_max_str_digits()`` (4,300
  digits by default, Python's guard against quadratic int parsing);

and it silently keeps the *last* of duplicate keys, so ``{"text": "a", "text": "b"}`` would
pass with whichever text the writer did not mean last. All three are reported here as a
:class:`JsonError`, which ingest quarantines as ``malformed_json`` with the message as detail.

``NaN``, ``Infinity`` and ``-Infinity`` stay accepted: Python's own ``json.dumps`` writes them,
so JSONL from Python carries them, and a NaN value reads as missing (see ``records._as_text``).
"""

from __future__ import annotations

import json
import sys
from typing import Any


class JsonError(ValueError):
    """The text is not one well-formed JSON value; the message says why, without the text."""


class _DuplicateKeyError(ValueError):
    """Raised by the object hook with the repeated key; turned into a :class:`JsonError`."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object)

#: Deepest nesting accepted (the top-level object or array is level 1). Real records nest a
#: few levels; Jackson, Spark's JSON parser, stops at 1,000.
MAX_DEPTH = 500


def loads(text: str) -> Any:
    """Parse ``text`` as JSON, refusing duplicate keys and nesting deeper than
    :data:`MAX_DEPTH`; raise :class:`JsonError` on any problem."""
    value = _parse(text)
    # a value nested d levels deep needs d opening brackets: texts with fewer skip the walk
    if len(text) > 2 * MAX_DEPTH and text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise JsonError(f"nesting deeper than {MAX_DEPTH} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` containers deep (iteratively: no recursion)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _parse(text: str) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg) from None
    except RecursionError:
        raise JsonError(f"nesting deeper than {MAX_DEPTH} levels (beyond the parser's recursion limit)") from None
    except _DuplicateKeyError as exc:
        raise JsonError(f"duplicate key {str(exc.args[0])[:64]!r}") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise JsonError(f"integer literal too long (over {sys.get_int_max_str_digits()} digits)") from None
        raise JsonError(f"not valid JSON: {str(exc)[:200]}") from None
