"""Shared fixtures: one real SparkSession with the real Delta jars for the whole run, and
settings whose tables live in a fresh temporary folder per test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from refinery.config import TABLE_NAMES, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
os.environ.setdefault("REFINERY_HOME", str(ROOT))


def corpora_dir() -> Path:
    """The shared corpora; a missing folder is an error of the checkout, not a skip."""
    if not (CORPORA / "README.md").is_file():
        raise RuntimeError(f"shared corpora not found at {CORPORA}; set REFINERY_CORPORA")
    return CORPORA


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession built by refinery's own builder (Delta configured)."""
    from refinery.spark.session import build_spark

    settings = load_settings([ROOT / "conf" / "local.yaml"], ["spark.shuffle_partitions=2", "spark.progress_bar=false"])
    session = build_spark(settings.spark, "refinery-tests")
    yield session
    session.stop()


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """``make_settings(*overrides, conf="conf/local.yaml")``: settings with every table under
    this test's ``tmp_path`` and the shared corpora as input root."""

    def factory(*overrides: str, conf: str = "conf/local.yaml") -> Settings:
        base = [f"tables.{name}={tmp_path / 'tables' / name}" for name in TABLE_NAMES]
        base += [f"ingest.input_root={corpora_dir()}", "spark.shuffle_partitions=2"]
        return load_settings([ROOT / conf], base + list(overrides))

    return factory
