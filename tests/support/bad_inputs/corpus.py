"""The bad-input corpus's parts: what a kind is (:class:`BadKind`), the writer that lays out each
kind as its own ingest source, and the byte helpers the kinds are written with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Expectation "either outcome is fine, as long as every record is accounted for".
ANY = None
#: The labels of the SMS sample (source ``sms_spam``); labelled bad sources use the same set.
LABELS = ["ham", "spam"]
#: Longest text ingest accepts in the run over this corpus: above the 1 MB PII line (so it
#: reaches clean's masking), below the 10 MB line (quarantined as ``text_too_long``).
MAX_TEXT_CHARS = 2_000_000
#: Nesting that Python's JSON parser cannot follow (its recursion limit is about 1,000).
DEEP = 10_000
#: One PII-like digit group, repeated into :data:`PII_LINE_BYTES` of text.
PII_GROUPS = ("13912345678", "110101199001011237", "6222020200001234562", "+86 139 1234 5678")
PII_LINE_BYTES = 1 << 20
TEN_MB = 10 * (1 << 20)


@dataclass(frozen=True)
class BadKind:
    """One kind of bad input, written as its own ingest source.

    ``expected`` maps ``"ok"``, ``"quarantine:<reason>"`` and ``"filter:<reason>"`` to record
    counts (zero counts left out), or is :data:`ANY`."""

    name: str
    #: The ``ingest.sources`` settings of this kind's source (``path`` relative to input_root).
    settings: dict[str, Any]
    #: Files written, relative to the input root.
    files: tuple[str, ...]
    #: Input records ingest must count (``rows_in`` of ``ingest/<source>``).
    records: int
    expected: Mapping[str, int] | None
    #: Why the kind is here, in a few words (the test prints it on failure).
    note: str = ""

    @property
    def source(self) -> str:
        return f"bad_{self.name}"

    @property
    def outcome(self) -> str:
        """The expectation in words: ``any``, or ``ok 2, quarantine:malformed_json 1``."""
        if self.expected is None:
            return "any"
        return ", ".join(f"{key} {count}" for key, count in self.expected.items()) or "no records"


@dataclass
class Writer:
    """Collects the kinds while writing their files under ``root``."""

    root: Path
    kinds: list[BadKind] = field(default_factory=list)

    def add(
        self,
        name: str,
        files: Mapping[str, bytes],
        records: int,
        expected: Mapping[str, int] | None,
        note: str,
        **settings: Any,
    ) -> None:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, data in files.items():
            (folder / file_name).write_bytes(data)
        settings.setdefault("label_required", False)
        if "columns" not in settings and settings["format"] in ("jsonl", "parquet"):
            settings["columns"] = {"text": "text", "label": "label"}
        if "labels" not in settings and settings["format"] != "text":
            settings["labels"] = LABELS
        settings["path"] = f"{self.root.name}/{name}"
        expected = None if expected is None else {k: v for k, v in expected.items() if v}
        kind = BadKind(name, settings, tuple(f"{self.root.name}/{name}/{f}" for f in files), records, expected, note)
        self.kinds.append(kind)


def jsonl(*records: Any) -> bytes:
    """JSON lines, non-ASCII written as UTF-8 (strings are taken as already-written lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def lines(*rows: bytes) -> bytes:
    return b"".join(row + b"\n" for row in rows)


def nested(depth: int, inner: str = "1") -> str:
    """JSON text of ``depth`` nested arrays around ``inner``."""
    return "[" * depth + inner + "]" * depth


def pii_line() -> str:
    """About 1 MB of PII-like digit groups (phones, ID numbers, bank cards)."""
    out, size, index = [], 0, 0
    while size < PII_LINE_BYTES:
        group = PII_GROUPS[index % len(PII_GROUPS)]
        out.append(f"call {group}")
        size += len(group) + 6
        index += 1
    return ", ".join(out)


def byte_lines(data: bytes) -> int:
    """Physical lines as ingest counts them: split on ``\\n``, a final empty line not counted."""
    parts = data.split(b"\n")
    return len(parts) - (parts[-1] == b"")
