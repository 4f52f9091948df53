"""The one SparkSession builder: Delta, UTC, Arrow and local-mode settings are in force."""

from __future__ import annotations

from delta.tables import DeltaTable

from refinery.config import SparkSettings


def test_session_has_delta_utc_and_arrow(spark):
    conf = spark.conf
    assert conf.get("spark.sql.extensions") == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf.get("spark.sql.catalog.spark_catalog") == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert spark.sparkContext.master == "local[2]"
    assert spark.sql("SELECT current_timezone() AS tz").first().tz == "UTC"


def test_delta_round_trip_with_time_travel(spark, tmp_path):
    path = str(tmp_path / "t")
    spark.range(3).write.format("delta").save(path)
    spark.range(5).write.format("delta").mode("overwrite").save(path)
    assert spark.read.format("delta").load(path).count() == 5
    assert spark.read.format("delta").option("versionAsOf", 0).load(path).count() == 3
    assert DeltaTable.isDeltaTable(spark, path)
    assert not DeltaTable.isDeltaTable(spark, str(tmp_path))


def test_python_workers_get_arrow_batches_bounded_in_bytes_not_rows(spark):
    # 1,200 rows of 20 kB: 24 MB, far under the 10,000-row cap, so only the byte cap
    # (spark.python_batch_mb, 4 MiB by default) can cut it into batches.
    def batch_sizes(batches):
        import pandas as pd

        for batch in batches:
            yield pd.DataFrame({"rows": [len(batch)], "chars": [int(batch["text"].str.len().sum())]})

    rows = spark.range(1200).selectExpr("id", "repeat('文', 20000 DIV 3) AS text").coalesce(1)
    sizes = rows.mapInPandas(batch_sizes, "rows long, chars long").collect()
    limit = SparkSettings().python_batch_mb << 20
    assert sum(s.rows for s in sizes) == 1200 and len(sizes) > 1
    assert max(s.chars * 3 for s in sizes) <= limit + 20000  # UTF-8: 3 bytes a character
