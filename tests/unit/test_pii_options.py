"""Unit tests of :mod:`refinery.text.pii.options`: :class:`PiiOptions` is hashable, picklable and
validated."""

from __future__ import annotations

import pickle

import pytest

from refinery.text import pii
from refinery.text.pii import (
    ALL_TYPES,
    CN_ID_INVALID,
    CN_LANDLINE,
    CN_MOBILE,
    EMAIL,
    PiiOptions,
    mask,
)

# ------------------------------------------------------------------------------------- options


def test_options_are_hashable_picklable_and_validated() -> None:
    options = PiiOptions(types=(EMAIL, CN_MOBILE), tokens={EMAIL: "<mail>"}, public_ip_only=True)
    assert hash(options) == hash(PiiOptions(types=(EMAIL, CN_MOBILE), tokens={EMAIL: "<mail>"}, public_ip_only=True))
    assert pickle.loads(pickle.dumps(options)) == options
    assert options.token(EMAIL) == "<mail>" and options.token(CN_MOBILE) == "[PHONE]"
    assert dict(pii.DEFAULT.tokens)[CN_LANDLINE] == "[PHONE]" and pii.DEFAULT.types == ALL_TYPES
    assert (*ALL_TYPES, CN_ID_INVALID) == pii.COUNTED_TYPES and CN_ID_INVALID not in ALL_TYPES
    assert mask("a@b.cn 13812345678 8.8.8.8", options) == ("<mail> [PHONE] 8.8.8.8", {EMAIL: 1, CN_MOBILE: 1})
    with pytest.raises(ValueError, match="unknown PII types"):
        PiiOptions(types=("SSN",))
    with pytest.raises(ValueError, match="unknown PII type"):
        PiiOptions(tokens={"SSN": "[SSN]"})
