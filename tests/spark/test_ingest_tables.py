"""Table sources: Parquet mapped column-wise with the per-record rules, and Delta tables
(paths and catalog tables) ingested incrementally, on small real Delta tables."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StringType, StructField, StructType

from refinery.config import ConfigError
from refinery.ingest.column_text import content_hash as content_hash_column
from refinery.ingest.column_text import is_blank, json_string, python_strip
from refinery.ingest.table_sources import parquet_records
from refinery.runtime.runner import EXIT_CONFIG, new_run_id, run_one
from refinery.sources.record_rows import Limits
from refinery.sources.record_rules import content_hash
from refinery.sources.records import record_from_mapping
from refinery.spark.tables import read_table
from tests.support.settings import delta_source_settings
from tests.support.spark_helpers import ingest, metrics_by_stage

TRICKY = [
    'say "hi"',
    "back\\slash \\u0041 \\n",
    "tab\tnew\nline\rcr\x08bs\x0cff",
    "\x00nul \x01 \x1f \x7f del",
    "line\u2028sep\u2029para",
    "emoji 😀👍🏽 and 𠀀",
    "中文，全角。ＡＢＣ",
    "",
    " ",
    "ümlaut é\u0301",
    "vt\x0b esc\x1b beside the literal \\u000B",
]


def test_content_hash_expression_equals_the_python_function(spark):
    rows = []
    for i, text in enumerate(TRICKY):
        label = None if i % 3 == 0 else TRICKY[(i + 1) % len(TRICKY)]
        meta = {TRICKY[(i + 2) % len(TRICKY)]: TRICKY[(i + 3) % len(TRICKY)], "z": text, "a\u2028": "v\\"}
        rows.append((text, label, meta if i % 4 else {}))
    schema = StructType(
        [
            StructField("text", StringType()),
            StructField("label", StringType()),
            StructField("meta", MapType(StringType(), StringType())),
        ]
    )
    frame = spark.createDataFrame(rows, schema)
    got = frame.select(content_hash_column(F.col("text"), F.col("label"), F.col("meta")).alias("h")).collect()
    assert [r.h for r in got] == [content_hash(t, y, m) for t, y, m in rows]


def test_json_string_escapes_every_ascii_character_as_python_does(spark):
    # Spark's JSON writer is the fast path; the nine controls it writes in upper-case hex
    # take the replace path: each character alone, inside text, and next to a literal escape
    texts = [chr(code) for code in range(0x80)]
    texts += [f"a{chr(code)}b \\u00{code:02X}" for code in range(0x20)] + [None]
    frame = spark.createDataFrame([(t,) for t in texts], "text string")
    got = [r.j for r in frame.select(json_string(F.col("text")).alias("j")).collect()]
    assert got == [None if t is None else json.encoder.encode_basestring(t) for t in texts]


def test_blankness_and_strip_are_pythons_on_every_space_and_its_neighbours(spark):
    spaces = [chr(c) for c in range(0x10000) if chr(c).isspace()]
    # not spaces to Python: zero-width space, Mongolian vowel separator, BOM, NUL, a letter
    others = ["\u200b", "\u180e", "\ufeff", "\x00", "x", "\U0001f600", "中"]
    values = ["", *spaces, "".join(spaces), *others]
    values += [f"{s}{o}{s}" for s in spaces for o in others[:3]] + [f" \u3000{o}\t" for o in others] + [None]
    frame = spark.createDataFrame([(v,) for v in values], "v string")
    got = frame.select(is_blank(F.col("v")).alias("blank"), python_strip(F.col("v")).alias("strip")).collect()
    assert [r.blank for r in got] == [None if v is None else not v.strip() for v in values]
    assert [r.strip for r in got] == [None if v is None else v.strip() for v in values]


# --------------------------------------------------------------------------------------------
# Parquet, column-wise


def _old_json_path(spark, folder, name, spec, limits):
    """The per-row path that column-wise mapping replaced: each row to JSON and through
    ``record_from_mapping`` (the reference for 'same records as before')."""
    frame = spark.read.parquet(str(folder))
    rows = frame.select(
        F.to_json(F.struct(*frame.columns), {"ignoreNullFields": "false"}).alias("values"),
        F.col("_metadata.file_path").alias("path"),
        (F.col("_metadata.row_index") + 1).alias("line"),
    ).collect()
    return [record_from_mapping(json.loads(r.values), r.path, r.line, name, spec, limits, r.values) for r in rows]


def test_parquet_column_wise_gives_the_records_of_the_json_path(spark, make_settings, tmp_path):
    folder = tmp_path / "pq"
    texts = [*TRICKY, "x" * 30, "ok text"]
    n = len(texts)
    spark.sql(
        "SELECT * FROM VALUES "
        + ",".join(
            f"({i}, {_sql(texts[i])}, {_sql(lab)}, {_sql(uid)}, {i} * 1.5D, {12345678.9 * i}D,"
            f" CAST({i} / 10 AS FLOAT), CAST({i} / 4 AS DECIMAL(6,2)), {str(i % 2 == 0).lower()},"
            f" TIMESTAMP'2024-01-02 03:04:05.678', DATE'2024-01-02', named_struct('b', {i}, 'a', 'x'),"
            f" array({i}, 2), map('z', 1.5D, 'y', {i}), CAST(NULL AS STRING))"
            for i, (lab, uid) in enumerate(zip(_labels(n), _ids(n), strict=True))
        )
        + " AS t(k, body, y, uid, dbl, big, f32, dec, flag, ts, day, st, arr, m, nothing)"
    ).withColumn("title", F.when(F.col("k") % 2 == 0, F.lit("T\u3000"))).coalesce(1).write.parquet(str(folder))
    settings = make_settings(
        f"ingest.sources.pq.path={folder}",
        "ingest.sources.pq.format=parquet",
        'ingest.sources.pq.columns={"text": ["title", "body"], "label": "y", "id": "uid", "event_ts": "ts"}',
        'ingest.sources.pq.label_map={"p": "pos", "n": "neg", "blank": ""}',
        "ingest.sources.pq.labels=[pos, neg]",
        "ingest.max_text_chars=20",
    )
    spec, limits = settings.ingest.sources["pq"], Limits(20, settings.ingest.payload_max_chars)
    got = [r.asDict() for r in parquet_records(spark, "pq", spec, [str(folder)], limits).collect()]
    for row in got:
        row["meta"] = dict(row.pop("meta") or {})
        row.pop("file_mtime")
    expected = _old_json_path(spark, folder, "pq", spec, limits)
    got, expected = sorted(got, key=lambda r: r["line"]), sorted(expected, key=lambda r: r["line"])
    assert [_diff(g, e) for g, e in zip(got, expected, strict=True)] == [{}] * len(expected)
    reasons = {r["reason"] for r in got}
    assert {"empty_text", "text_too_long", "missing_id", "missing_label", "label_not_in_set", None} <= reasons


def test_nan_reads_as_null_in_meta(spark, tmp_path):
    folder = tmp_path / "nan"
    spark.sql("SELECT 'a' AS body, CAST('NaN' AS DOUBLE) AS score, 2.5D AS other").write.parquet(str(folder))
    from refinery.ingest.settings import SourceSettings

    spec = SourceSettings(path=str(folder), format="parquet", columns={"text": "body"}, label_required=False)
    row = parquet_records(spark, "n", spec, [str(folder)], Limits(100, 100)).first()
    assert dict(row.meta) == {"other": "2.5"}
    assert row.content_hash == content_hash("a", None, {"other": "2.5"})


def test_a_text_column_missing_from_the_schema_is_a_config_error(spark, tmp_path):
    folder = tmp_path / "pq"
    spark.sql("SELECT 'a' AS body").write.parquet(str(folder))
    from refinery.ingest.settings import SourceSettings

    spec = SourceSettings(path=str(folder), format="parquet", columns={"text": "content"})
    with pytest.raises(ConfigError, match=r"ingest\.sources\.p\.columns\.text.*'content'.*body"):
        parquet_records(spark, "p", spec, [str(folder)], Limits(100, 100))


def _diff(got, expected):
    return {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}


def _labels(n):
    cycle = ["p", " n\u00a0", "q", None, "blank", "p"]
    return [cycle[i % len(cycle)] for i in range(n)]


def _ids(n):
    return [None if i == 4 else (" " if i == 5 else f"u{i}") for i in range(n)]


def _sql(value):
    if value is None:
        return "CAST(NULL AS STRING)"
    return "unhex('" + value.encode("utf-8").hex() + "')::string" if value else "''"


# --------------------------------------------------------------------------------------------
# Delta, incremental


def _append(spark, path, rows, mode="append", partition_by=()):
    frame = spark.createDataFrame(rows, "doc string, y string, n long")
    frame.write.format("delta").mode(mode).partitionBy(*partition_by).save(str(path))


def _bronze(spark, settings):
    rows = read_table(spark, settings.tables.bronze).collect()
    return sorted((r.text, r.ingest_batch) for r in rows)


def _rows(start, count):
    return [(f"doc {i}", "a" if i % 2 else "b", i) for i in range(start, start + count)]


@pytest.mark.parametrize("cdf", [False, True], ids=["appends", "change-data-feed"])
def test_three_appended_versions_in_three_incremental_runs(spark, make_settings, tmp_path, cdf):
    table = tmp_path / "src"
    _append(spark, table, _rows(0, 3), mode="overwrite")
    if cdf:
        spark.sql(f"ALTER TABLE delta.`{table}` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)")
    settings = delta_source_settings(make_settings, table)
    seen = []
    for run, start in enumerate([0, 3, 5]):
        if run:
            _append(spark, table, _rows(start, 2))
            if run == 1:
                spark.sql(f"OPTIMIZE delta.`{table}`")  # rearranges files, changes no row: not re-read
        batch_settings = settings.model_copy(deep=True)
        batch_settings.ingest.batch = f"b{run}"
        run_id = ingest(spark, batch_settings)
        new = [f"doc {i}" for i in range(start, start + (3 if run == 0 else 2))]
        stage = metrics_by_stage(spark, settings, run_id)["ingest/dt"]
        assert (stage.rows_in, stage.rows_out) == (len(new), len(new))
        expected_mode = "snapshot" if run == 0 else ("cdf" if cdf else "appends")
        assert stage.details["read"] == expected_mode
        seen += [(t, f"b{run}") for t in new]
        assert _bronze(spark, settings) == sorted(seen)

    rerun = settings.model_copy(deep=True)
    rerun.ingest.batch = "b1"  # a retry of the second batch: the same versions, the same rows
    _append(spark, table, _rows(7, 1))
    ingest(spark, rerun)
    assert _bronze(spark, settings) == sorted(seen)

    quiet = settings.model_copy(deep=True)
    quiet.ingest.batch = "b3"
    ingest(spark, quiet)  # doc 7 only
    again = settings.model_copy(deep=True)
    again.ingest.batch = "b4"
    run_id = ingest(spark, again)  # nothing new: 0 rows, success
    assert metrics_by_stage(spark, settings, run_id)["ingest/dt"].rows_in == 0
    assert _bronze(spark, settings) == sorted([*seen, ("doc 7", "b3")])


def test_auto_batches_are_named_by_the_versions_read(spark, make_settings, tmp_path):
    table = tmp_path / "src"
    # partitioned by the label, with values that need escaping in folder names and the log
    rows = [("doc 0", "a/b%", 0), ("doc 1", "x y", 1), ("doc 2", "a/b%", 2), ("doc 3", "c", 3)]
    _append(spark, table, rows[:2], mode="overwrite", partition_by=["y"])
    settings = delta_source_settings(make_settings, table)
    ingest(spark, settings)
    _append(spark, table, rows[2:])
    ingest(spark, settings)
    batches = {b for _, b in _bronze(spark, settings)}
    assert len(batches) == 2 and all(b.startswith("auto-") for b in batches)
    got = sorted((r.text, r.label, r.source_line) for r in read_table(spark, settings.tables.bronze).collect())
    assert got == [(doc, label, 1) for doc, label, _ in rows]


@pytest.mark.parametrize(
    ("rewrite", "refreshed"),
    [
        (lambda spark, table: _append(spark, table, [("doc 9", "a", 9)], mode="overwrite"), [("doc 9", "a")]),
        (
            lambda spark, table: spark.sql(
                f"MERGE INTO delta.`{table}` t USING (SELECT 'doc 0' AS doc, 'z' AS y) s ON t.doc = s.doc "
                "WHEN MATCHED THEN UPDATE SET t.y = s.y"
            ),
            [("doc 0", "z")],
        ),
    ],
    ids=["overwrite", "merge-update"],
)
def test_a_rewrite_is_detected_and_full_refresh_re_ingests(spark, make_settings, tmp_path, capsys, rewrite, refreshed):
    table = tmp_path / "src"
    _append(spark, table, _rows(0, 2), mode="overwrite")
    settings = delta_source_settings(make_settings, table, "ingest.batch=first")
    ingest(spark, settings)
    rewrite(spark, table)
    second = settings.model_copy(deep=True)
    second.ingest.batch = "second"
    assert run_one("ingest", second, spark, new_run_id("ingest")) == EXIT_CONFIG
    message = capsys.readouterr().err
    assert "ingest.sources.dt.full_refresh" in message and "rewritten at version 1" in message
    assert "full_refresh=true" in message
    assert {b for _, b in _bronze(spark, settings)} == {"first"}  # nothing written

    second.ingest.sources["dt"].full_refresh = True
    run_id = ingest(spark, second)
    # the whole current version is read again; a row whose content is unchanged is already
    # in bronze (filtered as already_ingested), a changed or new one lands in this batch
    bronze = read_table(spark, settings.tables.bronze).where("ingest_batch = 'second'").collect()
    assert sorted((r.text, r.label) for r in bronze) == refreshed
    stage = metrics_by_stage(spark, settings, run_id)["ingest/dt"]
    assert stage.rows_in == read_table(spark, str(table)).count()


def test_a_catalog_table_is_a_delta_source(spark, make_settings, tmp_path):
    spark.sql("DROP TABLE IF EXISTS default.refinery_src_t")
    spark.createDataFrame(_rows(0, 2), "doc string, y string, n long").write.format("delta").option(
        "path", str(tmp_path / "catalog_t")
    ).saveAsTable("default.refinery_src_t")
    try:
        settings = delta_source_settings(make_settings, "catalog:default.refinery_src_t", "ingest.batch=c1")
        ingest(spark, settings)
        spark.createDataFrame(_rows(2, 1), "doc string, y string, n long").write.format("delta").mode(
            "append"
        ).saveAsTable("default.refinery_src_t")
        later = settings.model_copy(deep=True)
        later.ingest.batch = "c2"
        ingest(spark, later)
        assert _bronze(spark, settings) == [("doc 0", "c1"), ("doc 1", "c1"), ("doc 2", "c2")]
        meta = read_table(spark, settings.tables.bronze).where("text = 'doc 2'").first().meta
        assert meta == {"n": "2"}
    finally:
        spark.sql("DROP TABLE IF EXISTS default.refinery_src_t")


def test_a_missing_catalog_table_is_a_config_error(spark, make_settings, capsys):
    settings = delta_source_settings(make_settings, "catalog:default.no_such_table")
    assert run_one("ingest", settings, spark, new_run_id("ingest")) == EXIT_CONFIG
    assert "ingest.sources.dt.path" in capsys.readouterr().err


def test_a_change_data_feed_enabled_mid_range_falls_back_to_appends(spark, make_settings, tmp_path):
    table = tmp_path / "src"
    _append(spark, table, _rows(0, 1), mode="overwrite")
    settings = delta_source_settings(make_settings, table, "ingest.batch=b0")
    ingest(spark, settings)
    _append(spark, table, _rows(1, 1))  # version 1: before the feed records changes
    spark.sql(f"ALTER TABLE delta.`{table}` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)")
    _append(spark, table, _rows(2, 1))
    modes = []
    for batch in ("b1", "b2"):
        if batch == "b2":
            _append(spark, table, _rows(3, 1))
        later = settings.model_copy(deep=True)
        later.ingest.batch = batch
        modes.append(metrics_by_stage(spark, settings, ingest(spark, later))["ingest/dt"].details["read"])
    assert modes == ["appends", "cdf"]
    assert _bronze(spark, settings) == [("doc 0", "b0"), ("doc 1", "b1"), ("doc 2", "b1"), ("doc 3", "b2")]
