"""Unit tests of :mod:`refinery.ingest.settings`: encodings, ``only``, batch names and the source
settings (format, delimiter, ``label_from_path``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from refinery.config import load_settings
from tests.support.config_files import LOCAL, config_error, write_yaml


def test_unknown_encoding_is_named() -> None:
    message = config_error([LOCAL], ["ingest.sources.thucnews.encoding=no-such-codec"])
    assert "ingest.sources.thucnews.encoding" in message
    assert "no-such-codec" in message


def test_unknown_fallback_encoding_is_named() -> None:
    message = config_error([LOCAL], ["ingest.sources.ag_news.fallback_encoding=klingon"])
    assert "ingest.sources.ag_news.fallback_encoding" in message


def test_only_naming_a_missing_source_is_rejected() -> None:
    message = config_error([LOCAL], ["ingest.only=[ag_news, no_such_source]"])
    assert "no_such_source" in message
    assert "ingest" in message


@pytest.mark.parametrize("batch", ["has space", "semi;colon", "", "x" * 129, "slash/name"])
def test_bad_batch_name_is_rejected(batch: str) -> None:
    assert "ingest.batch" in config_error([LOCAL], [f"ingest.batch='{batch}'"])


@pytest.mark.parametrize("batch", ["auto", "'2026-11-28'", "run_1.2:3+4", "v2"])
def test_good_batch_names_are_accepted(batch: str) -> None:
    assert load_settings([LOCAL], [f"ingest.batch={batch}"]).ingest.batch == batch.strip("'")


def test_date_like_batch_name_is_accepted_unquoted(tmp_path: Path) -> None:
    assert load_settings([LOCAL], ["ingest.batch=2026-11-28"]).ingest.batch == "2026-11-28"
    conf = write_yaml(tmp_path / "b.yaml", {"extends": str(LOCAL)})
    conf.write_text(conf.read_text(encoding="utf-8") + "ingest:\n  batch: 2026-11-28\n", encoding="utf-8")
    assert load_settings([conf]).ingest.batch == "2026-11-28"


def test_bad_source_settings_are_named() -> None:
    assert "ingest.sources.ag_news.format" in config_error([LOCAL], ["ingest.sources.ag_news.format=xml"])
    message = config_error([LOCAL], ["ingest.sources.ag_news.delimiter=';;'"])
    assert "ingest.sources.ag_news" in message and "delimiter" in message
    assert "label_from_path" in config_error([LOCAL], ["ingest.sources.ag_news.label_from_path='no groups'"])


def test_default_delimiters() -> None:
    settings = load_settings([LOCAL])
    assert settings.ingest.sources["ag_news"].delimiter == ","
    assert settings.ingest.sources["sms_spam"].delimiter == "\t"
    assert settings.ingest.sources["mr_polarity"].delimiter is None
