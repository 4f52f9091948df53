"""Unit tests of :mod:`refinery.select.settings`: one budget over all rows unless grouped."""

from __future__ import annotations

from refinery.config import load_settings
from tests.support.config_files import LOCAL


def test_select_budget_is_one_over_all_rows_unless_grouped() -> None:
    assert load_settings([LOCAL]).select.group_by is None  # one budget ranked over every source
    assert load_settings([LOCAL], ["select.group_by=source"]).select.group_by == "source"
