"""The per-value text rules of :mod:`refinery.sources.records` as Spark column expressions,
for sources that already are tables (Parquet, Delta, catalog tables).

* :func:`as_text` is ``record_rules._as_text`` for one typed column: the string a value becomes
  in ``text``, ``label``, ``raw_id``, ``raw_event_ts`` or ``meta``. It gives what the earlier
  per-row path gave (the row through Spark's ``to_json``, ``json.loads``, then ``_as_text``),
  except that NaN reads as null.
* :func:`content_hash` is ``record_rules.content_hash(text, label, meta)`` in the JVM: the SHA-256
  of the same canonical JSON text, ``json.dumps([text, label, sorted meta], ensure_ascii=False,
  separators=(",", ":"))``, its strings escaped by Spark's JSON writer (see :func:`json_string`).
* :func:`python_strip` and :func:`is_blank` are ``str.strip()`` and ``not s.strip()``: Python's
  whitespace (Unicode ``isspace``), not Spark's ``trim`` (spaces only).

Strings, integers, booleans, dates and timestamps stay in the JVM. Floating-point and nested
(struct, array, map) values go through small pandas UDFs, column by column: Python's float
``repr`` and ``json.dumps(sort_keys=True)`` are the rule, and Java formats both differently.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegralType,
    StringType,
)

#: Options of the ``to_json`` calls, as in the earlier per-row path: null fields kept.
JSON_OPTIONS = {"ignoreNullFields": "false"}

#: Python's ``json.dumps`` escapes of the control characters (``ensure_ascii=False`` leaves
#: every other character as it is, U+2028 and emoji included).
_CONTROL_ESCAPES = {
    code: {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(code, f"\\u{code:04x}") for code in range(0x20)
}


#: Exactly the characters ``str.isspace()`` accepts (all of them lie in the Basic
#: Multilingual Plane).
_SPACES = "".join(chr(c) for c in range(0x10000) if chr(c).isspace())
#: The same as a Java regex character class.
_WHITESPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _SPACES) + "]"


def python_strip(column: Column) -> Column:
    """``str.strip()``: leading and trailing Unicode whitespace removed (null stays null)."""
    return F.regexp_replace(column, f"\\A{_WHITESPACE}+|{_WHITESPACE}+\\z", "")


def is_blank(column: Column) -> Column:
    """``not value.strip()`` for a non-null string: empty or whitespace only. Trimmed, not
    matched: a trim stops at the first other character, where a regex search would try every
    position of a long text."""
    return F.btrim(column, F.lit(_SPACES)) == F.lit("")


def json_string(column: Column) -> Column:
    """``column`` as a JSON string literal exactly as Python's ``json.dumps(value,
    ensure_ascii=False)`` writes it: quotes and backslashes escaped, control characters as
    ``\\n``-style or lower-case ``\\u00XX`` escapes, everything else verbatim (null stays null).

    Spark's JSON writer (Jackson) escapes a string in one pass exactly so, except that it
    writes the hex digits of nine control characters in upper case (``\\u000B``); a value
    holding one of those takes :func:`_json_string_by_replace`, one replace per character,
    which is several times slower on a web-sized text."""
    literal = F.to_json(F.array(column))  # ["…"]
    # the brackets trimmed from both ends: a substring would count the characters twice
    written = F.btrim(literal, F.lit("[]"))
    return (
        F.when(column.isNull(), F.lit(None).cast("string"))
        .when(column.rlike(_UPPER_HEX_CONTROLS), _json_string_by_replace(column))
        .otherwise(written)
    )


#: The control characters Jackson escapes with upper-case hex digits (``\\u001F``), Python with
#: lower case (``\\u001f``): 0x0B, 0x0E, 0x0F and 0x1A-0x1F.
_UPPER_HEX_CONTROLS = "[\\x{b}\\x{e}\\x{f}\\x{1a}-\\x{1f}]"


def _json_string_by_replace(column: Column) -> Column:
    """:func:`json_string` built from string replaces: quotes and backslashes, then each
    control character (only values holding one come here)."""
    body = F.replace(F.replace(column, F.lit("\\"), F.lit("\\\\")), F.lit('"'), F.lit('\\"'))
    for code, escape in _CONTROL_ESCAPES.items():
        body = F.replace(body, F.lit(chr(code)), F.lit(escape))
    return F.concat(F.lit('"'), body, F.lit('"'))


def content_hash(text: Column, label: Column, meta: Column) -> Column:
    """``record_rules.content_hash(text, label, meta)`` for a non-null ``text``, a nullable
    ``label`` and ``meta`` a ``map<string,string>`` without null values: SHA-256 (hex) of
    ``[text,label,{sorted meta}]`` as compact JSON. Spark orders strings by their UTF-8
    bytes, which is code-point order, the order of Python's ``sorted``."""
    entries = F.transform(
        F.array_sort(F.map_entries(meta)),
        lambda entry: F.concat(json_string(entry["key"]), F.lit(":"), json_string(entry["value"])),
    )
    canonical = F.concat(
        F.lit("["),
        json_string(text),
        F.lit(","),
        F.coalesce(json_string(label), F.lit("null")),
        F.lit(",{"),
        F.array_join(entries, ","),
        F.lit("}]"),
    )
    return F.sha2(canonical, 256)


def as_text(column: Column, kind: DataType) -> Column:
    """The text of a column of Spark type ``kind``, as ``record_rules._as_text`` gives it for the
    value the earlier JSON path produced: strings as they are; integers, booleans and dates
    as Spark casts them (``12``, ``true``, ``2024-01-02``); floats by Python's ``repr`` of
    the value Spark's JSON writer prints (``0.1`` for a float32 0.1), NaN as null and the
    infinities as ``Infinity``/``-Infinity``; decimals as that of their nearest double (as
    before: JSON numbers); structs, arrays and maps as ``json.dumps(sort_keys=True)``;
    anything else (timestamps, binary …) as Spark's JSON writer renders it
    (``2024-01-02T03:04:05.678Z``, base64)."""
    if isinstance(kind, StringType):
        return column
    if isinstance(kind, IntegralType | BooleanType | DateType):
        return column.cast("string")
    if isinstance(kind, FloatType):
        return _float32_text(column)
    if isinstance(kind, DoubleType | DecimalType):
        return _double_text(column.cast("double"))
    if kind.typeName() in ("struct", "array", "map"):
        return _sorted_json(F.to_json(column, JSON_OPTIONS))
    return F.get_json_object(F.to_json(F.struct(column.alias("v")), JSON_OPTIONS), "$.v")


def _float_text(value: float) -> str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


@F.pandas_udf(StringType())
def _double_text(values: pd.Series) -> pd.Series:
    """Python's ``repr`` of each double (pandas reads null as NaN: both give null)."""
    return pd.Series([_float_text(v) for v in values.to_numpy(dtype=np.float64)], dtype=object)


@F.pandas_udf(StringType())
def _float32_text(values: pd.Series) -> pd.Series:
    """A float32 printed shortest (as Spark's JSON writer does), read back as a Python float."""
    out = [None if v != v else _float_text(float(str(np.float32(v)))) for v in values.to_numpy(dtype=np.float32)]
    return pd.Series(out, dtype=object)


@F.pandas_udf(StringType())
def _sorted_json(values: pd.Series) -> pd.Series:
    """Spark's JSON of nested values rewritten as ``json.dumps(sort_keys=True)``."""
    return pd.Series(
        [None if v is None else json.dumps(json.loads(v), ensure_ascii=False, sort_keys=True) for v in values],
        dtype=object,
    )
