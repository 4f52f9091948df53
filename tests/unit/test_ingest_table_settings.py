"""Delta sources' settings errors, without Spark: a folder that is no Delta table, several paths,
full_refresh on another format. Reading Delta sources is tests/spark/test_ingest_tables.py."""

from __future__ import annotations

import pytest

from refinery.config import ConfigError
from refinery.ingest.locations import source_locations
from tests.support.settings import delta_source_settings


def test_a_folder_without_delta_log_is_a_config_error(make_settings, tmp_path):
    (tmp_path / "plain").mkdir()
    settings = delta_source_settings(make_settings, tmp_path / "plain")
    with pytest.raises(ConfigError, match=r"ingest\.sources\.dt\.path.*no Delta table"):
        source_locations(settings.ingest)


def test_delta_takes_one_path_and_full_refresh_only_delta(make_settings):
    with pytest.raises(ConfigError, match="format delta reads one table"):
        make_settings("ingest.sources.dt.path=[a, b]", "ingest.sources.dt.format=delta")
    with pytest.raises(ConfigError, match="full_refresh applies to format: delta only"):
        make_settings(
            "ingest.sources.p.path=a", "ingest.sources.p.format=parquet", "ingest.sources.p.full_refresh=true"
        )
