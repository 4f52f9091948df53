"""Loading: YAML files with their ``extends`` chains, deep merge, ``--set`` overrides, validation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from refinery.config.errors import ConfigError, describe_errors, yaml_problem
from refinery.config.settings import Settings


def load_settings(conf_files: list[str | os.PathLike[str]], overrides: list[str] | None = None) -> Settings:
    """Read ``conf_files`` in order (each with its ``extends`` chain), apply ``overrides``
    (``dotted.key=value``) and validate.

    Raises :class:`ConfigError` naming the key and the fix.
    """
    if not conf_files:
        raise ConfigError("no config file given: pass --conf conf/local.yaml (or another overlay)")
    merged: dict[str, Any] = {}
    for conf_file in conf_files:
        merged = deep_merge(merged, _read_with_parents(Path(conf_file), seen=()))
    for override in overrides or []:
        apply_override(merged, override)
    return validate_settings(merged)


def validate_settings(raw: dict[str, Any]) -> Settings:
    """Validate a merged mapping, turning pydantic's errors into one :class:`ConfigError`."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``overlay``: mappings merge key by key, anything else
    (scalars, lists) is replaced."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


#: Free-form mappings whose own keys contain dots: after this prefix the rest is one key.
FREEFORM_MAPPINGS = ("spark.conf",)


def apply_override(tree: dict[str, Any], assignment: str) -> None:
    """Apply one ``dotted.key=value`` to ``tree`` in place; ``value`` is parsed as YAML.

    Keys under :data:`FREEFORM_MAPPINGS` keep their dots:
    ``spark.conf.spark.sql.ansi.enabled=false`` sets the Spark property
    ``spark.sql.ansi.enabled`` inside ``spark.conf``."""
    key, sep, raw_value = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {assignment!r}: expected dotted.key=value, e.g. --set spark.shuffle_partitions=8")
    try:
        value = yaml.safe_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value {raw_value!r} is not valid YAML ({exc.problem}); quote it") from None
    node: Any = tree
    parts = key.split(".")
    for prefix in FREEFORM_MAPPINGS:
        if key.startswith(prefix + ".") and len(key) > len(prefix) + 1:
            parts = [*prefix.split("."), key[len(prefix) + 1 :]]
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None:
            child = {}
            node[part] = child
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(f"--set {key}: {where} is a {type(child).__name__}, not a mapping; set {where} itself")
        node = child
    node[parts[-1]] = value


def _read_with_parents(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        raise ConfigError(
            f"{seen[-1]}: 'extends' forms a cycle through {resolved}; fix: remove one extends link of the cycle"
        )
    if not resolved.is_file():
        if seen:
            raise ConfigError(
                f"{seen[-1]}: extends: {path} not found; fix: name an existing YAML file, "
                "absolute or relative to the file that extends it"
            )
        raise ConfigError(f"config file {path} not found; fix: pass an existing YAML file to --conf")
    try:
        data = yaml.safe_load(resolved.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {yaml_problem(exc)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); fix: save the file as UTF-8") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys, not a {type(data).__name__}; "
            "fix: write 'key: value' lines at the top level, as in conf/base.yaml"
        )
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(
            f"{path}: extends must be one file path, not a {type(parent).__name__}; fix: e.g. extends: base.yaml"
        )
    base = _read_with_parents(resolved.parent / os.path.expanduser(parent), (*seen, resolved))
    return deep_merge(base, data)
