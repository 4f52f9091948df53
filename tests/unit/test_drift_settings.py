"""Unit tests of :mod:`refinery.drift.settings`: defaults, reference forms, and bad drift settings
naming the key."""

from __future__ import annotations

import pytest

from refinery.config import load_settings
from tests.support.config_files import LOCAL, config_error
from tests.support.paths import ROOT

# --------------------------------------------------------------------------------------------
# drift


def test_drift_defaults_and_the_local_overlay() -> None:
    base = load_settings([ROOT / "conf" / "cluster.yaml"]).drift
    assert (base.window, base.reference, base.smoothing, base.min_rows, base.group_by) == (
        "week",
        "first",
        0.5,
        300,
        "source",
    )
    assert base.thresholds.model_dump() == {"kl": 0.1, "js": 0.025, "psi": 0.2, "p_value": 0.01}
    assert (base.last_windows, base.fail_on_alert) == (None, False)  # report every window, exit 0 on alerts
    assert load_settings([LOCAL]).drift.window == "batch"  # the demo corpora have no timestamps


def test_drift_reference_forms() -> None:
    ranged = load_settings([LOCAL], ["drift.reference={start: 2024-01-01, end: 2024-01-31}"]).drift.reference
    assert ranged.label() == "2024-01-01..2024-01-31"
    # YAML reads an unquoted date as a date: it names a day window
    day = load_settings([LOCAL], ["drift.window=day", "drift.reference=2024-01-29"]).drift
    assert day.reference == "2024-01-29"
    assert load_settings([LOCAL], ["drift.window=week", "drift.reference=2024-W05"]).drift.reference == "2024-W05"
    off = load_settings([LOCAL], ["drift.thresholds.p_value=null", "drift.reference=none"]).drift
    assert off.thresholds.p_value is None and off.reference == "none"


@pytest.mark.parametrize(
    ("overrides", "key", "hint"),
    [
        (["drift.window=fortnight"], "drift.window", "'day', 'week', 'month' or 'batch'"),
        (["drift.window=week", "drift.reference=2024-01-29"], "drift.reference", "2024-W05"),
        (["drift.window=month", "drift.reference=2024-W05"], "drift.reference", "2024-01"),
        (["drift.reference={start: 2024-02-01, end: 2024-01-01}"], "drift.reference", "before start"),
        (["drift.reference={start: 2024-02-01}"], "drift.reference", "end: Field required"),
        (["drift.reference=[a, b]"], "drift.reference", "first, none"),
        (["drift.thresholds.kl=0"], "drift.thresholds.kl", "greater than 0"),
        (["drift.thresholds.js=0.9"], "drift.thresholds.js", "less than or equal to 0.69"),
        (["drift.thresholds.p_value=1"], "drift.thresholds.p_value", "less than 1"),
        (["drift.thresholds.chi2=1"], "drift.thresholds.chi2", "remove it"),
        (["drift.smoothing=0"], "drift.smoothing", "greater than 0"),
        (["drift.last_windows=0"], "drift.last_windows", "greater than or equal to 1"),
        (["drift.fail_on_alert=maybe"], "drift.fail_on_alert", "bool"),
        (["drift.min_rows=0"], "drift.min_rows", "greater than or equal to 1"),
        (["drift.distributions=[label, label]"], "drift.distributions", "once"),
        (["drift.distributions=[topic]"], "drift.distributions.0", "'label' or 'lang'"),
    ],
)
def test_bad_drift_settings_name_the_key(overrides: list[str], key: str, hint: str) -> None:
    message = config_error([LOCAL], overrides)
    assert f"config key '{key}'" in message and hint in message
