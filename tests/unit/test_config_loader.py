"""Unit tests of :mod:`refinery.config.loader` (no Spark is started): the shipped overlays,
``extends`` chains, deep merge and ``--set`` overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from refinery.config import apply_override, deep_merge, load_settings
from tests.support.config_files import LOCAL, TABLES, config_error, write_yaml
from tests.support.paths import ROOT

# --------------------------------------------------------------------------------------------
# The shipped overlays


def test_local_yaml_selects_the_four_demo_sources() -> None:
    settings = load_settings([LOCAL])
    assert list(settings.ingest.selected_sources()) == ["ag_news", "chnsenticorp", "sms_spam", "thucnews"]
    # Values from each link of local.yaml -> corpora.yaml -> base.yaml.
    assert settings.spark.mode == "local"
    assert settings.spark.shuffle_partitions == 4
    assert settings.ingest.input_root == "../shared/corpora"
    assert settings.ingest.payload_max_chars == 4000
    assert settings.app_name == "refinery"
    assert len(settings.ingest.sources) > 4  # the disabled ones are still described


def test_local_yaml_with_only_override() -> None:
    settings = load_settings([LOCAL], ["ingest.only=[mr_polarity, ag_news]"])
    assert list(settings.ingest.selected_sources()) == ["ag_news", "mr_polarity"]


def test_cluster_yaml_loads() -> None:
    settings = load_settings([ROOT / "conf" / "cluster.yaml"])
    assert settings.spark.mode == "cluster"
    assert settings.spark.shuffle_partitions == 200
    assert settings.spark.driver_memory is None
    assert settings.tables.bronze == "/srv/refinery/data/bronze"


def test_no_config_file_is_an_error() -> None:
    assert "--conf" in config_error([])


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    message = config_error([tmp_path / "nope.yaml"])
    assert "nope.yaml" in message and "not found" in message


def test_non_mapping_yaml_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert "mapping" in config_error([path])


# --------------------------------------------------------------------------------------------
# extends


def test_extends_chain_merges_parents_relative_to_each_file(tmp_path: Path) -> None:
    write_yaml(tmp_path / "root.yaml", {"app_name": "root", "tables": TABLES, "spark": {"local_cores": 3}})
    write_yaml(tmp_path / "mid" / "mid.yaml", {"extends": "../root.yaml", "spark": {"shuffle_partitions": 7}})
    leaf = write_yaml(tmp_path / "mid" / "leaf" / "leaf.yaml", {"extends": "../mid.yaml", "app_name": "leaf"})

    settings = load_settings([leaf])
    assert settings.app_name == "leaf"  # the child wins
    assert settings.spark.shuffle_partitions == 7  # from the middle link
    assert settings.spark.local_cores == 3  # from the root, merged key by key
    assert settings.spark.log_level == "WARN"  # model default


def test_later_conf_files_win(tmp_path: Path) -> None:
    first = write_yaml(tmp_path / "a.yaml", {"tables": TABLES, "spark": {"local_cores": 3, "shuffle_partitions": 5}})
    second = write_yaml(tmp_path / "b.yaml", {"spark": {"local_cores": 6}})
    settings = load_settings([first, second])
    assert (settings.spark.local_cores, settings.spark.shuffle_partitions) == (6, 5)


def test_extends_cycle_is_reported(tmp_path: Path) -> None:
    a = write_yaml(tmp_path / "a.yaml", {"extends": "b.yaml", "tables": TABLES})
    write_yaml(tmp_path / "b.yaml", {"extends": "c.yaml"})
    write_yaml(tmp_path / "c.yaml", {"extends": "a.yaml"})
    assert "cycle" in config_error([a])


def test_self_extends_is_a_cycle(tmp_path: Path) -> None:
    a = write_yaml(tmp_path / "a.yaml", {"extends": "a.yaml", "tables": TABLES})
    assert "cycle" in config_error([a])


def test_extends_missing_parent_is_reported(tmp_path: Path) -> None:
    a = write_yaml(tmp_path / "a.yaml", {"extends": "gone.yaml", "tables": TABLES})
    assert "gone.yaml" in config_error([a])


def test_deep_merge_replaces_lists_and_merges_mappings() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    merged = deep_merge(base, {"a": {"y": [3]}, "c": 2})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}  # not mutated


# --------------------------------------------------------------------------------------------
# --set


def test_set_parses_yaml_scalars_and_creates_nested_keys() -> None:
    settings = load_settings(
        [LOCAL],
        [
            "spark.shuffle_partitions=8",
            "spark.ui_enabled=true",
            "ingest.only=[ag_news, sms_spam]",
            "ingest.sources.extra.path=extra/file.txt",
            "ingest.sources.extra.format=text",
        ],
    )
    assert settings.spark.shuffle_partitions == 8
    assert settings.spark.ui_enabled is True
    assert settings.ingest.only == ["ag_news", "sms_spam"]
    assert settings.ingest.sources["extra"].path == "extra/file.txt"
    assert settings.ingest.sources["extra"].format == "text"
    assert settings.ingest.sources["extra"].encoding == "auto"  # defaults fill the new source
    assert "thucnews" in settings.ingest.sources  # siblings kept


def test_set_can_pass_a_spark_property() -> None:
    settings = load_settings([LOCAL], ["spark.conf.spark.sql.ansi.enabled='false'"])
    assert settings.spark.conf == {"spark.sql.ansi.enabled": "false"}


def test_apply_override_types_and_nesting() -> None:
    tree: dict = {"a": {"b": 1}}
    apply_override(tree, "a.c=3")
    apply_override(tree, "a.flag=false")
    apply_override(tree, "x.y.z=[1, two]")
    apply_override(tree, "s= hello ")
    apply_override(tree, "empty=")
    apply_override(tree, "n=null")
    assert tree == {
        "a": {"b": 1, "c": 3, "flag": False},
        "x": {"y": {"z": [1, "two"]}},
        "s": "hello",
        "empty": "",
        "n": None,
    }


def test_set_later_overrides_win() -> None:
    settings = load_settings([LOCAL], ["spark.local_cores=3", "spark.local_cores=5"])
    assert settings.spark.local_cores == 5


def test_set_into_a_non_mapping_is_rejected() -> None:
    message = config_error([LOCAL], ["spark.mode.inner=1"])
    assert "spark.mode" in message and "not a mapping" in message


@pytest.mark.parametrize("assignment", ["no_equals_sign", "=value", " =1"])
def test_set_without_key_or_equals_is_rejected(assignment: str) -> None:
    assert "dotted.key=value" in config_error([LOCAL], [assignment])


def test_set_with_invalid_yaml_is_rejected() -> None:
    message = config_error([LOCAL], ["ingest.only=[unclosed"])
    assert "ingest.only" in message and "YAML" in message
