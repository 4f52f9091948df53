"""Featurized training data on disk: written in shards where the rows are, read memory-mapped
where the model trains.

The executors featurize (:func:`refinery.score.features.featurize`) and each task writes one
*shard* per group it saw (:class:`ShardWriter`); the driver never receives a row. Training
needs one group's rows as one array, so :func:`gather_group` concatenates the group's shards
into a *group folder* of ``.npy`` files, copying file to file in slices of bounded size, and
:func:`load_group` opens it memory-mapped, so resident memory is the page cache's business.
The same folder is what ``TorchDistributor`` workers read (:mod:`refinery.score.distributed`),
so it must be shared storage when they run on executors.

A shard folder holds, for its ``n`` rows in the order the task saw them:

* ``bag_ids.bin``: the feature ids of every bag, back to back (int64, raw);
* ``lengths.npy``: each bag's number of ids (int64, ``n``);
* ``labels.npy``: each row's class index in its group's sorted trainable classes (int16);
* ``keys.npy``: each row's key (:func:`refinery.score.crossfit.row_keys`, uint64), from which
  the fold and the training order derive;
* ``ids.arrow``: the row ids (an Arrow IPC file of strings), read back one shard at a time
  only to stage the scores, so no id is ever held for the whole group;
* with neighbour features (:mod:`refinery.score.neighbours`, their own n-gram options),
  ``neighbour_ids.bin`` and ``neighbour_lengths.npy``: the same rows' bags in that space.

A group folder holds ``bag_ids.npy``, ``offsets.npy`` (``n + 1``), ``labels.npy``,
``keys.npy``, with neighbour features ``neighbour_bag_ids.npy`` and ``neighbour_offsets.npy``,
and ``shards.json`` (the shard folders and their row counts, in order: rows
``[start, start + rows)`` of the group are that shard's rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from refinery.score.features import Bags, featurize

#: Most bytes :func:`gather_group` copies at once (a slice of a shard's ids).
from refinery.score.options import FeatureOptions

#: Most bytes :func:`gather_group` copies at once (a slice of a shard's ids).
COPY_BYTES = 64 << 20
_IDS_SCHEMA = pa.schema([("id", pa.string())])


def group_folder_name(group: str) -> str:
    """A file-name-safe name for a group's scratch folder (group values are arbitrary text)."""
    return hashlib.blake2b(group.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class ShardWriter:
    """Featurizes batches of one group's rows and appends them to a shard folder.

    The shard is written under ``folder`` + ``.partial`` and renamed to ``folder`` by
    :meth:`finish`, replacing what a failed earlier attempt of the same task left, so only
    whole shards carry the final name."""

    folder: Path
    options: FeatureOptions
    #: The neighbour space's feature options; ``None``: no neighbour bags.
    neighbour_options: FeatureOptions | None = None
    rows: int = 0
    _lengths: list[np.ndarray] = field(default_factory=list)
    _neighbour_lengths: list[np.ndarray] = field(default_factory=list)
    _labels: list[np.ndarray] = field(default_factory=list)
    _keys: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._partial = self.folder.with_name(self.folder.name + ".partial")
        shutil.rmtree(self._partial, ignore_errors=True)
        self._partial.mkdir(parents=True)
        self._bags = open(self._partial / "bag_ids.bin", "wb")  # noqa: SIM115 - closed in finish()
        self._neighbour_bags = (
            None if self.neighbour_options is None else open(self._partial / "neighbour_ids.bin", "wb")  # noqa: SIM115
        )
        self._ids = pa.ipc.new_file(str(self._partial / "ids.arrow"), _IDS_SCHEMA)

    def append(
        self,
        ids: pa.Array,
        texts: Sequence[str | None],
        tokens: Sequence[Sequence[str] | None],
        labels: np.ndarray,
        keys: np.ndarray,
    ) -> None:
        """Featurize one batch (``labels`` class indices, ``keys`` row keys) and append it."""
        bags = featurize(texts, tokens, self.options)
        self._bags.write(np.ascontiguousarray(bags.ids, dtype=np.int64).tobytes())
        self._lengths.append(np.diff(bags.offsets))
        if self._neighbour_bags is not None:
            near = featurize(texts, tokens, self.neighbour_options)
            self._neighbour_bags.write(np.ascontiguousarray(near.ids, dtype=np.int64).tobytes())
            self._neighbour_lengths.append(np.diff(near.offsets))
        self._labels.append(np.asarray(labels, dtype=np.int16))
        self._keys.append(np.asarray(keys, dtype=np.uint64))
        self._ids.write_batch(pa.record_batch([ids.cast(pa.string())], schema=_IDS_SCHEMA))
        self.rows += len(ids)

    def finish(self) -> Path:
        """Write the per-row arrays, close the files and give the shard its final name."""
        self._bags.close()
        self._ids.close()
        arrays = [("lengths", self._lengths, np.int64), ("labels", self._labels, np.int16)]
        arrays.append(("keys", self._keys, np.uint64))
        if self._neighbour_bags is not None:
            self._neighbour_bags.close()
            arrays.append(("neighbour_lengths", self._neighbour_lengths, np.int64))
        for name, parts, dtype in arrays:
            np.save(self._partial / f"{name}.npy", np.concatenate(parts) if parts else np.zeros(0, dtype))
        shutil.rmtree(self.folder, ignore_errors=True)
        os.rename(self._partial, self.folder)
        return self.folder


@dataclass(frozen=True)
class GroupBags:
    """One group's training rows: bags (ids memory-mapped), class indices and row keys, plus
    the shards they came from (to read the row ids back, one shard at a time)."""

    folder: Path
    bags: Bags
    labels: np.ndarray
    keys: np.ndarray
    shards: tuple[tuple[str, int], ...]
    #: The rows' bags in the neighbour space, when the shards were written with them.
    neighbour_bags: Bags | None = None

    def __len__(self) -> int:
        return len(self.bags)

    def shard_ids(self) -> Iterator[tuple[int, pa.Array]]:
        """``(first row, ids)`` of every shard, in the group's row order."""
        start = 0
        for shard, rows in self.shards:
            with pa.memory_map(str(Path(shard) / "ids.arrow")) as source:
                ids = pa.ipc.open_file(source).read_all().column("id").combine_chunks()
            if len(ids) != rows:
                raise ValueError(f"shard {shard}: {len(ids)} ids, {rows} rows expected")
            yield start, ids
            start += rows


def gather_group(folder: Path, shards: Sequence[Path]) -> GroupBags:
    """Concatenate ``shards`` (in that order) into the group folder ``folder`` and open it."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = [len(np.load(Path(s) / "lengths.npy", mmap_mode="r")) for s in shards]
    n = sum(counts)
    labels = np.lib.format.open_memmap(folder / "labels.npy", "w+", np.int16, (n,))
    keys = np.lib.format.open_memmap(folder / "keys.npy", "w+", np.uint64, (n,))
    row = 0
    for shard, rows in zip(shards, counts, strict=True):
        labels[row : row + rows] = np.load(Path(shard) / "labels.npy")
        keys[row : row + rows] = np.load(Path(shard) / "keys.npy")
        row += rows
    for array in (labels, keys):
        array.flush()
    del labels, keys
    _gather_bags(folder, shards, "bag_ids", "offsets", "bag_ids.bin", "lengths.npy", n)
    if shards and all((Path(s) / "neighbour_ids.bin").exists() for s in shards):
        names = ("neighbour_bag_ids", "neighbour_offsets", "neighbour_ids.bin", "neighbour_lengths.npy")
        _gather_bags(folder, shards, *names, n)
    (folder / "shards.json").write_text(json.dumps([[str(s), c] for s, c in zip(shards, counts, strict=True)]))
    return load_group(folder)


def load_group(folder: Path) -> GroupBags:
    """The group folder written by :func:`gather_group`, memory-mapped."""
    folder = Path(folder)
    shards = tuple((s, int(c)) for s, c in json.loads((folder / "shards.json").read_text()))
    opened = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ("bag_ids", "offsets", "labels", "keys")}
    bags = Bags(opened["bag_ids"], opened["offsets"])
    near = None
    if (folder / "neighbour_offsets.npy").exists():
        near = Bags(
            np.load(folder / "neighbour_bag_ids.npy", mmap_mode="r"),
            np.load(folder / "neighbour_offsets.npy", mmap_mode="r"),
        )
    return GroupBags(folder, bags, opened["labels"], opened["keys"], shards, near)


def _gather_bags(folder: Path, shards: Sequence[Path], ids_name: str, offsets_name: str, ids_file: str,
                 lengths_file: str, n: int) -> None:  # fmt: skip
    """Concatenate the shards' bags (``ids_file`` and ``lengths_file``) into the group folder's
    ``ids_name.npy`` and ``offsets_name.npy``."""
    total_ids = sum(os.path.getsize(Path(s) / ids_file) // 8 for s in shards)
    offsets = np.lib.format.open_memmap(folder / f"{offsets_name}.npy", "w+", np.int64, (n + 1,))
    ids = np.lib.format.open_memmap(folder / f"{ids_name}.npy", "w+", np.int64, (total_ids,))
    offsets[0] = 0
    row = at = 0
    for shard in shards:
        lengths = np.load(Path(shard) / lengths_file)
        rows = len(lengths)
        np.cumsum(lengths, out=offsets[row + 1 : row + 1 + rows])
        offsets[row + 1 : row + 1 + rows] += at
        at += _copy_ids(Path(shard) / ids_file, ids, at)
        row += rows
    offsets.flush()
    ids.flush()


def _copy_ids(source: Path, target: np.ndarray, at: int) -> int:
    """Copy the raw int64 file ``source`` into ``target[at:]``, :data:`COPY_BYTES` at a time;
    the number of ids copied."""
    count = os.path.getsize(source) // 8
    step = COPY_BYTES // 8
    for start in range(0, count, step):
        piece = np.fromfile(source, dtype=np.int64, count=min(step, count - start), offset=start * 8)
        target[at + start : at + start + len(piece)] = piece
    return count
