"""Unit tests of :mod:`refinery.runtime.metrics`: :class:`StageMetrics` reconciliation and
``merge_reasons``."""

from __future__ import annotations

import pytest

from refinery.runtime.metrics import StageMetrics, merge_reasons

# --------------------------------------------------------------------------------------------
# StageMetrics


def test_stage_metrics_reconciled() -> None:
    good = StageMetrics(
        "ingest", rows_in=10, rows_out=6, quarantined_by_reason={"a": 2, "b": 1}, filtered_by_reason={"c": 1}
    )
    assert good.rows_quarantined == 3
    assert good.rows_filtered == 1
    assert good.reconciled
    lost = StageMetrics(
        "ingest", rows_in=11, rows_out=6, quarantined_by_reason={"a": 2, "b": 1}, filtered_by_reason={"c": 1}
    )
    assert not lost.reconciled
    invented = StageMetrics("ingest", rows_in=9, rows_out=9, quarantined_by_reason={"a": 1})
    assert not invented.reconciled


def test_stage_metrics_from_outcomes_aggregates() -> None:
    counts = [
        ("ok", None, 5),
        ("quarantine", "empty_text", 2),
        ("quarantine", "empty_text", 1),
        ("quarantine", None, 4),
        ("filter", "blank_line", 3),
        ("ok", None, 1),
    ]
    metrics = StageMetrics.from_outcomes("ingest", counts, seconds=1.5)
    assert metrics.stage == "ingest"
    assert metrics.rows_in == 16
    assert metrics.rows_out == 6
    assert metrics.quarantined_by_reason == {"empty_text": 3, "unknown": 4}
    assert metrics.filtered_by_reason == {"blank_line": 3}
    assert metrics.seconds == 1.5
    assert metrics.reconciled


def test_stage_metrics_rows_in_mismatch_is_not_reconciled() -> None:
    counts = [("ok", None, 5), ("quarantine", "x", 1)]
    assert StageMetrics.from_outcomes("s", counts, rows_in=6).reconciled
    assert not StageMetrics.from_outcomes("s", counts, rows_in=7).reconciled
    assert not StageMetrics.from_outcomes("s", counts, rows_in=5).reconciled


def test_stage_metrics_unknown_outcome_raises() -> None:
    with pytest.raises(ValueError, match="bogus"):
        StageMetrics.from_outcomes("s", [("bogus", None, 1)])


def test_merge_reasons() -> None:
    assert merge_reasons({"b": 1, "a": 2}, {"a": 3}, {}) == {"a": 5, "b": 1}
    assert list(merge_reasons({"z": 1, "a": 1})) == ["a", "z"]
