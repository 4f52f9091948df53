"""Three annotation rules (one ``block``, two ``flag``) that the clean-UDF tests apply with
and without Spark."""

from __future__ import annotations

from refinery.clean.annotation_rules import parse_rules

RULES = parse_rules(
    [
        {"name": "no_phone", "severity": "block", "require": [{"field": "text", "not_matches": r"\[PHONE\]"}]},
        {
            "name": "short_row_one",
            "severity": "flag",
            "where": [{"field": "meta.row", "eq": 1}],
            "require": [{"field": "n_chars", "lt": 10}],
        },
        {"name": "english", "severity": "flag", "require": [{"field": "lang", "eq": "en"}]},
    ]
)
