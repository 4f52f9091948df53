"""Shared fixtures: one real SparkSession with the real Delta jars for the whole run, and
settings whose tables live in a fresh temporary folder per test; the tier markers. Helpers
live in :mod:`tests.support`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from refinery.config import Settings, load_settings
from tests.support.paths import ROOT
from tests.support.settings import settings_in

os.environ.setdefault("REFINERY_HOME", str(ROOT))

#: Tier folder under tests/ → the markers its tests get; ``slow`` means "spark or e2e".
TIER_MARKERS = {"unit": ("unit",), "spark": ("spark", "slow"), "e2e": ("e2e", "slow")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by the tier folder it lives in (``tests/<tier>/...``)."""
    tests = Path(__file__).resolve().parent
    for item in items:
        try:
            tier = item.path.resolve().relative_to(tests).parts[0]
        except ValueError:
            continue
        for name in TIER_MARKERS.get(tier, ()):
            item.add_marker(name)


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
        return settings_in(tmp_path, *overrides, conf=conf)

    return factory


@pytest.fixture(scope="session")
def audit_run(tmp_path_factory: pytest.TempPathFactory):
    """One DEBUG ``refinery pipeline`` process over the bad-input corpus, the PII corpora and 300
    SMS messages, shared by the bad-input and PII-leak audits (:mod:`tests.support.audit_run`)."""
    from tests.support.audit_run import run_audit_pipeline

    return run_audit_pipeline(tmp_path_factory.mktemp("audit"))
