"""Unit tests of :mod:`refinery.text.pii.masking`: ``mask``, the pandas column API ``mask_series``,
``mask_json_objects``, and a package import free of Spark and torch."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from refinery.text import pii
from refinery.text.pii import (
    CN_ID,
    CN_MOBILE,
    EMAIL,
    IPV4,
    IPV6,
    PHONE,
    PiiOptions,
    mask,
    mask_series,
)
from tests.support.pii_cases import NEGATIVES, POSITIVES


def test_module_imports_no_spark_or_torch() -> None:
    """Pure Python: the Spark layer wraps it, executors import it, and pandas/pyarrow load lazily."""
    heavy = "{'pyspark', 'torch', 'pandas', 'pyarrow'}"
    code = f"import sys, refinery.text.pii; bad = {heavy} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------- mask


def test_mask_chinese_sentence_with_phone_and_id() -> None:
    text = "张三的手机号是138-1234-5678，身份证号码为11010519491231002X，邮箱zs@example.cn。"
    masked, counts = mask(text)
    assert masked == "张三的手机号是[PHONE]，身份证号码为[CN_ID]，邮箱[EMAIL]。"
    assert counts == {CN_MOBILE: 1, CN_ID: 1, EMAIL: 1}


def test_mask_counts_repeats_and_tokens() -> None:
    masked, counts = mask("a 8.8.8.8 b 1.1.1.1 c 2001:4860::8888 d +44 20 7123 4567")
    assert masked == "a [IP] b [IP] c [IP] d [PHONE]"
    assert counts == {IPV4: 2, IPV6: 1, PHONE: 1}
    assert all(isinstance(value, int) for value in counts.values())


def test_text_without_pii_is_unchanged() -> None:
    for text in ("今天天气很好，我们去公园。", "Oil prices rose 3% to $45.20 on Tuesday.", ""):
        masked, counts = mask(text)
        assert masked is text and counts == {}


# ---------------------------------------------------------------------------------- mask_series


def test_mask_series_handles_none_nan_empty_and_keeps_index() -> None:
    texts = pd.Series(
        ["手机13812345678", None, "", float("nan"), "no pii here", "a@b.cn and c@d.cn"], index=list("abcdef")
    )
    out = mask_series(texts)
    assert list(out.columns) == ["text", "pii_counts"] and list(out.index) == list("abcdef")
    assert out.loc["a"].tolist() == ["手机[PHONE]", {CN_MOBILE: 1}]
    assert out.loc["b", "text"] is None and out.loc["b", "pii_counts"] is None
    assert out.loc["d", "text"] is None and out.loc["d", "pii_counts"] is None
    assert out.loc["c"].tolist() == ["", {}]
    assert out.loc["e"].tolist() == ["no pii here", {}]
    assert out.loc["f"].tolist() == ["[EMAIL] and [EMAIL]", {EMAIL: 2}]


def test_mask_series_equals_mask_per_row() -> None:
    texts = pd.Series([text for text, _, _ in POSITIVES] + NEGATIVES)
    out = mask_series(texts, PiiOptions(public_ip_only=True))
    for text, masked, counts in zip(texts, out["text"], out["pii_counts"], strict=True):
        assert (masked, counts) == mask(text, PiiOptions(public_ip_only=True))


def test_mask_series_empty_column() -> None:
    out = mask_series(pd.Series([], dtype=object))
    assert out.empty and list(out.columns) == ["text", "pii_counts"]


def test_mask_json_objects_masks_every_value_and_keeps_keys_and_nulls() -> None:
    import json

    import pandas as pd

    objects = pd.Series(
        ['{"phone": "13812345678", "n": "7"}', None, "{}", '{"m": "a.b@example.com 好"}'], index=[3, 4, 5, 6]
    )
    out = pii.mask_json_objects(objects)
    assert list(out.index) == [3, 4, 5, 6] and out[4] is None and json.loads(out[5]) == {}
    first = json.loads(out[3])
    assert list(first) == ["phone", "n"] and first["n"] == "7" and "13812345678" not in first["phone"]
    assert "a.b@example.com" not in json.loads(out[6])["m"] and json.loads(out[6])["m"].endswith(" 好")
