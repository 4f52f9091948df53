"""The annotation rules applied to the accepted rows, without Spark; in the Python workers:
``tests/spark/test_clean_udf.py``."""

from __future__ import annotations

import pandas as pd

from refinery.clean.udf import RULE_VIOLATION, apply_rules
from tests.support.annotation_rules_sample import RULES


def test_apply_rules_changes_only_the_accepted_rows():
    cleaned = pd.DataFrame(
        {
            "label": ["a", "a", "a", "a"],
            "source": "unit",
            "lang": ["en", "zh", "en", None],
            "lang_score": [0.9, 0.9, 0.9, None],
            "clean_text": ["call [PHONE] now", "你好世界", "fine text, longer", None],
            "n_tokens": pd.array([3, 2, 2, None], dtype="Int32"),
            "meta_json": ['{"row": "0"}', None, '{"row": "1"}', None],
            "outcome": ["ok", "ok", "ok", "quarantine"],
            "reason": [None, "language_undetermined", None, "empty_after_normalize"],
            "detail": [None, None, None, None],
        },
        index=[7, 3, 11, 5],
    )
    out = apply_rules(cleaned.copy(), RULES)
    assert list(out.index) == [7, 3, 11, 5]
    assert out["outcome"].tolist() == ["quarantine", "ok", "ok", "quarantine"]
    assert out["reason"].tolist() == [RULE_VIOLATION, "language_undetermined", None, "empty_after_normalize"]
    assert out["detail"].tolist() == ["block: no_phone", None, None, None]
    assert out["rule_violations"].tolist() == [["no_phone"], ["english"], ["short_row_one"], None]
    unchecked = apply_rules(cleaned.copy(), None)
    assert unchecked["rule_violations"].isna().all() and unchecked["outcome"].tolist() == cleaned["outcome"].tolist()
