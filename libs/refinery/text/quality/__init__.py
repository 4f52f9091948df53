"""Quality heuristics for the clean chain: per-document signals (:mod:`.signals`) and named,
language-aware threshold rules over them (:mod:`.rules`). Pure Python on pandas; no Spark."""

from refinery.text.quality.quality_rules import (
    DEFAULT_RULES,
    QualityRule,
    QualityRuleError,
    apply_quality_rules,
    configured_rules,
    drop_rule_names,
    is_dropped,
    parse_rules,
    violations,
)
from refinery.text.quality.signals import SIGNAL_COLUMNS, document_signals, quality_signals, signal_records

__all__ = [
    "DEFAULT_RULES",
    "SIGNAL_COLUMNS",
    "QualityRule",
    "QualityRuleError",
    "apply_quality_rules",
    "configured_rules",
    "document_signals",
    "drop_rule_names",
    "is_dropped",
    "parse_rules",
    "quality_signals",
    "signal_records",
    "violations",
]
