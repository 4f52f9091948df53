"""What the configuration tests share: the shipped local overlay, table paths, a YAML writer,
``config_error`` (the message of a :class:`ConfigError`) and a rules file with one bad rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from refinery.config import TABLE_NAMES, ConfigError, load_settings
from tests.support.paths import ROOT

LOCAL = ROOT / "conf" / "local.yaml"
TABLES = {name: f"data/{name}" for name in TABLE_NAMES}


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def config_error(conf_files: list, overrides: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(conf_files, overrides)
    return str(info.value)


BAD_RULE = {
    "rules": [
        {"name": "fine", "severity": "flag", "require": [{"field": "label", "in": ["a"]}]},
        {"name": "short_reviews", "severity": "block", "require": [{"field": "n_chars", "ge": "eight"}]},
    ]
}
