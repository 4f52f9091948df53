"""Unit tests of :mod:`refinery.clean.settings`: PII phone regions and ``clean.rules``, loaded and
validated with the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from refinery.clean.job import preflight
from refinery.config import ConfigError, load_settings
from tests.support.config_files import BAD_RULE, LOCAL, config_error, write_yaml
from tests.support.paths import ROOT


def test_unknown_phone_region_is_named_with_the_fix() -> None:
    message = config_error([LOCAL], ["clean.pii.phone_regions=[CN,UK]"])
    assert "clean.pii.phone_regions" in message and "'UK'" in message and "GB, not UK" in message


def test_phone_regions_reach_the_pii_options() -> None:
    from refinery.clean.settings import pii_options
    from refinery.text.pii import DEFAULT_PHONE_REGIONS

    assert pii_options(load_settings([LOCAL]).clean.pii).phone_regions == DEFAULT_PHONE_REGIONS
    settings = load_settings([LOCAL], ["clean.pii.phone_regions=[GB,US]"])
    assert pii_options(settings.clean.pii).phone_regions == ("GB", "US")


# --------------------------------------------------------------------------------------------
# clean.rules: loaded and validated with the settings


def test_local_yaml_loads_the_shipped_rules() -> None:
    rules = load_settings([LOCAL]).clean.rules
    assert rules is not None and rules.origin == str(ROOT / "conf" / "rules.yaml")
    assert {"occluded_pedestrian", "ag_news_label_set", "chnsenticorp_min_length"} <= {r.name for r in rules.rules}
    assert load_settings([LOCAL], ["clean.rules=null"]).clean.rules is None
    assert load_settings([ROOT / "conf" / "cluster.yaml"]).clean.rules is None  # base.yaml: no rules


def test_an_invalid_rule_in_a_rules_file_is_named(tmp_path: Path) -> None:
    rules = write_yaml(tmp_path / "rules.yaml", BAD_RULE)
    message = config_error([LOCAL], [f"clean.rules={rules}"])
    assert "config key 'clean.rules'" in message and "rule 'short_reviews'" in message
    assert str(rules) in message and "ge needs a number" in message and "fix: e.g. ge: 0.3" in message
    assert message.count("fix:") == 1


def test_inline_rules_are_validated_too() -> None:
    settings = load_settings(
        [LOCAL], ["clean.rules=[{name: spam_long, severity: flag, require: [{field: n_chars, ge: 20}]}]"]
    )
    assert [r.name for r in settings.clean.rules.rules] == ["spam_long"]
    message = config_error(
        [LOCAL],
        [
            "clean.rules=[{name: dup, severity: flag, require: [{field: lang, eq: zh}]}, "
            "{name: dup, severity: block, require: [{field: lang, eq: en}]}]"
        ],
    )
    assert "rule 'dup' (inline clean.rules): duplicate name" in message
    assert "expected a rules file path, a list of rules or null" in config_error([LOCAL], ["clean.rules=5"])


def test_a_rule_on_n_tokens_needs_segmentation() -> None:
    rule = "clean.rules=[{name: few_tokens, severity: flag, require: [{field: n_tokens, ge: 3}]}]"
    assert load_settings([LOCAL], [rule]).clean.rules is not None
    message = config_error([LOCAL], [rule, "clean.segment.enabled=false"])
    assert "rule 'few_tokens'" in message and "clean.segment.enabled is false" in message
    off = "clean.rules=[{name: few_tokens, severity: flag, enabled: false, require: [{field: n_tokens, ge: 3}]}]"
    assert load_settings([LOCAL], [off, "clean.segment.enabled=false"]).clean.rules.active == ()


def test_silver_features_are_off_unless_asked_and_name_their_delta_properties() -> None:
    features = load_settings([LOCAL], ["delta.silver.deletion_vectors=true", "delta.silver.cluster_by=[source]"])
    silver = features.delta.silver
    assert silver.cluster_by == ["source"]
    assert silver.properties() == {
        "delta.enableDeletionVectors": "true",
        "delta.enableRowTracking": "false",
        "delta.enableChangeDataFeed": "false",
    }
    assert load_settings([LOCAL]).delta.silver.properties() == dict.fromkeys(silver.properties(), "false")


def test_silver_clustering_columns_are_checked_before_spark_starts() -> None:
    preflight(load_settings([LOCAL], ["delta.silver.cluster_by=[source, event_ts]"]))
    for unfit in ("tokens", "lang_allowed", "pred_label"):  # a list, a boolean, a column score adds later
        with pytest.raises(ConfigError, match=rf"delta\.silver\.cluster_by: \['{unfit}'\].*fix: .*'source'"):
            preflight(load_settings([LOCAL], [f"delta.silver.cluster_by=[{unfit}]"]))
    message = config_error([LOCAL], ["delta.silver.cluster_by=[a, b, c, d, e]"])
    assert "delta.silver.cluster_by" in message and "at most 4" in message
    assert "not column names" in config_error([LOCAL], ["delta.silver.cluster_by=['x; DROP']"])
