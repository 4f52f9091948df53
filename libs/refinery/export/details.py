"""The export run's metrics details, typed: what the job writes and the report can read.

Keys: ``gold_version``, ``silver_version``, ``dir`` (the export folder), ``formats``
(comma-separated), ``rows.<split>`` (rows written, read back from the files),
``files.<format>.<split>`` (shards), ``rewrites`` (splits written again because a file came
out over the cap) and ``label_ids`` (distinct labels). :meth:`ExportDetails.to_map` /
:meth:`ExportDetails.from_map` are the only place those keys are spelled. Counts and
names only, never row text. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExportDetails:
    """The ``export`` row's details: versions read, where the export is, rows and files per
    split."""

    gold_version: int | None = None
    silver_version: int | None = None
    dir: str | None = None
    formats: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    rewrites: int = 0
    labels: int | None = None

    def to_map(self) -> dict[str, str]:
        """The string map of the ``metrics`` row."""
        details: dict[str, str] = {}
        if self.gold_version is not None:
            details["gold_version"] = str(self.gold_version)
        if self.silver_version is not None:
            details["silver_version"] = str(self.silver_version)
        if self.dir is not None:
            details["dir"] = self.dir
        if self.formats:
            details["formats"] = ",".join(self.formats)
        details |= {f"rows.{split}": str(n) for split, n in self.rows.items()}
        for fmt, per_split in self.files.items():
            details |= {f"files.{fmt}.{split}": str(n) for split, n in per_split.items()}
        details["rewrites"] = str(self.rewrites)
        if self.labels is not None:
            details["label_ids"] = str(self.labels)
        return details

    @classmethod
    def from_map(cls, details: dict[str, str]) -> ExportDetails:
        """Read an ``export`` row's details back; keys it does not know are skipped."""
        read = cls()
        for key, value in details.items():
            if key in ("gold_version", "silver_version"):
                setattr(read, key, int(value))
            elif key == "dir":
                read.dir = value
            elif key == "formats":
                read.formats = value.split(",") if value else []
            elif key.startswith("rows."):
                read.rows[key[len("rows.") :]] = int(value)
            elif key.startswith("files."):
                fmt, _, split = key[len("files.") :].partition(".")
                read.files.setdefault(fmt, {})[split] = int(value)
            elif key == "rewrites":
                read.rewrites = int(value)
            elif key == "label_ids":
                read.labels = int(value)
        return read
