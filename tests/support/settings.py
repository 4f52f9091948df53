"""Settings for a test whose tables live in a folder of its own."""

from __future__ import annotations

from pathlib import Path

from refinery.config import TABLE_NAMES, Settings, load_settings
from tests.support.paths import ROOT, corpora_dir


def settings_in(folder: Path, *overrides: str, conf: str = "conf/local.yaml") -> Settings:
    """``conf`` with every table under ``folder/tables``, the shared corpora as input root and
    two shuffle partitions, then ``overrides`` (the ``make_settings`` fixture's settings, for
    module-scoped fixtures that build on a ``tmp_path_factory`` folder)."""
    base = [f"tables.{name}={folder / 'tables' / name}" for name in TABLE_NAMES]
    base += [f"ingest.input_root={corpora_dir()}", "spark.shuffle_partitions=2"]
    return load_settings([ROOT / conf], base + list(overrides))


def delta_source_settings(make_settings, path, *extra: str) -> Settings:
    """Settings whose only ingest source ``dt`` is the Delta table at ``path`` (text column
    ``doc``, label ``y``), then ``extra`` overrides."""
    return make_settings(
        f"ingest.sources.dt.path={path}",
        "ingest.sources.dt.format=delta",
        'ingest.sources.dt.columns={"text": "doc", "label": "y"}',
        "ingest.only=[dt]",
        *extra,
    )
