"""Unit tests of :mod:`refinery.config.paths`: table paths made absolute, ``resolve_path``, and the
rules file found from the working directory or ``REFINERY_HOME``."""

from __future__ import annotations

from pathlib import Path

import pytest

from refinery.config import load_settings, resolve_path
from tests.support.config_files import LOCAL, TABLES, config_error, write_yaml
from tests.support.paths import ROOT


def test_relative_table_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = write_yaml(
        tmp_path / "conf" / "t.yaml",
        {"tables": {**TABLES, "gold": "s3a://bucket/gold", "metrics": "catalog:db.metrics"}},
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings([conf])
    assert settings.tables.bronze == str((tmp_path / "data" / "bronze").resolve())
    assert Path(settings.tables.silver).is_absolute()
    assert settings.tables.gold == "s3a://bucket/gold"
    assert settings.tables.metrics == "catalog:db.metrics"


def test_resolve_path() -> None:
    assert resolve_path("x/y", "/base") == "/base/x/y"
    assert resolve_path("/abs/p", "/base") == "/abs/p"
    assert resolve_path("hdfs://nn/p", "/base") == "hdfs://nn/p"
    assert resolve_path("file:/p", "/base") == "file:/p"


def test_a_relative_rules_path_is_found_from_refinery_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REFINERY_HOME", str(ROOT))
    assert load_settings([LOCAL]).clean.rules.origin == str(ROOT / "conf" / "rules.yaml")
    write_yaml(tmp_path / "conf" / "rules.yaml", {"rules": []})  # the working directory wins
    assert load_settings([LOCAL]).clean.rules.origin == str(tmp_path / "conf" / "rules.yaml")
    message = config_error([LOCAL], ["clean.rules=conf/absent.yaml"])
    assert "config key 'clean.rules': no rules file at" in message
    assert str(tmp_path / "conf" / "absent.yaml") in message and str(ROOT / "conf" / "absent.yaml") in message
