"""Pure parts of :mod:`refinery.spark.committed` (no Spark): the error that names the setting to
fix; the commits themselves are ``tests/spark/test_committed.py``."""

from __future__ import annotations

import pytest

from refinery.spark.committed import (
    Commit,
    CommitCountError,
)


def test_a_commit_without_row_metrics_names_the_setting_to_fix():
    commit = Commit("/tables/x", before=3, version=4, operation="WRITE", metrics={})
    with pytest.raises(CommitCountError, match="metricsEnabled"):
        _ = commit.rows_written
    assert Commit("/tables/x", before=3).rows_written == 0
    merge = Commit("/t", 0, 1, "MERGE", {"numTargetRowsInserted": 2, "numTargetRowsMatchedUpdated": 3})
    assert merge.rows_written == 5 and merge.rows_updated == 3
