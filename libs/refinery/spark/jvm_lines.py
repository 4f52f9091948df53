"""Ingest's JVM reader of UTF-8 JSONL: byte ranges → parsed records without a Python round trip.

Parsing JSONL in Python workers costs about twice what Spark's own JSON reader costs for the
same bytes (the records cross to the JVM as Arrow batches, then are copied again); see
``bench/results/ingest_scale.json``. The data source ``refinery.jvm.LinesSource``
(``jvm/src/refinery/jvm``, built into ``refinery-jvm.jar`` by ``make jars``) reads the same
byte ranges with the same line rule and builds the same good records in the JVM. A line it is
not certain of (not UTF-8, not a flat JSON object, any rule that would refuse it, over
``max_line_bytes``) comes out with its bytes, and :func:`refinery.sources.records.parse_line`
parses it in Python: so every refusal, reason and detail is the Python rule's, and a file of
clean records never leaves the JVM.

Only files that are read as UTF-8 from their first byte (no compression, no byte-order mark,
head resolved to ``utf-8``) go this way; the driver checks that on each file's head while it
counts newlines (:func:`refinery.spark.ingest_read.plan_reads`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from refinery.config import SourceSettings
from refinery.sources.records import RECORD_FIELDS, Limits, label_from_path, parse_line
from refinery.sources.splits import Split

DATA_SOURCE = "refinery.jvm.LinesSource"
#: The value of the ``encoding`` column of a record the JVM decoded.
ENCODING = "utf-8"
#: The record fields the Python fallback fills (the line's place comes from the JVM).
_FALLBACK_FIELDS = [f for f in RECORD_FIELDS if f not in ("source", "path", "line")]
_FALLBACK = StructType([StructField(f if f != "meta" else "meta_json", StringType(), True) for f in _FALLBACK_FIELDS])


def jvm_reader_available(spark: SparkSession) -> bool:
    """True when the JVM reader's classes are on the driver's classpath (``refinery-jvm.jar``
    in ``spark.jars_dir``). False under Spark Connect, which has no JVM here to ask."""
    try:
        # Spark's own class loader: the one that holds spark.jars
        spark._jvm.org.apache.spark.util.Utils.classForName(DATA_SOURCE, True, False)
    except Exception:  # py4j's own error types, or no _jvm at all
        return False
    return True


def jvm_rules(name: str, spec: SourceSettings, limits: Limits) -> dict | None:
    """The ``rules`` option of source ``name``, or ``None`` when the JVM reader does not read
    sources like it (only JSONL, with JSON keys, i.e. names, for every column)."""
    columns = spec.columns
    refs = columns.text if isinstance(columns.text, list) else [columns.text]
    named = [columns.label, columns.id, columns.event_ts]
    if spec.format != "jsonl" or not all(isinstance(r, str) for r in refs + [n for n in named if n is not None]):
        return None
    return {
        "source": name,
        "text": refs,
        "text_join": spec.text_join,
        "label": columns.label,
        "id": columns.id,
        "event_ts": columns.event_ts,
        "label_map": spec.label_map,
        "labels": spec.labels,
        "label_required": spec.label_required,
        "max_text_chars": limits.max_text_chars,
        "max_line_bytes": limits.max_line_bytes,
        "encoding": ENCODING,
    }


def read_jvm_lines(
    spark: SparkSession, name: str, spec: SourceSettings, limits: Limits, splits: Sequence[Split], rules: dict
) -> DataFrame:
    """The parsed records of ``splits`` (packed into tasks, ``newlines_before`` set), read by
    the JVM data source, in :data:`refinery.spark.ingest_read.RECORDS`'s columns."""
    tasks: list[list[dict]] = []
    for split in splits:
        if split.task == len(tasks):
            tasks.append([])
        tasks[split.task].append(
            {
                "path": split.file.path,
                "start": split.start,
                "end": split.end,
                "whole": split.start == 0 and split.end >= split.file.size,
                "newlines_before": split.newlines_before,
                "mtime_us": split.file.mtime,
                "path_label": label_from_path(split.file.path, spec.label_from_path),
            }
        )
    frame = (
        spark.read.format(DATA_SOURCE)
        .option("tasks", json.dumps(tasks, ensure_ascii=False))
        .option("rules", json.dumps(rules, ensure_ascii=False))
        .load()
    )
    return _with_fallback_parsed(frame, name, spec, limits)


def _with_fallback_parsed(frame: DataFrame, name: str, spec: SourceSettings, limits: Limits) -> DataFrame:
    """The JVM reader's rows with the lines it handed over (``_raw`` set) parsed in Python.

    Every row passes the Python UDF, but only a handed-over line carries its bytes and place:
    for the others the UDF receives nulls and returns nulls (a few bytes a row)."""

    @F.pandas_udf(_FALLBACK)
    def parse(raw: pd.Series, length: pd.Series, line: pd.Series, path: pd.Series) -> pd.DataFrame:
        out = pd.DataFrame(None, index=raw.index, columns=_FALLBACK.fieldNames(), dtype=object)
        for i in raw.index[raw.notna()]:
            size = None if pd.isna(length[i]) else int(length[i])
            row = parse_line(bytes(raw[i]), size, int(line[i]), path[i], name, spec, limits, ENCODING)
            row["meta_json"] = json.dumps(row.pop("meta") or {}, ensure_ascii=False)
            out.loc[i] = [row[f] for f in _FALLBACK.fieldNames()]
        return out

    # nondeterministic: computed once, in its own projection, not once per field read below
    parse = parse.asNondeterministic()
    handed = F.col("_raw").isNotNull()
    frame = frame.withColumn(
        "_py", parse("_raw", "_raw_length", F.when(handed, F.col("line")), F.when(handed, F.col("path")))
    )
    columns = {}
    for field in _FALLBACK_FIELDS:
        python = F.col("_py.meta_json") if field == "meta" else F.col(f"_py.{field}")
        if field == "meta":
            python = F.from_json(python, "map<string,string>")
        columns[field] = F.when(handed, python).otherwise(F.col(field))
    return frame.withColumns(columns).select(*RECORD_FIELDS, "file_mtime")
