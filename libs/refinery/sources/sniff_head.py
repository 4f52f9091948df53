"""The bytes ``refinery inspect`` looks at: the input's files, and of each a bounded head (and,
for an uncompressed file, a few probes spread over it), never the whole file.

A sorted file (all the positive reviews, then all the negative ones) shows one label in its
head, so an uncompressed file is also probed at :data:`PROBES` evenly spaced offsets up to its end; each probe
starts after the first newline it finds and keeps whole lines only. A compressed file
(``.gz``, ``.bz2``, by name or magic bytes, as :mod:`refinery.sources.file_lines` decides)
cannot be seeked: only its head is read, as a stream. Memory holds at most
:data:`HEAD_BYTES` plus :data:`PROBES` x :data:`PROBE_BYTES` per file, whatever the file's
size, and at most :data:`MAX_FILES` files are read.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass

from refinery.sources.file_lines import compression_of, decompressed, local_path, open_binary

#: Bytes of a file's head (the encoding detector's sample size).
HEAD_BYTES = 1 << 20
#: Physical lines kept of a file's head (shared among the files read).
HEAD_LINES = 1_000
#: Probes of an uncompressed file beyond its head, and the bytes of each.
PROBES, PROBE_BYTES = 8, 32 << 10
#: Files read of a glob, folder or list (the first ones, sorted by path).
MAX_FILES = 16


@dataclass(frozen=True)
class FileHead:
    """The first whole lines of one file (decompressed), whether they are the whole file, and
    the whole lines of each probe further in."""

    path: str
    head: bytes
    whole: bool
    compression: str | None = None
    probes: tuple[bytes, ...] = ()


def input_files(paths: Sequence[str]) -> list[str]:
    """The files that ``paths`` (files, globs or folders) name, sorted, without duplicates;
    in a folder, every file below it whose name does not start with ``.`` or ``_`` (Spark's
    hidden files: ``_SUCCESS``, ``.crc``)."""
    found: dict[str, None] = {}
    for path in paths:
        for match in sorted(glob.glob(path)) or [path]:
            if os.path.isdir(match):
                found.update(dict.fromkeys(_folder_files(match)))
            elif os.path.isfile(match):
                found[match] = None
    return list(found)


def _folder_files(folder: str) -> list[str]:
    files = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        files += [os.path.join(parent, n) for n in sorted(names) if not n.startswith((".", "_"))]
    return files


def read_heads(files: Sequence[str], lines: int = HEAD_LINES) -> list[FileHead]:
    """:func:`read_head` of the first :data:`MAX_FILES` of ``files``, the budget of ``lines``
    lines shared among them (at least 50 lines each)."""
    chosen = list(files)[:MAX_FILES]
    each = max(lines // max(len(chosen), 1), 50)
    return [read_head(path, HEAD_BYTES, each) for path in chosen]


def read_head(path: str, max_bytes: int = HEAD_BYTES, max_lines: int = HEAD_LINES) -> FileHead:
    """The first ``max_lines`` whole lines of ``path`` within ``max_bytes`` (decompressed),
    and probes further in when it is neither compressed nor read whole. Raises ``OSError``
    (or ``EOFError``, ``zlib.error``) when it cannot be read or decompressed."""
    with open_binary(path) as raw:
        kind = compression_of(path, raw.read(10))
        raw.seek(0)
        stream = decompressed(raw, kind) if kind else raw
        data = stream.read(max_bytes + 1)
    whole = len(data) <= max_bytes
    head, cut = _whole_lines(data[:max_bytes], max_lines, whole)
    probes = () if kind or (whole and not cut) else _probes(path, len(head))
    return FileHead(path, head, whole and not cut, kind, probes)


def _whole_lines(data: bytes, max_lines: int, whole: bool) -> tuple[bytes, bool]:
    """``data`` cut after its ``max_lines``-th newline, or after its last one when the file
    goes on; and whether anything was cut."""
    end, count = -1, 0
    while count < max_lines:
        end = data.find(b"\n", end + 1)
        if end < 0:
            break
        count += 1
    if end >= 0 and count == max_lines and end + 1 < len(data):
        return data[: end + 1], True
    if whole:
        return data, False
    last = data.rfind(b"\n")
    return (data[: last + 1], True) if last >= 0 else (data, True)


def _probes(path: str, after: int) -> tuple[bytes, ...]:
    """The whole lines of :data:`PROBES` windows of :data:`PROBE_BYTES`, evenly spaced from
    the end of the head to the end of the file (local files only: a remote one is read by its
    head)."""
    local = local_path(path)
    if local is None:
        return ()
    size = os.path.getsize(local)
    if size - after < 2 * PROBE_BYTES:
        return ()
    step = (size - after - PROBE_BYTES) // (PROBES - 1)  # the last probe reads the file's end
    probes = []
    with open(local, "rb") as raw:
        for k in range(PROBES):
            raw.seek(after + k * step)
            window = raw.read(PROBE_BYTES)
            start, end = window.find(b"\n") + 1, window.rfind(b"\n") + 1
            if 0 < start < end:
                probes.append(window[start:end])
    return tuple(probes)
