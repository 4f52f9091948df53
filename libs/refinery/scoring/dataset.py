"""Featurized training data on disk, built from a stream of record batches.

The trainer never holds the table: each streamed batch is featurized
(:func:`refinery.scoring.features.featurize`) and its feature ids are appended to a file;
training reads them back memory-mapped, so resident memory is the page cache's business.
What stays in memory per row is small and fixed: the bag offset (8 bytes), the class index
(2 bytes), the fold (1 byte) and the id (in Arrow's compact string layout).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from refinery.scoring.features import Bags, FeatureOptions, featurize

UNLABELLED = -1


@dataclass
class BagWriter:
    """Appends featurized batches of one group to ``folder/ids.bin``."""

    folder: Path
    options: FeatureOptions
    _lengths: list[np.ndarray] = field(default_factory=list)
    _ids: list[pa.Array] = field(default_factory=list)
    _raw_labels: list[pa.Array] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._file = open(self.folder / "ids.bin", "wb")  # noqa: SIM115 - closed in finish()

    def append(self, ids: pa.Array, texts: list, tokens: list, labels: pa.Array) -> None:
        """Featurize one batch and append it."""
        bags = featurize(texts, tokens, self.options)
        self._file.write(bags.ids.astype(np.int64).tobytes())
        self._lengths.append(np.diff(bags.offsets))
        self._ids.append(ids)
        self._raw_labels.append(labels)

    def finish(self) -> StoredBags:
        """Close the file; the stored bags, ids and raw labels."""
        self._file.close()
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        path = self.folder / "ids.bin"
        ids = np.memmap(path, dtype=np.int64, mode="r") if offsets[-1] > 0 else np.zeros(0, dtype=np.int64)
        row_ids = pa.chunked_array(self._ids, type=pa.string())
        labels = pa.chunked_array(self._raw_labels, type=pa.string())
        return StoredBags(Bags(ids, offsets), row_ids, labels)


@dataclass
class StoredBags:
    """One group's rows: their bags (memory-mapped), ids and given labels (null: none)."""

    bags: Bags
    ids: pa.ChunkedArray
    labels: pa.ChunkedArray

    def __len__(self) -> int:
        return len(self.bags)

    def class_indices(self, classes: list[str]) -> np.ndarray:
        """Each row's label as an index into ``classes`` (int16; :data:`UNLABELLED` for a
        missing label or one outside ``classes``)."""
        index = pc.index_in(self.labels, value_set=pa.array(classes, pa.string()))
        return pc.fill_null(index, UNLABELLED).to_numpy().astype(np.int16)

    def label_counts(self) -> dict[str, int]:
        """Rows per given label (missing labels not counted)."""
        counts = pc.value_counts(self.labels.drop_null())
        return {c["values"].as_py(): c["counts"].as_py() for c in counts}
