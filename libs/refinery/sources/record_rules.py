"""Column mapping and the record rules: a parsed record becomes a good row (text, label, id,
event time, meta and :func:`content_hash`) or is quarantined with its reason."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from refinery.ingest.settings import ColumnRef, SourceSettings
from refinery.sources import reasons
from refinery.sources.record_rows import OK, Limits, _rejected, _row
from refinery.text.encoding import find_lone_surrogate


def _mapped(values, path, line, source, spec, limits, payload, encoding) -> dict[str, Any]:
    columns = spec.columns
    refs = columns.text if isinstance(columns.text, list) else [columns.text]
    # The text columns must exist; an absent label, id or event_ts value reads as null
    # (JSON objects simply leave keys out) and is judged by the rules below.
    missing = [ref for ref in refs if ref not in values]
    if missing:
        detail = "no column " + ", ".join(repr(m) for m in missing)
        return _rejected(source, path, line, reasons.MISSING_COLUMN, detail, payload, limits)
    parts = [_as_text(values[ref]) for ref in refs]
    text = spec.text_join.join(p for p in parts if p) if len(parts) > 1 else parts[0]
    used = set(refs) | {getattr(columns, n) for n in ("label", "id", "event_ts")}
    meta = {_meta_key(key): _as_text(value) for key, value in values.items() if key not in used}
    row = _row(
        source,
        path,
        line,
        text=text,
        label=_pick(values, columns.label),
        raw_id=_pick(values, columns.id),
        raw_event_ts=_pick(values, columns.event_ts),
        meta={k: v for k, v in meta.items() if v is not None},
        encoding=encoding,
    )
    row["payload"] = payload
    return row


def _finish(row: dict[str, Any], spec: SourceSettings, limits: Limits, path_label: str | None) -> dict[str, Any]:
    """Resolve a structured row (from a format parser) and apply the record rules."""
    if "__mapping__" in row:
        mapping = row["__mapping__"]
        row = _mapped(mapping, row["path"], row["line"], row["source"], spec, limits, row["payload"], row["encoding"])
        if row["outcome"] != OK:
            return row
    # decoding bytes never yields a surrogate: only a JSON "\\u" escape can, so the fields
    # are searched only when the record's text has one
    if "\\u" in (row.get("payload") or "") and (where := _lone_surrogate_field(row)) is not None:
        payload = (row.get("payload") or row["text"] or "").encode("utf-8", "backslashreplace").decode("utf-8")
        detail = f"lone surrogate in {where}: half a UTF-16 pair (a JSON \\u escape), not encodable as UTF-8"
        return _rejected(row["source"], row["path"], row["line"], reasons.UNDECODABLE, detail, payload, limits)
    if path_label is not None and row["label"] is None:
        row["label"] = path_label
    if row["label"] is not None:
        row["label"] = spec.label_map.get(row["label"].strip(), row["label"].strip())
        if row["label"] == "":
            row["label"] = None
    payload = row.get("payload") or row["text"] or ""
    text = row["text"]
    if text is None or not text.strip():
        return _rejected(row["source"], row["path"], row["line"], reasons.EMPTY_TEXT, "", payload, limits)
    if len(text) > limits.max_text_chars:
        detail = f"{len(text)} chars > max_text_chars {limits.max_text_chars}"
        return _rejected(row["source"], row["path"], row["line"], reasons.TEXT_TOO_LONG, detail, payload, limits)
    if spec.columns.id is not None and not (row["raw_id"] or "").strip():
        return _rejected(row["source"], row["path"], row["line"], reasons.MISSING_ID, "", payload, limits)
    if row["label"] is None and spec.label_required:
        return _rejected(row["source"], row["path"], row["line"], reasons.MISSING_LABEL, "", payload, limits)
    if row["label"] is not None and spec.labels is not None and row["label"] not in spec.labels:
        detail = f"label {row['label'][:64]!r} not in {len(spec.labels)} allowed labels"
        return _rejected(row["source"], row["path"], row["line"], reasons.LABEL_NOT_IN_SET, detail, payload, limits)
    row["payload"] = None  # good rows carry their content in the typed columns
    row["content_hash"] = content_hash(text, row["label"], row["meta"])
    return row


def _lone_surrogate_field(row: Mapping[str, Any]) -> str | None:
    """The first field of a parsed row holding a lone surrogate (``"\\ud800"`` decoded from a
    JSON escape): such a ``str`` has no UTF-8 form, so Arrow, Spark and the content hash would
    all fail on it. ``None`` when every field is encodable."""
    for name in ("text", "label", "raw_id", "raw_event_ts"):
        value = row[name]
        if value is not None and find_lone_surrogate(value) is not None:
            return name
    for key, value in (row["meta"] or {}).items():
        if find_lone_surrogate(key) is not None or (value is not None and find_lone_surrogate(value) is not None):
            return "meta"
    return None


def content_hash(text: str, label: str | None, meta: Mapping[str, str]) -> str:
    """SHA-256 (hex) of a record's content: text, label and meta, independent of where in
    which file it was found. Equal content gives equal hashes across runs and machines."""
    # the compact JSON of [text, label, sorted meta], written out by hand: the encoder's own
    # setup on each call cost more than escaping a web-sized text (the same bytes: tests/unit/test_record_rules.py)
    meta_json = _HASH_JSON.encode(dict(sorted(meta.items()))) if meta else "{}"
    label_json = "null" if label is None else _json_string(label)
    canonical = f"[{_json_string(text)},{label_json},{meta_json}]"
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``, built once.
_HASH_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: A ``str`` as a JSON string literal, as ``_HASH_JSON`` writes it (the same C function).
_json_string = json.encoder.encode_basestring


def _pick(values: Mapping[Any, Any], ref: ColumnRef | None) -> str | None:
    return None if ref is None else _as_text(values.get(ref))


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float) and value != value:  # NaN from pandas/Parquet
        return None
    return str(value)


def _meta_key(key: Any) -> str:
    return f"col{key}" if isinstance(key, int) else str(key)
