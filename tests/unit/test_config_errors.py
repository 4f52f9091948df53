"""Unit tests of :mod:`refinery.config.errors`: validation errors name the dotted key, and the CLI
exits 2 on a configuration error before Spark starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.config_files import BAD_RULE, LOCAL, TABLES, config_error, write_yaml
from tests.support.paths import ROOT

# --------------------------------------------------------------------------------------------
# Validation errors name the key


def test_unknown_key_is_named(tmp_path: Path) -> None:
    conf = write_yaml(tmp_path / "bad.yaml", {"extends": str(LOCAL), "spark": {"shufle_partitions": 8}})
    message = config_error([conf])
    assert "spark.shufle_partitions" in message
    assert "spelling" in message


def test_wrong_type_from_set_is_named() -> None:
    message = config_error([LOCAL], ["spark.shuffle_partitions=abc"])
    assert "spark.shuffle_partitions" in message


def test_out_of_range_value_is_named() -> None:
    assert "spark.local_cores" in config_error([LOCAL], ["spark.local_cores=0"])


def test_missing_table_path_is_named(tmp_path: Path) -> None:
    tables = {k: v for k, v in TABLES.items() if k != "bronze"}
    conf = write_yaml(tmp_path / "no_bronze.yaml", {"tables": tables})
    message = config_error([conf])
    assert "tables.bronze" in message
    assert "tables.silver" not in message


def test_empty_table_path_is_rejected() -> None:
    assert "tables.gold" in config_error([LOCAL], ["tables.gold=' '"])


# --------------------------------------------------------------------------------------------
# CLI: configuration errors exit 2 before Spark starts


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "refinery.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = write_yaml(tmp_path / "bad.yaml", {"extends": str(LOCAL), "spark": {"shufle_partitions": 8}})
    result = run_cli("ingest", "--conf", str(bad))
    assert result.returncode == 2, result.stderr
    assert "spark.shufle_partitions" in result.stderr
    assert "refinery ingest" in result.stderr


def test_cli_bad_set_exits_2_naming_the_key() -> None:
    result = run_cli("ingest", "--conf", str(LOCAL), "--set", "spark.shuffle_partitions=abc")
    assert result.returncode == 2, result.stderr
    assert "spark.shuffle_partitions" in result.stderr


def test_cli_invalid_rule_exits_2_naming_the_rule(tmp_path: Path) -> None:
    rules = write_yaml(tmp_path / "rules.yaml", BAD_RULE)
    result = run_cli("clean", "--conf", str(LOCAL), "--set", f"clean.rules={rules}")
    assert result.returncode == 2, result.stderr
    assert "refinery clean" in result.stderr and "rule 'short_reviews'" in result.stderr
    assert "Traceback" not in result.stderr and "SparkSession" not in result.stderr
