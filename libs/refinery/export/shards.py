"""Size-capped shards: how many files a split needs, what they are called, and how many more
it needs when a written file came out over the cap.

A split of ``B`` estimated bytes is written as ``⌈B / (fill · cap)⌉`` shards (at least one);
each row goes to shard ``hash(row) mod n``, so shards hold about ``B / n`` bytes each, and
``fill`` < 1 leaves room for the spread of a hash partition and a file's own overhead (a
Parquet footer). The estimate is the row's JSON size (exact for JSONL; Parquet's columnar,
compressed encoding is smaller in practice). The job checks every file it wrote; a split with
a file over the cap is written again with :func:`more_shards`, so no file exceeds the cap.
Pure Python.
"""

from __future__ import annotations

import math

MIB = 1 << 20
#: Planned share of the cap a shard fills: the rest absorbs the hash partition's spread.
FILL = 0.85
#: File extension of each format.
EXTENSIONS = {"parquet": "parquet", "jsonl": "jsonl"}


def cap_bytes(max_shard_mb: float) -> int:
    """The cap in bytes for ``export.max_shard_mb`` (MiB)."""
    return max(1, int(max_shard_mb * MIB))


def shard_count(estimated_bytes: int, cap: int, fill: float = FILL) -> int:
    """Shards for a split of ``estimated_bytes`` under a cap of ``cap`` bytes per file: enough
    that each holds about ``fill · cap`` (at least 1; 0 for an empty split)."""
    if estimated_bytes < 0 or cap <= 0:
        raise ValueError("bytes must be at least 0 and the cap positive")
    if estimated_bytes == 0:
        return 0
    return max(1, math.ceil(estimated_bytes / (fill * cap)))


def more_shards(shards: int, largest_file: int, cap: int, fill: float = FILL) -> int:
    """The shard count for a split written as ``shards`` files whose largest was
    ``largest_file`` bytes, over ``cap``: scaled so the largest would fill ``fill · cap``,
    and always more than before."""
    if largest_file <= cap:
        return shards
    return max(shards + 1, math.ceil(shards * largest_file / (fill * cap)))


def shard_name(split: str, index: int, total: int, fmt: str) -> str:
    """``<split>-<index>-of-<total>.<ext>``, 5 digits each: ``train-00000-of-00004.parquet``
    (the names Hugging Face's hub uses, sorting in shard order)."""
    if not 0 <= index < total:
        raise ValueError(f"shard {index} outside 0..{total - 1}")
    return f"{split}-{index:05d}-of-{total:05d}.{EXTENSIONS[fmt]}"
