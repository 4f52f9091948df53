"""The export's ``manifest.json``: what was written, counted from the files, and how to load it.

The manifest lists every shard (path relative to the export folder, bytes, rows, SHA-256), the
rows per split and per split × label as read back from the written files, the ``label`` →
``label_id`` map, the effective export config, the gold and silver Delta versions, the run id
and the time. It is written last and atomically (:func:`write_atomically`: a temporary file in
the same folder, then a rename), so a reader that finds ``manifest.json`` finds a complete
export. Pure Python: the job passes in the counts it read back.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Bumped when the manifest's layout changes incompatibly.
MANIFEST_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ShardFile:
    """One written shard: its path relative to the export folder, size in bytes, rows (read
    back) and the SHA-256 of its bytes (hex)."""

    path: str
    bytes: int
    rows: int
    sha256: str


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB chunks (memory does not grow with the file)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def label_ids(labels: Iterable[str]) -> dict[str, int]:
    """``label`` → ``label_id``: the distinct labels sorted, numbered from 0 (a classifier's
    class index; stable for the same label set)."""
    return {label: i for i, label in enumerate(sorted(set(labels)))}


def rows_per_file(counted: Mapping[tuple[str, str | None], int]) -> dict[str, int]:
    """Rows per file name from rows per ``(file name, label)``."""
    result: dict[str, int] = {}
    for (name, _), n in counted.items():
        result[name] = result.get(name, 0) + n
    return result


def split_summary(
    files: Mapping[str, Sequence[str]], counted: Mapping[tuple[str, str | None], int]
) -> dict[str, dict[str, Any]]:
    """Per split (``files``: split → its file names): ``rows`` and ``labels`` (rows per label,
    sorted; a null label as ``"null"``), from rows per ``(file name, label)`` read back."""
    split_of = {name: split for split, names in files.items() for name in names}
    result: dict[str, dict[str, Any]] = {split: {"rows": 0, "labels": {}} for split in files}
    for (name, label), n in counted.items():
        if name not in split_of:
            raise ValueError(f"rows counted in {name}, which is no file of the export")
        entry = result[split_of[name]]
        key = "null" if label is None else label
        entry["rows"] += n
        entry["labels"][key] = entry["labels"].get(key, 0) + n
    for entry in result.values():
        entry["labels"] = dict(sorted(entry["labels"].items()))
    return result


def build_manifest(
    *,
    run_id: str,
    created_at: str,
    gold: Mapping[str, Any],
    silver: Mapping[str, Any],
    config: Mapping[str, Any],
    columns: list[str],
    labels: Mapping[str, int],
    splits: Mapping[str, Mapping[str, Any]],
    files: Mapping[str, Mapping[str, list[ShardFile]]],
) -> dict[str, Any]:
    """The manifest as a JSON-ready dict; ``files`` is format → split → its shards in order."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "created_at": created_at,
        "gold": dict(gold),
        "silver": dict(silver),
        "config": dict(config),
        "columns": list(columns),
        "label_ids": dict(labels),
        "rows": sum(int(s["rows"]) for s in splits.values()),
        "splits": {name: dict(value) for name, value in splits.items()},
        "files": {
            fmt: {split: [asdict(f) for f in shards] for split, shards in by_split.items()}
            for fmt, by_split in files.items()
        },
    }


def write_atomically(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` as indented UTF-8 JSON to ``path``: to a temporary file in the same
    folder, flushed to disk, then renamed over ``path`` (atomic on POSIX), so a reader sees the
    old file, no file, or the whole new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(document, f, ensure_ascii=False, indent=2, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
