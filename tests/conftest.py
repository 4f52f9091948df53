"""Shared fixtures: one real SparkSession with the real Delta jars per test process, and
settings whose tables live in a fresh temporary folder per test; the tier markers and how the
tests are shared among ``pytest -n`` workers (pytest-xdist). Helpers live in :mod:`tests.support`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from refinery.config import Settings, load_settings
from tests.support.jvm_options import INTERPRETED_SQL, SUBPROCESS_JVM_OPTIONS
from tests.support.paths import ROOT
from tests.support.settings import settings_in

os.environ.setdefault("REFINERY_HOME", str(ROOT))
# every JVM reads JAVA_TOOL_OPTIONS (and says so in one "Picked up" line on stderr)
os.environ.setdefault("JAVA_TOOL_OPTIONS", SUBPROCESS_JVM_OPTIONS)

#: Tier folder under tests/ → the markers its tests get; ``slow`` means "spark or e2e".
TIER_MARKERS = {"unit": ("unit",), "spark": ("spark", "slow"), "e2e": ("e2e", "slow")}
#: The order tiers are handed to workers: the longest units of work first, so that no
#: whole-pipeline module starts last while the other worker sits idle.
TIER_ORDER = ("e2e", "spark", "unit")
#: Modules that share a session fixture, so one worker runs them all (the fixture runs once).
SHARED_GROUPS = {
    "tests/e2e/reliability/test_bad_input.py": "audit_run",
    "tests/e2e/reliability/test_pii_leak.py": "audit_run",
}


def _tier(item: pytest.Item, tests: Path) -> str:
    try:
        return item.path.resolve().relative_to(tests).parts[0]
    except ValueError:
        return ""


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups set here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by the tier folder it lives in (``tests/<tier>/...``); give each module
    one ``xdist_group`` (its module fixtures are built once, in one worker, under
    ``--dist loadgroup``) and hand out the slow tiers first."""
    tests = Path(__file__).resolve().parent
    rank = {tier: k for k, tier in enumerate(TIER_ORDER)}
    order: dict[str, int] = {}
    for item in items:
        tier = _tier(item, tests)
        order[item.nodeid] = rank.get(tier, len(rank))
        for name in TIER_MARKERS.get(tier, ()):
            item.add_marker(name)
        module = item.path.resolve().relative_to(tests.parent).as_posix() if tier else item.nodeid
        item.add_marker(pytest.mark.xdist_group(SHARED_GROUPS.get(module, module)))
    items.sort(key=lambda item: order[item.nodeid])  # stable within a tier


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession built by refinery's own builder (Delta configured), with the
    default JIT (it runs every in-process test) and interpreted SQL."""
    from refinery.spark.session import build_spark

    settings = load_settings([ROOT / "conf" / "local.yaml"], ["spark.shuffle_partitions=2", "spark.progress_bar=false"])
    with pytest.MonkeyPatch.context() as patch:
        if os.environ.get("JAVA_TOOL_OPTIONS") == SUBPROCESS_JVM_OPTIONS:
            patch.delenv("JAVA_TOOL_OPTIONS")  # this JVM runs every in-process test: C2 pays off
        session = build_spark(settings.spark, "refinery-tests")
    for key, value in INTERPRETED_SQL.items():  # tests.support.jvm_options says why
        session.conf.set(key, value)
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
