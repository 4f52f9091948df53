"""The session's settings without a session: missing jars, the classpath, cluster mode without a
master, Arrow's byte cap; the live session is ``tests/spark/test_session.py``."""

from __future__ import annotations

import pytest

from refinery.config import ConfigError, SparkSettings
from refinery.spark.session import delta_jars, session_conf


def test_missing_jars_name_the_key_and_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"spark\.jars_dir.*make jars"):
        delta_jars(tmp_path)


def test_session_conf_puts_the_resolved_delta_jars_on_the_classpath():
    conf = session_conf(SparkSettings(local_cores=3, shuffle_partitions=7))
    jars = conf["spark.jars"].split(",")
    assert any("delta-spark_4.1_2.13-" in jar for jar in jars) and any("delta-storage-" in jar for jar in jars)
    assert conf["spark.master"] == "local[3]" and conf["spark.sql.shuffle.partitions"] == "7"


def test_cluster_mode_without_a_master_fails_fast_naming_the_key(monkeypatch):
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    with pytest.raises(ConfigError, match=r"spark\.master"):
        session_conf(SparkSettings(mode="cluster"))
    conf = session_conf(SparkSettings(mode="cluster", master="spark://127.0.0.1:7077"))
    assert conf["spark.master"] == "spark://127.0.0.1:7077"


def test_python_batch_mb_sets_arrows_byte_cap():
    conf = session_conf(SparkSettings(python_batch_mb=16))
    assert conf["spark.sql.execution.arrow.maxBytesPerBatch"] == str(16 << 20)
