"""Typed, validated configuration: YAML files, overlays and ``--set`` overrides.

A run's configuration is built in three layers, later ones winning:

1. the YAML files given with ``--conf`` (each may name a parent with ``extends:``, a path
   relative to itself, so ``conf/local.yaml`` pulls in ``conf/base.yaml``);
2. repeated ``--set dotted.key=value`` overrides, where ``value`` is read as a YAML scalar
   (``--set spark.shuffle_partitions=8`` gives an int, ``--set ingest.only=[sms]`` a list);
3. validation by the pydantic models, which refuse unknown keys and wrong types.

Any problem raises :class:`ConfigError`, whose message names the dotted key and the fix; the
job runner turns it into exit code 2 before Spark is started.

The package holds the loader (:mod:`.loader`), the error wording (:mod:`.errors`), output
locations and write probes (:mod:`.paths`), the strict base model with the ``spark`` and
``tables`` sections (:mod:`.base`) and the root :class:`Settings` (:mod:`.settings`). Each
feature's section lives beside the feature (``refinery.clean.settings`` …), and its defaults
are stated once: in the model, or, where the pure layer has an options dataclass, there.

The names below are imported on first use: a feature's settings module imports
:mod:`refinery.config.base`, and :mod:`.settings` imports every feature's settings module, so
importing them here at once would make a cycle. Nothing here imports pyspark.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "CATALOG_PREFIX": "paths",
    "ConfigError": "errors",
    "FREEFORM_MAPPINGS": "loader",
    "Settings": "settings",
    "SparkSettings": "base",
    "TABLE_NAMES": "base",
    "TablesSettings": "base",
    "apply_override": "loader",
    "check_writable": "paths",
    "deep_merge": "loader",
    "load_settings": "loader",
    "resolve_path": "paths",
    "rules_file": "paths",
    "validate_settings": "loader",
}

__all__ = [
    "CATALOG_PREFIX",
    "FREEFORM_MAPPINGS",
    "TABLE_NAMES",
    "ConfigError",
    "Settings",
    "SparkSettings",
    "TablesSettings",
    "apply_override",
    "check_writable",
    "deep_merge",
    "load_settings",
    "resolve_path",
    "rules_file",
    "validate_settings",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
    from refinery.config.base import TABLE_NAMES, SparkSettings, TablesSettings
    from refinery.config.errors import ConfigError
    from refinery.config.loader import FREEFORM_MAPPINGS, apply_override, deep_merge, load_settings, validate_settings
    from refinery.config.paths import CATALOG_PREFIX, check_writable, resolve_path, rules_file
    from refinery.config.settings import Settings
