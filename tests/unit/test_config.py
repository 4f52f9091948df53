"""Unit tests of :mod:`refinery.config`, :mod:`refinery.runtime.metrics` and the CLI's
configuration errors (no Spark is started)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from refinery.config import TABLE_NAMES, ConfigError, apply_override, deep_merge, load_settings, resolve_path
from refinery.runtime.metrics import StageMetrics, merge_reasons
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
# Validation errors name the key


def test_unknown_key_is_named(tmp_path: Path) -> None:
    conf = write_yaml(tmp_path / "bad.yaml", {"extends": str(LOCAL), "spark": {"shufle_partitions": 8}})
    message = config_error([conf])
    assert "spark.shufle_partitions" in message
    assert "spelling" in message


def test_wrong_type_from_set_is_named() -> None:
    message = config_error([LOCAL], ["spark.shuffle_partitions=abc"])
    assert "spark.shuffle_partitions" in message


def test_out_of_range_value_is_named() -> None:
    assert "spark.local_cores" in config_error([LOCAL], ["spark.local_cores=0"])


def test_missing_table_path_is_named(tmp_path: Path) -> None:
    tables = {k: v for k, v in TABLES.items() if k != "bronze"}
    conf = write_yaml(tmp_path / "no_bronze.yaml", {"tables": tables})
    message = config_error([conf])
    assert "tables.bronze" in message
    assert "tables.silver" not in message


def test_empty_table_path_is_rejected() -> None:
    assert "tables.gold" in config_error([LOCAL], ["tables.gold=' '"])


def test_unknown_encoding_is_named() -> None:
    message = config_error([LOCAL], ["ingest.sources.thucnews.encoding=no-such-codec"])
    assert "ingest.sources.thucnews.encoding" in message
    assert "no-such-codec" in message


def test_unknown_phone_region_is_named_with_the_fix() -> None:
    message = config_error([LOCAL], ["clean.pii.phone_regions=[CN,UK]"])
    assert "clean.pii.phone_regions" in message and "'UK'" in message and "GB, not UK" in message


def test_phone_regions_reach_the_pii_options() -> None:
    from refinery.clean.settings import pii_options
    from refinery.text.pii import DEFAULT_PHONE_REGIONS

    assert pii_options(load_settings([LOCAL]).clean.pii).phone_regions == DEFAULT_PHONE_REGIONS
    settings = load_settings([LOCAL], ["clean.pii.phone_regions=[GB,US]"])
    assert pii_options(settings.clean.pii).phone_regions == ("GB", "US")


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


def test_relative_table_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = write_yaml(
        tmp_path / "conf" / "t.yaml",
        {"tables": {**TABLES, "gold": "s3a://bucket/gold", "metrics": "catalog:db.metrics"}},
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings([conf])
    assert settings.tables.bronze == str((tmp_path / "data" / "bronze").resolve())
    assert Path(settings.tables.silver).is_absolute()
    assert settings.tables.gold == "s3a://bucket/gold"
    assert settings.tables.metrics == "catalog:db.metrics"


def test_resolve_path() -> None:
    assert resolve_path("x/y", "/base") == "/base/x/y"
    assert resolve_path("/abs/p", "/base") == "/abs/p"
    assert resolve_path("hdfs://nn/p", "/base") == "hdfs://nn/p"
    assert resolve_path("file:/p", "/base") == "file:/p"


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


# --------------------------------------------------------------------------------------------
# clean.rules: loaded and validated with the settings

BAD_RULE = {
    "rules": [
        {"name": "fine", "severity": "flag", "require": [{"field": "label", "in": ["a"]}]},
        {"name": "short_reviews", "severity": "block", "require": [{"field": "n_chars", "ge": "eight"}]},
    ]
}


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


def test_a_relative_rules_path_is_found_from_refinery_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REFINERY_HOME", str(ROOT))
    assert load_settings([LOCAL]).clean.rules.origin == str(ROOT / "conf" / "rules.yaml")
    write_yaml(tmp_path / "conf" / "rules.yaml", {"rules": []})  # the working directory wins
    assert load_settings([LOCAL]).clean.rules.origin == str(tmp_path / "conf" / "rules.yaml")
    message = config_error([LOCAL], ["clean.rules=conf/absent.yaml"])
    assert "config key 'clean.rules': no rules file at" in message
    assert str(tmp_path / "conf" / "absent.yaml") in message and str(ROOT / "conf" / "absent.yaml") in message


def test_a_rule_on_n_tokens_needs_segmentation() -> None:
    rule = "clean.rules=[{name: few_tokens, severity: flag, require: [{field: n_tokens, ge: 3}]}]"
    assert load_settings([LOCAL], [rule]).clean.rules is not None
    message = config_error([LOCAL], [rule, "clean.segment.enabled=false"])
    assert "rule 'few_tokens'" in message and "clean.segment.enabled is false" in message
    off = "clean.rules=[{name: few_tokens, severity: flag, enabled: false, require: [{field: n_tokens, ge: 3}]}]"
    assert load_settings([LOCAL], [off, "clean.segment.enabled=false"]).clean.rules.active == ()


# --------------------------------------------------------------------------------------------
# StageMetrics


def test_stage_metrics_reconciled() -> None:
    good = StageMetrics(
        "ingest", rows_in=10, rows_out=6, quarantined_by_reason={"a": 2, "b": 1}, filtered_by_reason={"c": 1}
    )
    assert good.rows_quarantined == 3
    assert good.rows_filtered == 1
    assert good.reconciled
    lost = StageMetrics(
        "ingest", rows_in=11, rows_out=6, quarantined_by_reason={"a": 2, "b": 1}, filtered_by_reason={"c": 1}
    )
    assert not lost.reconciled
    invented = StageMetrics("ingest", rows_in=9, rows_out=9, quarantined_by_reason={"a": 1})
    assert not invented.reconciled


def test_stage_metrics_from_outcomes_aggregates() -> None:
    counts = [
        ("ok", None, 5),
        ("quarantine", "empty_text", 2),
        ("quarantine", "empty_text", 1),
        ("quarantine", None, 4),
        ("filter", "blank_line", 3),
        ("ok", None, 1),
    ]
    metrics = StageMetrics.from_outcomes("ingest", counts, seconds=1.5)
    assert metrics.stage == "ingest"
    assert metrics.rows_in == 16
    assert metrics.rows_out == 6
    assert metrics.quarantined_by_reason == {"empty_text": 3, "unknown": 4}
    assert metrics.filtered_by_reason == {"blank_line": 3}
    assert metrics.seconds == 1.5
    assert metrics.reconciled


def test_stage_metrics_rows_in_mismatch_is_not_reconciled() -> None:
    counts = [("ok", None, 5), ("quarantine", "x", 1)]
    assert StageMetrics.from_outcomes("s", counts, rows_in=6).reconciled
    assert not StageMetrics.from_outcomes("s", counts, rows_in=7).reconciled
    assert not StageMetrics.from_outcomes("s", counts, rows_in=5).reconciled


def test_stage_metrics_unknown_outcome_raises() -> None:
    with pytest.raises(ValueError, match="bogus"):
        StageMetrics.from_outcomes("s", [("bogus", None, 1)])


def test_merge_reasons() -> None:
    assert merge_reasons({"b": 1, "a": 2}, {"a": 3}, {}) == {"a": 5, "b": 1}
    assert list(merge_reasons({"z": 1, "a": 1})) == ["a", "z"]


# --------------------------------------------------------------------------------------------
# drift


def test_drift_defaults_and_the_local_overlay() -> None:
    base = load_settings([ROOT / "conf" / "cluster.yaml"]).drift
    assert (base.window, base.reference, base.smoothing, base.min_rows, base.group_by) == (
        "week",
        "first",
        0.5,
        300,
        "source",
    )
    assert base.thresholds.model_dump() == {"kl": 0.1, "js": 0.025, "psi": 0.2, "p_value": 0.01}
    assert (base.last_windows, base.fail_on_alert) == (None, False)  # report every window, exit 0 on alerts
    assert load_settings([LOCAL]).drift.window == "batch"  # the demo corpora have no timestamps


def test_drift_reference_forms() -> None:
    ranged = load_settings([LOCAL], ["drift.reference={start: 2024-01-01, end: 2024-01-31}"]).drift.reference
    assert ranged.label() == "2024-01-01..2024-01-31"
    # YAML reads an unquoted date as a date: it names a day window
    day = load_settings([LOCAL], ["drift.window=day", "drift.reference=2024-01-29"]).drift
    assert day.reference == "2024-01-29"
    assert load_settings([LOCAL], ["drift.window=week", "drift.reference=2024-W05"]).drift.reference == "2024-W05"
    off = load_settings([LOCAL], ["drift.thresholds.p_value=null", "drift.reference=none"]).drift
    assert off.thresholds.p_value is None and off.reference == "none"


@pytest.mark.parametrize(
    ("overrides", "key", "hint"),
    [
        (["drift.window=fortnight"], "drift.window", "'day', 'week', 'month' or 'batch'"),
        (["drift.window=week", "drift.reference=2024-01-29"], "drift.reference", "2024-W05"),
        (["drift.window=month", "drift.reference=2024-W05"], "drift.reference", "2024-01"),
        (["drift.reference={start: 2024-02-01, end: 2024-01-01}"], "drift.reference", "before start"),
        (["drift.reference={start: 2024-02-01}"], "drift.reference", "end: Field required"),
        (["drift.reference=[a, b]"], "drift.reference", "first, none"),
        (["drift.thresholds.kl=0"], "drift.thresholds.kl", "greater than 0"),
        (["drift.thresholds.js=0.9"], "drift.thresholds.js", "less than or equal to 0.69"),
        (["drift.thresholds.p_value=1"], "drift.thresholds.p_value", "less than 1"),
        (["drift.thresholds.chi2=1"], "drift.thresholds.chi2", "remove it"),
        (["drift.smoothing=0"], "drift.smoothing", "greater than 0"),
        (["drift.last_windows=0"], "drift.last_windows", "greater than or equal to 1"),
        (["drift.fail_on_alert=maybe"], "drift.fail_on_alert", "bool"),
        (["drift.min_rows=0"], "drift.min_rows", "greater than or equal to 1"),
        (["drift.distributions=[label, label]"], "drift.distributions", "once"),
        (["drift.distributions=[topic]"], "drift.distributions.0", "'label' or 'lang'"),
    ],
)
def test_bad_drift_settings_name_the_key(overrides: list[str], key: str, hint: str) -> None:
    message = config_error([LOCAL], overrides)
    assert f"config key '{key}'" in message and hint in message


# --------------------------------------------------------------------------------------------
# CLI: configuration errors exit 2 before Spark starts


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "refinery.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = write_yaml(tmp_path / "bad.yaml", {"extends": str(LOCAL), "spark": {"shufle_partitions": 8}})
    result = run_cli("ingest", "--conf", str(bad))
    assert result.returncode == 2, result.stderr
    assert "spark.shufle_partitions" in result.stderr
    assert "refinery ingest" in result.stderr


def test_cli_bad_set_exits_2_naming_the_key() -> None:
    result = run_cli("ingest", "--conf", str(LOCAL), "--set", "spark.shuffle_partitions=abc")
    assert result.returncode == 2, result.stderr
    assert "spark.shuffle_partitions" in result.stderr


def test_cli_invalid_rule_exits_2_naming_the_rule(tmp_path: Path) -> None:
    rules = write_yaml(tmp_path / "rules.yaml", BAD_RULE)
    result = run_cli("clean", "--conf", str(LOCAL), "--set", f"clean.rules={rules}")
    assert result.returncode == 2, result.stderr
    assert "refinery clean" in result.stderr and "rule 'short_reviews'" in result.stderr
    assert "Traceback" not in result.stderr and "SparkSession" not in result.stderr


def test_select_budget_is_one_over_all_rows_unless_grouped() -> None:
    assert load_settings([LOCAL]).select.group_by is None  # one budget ranked over every source
    assert load_settings([LOCAL], ["select.group_by=source"]).select.group_by == "source"
