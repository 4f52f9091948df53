"""Planning ingest's read tasks: files → byte ranges → tasks, in pure Python.

A task parses at most about ``ingest.max_partition_bytes`` of input, so the work of one large
file spreads over every core and no task's memory depends on a file's size:

* an **uncompressed line-per-record** file (JSONL, text, CSV/TSV whose fields cannot hold
  newlines) larger than that is cut into byte ranges of that size; each range reads the lines
  that *start* in it (:mod:`refinery.text.line_split`), so the cut points need not fall on
  line boundaries;
* a **compressed** file, or a CSV/TSV whose quoted fields may span lines, is one range, read
  as a stream by one task;
* ranges are then packed, in listing order, into tasks of up to that many bytes, each range
  counting :data:`OPEN_COST_BYTES` more for its opening and encoding sniff (Spark's
  ``openCostInBytes`` idea), so a folder of tiny files does not become one task per file.

Line numbers stay the file's: a range after the first needs the number of newlines before it,
which :func:`with_newlines_before` adds from per-range newline counts (one cheap pass over the
bytes, ``bytes.count``, that Spark runs in parallel before parsing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from refinery.ingest.settings import SourceSettings
from refinery.sources.file_lines import is_compressed_name
from refinery.text.encoding import is_wide_encoding

#: What opening a range costs, in bytes of parsing, when packing ranges into tasks.
OPEN_COST_BYTES = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One listed input file: its path as Spark lists it, size in bytes, modification time."""

    path: str
    size: int
    mtime: object


@dataclass(frozen=True)
class Split:
    """Bytes ``[start, end)`` of ``file`` for one task; ``newlines_before`` is filled in by
    :func:`with_newlines_before` for ranges that do not start their file."""

    file: InputFile
    start: int
    end: int
    newlines_before: int = 0
    task: int = 0

    @property
    def reads_to_end(self) -> bool:
        """True when the range is the whole file: its reader reads to the end of the file,
        wherever that is now, rather than stopping at ``end``."""
        return self.start == 0 and self.end >= self.file.size


def splittable(spec: SourceSettings) -> bool:
    """True when a file of this source may be cut into byte ranges of lines: one record per
    physical line (JSONL, text; CSV/TSV without multi-line fields) and a byte newline (not a
    declared UTF-16/UTF-32; an undeclared one is found per file, and read by one range)."""
    if spec.encoding != "auto" and is_wide_encoding(spec.encoding):
        return False
    return one_record_per_line(spec)


def one_record_per_line(spec: SourceSettings) -> bool:
    """True when every physical line of this source's files is one record: JSONL, text, and
    CSV/TSV whose fields cannot hold a newline (``quoting: none`` or ``multiline: false``)."""
    if spec.format in ("jsonl", "text"):
        return True
    return spec.format in ("csv", "tsv") and (spec.quoting == "none" or not spec.multiline)


def plan_splits(files: Iterable[InputFile], spec: SourceSettings, split_bytes: int) -> list[Split]:
    """The byte ranges of ``files``: ranges of ``split_bytes`` for a large file that may be
    split, one range (the whole file) for any other."""
    can_split = splittable(spec)
    splits = []
    for file in files:
        if not can_split or is_compressed_name(file.path) or file.size <= split_bytes:
            splits.append(Split(file, 0, max(file.size, 0)))
            continue
        for start in range(0, file.size, split_bytes):
            splits.append(Split(file, start, min(start + split_bytes, file.size)))
    return splits


def with_newlines_before(splits: Sequence[Split], newlines: Mapping[tuple[str, int], int]) -> list[Split]:
    """``splits`` with ``newlines_before`` set: the sum of the newline counts (``newlines``,
    keyed by ``(path, start)``) of the earlier ranges of the same file."""
    seen: dict[str, int] = {}
    result = []
    for split in sorted(splits, key=lambda s: (s.file.path, s.start)):
        before = seen.get(split.file.path, 0)
        result.append(replace(split, newlines_before=before))
        seen[split.file.path] = before + newlines.get((split.file.path, split.start), 0)
    return result


def multi_range_files(splits: Sequence[Split]) -> list[Split]:
    """The ranges of files cut into more than one range: the ones whose newlines count."""
    ranges: dict[str, int] = {}
    for split in splits:
        ranges[split.file.path] = ranges.get(split.file.path, 0) + 1
    return [split for split in splits if ranges[split.file.path] > 1]


def pack_tasks(splits: Sequence[Split], task_bytes: int) -> list[Split]:
    """``splits`` with ``task`` set: consecutive ranges share a task while their bytes (plus
    :data:`OPEN_COST_BYTES` each) stay within ``task_bytes``. Tasks are numbered from 0."""
    result, task, used = [], 0, 0
    for split in splits:
        cost = split.end - split.start + OPEN_COST_BYTES
        if used and used + cost > task_bytes:
            task, used = task + 1, 0
        result.append(replace(split, task=task))
        used += cost
    return result
