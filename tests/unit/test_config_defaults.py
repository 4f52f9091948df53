"""``conf/base.yaml`` states exactly the settings models' defaults: every key it holds is a model
field whose default is the value written there, and every defaulted field appears in it, except
the documented cases below. A default is stated once, in code (the model, or the pure layer's
options dataclass the model reads it from); base.yaml mirrors it for the reader."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import yaml
from pydantic import BaseModel

from refinery.config import Settings
from refinery.config.base import Strict
from tests.support.paths import ROOT

BASE = ROOT / "conf" / "base.yaml"

#: Sections with required keys (no default): base.yaml must state every one of them.
REQUIRED_SECTIONS = {"tables"}

#: Models reached only inside a mapping or a union (``ingest.sources.<name>``,
#: ``drift.reference: {start, end}``): base.yaml cannot state their defaults key by key.
NOT_STATED = {"SourceSettings", "SourceColumns", "DriftDateRange"}


def _base() -> dict[str, Any]:
    return yaml.safe_load(BASE.read_text(encoding="utf-8"))


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a nested section (a field whose type is a settings model itself)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _models_in(annotation: Any) -> set[type[BaseModel]]:
    """Every settings model named anywhere in ``annotation`` (inside dicts, lists, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    found: set[type[BaseModel]] = set()
    for arg in typing.get_args(annotation):
        found |= _models_in(arg)
    return found


def _same(given: Any, default: Any) -> bool:
    # True == 1 in Python; a YAML true must not stand for a default of 1 (or the reverse).
    return given == default and isinstance(given, bool) == isinstance(default, bool)


def _walk(model: type[BaseModel], data: dict[str, Any], prefix: str, seen: set[type[BaseModel]]) -> list[str]:
    """The disagreements between ``data`` (a base.yaml section) and ``model``."""
    seen.add(model)
    problems = []
    for key, value in data.items():
        where = prefix + key
        field = model.model_fields.get(key)
        if field is None:
            problems.append(f"{where}: in base.yaml, but not a field of {model.__name__}")
            continue
        section = _section_model(field.annotation)
        if section is not None:
            if not isinstance(value, dict):
                problems.append(f"{where}: a section in {model.__name__}, a {type(value).__name__} in base.yaml")
            else:
                problems += _walk(section, value, where + ".", seen)
            continue
        if field.is_required():
            if prefix.rstrip(".") not in REQUIRED_SECTIONS:
                problems.append(f"{where}: required (no default) in {model.__name__}, yet set in base.yaml")
            continue
        default = field.get_default(call_default_factory=True)
        if not _same(value, default):
            problems.append(f"{where}: base.yaml says {value!r}, the model's default is {default!r}")
    for key, field in model.model_fields.items():
        if key not in data:
            kind = "required" if field.is_required() else f"default {field.get_default(call_default_factory=True)!r}"
            problems.append(f"{prefix}{key}: {kind} in {model.__name__}, missing from base.yaml")
    return problems


def test_base_yaml_states_exactly_the_models_defaults():
    problems = _walk(Settings, _base(), "", set())
    assert problems == [], "conf/base.yaml and the settings models disagree:\n  " + "\n  ".join(problems)


def test_every_settings_model_is_stated_in_base_yaml_or_documented():
    seen: set[type[BaseModel]] = set()
    _walk(Settings, _base(), "", seen)
    reachable: set[type[BaseModel]] = set()
    todo = [Settings]
    while todo:
        model = todo.pop()
        if model in reachable:
            continue
        reachable.add(model)
        for field in model.model_fields.values():
            todo += _models_in(field.annotation)
    assert {m.__name__ for m in reachable - seen} == NOT_STATED
    assert all(issubclass(m, Strict) for m in reachable)


def test_defaults_come_from_the_pure_layer_options():
    """The sections mirrored by a pure options dataclass read their defaults from it."""
    from refinery.clean.settings import LangIdSettings, NormalizeSettings, SegmentSettings
    from refinery.dedup.settings import ExactDedupSettings, NearDedupSettings
    from refinery.score.options import CrossFitOptions, FeatureOptions, TrainOptions
    from refinery.score.settings import ScoreFeatureSettings, ScoreModelSettings, ScoreSettings
    from refinery.text.canonical import CanonicalOptions
    from refinery.text.langid import LangIdOptions
    from refinery.text.minhash import MinHashOptions
    from refinery.text.normalize import NormalizeOptions
    from refinery.text.segment import SegmentOptions

    assert NormalizeSettings().options() == NormalizeOptions()
    assert LangIdSettings().options() == LangIdOptions()
    assert SegmentSettings().options() == SegmentOptions()
    assert ExactDedupSettings().options() == CanonicalOptions()
    assert NearDedupSettings().minhash() == MinHashOptions()
    # score: the config's feature table is smaller than the library's (buckets); the rest agree
    assert ScoreFeatureSettings().options() == dataclasses.replace(FeatureOptions(), buckets=1 << 18)
    assert ScoreModelSettings().options() == TrainOptions()
    score = ScoreSettings()
    assert (score.folds, score.ema_momentum, score.seed, score.early_stopping, score.features.idf) == (
        CrossFitOptions.folds,
        CrossFitOptions.momentum,
        CrossFitOptions.seed,
        CrossFitOptions.early_stopping,
        CrossFitOptions.idf,
    )


def test_the_pure_layer_does_not_import_config_or_pydantic():
    """refinery.text and refinery.labels stay free of the config layer (checked in a fresh
    interpreter, so nothing imported by other tests counts)."""
    import subprocess
    import sys

    code = (
        "import sys, pkgutil, importlib, refinery.text, refinery.labels\n"
        "for pkg in (refinery.text, refinery.labels):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m == 'pydantic' or m.startswith('refinery.config')]\n"
        "print(bad)\n"
        "import refinery.config, refinery.config.settings\n"
        "print([m for m in ('pyspark', 'torch') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]", out[0]
    assert out[1] == "[]", "importing the config must not import pyspark or torch"
