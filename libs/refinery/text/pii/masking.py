"""Masking: every PII span replaced by its type's token, over one text, a pandas column or a
column of JSON objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from refinery.text.pii.options import DEFAULT, PiiOptions
from refinery.text.pii.recognizers import PREFILTER_REGEX
from refinery.text.pii.search import _plan, find

if TYPE_CHECKING:
    import pandas as pd


def mask(text: str, options: PiiOptions = DEFAULT) -> tuple[str, dict[str, int]]:
    """``text`` with every PII span replaced by its type's token, and the count per type found
    (types with no match are absent). Text without PII comes back unchanged (the same object)."""
    spans = find(text, options)
    if not spans:
        return text, {}
    _, _, tokens = _plan(options)
    parts: list[str] = []
    counts: dict[str, int] = {}
    position = 0
    for span in spans:
        parts.append(text[position : span.start])
        parts.append(tokens[span.type])
        counts[span.type] = counts.get(span.type, 0) + 1
        position = span.end
    parts.append(text[position:])
    return "".join(parts), counts


def mask_series(texts: pd.Series, options: PiiOptions = DEFAULT) -> pd.DataFrame:
    """:func:`mask` over a column: a DataFrame with the input's index and the columns ``text``
    (masked) and ``pii_counts`` (``dict`` type → count, ``{}`` when none).

    Missing values (``None``/``NaN``) stay ``None`` in both columns. The pre-filter
    :data:`PREFILTER_REGEX` runs vectorised over the whole column with ``pyarrow.compute``
    (RE2, no Python per row), so only candidate rows pay for the Python patterns.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(texts, type=pa.large_string(), from_pandas=True)
    candidate = pc.fill_null(pc.match_substring_regex(values, PREFILTER_REGEX), False).to_numpy(zero_copy_only=False)
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    out_text: list[str | None] = texts.tolist()  # non-candidate rows keep their text as is
    out_counts: list[dict[str, int] | None] = [{} if keep else None for keep in present.tolist()]
    for row in np.flatnonzero(~present).tolist():
        out_text[row] = None  # NaN / pd.NA → None
    for row in np.flatnonzero(candidate).tolist():
        out_text[row], out_counts[row] = mask(out_text[row], options)
    return pd.DataFrame({"text": out_text, "pii_counts": out_counts}, index=texts.index)


def mask_json_objects(objects: pd.Series, options: PiiOptions = DEFAULT) -> pd.Series:
    """Each JSON object of string values (``{"col": "value"}``, a record's ``meta``) with
    every value masked like text; keys are kept, ``None`` stays ``None``. All values of the
    column are masked in one :func:`mask_series` call, so the vectorised pre-filter runs once."""
    import json

    import pandas as pd

    decoded = [json.loads(o) if isinstance(o, str) else None for o in objects.tolist()]
    values = [v for d in decoded if d for v in d.values()]
    masked = iter(mask_series(pd.Series(values, dtype=object), options)["text"].tolist())
    out: list[str | None] = []
    for mapping in decoded:
        if mapping is None:
            out.append(None)
            continue
        out.append(json.dumps({key: next(masked) for key in mapping}, ensure_ascii=False))
    return pd.Series(out, index=objects.index, dtype=object)
