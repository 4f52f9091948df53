"""Ingest's JVM reader of UTF-8 line files: byte ranges → parsed records without a Python round trip.

Parsing JSONL in Python workers costs about twice what Spark's own JSON reader costs for the
same bytes (the records cross to the JVM as Arrow batches, then are copied again); see
``bench/results/ingest_scale.json``. The data source ``refinery.jvm.LinesSource``
(``jvm/src/refinery/jvm``, built into ``refinery-jvm.jar`` by ``make jars``) reads the same
byte ranges with the same line rule and builds the same good records in the JVM. A line it is
not certain of (not UTF-8, not a flat JSON object, any rule that would refuse it, over
``max_line_bytes``) comes out with its bytes, and :func:`refinery.sources.records.parse_line`
parses it in Python (:meth:`HandedOverLines.parsed`, once the reader's rows are stored): so
every refusal, reason and detail is the Python rule's, and a file of clean records never
leaves the JVM.

It reads JSONL, and CSV/TSV of one record per line (``multiline: false`` or
``quoting: none``), whose header and field count the driver finds on each file's head. Only
files that are read as UTF-8 from their first byte (no compression, no byte-order mark, head
resolved to ``utf-8``) go this way; the driver checks that on each file's head when it
plans the reads (:func:`refinery.ingest.read.plan_reads`), and counts the newlines of the
ranges of a split file here too (:func:`jvm_newline_counts`), so that planning such a file
starts no Python worker. A compressed file goes this
way through its decompressed copy (:mod:`refinery.ingest.staging`), when it has one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from refinery.ingest.settings import SourceSettings
from refinery.sources.record_formats import Layout
from refinery.sources.record_rows import RECORD_FIELDS, Limits
from refinery.sources.records import label_from_path, parse_line
from refinery.sources.splits import Split, one_record_per_line
from refinery.spark.schemas import STRING_MAP

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
    sources like it: JSONL with JSON keys (names) for every column; CSV/TSV read one record
    per line, with names for a file with a header and indexes for one without, and a
    delimiter of one UTF-16 unit that is not a quote, a NUL or a line break."""
    columns = spec.columns
    texts = columns.text if isinstance(columns.text, list) else [columns.text]
    refs = texts + [r for r in (columns.label, columns.id, columns.event_ts) if r is not None]
    if spec.format == "jsonl":
        if not all(isinstance(r, str) for r in refs):
            return None
        extra: dict = {}
    elif spec.format in ("csv", "tsv") and one_record_per_line(spec):
        delimiter = spec.delimiter or ","
        names_wanted = str if spec.header else int
        if not all(type(r) is names_wanted for r in refs) or len(delimiter.encode("utf-16-le")) != 2:
            return None
        if delimiter in '"\0\r\n':
            return None
        extra = {"delimiter": delimiter, "quoting": spec.quoting}
    else:
        return None

    def named(ref):  # without a header a column is named by its index
        return None if ref is None else str(ref)

    return {
        "format": spec.format,
        "source": name,
        "text": [named(r) for r in texts],
        "text_join": spec.text_join,
        "label": named(columns.label),
        "id": named(columns.id),
        "event_ts": named(columns.event_ts),
        "label_map": spec.label_map,
        "labels": spec.labels,
        "label_required": spec.label_required,
        "max_text_chars": limits.max_text_chars,
        "max_line_bytes": limits.max_line_bytes,
        "encoding": ENCODING,
        **extra,
    }


def jvm_lines_frame(
    spark: SparkSession,
    spec: SourceSettings,
    splits: Sequence[Split],
    rules: dict,
    layouts: Mapping[str, Layout | None],
    names: Mapping[str, str] | None = None,
) -> DataFrame:
    """The JVM data source's rows for ``splits`` (packed into tasks, ``newlines_before`` set),
    in :data:`refinery.ingest.read.RECORDS`'s columns and :data:`HANDED_OVER_COLUMNS`:
    the records it parsed, and the lines it hands to Python with their bytes in ``_raw`` (for
    :meth:`HandedOverLines.parsed`); ``layouts`` holds each CSV/TSV file's layout (found on its
    head by the driver). ``names`` maps a file read in place of another (a compressed file's
    decompressed copy) to the path its rows carry, and its label is taken from."""
    names = names or {}
    tasks: list[list[dict]] = []
    for split in splits:
        if split.task == len(tasks):
            tasks.append([])
        name = names.get(split.file.path, split.file.path)
        task = {
            "path": split.file.path,
            "name": name,
            "start": split.start,
            "end": split.end,
            "whole": split.reads_to_end,
            "newlines_before": split.newlines_before,
            "mtime_us": split.file.mtime,
            "path_label": label_from_path(name, spec.label_from_path),
        }
        layout = layouts.get(split.file.path)
        if layout is not None:
            task.update(
                header=layout.header,
                expected_fields=-1 if layout.expected_fields is None else layout.expected_fields,
                first_line=-1 if layout.first_line is None else layout.first_line,
            )
        tasks[split.task].append(task)
    return (
        spark.read.format(DATA_SOURCE)
        .option("tasks", json.dumps(tasks, ensure_ascii=False))
        .option("rules", json.dumps(rules, ensure_ascii=False))
        .load()
    )


NEWLINE_COUNTS = "refinery.jvm.NewlineCounts"


def jvm_newline_counts(spark: SparkSession, splits: Sequence[Split]) -> dict[tuple[str, int], int]:
    """The newline bytes in each of ``splits``, keyed ``(path, start)``: counted by the JVM
    data source :data:`NEWLINE_COUNTS` (``jvm/src/refinery/jvm/NewlineCounts.java``), one task
    per range, as :func:`refinery.sources.file_lines.count_newlines` counts them in Python."""
    if not splits:
        return {}
    ranges = [{"path": s.file.path, "start": s.start, "end": s.end} for s in splits]
    counted = spark.read.format(NEWLINE_COUNTS).option("ranges", json.dumps(ranges, ensure_ascii=False)).load()
    return {(r.path, r.start): int(r.newlines) for r in counted.collect()}


#: The columns of a JVM reader's row that carry a line it hands to Python: its bytes, and its
#: length when it is over ``max_line_bytes`` (only its head is kept then). Null on the rows the
#: JVM parsed itself, and on rows read any other way.
HANDED_OVER_COLUMNS = ("_raw", "_raw_length")


#: What :meth:`HandedOverLines.parsed` and :meth:`HandedOverLines.parsed_here` read of a
#: handed-over line's row.
HANDED_OVER_INPUT = ("source", "path", "line", "file_mtime", *HANDED_OVER_COLUMNS)
#: The parsed records of handed-over lines: :data:`refinery.ingest.read.RECORDS`.
_PARSED = StructType(
    [
        StructField(f, LongType() if f == "line" else STRING_MAP if f == "meta" else StringType(), True)
        for f in RECORD_FIELDS
    ]
    + [StructField("file_mtime", TimestampType(), True)]
)


@dataclass(frozen=True)
class HandedOverLines:
    """How to parse the lines the JVM reader hands over for one source: the source's name,
    settings and limits, and each CSV/TSV file's layout (path → :class:`Layout`)."""

    name: str
    spec: SourceSettings
    limits: Limits
    layouts: Mapping[str, Layout | None]

    def record(self, raw: bytes, length: int | None, line: int, path: str) -> dict:
        """The record :func:`refinery.sources.records.parse_line` makes of one handed-over
        line (``length``: the line's length when only its head was kept), ``meta`` a dict."""
        row = parse_line(raw, length, line, path, self.name, self.spec, self.limits, ENCODING, self.layouts.get(path))
        row["meta"] = row.get("meta") or {}
        return row

    def parsed_here(self, spark: SparkSession, rows: Sequence[Row]) -> DataFrame:
        """``rows`` (collected rows of this source's handed-over lines, with
        :data:`HANDED_OVER_INPUT`) parsed in this process by :meth:`record`, in
        :data:`refinery.ingest.read.RECORDS`'s columns: for a few lines, where starting
        a Python worker per read task would cost more than the parse."""
        records = []
        for r in rows:
            record = self.record(bytes(r["_raw"]), r["_raw_length"], r["line"], r["path"])
            records.append((*(record[f] for f in RECORD_FIELDS), r["file_mtime"]))
        return spark.createDataFrame(records, _PARSED)

    def parsed(self, rows: DataFrame) -> DataFrame:
        """``rows`` (JVM reader rows of this source, ``_raw`` set) parsed by :meth:`record` in
        Python workers, in :data:`refinery.ingest.read.RECORDS`'s columns.

        Meant for the lines the JVM hands over, after the reader's rows are stored: a Python
        UDF over every row would hold each row in the JVM while its batch is in Python, which
        costs about as much as the JVM's own parse of a file of clean records."""
        record = self.record

        @F.pandas_udf(_FALLBACK)
        def parse(raw: pd.Series, length: pd.Series, line: pd.Series, path: pd.Series) -> pd.DataFrame:
            out = pd.DataFrame(None, index=raw.index, columns=_FALLBACK.fieldNames(), dtype=object)
            for i in raw.index:
                size = None if pd.isna(length[i]) else int(length[i])
                row = record(bytes(raw[i]), size, int(line[i]), path[i])
                row["meta_json"] = json.dumps(row.pop("meta"), ensure_ascii=False)
                out.loc[i] = [row[f] for f in _FALLBACK.fieldNames()]
            return out

        # nondeterministic: computed once, in its own projection, not once per field read below
        parsed = rows.withColumn("_py", parse.asNondeterministic()("_raw", "_raw_length", "line", "path"))
        columns = {
            field: F.from_json("_py.meta_json", "map<string,string>") if field == "meta" else F.col(f"_py.{field}")
            for field in _FALLBACK_FIELDS
        }
        return parsed.withColumns(columns).select(*RECORD_FIELDS, "file_mtime")
