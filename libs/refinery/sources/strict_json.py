"""One JSON text → one Python value, or a :class:`JsonError` saying why not; never anything else.

``json.loads`` signals bad input in more ways than ``JSONDecodeError``, and each of them
reached ingest's Spark task as a crash, failing the whole job for one bad line:

* ``RecursionError`` for nesting deeper than the interpreter's recursion limit (about 1,000
  levels; a line of 10,000 ``[`` is enough);
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


def loads(text: str) -> Any:
    """Parse ``text`` as JSON, refusing duplicate keys; raise :class:`JsonError` on any problem."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg) from None
    except RecursionError:
        raise JsonError(f"nesting deeper than the parser follows (about {sys.getrecursionlimit()} levels)") from None
    except _DuplicateKeyError as exc:
        raise JsonError(f"duplicate key {str(exc.args[0])[:64]!r}") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise JsonError(f"integer literal too long (over {sys.get_int_max_str_digits()} digits)") from None
        raise JsonError(f"not valid JSON: {str(exc)[:200]}") from None
