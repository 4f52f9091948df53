"""The ``columns`` (text, label, id, event_ts) and ``labels`` ``refinery inspect`` proposes for
sampled records, each with the reason it gives.

Columns with names (a header, JSON keys, Parquet) are chosen by name first: ``text``,
``review``, ``content``, ``sentence``, ``SMS``, ``body`` … for the text; ``label``, ``class``,
``sentiment``, ``category`` … (or a name containing one of them) for the label; ``id`` or
``*_id`` for the id; ``event_ts``, ``timestamp``, ``created_at`` … for the time. Without a name
that fits, the text is the column of the longest, most varied strings, and there is no label:
a named column that is not called a label is rarely one, and a wrong guess quarantines every
record. Columns without names (CSV/TSV without header: 0-based indexes) are chosen by content
alone: the text column as above, with a text-like neighbour joined to it (AG News' title and
description, ``[1, 2]``); the label the column of fewest distinct short values (2 to
:data:`MAX_LABELS`); the id a column of distinct numbers.

The label set is the sorted distinct values of the label column in the sample, kept as strings
(``"1"`` stays ``"1"``: naming it is the user's ``label_map``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from refinery.ingest.settings import ColumnRef

TEXT_NAMES = ("text", "review", "content", "sentence", "sms", "body", "comment", "tweet", "message", "document")
LABEL_NAMES = ("label", "class", "sentiment", "category", "polarity", "target", "stars", "rating")
ID_NAMES = ("id", "uuid", "key")
TIME_NAMES = ("event_ts", "timestamp", "created_at", "date", "datetime", "time", "published_at", "ts")
#: Most distinct values for a column to be a label (and for ``labels`` to be proposed).
MAX_LABELS = 50
#: Longest label value.
MAX_LABEL_CHARS = 40
_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True)
class Stats:
    """What the sample says about one column: how many records have a value, how many of
    them are strings (not nested JSON), numbers, ISO times; how many distinct values, and the
    mean length of the strings."""

    ref: ColumnRef
    present: int
    strings: int
    empty: int
    numbers: int
    integers: int
    times: int
    distinct: int
    mean_chars: float
    max_chars: int


@dataclass(frozen=True)
class Pick:
    """A proposed value and why."""

    value: Any
    why: str


@dataclass(frozen=True)
class ColumnGuess:
    """The proposed ``columns``, ``labels`` and ``label_required``; ``None`` values are left out."""

    text: Pick
    label: Pick | None
    id: Pick | None
    event_ts: Pick | None
    labels: Pick | None
    label_required: Pick | None


def column_stats(rows: Sequence[Mapping[ColumnRef, Any]], columns: Sequence[ColumnRef]) -> list[Stats]:
    """:class:`Stats` of each of ``columns`` over ``rows``."""
    return [_stats(ref, [row[ref] for row in rows if row.get(ref) is not None]) for ref in columns]


def _stats(ref: ColumnRef, values: list[Any]) -> Stats:
    texts = [v if isinstance(v, str) else str(v) for v in values if not isinstance(v, dict | list)]
    stripped = [t.strip() for t in texts]
    lengths = [len(t) for t in texts]
    return Stats(
        ref=ref,
        present=len(values),
        strings=len(texts),
        empty=sum(not s for s in stripped),
        numbers=sum(bool(_NUMBER.fullmatch(s)) for s in stripped),
        integers=sum(bool(_INTEGER.fullmatch(s)) for s in stripped),
        times=sum(_is_time(s) for s in stripped),
        distinct=len(set(stripped)),
        mean_chars=sum(lengths) / len(lengths) if lengths else 0.0,
        max_chars=max(lengths, default=0),
    )


def _is_time(value: str) -> bool:
    if len(value) < 10 or not value[:4].isdigit():
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def guess_columns(rows: Sequence[Mapping[ColumnRef, Any]], columns: Sequence[ColumnRef], named: bool) -> ColumnGuess:
    """The column roles of ``rows`` (records mapping each of ``columns`` to a value); ``named``:
    the columns have names (else they are 0-based indexes)."""
    stats = column_stats(rows, columns)
    text = _text_column(stats, named)
    taken = set(text.value if isinstance(text.value, list) else [text.value])
    label = _by_name(stats, LABEL_NAMES, taken, partial=True) if named else _label_by_content(stats, taken)
    if label is not None:
        taken.add(label.value)
    ident = _id_column(stats, named, taken)
    if ident is not None:
        taken.add(ident.value)
    event_ts = _time_column(stats, taken) if named else None
    labels, required = _label_set(rows, label)
    return ColumnGuess(text, label, ident, event_ts, labels, required)


def _text_column(stats: Sequence[Stats], named: bool) -> Pick:
    if named and (by_name := _by_name(stats, TEXT_NAMES, set(), partial=False, strings=True)) is not None:
        return by_name
    candidates = [s for s in stats if _text_like(s)]
    if not candidates:
        return Pick(stats[0].ref, "no column holds varied strings; the first column")
    best = max(candidates, key=lambda s: s.mean_chars * s.distinct / max(s.strings, 1))
    varied = _share(best.distinct, best.strings)
    why = f"longest, most varied strings: {best.mean_chars:.0f} characters on average, {varied} distinct"
    position = list(stats).index(best)
    neighbours = [stats[k] for k in (position - 1, position + 1) if 0 <= k < len(stats)]
    partner = next((s for s in neighbours if _text_like(s) and s.mean_chars >= 15), None)
    if partner is None or named:
        return Pick(best.ref, why)
    pair = sorted([best, partner], key=lambda s: list(stats).index(s))
    means = " and ".join(f"{s.mean_chars:.0f}" for s in pair)
    return Pick([s.ref for s in pair], f"two text-like columns side by side ({means} characters on average), joined")


def _text_like(stats: Stats) -> bool:
    return (
        stats.strings > 0
        and stats.strings >= 0.9 * stats.present
        and stats.numbers < 0.5 * stats.strings
        and stats.distinct >= 0.5 * stats.strings
        and stats.mean_chars >= 8
    )


def _by_name(
    stats: Sequence[Stats], names: Sequence[str], taken: set[Any], partial: bool, strings: bool = False
) -> Pick | None:
    """The first column named one of ``names`` (case-insensitive; with ``partial``, then one
    whose name contains one of them)."""
    free = [s for s in stats if s.ref not in taken and (not strings or s.strings >= 0.9 * max(s.present, 1))]
    for name in names:
        for s in free:
            if str(s.ref).strip().lower() == name:
                return Pick(s.ref, f"named like a {names[0]} column")
    if partial:
        for s in free:
            words = re.split(r"[^a-z]+", str(s.ref).lower())
            if any(name in words for name in names):
                return Pick(s.ref, f"named like a {names[0]} column")
    return None


def _label_by_content(stats: Sequence[Stats], taken: set[Any]) -> Pick | None:
    candidates = [
        s
        for s in stats
        if s.ref not in taken
        and 2 <= s.distinct <= MAX_LABELS
        and s.max_chars <= MAX_LABEL_CHARS
        and s.distinct <= max(2, 0.2 * s.present)
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda s: s.distinct)
    return Pick(best.ref, f"few distinct short values: {best.distinct} in {best.present:,} records")


def _id_column(stats: Sequence[Stats], named: bool, taken: set[Any]) -> Pick | None:
    free = [s for s in stats if s.ref not in taken and s.present and s.distinct == s.present and not s.empty]
    if named:
        for s in free:
            name = str(s.ref).lower()
            if name in ID_NAMES or name.endswith(("_id", "-id")):
                return Pick(s.ref, f"named like an id, {s.distinct:,} distinct values in {s.present:,} records")
        return None
    numbered = [s for s in free if s.integers == s.present and s.present >= 10]
    if not numbered:
        return None
    return Pick(numbered[0].ref, f"distinct integers in all {numbered[0].present:,} records")


def _time_column(stats: Sequence[Stats], taken: set[Any]) -> Pick | None:
    for s in stats:
        if s.ref not in taken and str(s.ref).lower() in TIME_NAMES and s.present and s.times >= 0.9 * s.present:
            return Pick(s.ref, f"named like a time, {_share(s.times, s.present)} ISO-8601 values")
    return None


def _label_set(rows: Sequence[Mapping[ColumnRef, Any]], label: Pick | None) -> tuple[Pick | None, Pick | None]:
    """``labels`` (the sorted distinct values, when few) and ``label_required: false`` (when
    there is no label, or some records have none)."""
    if label is None:
        return None, Pick(False, "no label column: keep every record unlabelled")
    values = [_label_text(row.get(label.value)) for row in rows]
    present = [v.strip() for v in values if v is not None and v.strip()]
    required = None
    if len(present) < len(values):
        missing = len(values) - len(present)
        required = Pick(False, f"{missing:,} of {len(values):,} records have no label")
    distinct = sorted(set(present))
    if len(distinct) > MAX_LABELS:
        return None, required
    return Pick(distinct, f"{len(distinct)} distinct values in {len(values):,} records"), required


def _label_text(value: Any) -> str | None:
    """A raw label as ingest spells it (``records._as_text``): JSON ``true`` stays ``true``; a
    nested value is no label."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "0%"
