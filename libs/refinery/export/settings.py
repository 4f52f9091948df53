"""``export``: gold → training-ready Parquet / JSONL shards with a manifest (see :mod:`refinery.export.job`)."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, field_validator

from refinery.config.base import Strict
from refinery.config.paths import resolve_path

#: A split name becomes part of a file name (``train-00000-of-00004.parquet``).
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
#: Columns every export must hold: the row's identity and its class (the manifest counts by it).
REQUIRED_COLUMNS = ("id", "label")
Format = Literal["parquet", "jsonl"]


def _parquet() -> list[Format]:
    return ["parquet"]


class ExportSettings(Strict):
    """The ``export`` job: one gold version written as shards a trainer loads directly
    (see :mod:`refinery.export.job`)."""

    #: Root folder of the exports; each run writes ``<dir>/<run_id>/`` (a rerun of the same
    #: run id replaces it). A local folder (or a ``file:`` path) that the driver and the
    #: executors share: local mode, or a mounted shared file system. Relative to the working folder.
    dir: str = "data/exports"
    #: The gold version to export; ``None``: the latest version when the job starts.
    gold_version: int | None = Field(default=None, ge=0)
    #: File formats written, each a full copy of the export: ``parquet`` (snappy) and ``jsonl``.
    formats: list[Format] = Field(default_factory=_parquet)
    #: Largest shard file, in MiB (2**20 bytes); every file written stays at or below it.
    max_shard_mb: float = Field(default=256.0, gt=0)
    #: Split name → share of each (source, label) stratum; the shares sum to 1. The first split
    #: is the training split (it alone keeps rebalance's over-sampled copies, unless
    #: ``eval_copies``).
    splits: dict[str, float] = Field(default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1})
    #: Seed of the split order (``xxhash64(seed, unit)``) and of the shard of a row.
    seed: int = 29
    #: Columns written, in this order: gold columns, plus ``label_id`` (the label's integer
    #: id, the manifest's ``label_ids``). ``id`` and ``label`` are required.
    columns: list[str] = Field(
        default_factory=lambda: ["id", "text", "label", "label_id", "source", "lang", "sample_weight"]
    )
    #: Keep every row of a dedup cluster (silver's ``dup_cluster``, as of the silver version
    #: gold was built from) in one split, so near-duplicates cannot leak from train into test.
    group_duplicates: bool = True
    #: Keep rebalance's over-sampled copies (``copy_index > 0``) in the evaluation splits (all
    #: but the first); by default they are filtered there (counted as ``eval_copy``), so each
    #: evaluation row counts once.
    eval_copies: bool = False

    @field_validator("dir")
    @classmethod
    def _local(cls, value: str) -> str:
        if "://" in value and not value.startswith("file:"):
            raise ValueError("must be a local folder or a file: path (the driver lists, renames and hashes the files)")
        if value.startswith("file:"):
            value = value[len("file:") :]
            value = "/" + value.lstrip("/") if value.startswith("/") else value
        return resolve_path(value)

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[Format]) -> list[Format]:
        if not value or len(set(value)) != len(value):
            raise ValueError("list each format once, at least one: [parquet], [jsonl] or [parquet, jsonl]")
        return value

    @field_validator("splits")
    @classmethod
    def _splits(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [name for name in value if not _SPLIT_NAME.match(name)]
        if bad:
            raise ValueError(f"split names are file-name parts: letters, digits and _ only, not {bad}")
        if not value or any(not 0.0 <= share <= 1.0 for share in value.values()):
            raise ValueError("give at least one split, each share between 0 and 1, e.g. {train: 0.8, test: 0.2}")
        if not math.isclose(sum(value.values()), 1.0, abs_tol=1e-9):
            raise ValueError(f"the shares must sum to 1, not {sum(value.values()):g}")
        return value

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("list each column once")
        missing = [c for c in REQUIRED_COLUMNS if c not in value]
        if missing:
            raise ValueError(f"must include {missing}: the manifest counts rows by id and label")
        return value
