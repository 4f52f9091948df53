"""The records ``refinery inspect`` samples of Parquet files and Delta tables: the schema from
the file's metadata and the first :data:`PARQUET_ROWS` rows of its first row group, read in
one Arrow batch (a row group can be large; a batch of rows is bounded)."""

from __future__ import annotations

import os
from typing import Any

from refinery.sources.file_lines import open_binary

#: Rows read of a Parquet file.
PARQUET_ROWS = 1_000
PARQUET_MAGIC = b"PAR1"


def is_parquet(path: str, magic: bytes) -> bool:
    """True for a file named ``*.parquet`` or starting with Parquet's magic bytes."""
    return path.lower().endswith(".parquet") or magic[:4] == PARQUET_MAGIC


def is_delta_table(path: str) -> bool:
    """True for a local folder holding a ``_delta_log``."""
    return os.path.isdir(os.path.join(path, "_delta_log"))


def delta_data_files(table: str) -> list[str]:
    """The Parquet data files of a Delta table's folder (any version; for a sample only)."""
    found = []
    for parent, dirs, names in os.walk(table):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        found += [os.path.join(parent, n) for n in sorted(names) if n.endswith(".parquet") and not n.startswith(".")]
    return found


def parquet_sample(path: str, rows: int = PARQUET_ROWS) -> tuple[list[str], list[dict[str, Any]]]:
    """The column names of a Parquet file and its first ``rows`` rows as dicts."""
    import pyarrow.parquet as pq

    with open_binary(path) as raw:
        parquet = pq.ParquetFile(raw)
        names = list(parquet.schema_arrow.names)
        if parquet.metadata.num_row_groups == 0:
            return names, []
        batch = next(parquet.iter_batches(batch_size=rows, row_groups=[0]), None)
    return names, [] if batch is None else batch.to_pylist()
