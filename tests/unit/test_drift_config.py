"""The drift job's config errors and its reference-window choice, without Spark; the job on real
tables is ``tests/spark/test_drift_job.py``."""

from __future__ import annotations

from collections import Counter

from refinery.config import load_settings
from refinery.drift.comparisons import compare_groups
from refinery.drift.windows import Window
from refinery.runtime.runner import EXIT_CONFIG, main_for
from tests.support.paths import ROOT

LOCAL_CONF = ROOT / "conf" / "local.yaml"


#: local.yaml windows by batch (its demo corpora have no timestamps); the series is weekly.
WEEKLY = "drift.window=week"


def test_bad_drift_config_exits_2_before_spark_starts(capsys):
    code = main_for(
        "drift", ["--conf", str(LOCAL_CONF), "--set", "drift.window=fortnight", "--set", "drift.thresholds.kl=0"]
    )
    err = capsys.readouterr().err
    assert code == EXIT_CONFIG and "drift.window" in err and "drift.thresholds.kl" in err


def windows_of(*counts: dict[str, int]) -> list[Window]:
    return [
        Window("g", f"2024-W{i + 1:02d}", "", "", sum(c.values()), sum(c.values()), counts={"label": Counter(c)})
        for i, c in enumerate(counts)
    ]


def test_reference_first_skips_windows_under_min_rows_and_a_named_one_is_used():
    small, big, shifted = {"a": 10, "b": 10}, {"a": 300, "b": 300}, {"a": 500, "b": 100}
    settings = load_settings([LOCAL_CONF], [WEEKLY, "drift.distributions=[label]"])
    comparisons, _ = compare_groups({"g": windows_of(small, big, shifted)}, {}, settings.drift)
    reference = [c for c in comparisons if c.baseline == "reference"]
    assert [(c.window, c.baseline_window) for c in reference] == [("2024-W01", "2024-W02"), ("2024-W03", "2024-W02")]
    assert not reference[0].alertable and reference[1].alerts  # the small window never alerts
    named = load_settings([LOCAL_CONF], [WEEKLY, "drift.distributions=[label]", "drift.reference=2024-W03"]).drift
    comparisons, _ = compare_groups({"g": windows_of(small, big, shifted)}, {}, named)
    assert {c.baseline_window for c in comparisons if c.baseline == "reference"} == {"2024-W03"}
    none = load_settings([LOCAL_CONF], [WEEKLY, "drift.distributions=[label]", "drift.reference=none"]).drift
    comparisons, notes = compare_groups({"g": windows_of(small, big, shifted), "h": windows_of(big)}, {}, none)
    assert {c.baseline for c in comparisons} == {"previous"} and len(comparisons) == 2
    assert notes == ["h: one window, nothing to compare"]
