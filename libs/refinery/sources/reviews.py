"""Reading annotators' reviewed labels: a Label Studio JSON export, JSONL or CSV.

Pure Python (a review file is annotator-sized: thousands of rows, read on the driver). Every
record gives one :class:`Review`; a record that cannot give an ``(id, label)`` pair keeps its
line and a ``problem`` (:data:`PROBLEMS`) so the job can quarantine it instead of dropping it.

Label Studio: the export is a JSON list of tasks; a task's ``data.id`` is the silver id (our
export puts it there) and its label is the ``choices`` value of the latest annotation that was
not cancelled (skipped). Several choices in one annotation are ambiguous for a single-label
row and are refused.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

MALFORMED, NO_ID, NO_LABEL, AMBIGUOUS = "malformed", "no_id", "no_label", "ambiguous_label"
PROBLEMS = (MALFORMED, NO_ID, NO_LABEL, AMBIGUOUS)
FORMATS = ("label_studio", "jsonl", "csv")


@dataclass(frozen=True)
class Review:
    """One reviewed record: the silver ``id`` and the reviewer's ``label``, or the ``problem``
    that makes it unusable; ``line`` is its 1-based position in the file."""

    line: int
    id: str | None
    label: str | None
    problem: str | None = None


def detect_format(path: Path) -> str:
    """``label_studio`` for a ``.json`` file, ``csv`` for ``.csv``/``.tsv``, else ``jsonl``."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "label_studio"
    if suffix in (".csv", ".tsv"):
        return "csv"
    return "jsonl"


def read_reviews(path: Path, fmt: str = "auto") -> list[Review]:
    """Every record of the review file at ``path`` (``fmt``: one of :data:`FORMATS` or
    ``auto``, by file suffix)."""
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "label_studio":
        return _label_studio(path)
    if fmt == "csv":
        return _csv(path)
    if fmt == "jsonl":
        return _jsonl(path)
    raise ValueError(f"format must be auto or one of {FORMATS}, not {fmt!r}")


def _review(line: int, record_id: object, label: object) -> Review:
    rid = str(record_id).strip() if record_id not in (None, "") else None
    text = str(label).strip() if label not in (None, "") else None
    if rid is None:
        return Review(line, None, text, NO_ID)
    if not text:
        return Review(line, rid, None, NO_LABEL)
    return Review(line, rid, text)


def _jsonl(path: Path) -> list[Review]:
    reviews = []
    with path.open(encoding="utf-8") as f:
        for line, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                reviews.append(Review(line, None, None, MALFORMED))
                continue
            if not isinstance(record, dict):
                reviews.append(Review(line, None, None, MALFORMED))
                continue
            reviews.append(_review(line, record.get("id"), record.get("label")))
    return reviews


def _csv(path: Path) -> list[Review]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        if reader.fieldnames is None or "id" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise ValueError(f"{path}: a CSV review file needs a header with the columns id and label")
        return [_review(line, row.get("id"), row.get("label")) for line, row in enumerate(reader, start=2)]


def _label_studio(path: Path) -> list[Review]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a Label Studio JSON export ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(tasks, list):
        raise ValueError(f"{path}: a Label Studio export is a JSON list of tasks")
    reviews = []
    for n, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            reviews.append(Review(n, None, None, MALFORMED))
            continue
        record_id = task["data"].get("id")
        done = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not done:
            reviews.append(_review(n, record_id, None))
            continue
        latest = max(done, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id") or 0))
        choices = [
            choice
            for item in latest.get("result") or []
            if isinstance(item, dict) and item.get("type") == "choices"
            for choice in (item.get("value") or {}).get("choices") or []
        ]
        if len(choices) > 1:
            reviews.append(Review(n, str(record_id) if record_id is not None else None, None, AMBIGUOUS))
            continue
        reviews.append(_review(n, record_id, choices[0] if choices else None))
    return reviews
