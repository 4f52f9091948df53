"""Sources that already are tables (Parquet files, Delta tables, catalog tables) → parsed
ingest records, column-wise.

:func:`map_rows` applies the record rules of :mod:`refinery.sources.records` (``_mapped`` and
``_finish``: text columns and their join, label from the path, ``label_map``, ``labels``,
``label_required``, ``empty_text``, ``text_too_long``, ``missing_id``) as Spark expressions on
whole columns, so no row is serialised to JSON on its way in; only a quarantined row keeps
its values as JSON, in ``payload``. The result has the parsed-record schema ``RECORDS`` of
:mod:`refinery.ingest.read`, ``meta`` as a map. A text column missing from the table's schema is a
:class:`ConfigError`: it concerns every row, so it is reported once, before reading.

Provenance: ``path`` is the data file, ``line`` the 1-based row index in it where the file is
read as Parquet (Parquet sources, and Delta files read directly, see
:func:`delta_records`); the Delta reader exposes no row index, so rows read through it
(change data feed, tables with column mapping or deletion vectors) have a null ``line``.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, StringType

from refinery.config import ConfigError
from refinery.ingest.column_text import JSON_OPTIONS, as_text, content_hash, is_blank, python_strip
from refinery.ingest.delta_increments import Increment
from refinery.ingest.settings import SourceSettings
from refinery.sources import reasons
from refinery.sources.record_rows import OK, QUARANTINE, Limits
from refinery.sources.records import label_from_path
from refinery.spark.schemas import STRING_MAP

#: Provenance columns added to a table's own columns while mapping (never in ``meta``).
_PATH, _LINE, _MTIME = "__refinery_path", "__refinery_line", "__refinery_mtime"


def parquet_records(
    spark: SparkSession, name: str, spec: SourceSettings, location: list[str], limits: Limits
) -> DataFrame:
    """Every row of the Parquet files at ``location`` (files, folders or globs) as a parsed
    record in ``RECORDS``."""
    frame = spark.read.option("recursiveFileLookup", "true").parquet(*location)
    return map_rows(_with_file_provenance(frame), name, spec, limits)


def delta_records(
    spark: SparkSession, name: str, spec: SourceSettings, increment: Increment, limits: Limits
) -> DataFrame:
    """The rows of ``increment`` of a Delta source as parsed records, ``meta`` as a map.

    ``snapshot`` reads the table at version ``end``; ``appends`` the data files that the
    versions after ``start`` added; ``cdf`` the ``insert`` rows of the change data feed of
    those versions (rewrites were refused when the increment was planned, so inserts are
    all there is); ``none`` reads nothing."""
    if increment.mode == "none" or increment.files == ():
        frame = spark.read.format("delta").option("versionAsOf", increment.end).load(increment.table_path)
        return map_rows(_with_file_provenance(frame, row_index=False).limit(0), name, spec, limits)
    if increment.files is not None:
        reader = spark.read.schema(increment.schema).option("basePath", increment.table_path)
        return map_rows(_with_file_provenance(reader.parquet(*increment.files)), name, spec, limits)
    if increment.mode == "cdf":
        changes = (
            spark.read.format("delta")
            .option("readChangeFeed", "true")
            .option("startingVersion", increment.start + 1)
            .option("endingVersion", increment.end)
            .load(increment.table_path)
            .where(F.col("_change_type") == "insert")
        )
        data = [c for c in changes.columns if c not in ("_change_type", "_commit_version", "_commit_timestamp")]
        frame = changes.select(
            *[_quoted(c) for c in data],
            F.input_file_name().alias(_PATH),
            F.lit(None).cast("long").alias(_LINE),
            F.col("_commit_timestamp").alias(_MTIME),
        )
        return map_rows(frame, name, spec, limits)
    frame = spark.read.format("delta").option("versionAsOf", increment.end).load(increment.table_path)
    return map_rows(_with_file_provenance(frame, row_index=False), name, spec, limits)


def _with_file_provenance(frame: DataFrame, row_index: bool = True) -> DataFrame:
    line = F.col("_metadata.row_index") + 1 if row_index else F.lit(None).cast("long")
    return frame.select(
        *[_quoted(c) for c in frame.columns],
        F.col("_metadata.file_path").alias(_PATH),
        line.alias(_LINE),
        F.col("_metadata.file_modification_time").alias(_MTIME),
    )


def map_rows(frame: DataFrame, name: str, spec: SourceSettings, limits: Limits) -> DataFrame:
    """``frame`` (a table's columns plus the provenance columns) → parsed records, each row
    one record: ``ok`` with typed fields and ``content_hash``, or ``quarantine`` with reason,
    detail and the row as JSON in ``payload``."""
    fields = {f.name: f.dataType for f in frame.schema.fields if f.name not in (_PATH, _LINE, _MTIME)}
    columns = spec.columns
    refs = columns.text if isinstance(columns.text, list) else [columns.text]
    missing = [ref for ref in refs if ref not in fields]
    if missing:
        raise ConfigError(
            f"config key 'ingest.sources.{name}.columns.text': no column "
            + ", ".join(repr(m) for m in missing)
            + f" in the table; fix: name one of its columns ({_listing(fields)})"
        )
    parts = [_text_of(str(ref), fields) for ref in refs]  # names: each is in fields
    text = parts[0] if len(parts) == 1 else F.concat_ws(spec.text_join, *[F.when(p != "", p) for p in parts])
    used = set(refs) | {columns.label, columns.id, columns.event_ts}
    meta = _meta_map({key: kind for key, kind in fields.items() if key not in used})
    raw_id = _pick(columns.id, fields)
    label = _resolved_label(_pick(columns.label, fields), spec)

    payload = F.substring(F.to_json(F.struct(*[_quoted(c) for c in fields]), JSON_OPTIONS), 1, limits.payload_max_chars)
    rules = _rules(text, label, raw_id, spec, limits)
    rejected = F.lit(False)
    reason: Column = F.lit(None).cast("string")
    detail: Column = F.lit(None).cast("string")
    for condition, rule_reason, rule_detail in reversed(rules):  # the first broken rule wins
        reason = F.when(condition, F.lit(rule_reason)).otherwise(reason)
        detail = F.when(condition, rule_detail).otherwise(detail)
        rejected = rejected | condition
    staged = frame.select(
        text.alias("text"),
        label.alias("label"),
        raw_id.alias("raw_id"),
        _pick(columns.event_ts, fields).alias("raw_event_ts"),
        meta.alias("meta"),
        F.coalesce(rejected, F.lit(False)).alias("_rejected"),
        reason.alias("_reason"),
        detail.alias("_detail"),
        F.when(F.coalesce(rejected, F.lit(False)), payload).alias("_payload"),
        F.col(_PATH).alias("path"),
        F.col(_LINE).cast("long").alias("line"),
        F.col(_MTIME).alias("file_mtime"),
    )
    bad = F.col("_rejected")

    def good(column: str) -> Column:
        return F.when(~bad, F.col(column))

    return staged.select(
        F.lit(name).alias("source"),
        "path",
        "line",
        F.when(bad, F.lit(QUARANTINE)).otherwise(F.lit(OK)).alias("outcome"),
        F.col("_reason").alias("reason"),
        F.substring(F.col("_detail"), 1, 500).alias("detail"),
        F.col("_payload").alias("payload"),
        good("text").alias("text"),
        good("label").alias("label"),
        good("raw_id").alias("raw_id"),
        good("raw_event_ts").alias("raw_event_ts"),
        F.when(bad, F.create_map().cast(STRING_MAP)).otherwise(F.col("meta")).alias("meta"),
        F.lit(None).cast("string").alias("encoding"),
        F.when(~bad, content_hash(F.col("text"), F.col("label"), F.col("meta"))).alias("content_hash"),
        "file_mtime",
    )


def _rules(
    text: Column, label: Column, raw_id: Column, spec: SourceSettings, limits: Limits
) -> list[tuple[Column, str, Column]]:
    """``(broken, reason, detail)`` of each record rule, in ``record_rules._finish``'s order."""
    rules = [
        (text.isNull() | is_blank(text), reasons.EMPTY_TEXT, F.lit("")),
        (
            # a text has no more characters than bytes: count them only when it might be over
            (F.octet_length(text) > limits.max_text_chars) & (F.length(text) > limits.max_text_chars),
            reasons.TEXT_TOO_LONG,
            F.concat(F.length(text).cast("string"), F.lit(f" chars > max_text_chars {limits.max_text_chars}")),
        ),
    ]
    if spec.columns.id is not None:
        rules.append((raw_id.isNull() | is_blank(raw_id), reasons.MISSING_ID, F.lit("")))
    if spec.label_required:
        rules.append((label.isNull(), reasons.MISSING_LABEL, F.lit("")))
    if spec.labels is not None:
        detail = F.concat(
            F.lit("label "),
            _python_repr(F.substring(label, 1, 64)),
            F.lit(f" not in {len(spec.labels)} allowed labels"),
        )
        rules.append((label.isNotNull() & ~label.isin(spec.labels), reasons.LABEL_NOT_IN_SET, detail))
    return rules


def _resolved_label(label: Column, spec: SourceSettings) -> Column:
    """The label as ``_finish`` resolves it: from the file name when the row has none, then
    stripped, mapped by ``label_map``, and ``""`` read as no label."""
    if spec.label_from_path:
        label = F.coalesce(label, _path_label(spec.label_from_path)(F.col(_PATH)))
    label = python_strip(label)
    if spec.label_map:
        pairs = [F.lit(part) for key, value in sorted(spec.label_map.items()) for part in (key, value)]
        label = F.coalesce(F.try_element_at(F.create_map(*pairs), label), label)
    return F.when(label != "", label)


def _path_label(pattern: str):
    """A pandas UDF giving ``records.label_from_path`` of each path (Python's ``re``, as for
    files), computed once per distinct path in a batch."""

    @lru_cache(maxsize=4096)
    def one(path: str) -> str | None:
        return label_from_path(path, pattern)

    @F.pandas_udf(StringType())
    def labels(paths: pd.Series) -> pd.Series:
        return pd.Series([None if p is None else one(p) for p in paths], dtype=object)

    return labels


def _python_repr(value: Column) -> Column:
    """Python's ``repr`` of a string for the usual cases: single quotes unless the text holds
    one and no double quote; backslashes, quotes, ``\\n``, ``\\r``, ``\\t`` escaped (other
    non-printable characters are left as they are: the detail is for people, not machines)."""
    escaped = F.replace(value, F.lit("\\"), F.lit("\\\\"))
    for char, escape in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = F.replace(escaped, F.lit(char), F.lit(escape))
    double = value.contains("'") & ~value.contains('"')
    single = F.concat(F.lit("'"), F.replace(escaped, F.lit("'"), F.lit("\\'")), F.lit("'"))
    return F.when(double, F.concat(F.lit('"'), escaped, F.lit('"'))).otherwise(single)


def _meta_map(kinds: dict[str, DataType]) -> Column:
    """``meta``: every other column's text, null values left out (as ``_mapped`` does)."""
    if not kinds:
        return F.create_map().cast(STRING_MAP)
    keys = F.array(*[F.lit(key) for key in kinds])
    values = F.array(*[as_text(_quoted(key), kind) for key, kind in kinds.items()])
    return F.map_filter(F.map_from_arrays(keys, values), lambda _, v: v.isNotNull())


def _text_of(ref: str, fields: dict[str, DataType]) -> Column:
    return as_text(_quoted(ref), fields[ref])


def _pick(ref: str | int | None, fields: dict[str, DataType]) -> Column:
    """A column's text; a column the table does not have reads as null (as an absent JSON
    key does), and the rules judge it."""
    if ref is None or ref not in fields:
        return F.lit(None).cast("string")
    return _text_of(ref, fields)


def _quoted(name: str) -> Column:
    return F.col("`" + name.replace("`", "``") + "`")


def _listing(fields: dict[str, DataType]) -> str:
    names = sorted(fields)
    shown = ", ".join(names[:20])
    return shown + (f", … {len(names) - 20} more" if len(names) > 20 else "")
