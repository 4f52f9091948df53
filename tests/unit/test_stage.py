"""The stage recorder (refinery.runtime.stage) and the typed details records, without Spark."""

from __future__ import annotations

import pytest

from refinery.clean.details import CleanDetails, RuleTally
from refinery.drift.details import DriftRunDetails, DriftStatisticDetails, DriftWindowDetails
from refinery.rebalance.details import RebalanceDetails
from refinery.runtime import stage as stage_module
from refinery.runtime.stage import stage


@pytest.fixture
def released(monkeypatch) -> list:
    """The frames the stages released (Spark's release replaced by a recorder)."""
    freed: list = []
    monkeypatch.setattr("refinery.spark.checkpoint.release", lambda *frames: freed.extend(frames))
    return freed


def test_a_stage_counts_times_and_details(released):
    with stage(None, "clean") as s:
        s.rows_in = 10
        s.out(6)
        s.quarantined("bad_json", 1)
        s.outcomes([("quarantine", "bad_json", 1), ("filter", "empty", 2)])
        s.details = {"lang.en": "6"}
    row = s.metrics
    assert (row.stage, row.rows_in, row.rows_out) == ("clean", 10, 6)
    assert row.quarantined_by_reason == {"bad_json": 2} and row.filtered_by_reason == {"empty": 2}
    assert row.reconciled and row.details == {"lang.en": "6"} and not row.quiet
    assert row.seconds is not None and row.seconds >= 0 and s.metrics.seconds == row.seconds  # stopped at exit


def test_an_independent_input_count_can_fail_to_reconcile(released):
    with stage(None, "dedup") as s:
        s.rows_in = 5
        s.out(4)
    assert not s.metrics.reconciled
    with stage(None, "dedup") as s:
        s.out(4)
    assert s.metrics.rows_in == 4  # no input count: the outcomes' total


def test_held_frames_are_released_at_exit_and_on_error(released):
    with stage(None, "score") as s:
        assert s.keep("a") == "a"
        s.held.append("b")  # a helper that stores frames itself
    assert released == ["a", "b"]
    with pytest.raises(RuntimeError), stage(None, "score") as s:
        s.keep("c")
        raise RuntimeError("boom")
    assert released == ["a", "b", "c"] and s.held == []


def test_typed_details_and_extra_rows(released):
    with stage(None, "ingest") as s:
        s.out(3)
        s.details = RebalanceDetails(silver_version=2, gold_rows=3)
        s.child("ingest/a", [("ok", None, 3)], rows_in=3, details={"format": "jsonl"})
    first, child = s.stages
    assert first.details == {"silver_version": "2", "gold_rows": "3"}
    assert (child.stage, child.rows_in, child.seconds, child.details) == ("ingest/a", 3, None, {"format": "jsonl"})


def test_a_stage_without_a_context_times_no_phases(released):
    with stage(None, "x") as s, pytest.raises(ValueError), s.phase("merge"):
        pass
    assert stage_module.Stage("y").elapsed >= 0


def test_clean_details_spell_each_key_once_and_read_back():
    details = CleanDetails(
        languages={"zh": 5, "en": 7},
        pii={"EMAIL": 2},
        normalize={"nfkc": 4},
        rules={"too_short": RuleTally("blocked", 3), "has_html": RuleTally("flagged", 0)},
        rules_flagged_rows=0,
        quality={"mojibake": RuleTally("drop", 1), "en.v2": RuleTally("flag", 2)},
        quality_flagged_rows=3,
        quality_dropped_rows=1,
        cpu_ns_per_doc={"normalize": 10, "total": 30},
        cpu_total_ms=4,
    )
    mapped = details.to_map()
    assert list(mapped)[:2] == ["lang.en", "lang.zh"]  # languages first, then by key
    assert mapped["rule.too_short.blocked"] == "3" and mapped["quality.mojibake.dropped"] == "1"
    assert mapped["quality.en.v2.flagged"] == "2" and mapped["rules.flagged_rows"] == "0"
    assert list(mapped)[-3:] == ["cpu.normalize.ns_per_doc", "cpu.total.ns_per_doc", "cpu.total.ms"]
    assert CleanDetails.from_map(mapped) == details
    assert CleanDetails.from_map({"quality.signals.seconds": "1.5", "other": "x"}) == CleanDetails()


def test_rebalance_details_read_back():
    details = RebalanceDetails(
        silver_version=3,
        before={"g/a/en": 10, "g/b": 2},
        after={"g/a/en": 7, "g/b": 2},
        weights={"g/a": 1.5},
        gold_rows=9,
        copies_added=0,
        filters_skipped=["noisy (no silver column is_noisy)", "duplicate (no silver column dup_of)"],
    )
    mapped = details.to_map()
    assert list(mapped)[:5] == ["silver_version", "before.g/a/en", "after.g/a/en", "before.g/b", "after.g/b"]
    assert mapped["weight.g/a"] == "1.5" and mapped["filters_skipped"].count("; ") == 1
    assert RebalanceDetails.from_map(mapped) == details


def test_drift_details_read_back():
    run = DriftRunDetails(
        silver_version=4,
        window="week",
        reference="previous",
        distributions=["label", "lang"],
        smoothing=0.5,
        min_rows=30,
        groups=1,
        windows=3,
        comparisons=6,
        alerts=1,
        alert_windows=["all/2024-01-08"],
        thresholds={"kl": 0.1, "js": None, "psi": 0.2, "p_value": 0.01},
        last_windows=3,
        windows_before=7,
        notes=["one note", "another"],
    )
    mapped = run.to_map()
    assert mapped["kind"] == "run" and mapped["group_by"] == "null" and mapped["threshold.js"] == "none"
    assert mapped["note"] == "one note; another" and mapped["fail_on_alert"] == "false"
    assert DriftRunDetails.from_map(mapped) == run
    window = DriftWindowDetails(
        group="all", window="w1", window_start="a", window_end="b", rows=5, labelled=4,
        counts={"label": {"x": 3, "y": 1}, "lang": {"zh": 5}}, scored=4, confidence_mean=0.25, noisy_share=0.5,
        alerts=["label/kl/previous"],
    )  # fmt: skip
    mapped = window.to_map()
    assert mapped["label.x"] == "3" and mapped["alert"] == "true" and mapped["confidence_mean"] == "0.25"
    assert DriftWindowDetails.from_map(mapped) == window
    value = DriftStatisticDetails(
        group="all", window="w1", distribution="label", statistic="p_value", baseline="previous", value=0.123456789,
        threshold=0.01, direction="below", alert=False, alertable=True, n_window=5, n_baseline=6, categories=2,
        chi2=1.5, dof=1, pooled=0,
    )  # fmt: skip
    mapped = value.to_map()
    assert mapped["value"] == "0.123457" and mapped["dof"] == "1" and "smoothing" not in mapped
    assert DriftStatisticDetails.from_map(mapped) == DriftStatisticDetails(**{**value.__dict__, "value": 0.123457})
