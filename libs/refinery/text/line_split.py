"""Bytes → physical lines, streamed: memory bounded by a setting, never by the input's size.

A line-per-record file (JSONL, CSV, TSV, text) is read as a sequence of chunks and cut into
physical lines here, before any decoding (see :mod:`refinery.text.encoding` for why lines are
split on bytes). Two splitters:

* :func:`byte_lines` for every encoding whose newline is the single byte ``0x0A`` (UTF-8,
  GBK/GB18030, Windows-1252, Latin-1 …). It can read one *byte range* of a file, so that one
  large file is parsed by many tasks at once. The rule is Hadoop's ``LineRecordReader``
  rule: **a line belongs to the range that holds its first byte.** A range that does not
  start a file skips the line it starts in the middle of (the range before it reads that line
  to its end, past its own end if need be), so every line is read by exactly one range
  whatever the range boundaries are.
* :func:`wide_lines` for UTF-16 and UTF-32, whose newline is a code unit of 2 or 4 bytes: a
  newline byte pattern only counts at a code-unit boundary of its line. Such files are read
  from their first byte by one task.

A line is at most ``max_line_bytes`` long in memory: a longer one is read through but only its
first :data:`OVERLONG_HEAD_BYTES` are kept, and it comes out as an :class:`RawLine` with
``length`` set, for the caller to refuse (``line_too_long``). Line numbers are 1-based
physical line numbers of the whole file: a range is told how many newline bytes precede it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

#: Bytes read from a file at a time (one chunk in memory, plus the line that straddles it).
CHUNK_BYTES = 1 << 20
#: Bytes of an over-long line kept for its quarantine payload.
OVERLONG_HEAD_BYTES = 64 << 10
_NL = b"\n"


class RawLine(NamedTuple):
    """One physical line: its 1-based number in the file and its bytes without the newline
    (and without a trailing carriage return). ``length`` is ``None`` for a line read whole;
    for a line over the limit it is the line's full length in bytes and ``raw`` its head."""

    line_no: int
    raw: bytes
    length: int | None = None


def read_chunks(stream, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``stream.read(chunk_bytes)`` until the stream is exhausted."""
    while chunk := stream.read(chunk_bytes):
        yield chunk


class _Pending:
    """The unfinished line that straddles chunks: kept whole up to ``limit`` bytes, then only
    its head and its length."""

    __slots__ = ("limit", "pieces", "size")

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.pieces: list[bytes] = []

    def add(self, piece: bytes) -> None:
        if self.size + len(piece) <= self.limit:
            self.pieces.append(piece)
        elif self.size <= self.limit:  # crossing the limit: keep the head only from now on
            head = b"".join(self.pieces) + piece
            self.pieces = [head[:OVERLONG_HEAD_BYTES]]
        self.size += len(piece)

    def take(self, last: bytes) -> tuple[bytes, int | None]:
        """The finished line (ending with ``last``) and its length when over the limit."""
        self.add(last)
        raw, size = b"".join(self.pieces), self.size
        self.pieces, self.size = [], 0
        return (raw, None) if size <= self.limit else (raw, size)


def byte_lines(
    chunks: Iterable[bytes],
    max_line_bytes: int,
    *,
    offset: int = 0,
    end: int | None = None,
    newlines_before: int = 0,
    skip_partial: bool = False,
    skip_bytes: int = 0,
) -> Iterator[RawLine]:
    """The physical lines in ``chunks`` (newline byte ``0x0A``) that start before ``end``.

    ``chunks`` hold the bytes of a file from absolute position ``offset`` on; ``end`` is the
    absolute position where this reader's range ends (``None``: read to the end). With
    ``skip_partial`` the first line in ``chunks`` is the tail of a line an earlier range owns:
    it is passed over, up to and including its newline (the caller starts the chunks one byte
    before its range, so a range that starts exactly on a line start skips just the newline
    before it). ``newlines_before`` is the number of ``0x0A`` bytes in the file before
    ``offset``, so that line numbers are the file's. ``skip_bytes`` (a byte-order mark, at
    ``offset`` 0) are left out of the first line. A final empty line (after the file's last
    newline) is no line.
    """
    pending = _Pending(max_line_bytes)
    line_no = newlines_before + 1
    pos = offset + skip_bytes  # absolute position of the next line's first byte
    skipping = skip_partial
    for chunk in chunks:
        if skip_bytes:
            chunk, skip_bytes = chunk[skip_bytes:], 0
        start = 0
        if skipping:
            found = chunk.find(_NL)
            if found < 0:
                pos += len(chunk)
                continue
            skipping = False
            pos += found + 1
            line_no += 1
            start = found + 1
        found = chunk.find(_NL, start)
        if found < 0:
            if pending.size == 0 and end is not None and pos >= end:
                return
            pending.add(chunk[start:] if start else chunk)
            continue
        if pending.size == 0 and end is not None and pos >= end:
            return
        raw, length = pending.take(chunk[start:found])
        yield _line(line_no, raw, length)
        pos += (length if length is not None else len(raw)) + 1
        line_no += 1
        parts = chunk[found + 1 :].split(_NL)
        tail = parts.pop()
        for raw in parts:
            if end is not None and pos >= end:
                return
            yield (
                _line(line_no, raw[:OVERLONG_HEAD_BYTES], len(raw))
                if len(raw) > max_line_bytes
                else _line(line_no, raw, None)
            )
            pos += len(raw) + 1
            line_no += 1
        if tail:
            if end is not None and pos >= end:
                return
            pending.add(tail)
    if skipping or not pending.size:
        return
    raw, length = pending.take(b"")
    yield _line(line_no, raw, length)


def _line(line_no: int, raw: bytes, length: int | None) -> RawLine:
    if length is None and raw.endswith(b"\r"):
        raw = raw[:-1]
    return RawLine(line_no, raw, length)


def wide_lines(chunks: Iterable[bytes], newline: bytes, max_line_bytes: int, skip_bytes: int = 0) -> Iterator[RawLine]:
    """The physical lines of a UTF-16 or UTF-32 byte stream whose newline code unit is
    ``newline`` (2 or 4 bytes): a match counts only at a code-unit boundary of its line, so
    a damaged line costs that line alone. A trailing carriage-return unit is dropped."""
    unit = len(newline)
    carriage_return = newline.replace(b"\n", b"\r")  # "\r" in the same encoding
    head_bytes = OVERLONG_HEAD_BYTES - OVERLONG_HEAD_BYTES % unit
    buffer = b""  # the unfinished line; once over the limit, its head only
    carry = b""  # over the limit: the bytes after the last whole code unit counted
    overlong: int | None = None  # over the limit: whole code units of the line counted, in bytes
    line_no = 1
    for chunk in chunks:
        if skip_bytes:
            chunk, skip_bytes = chunk[skip_bytes:], 0
        data = buffer + chunk if overlong is None else carry + chunk
        search = start = 0
        while (found := data.find(newline, search)) != -1:
            if (found - start) % unit:  # a match straddling two code units is no newline
                search = found + 1
                continue
            if overlong is not None:
                yield RawLine(line_no, buffer, overlong + found)
                overlong, buffer = None, b""
            else:
                yield _wide_line(line_no, data[start:found], carriage_return, max_line_bytes, head_bytes)
            line_no += 1
            start = search = found + unit
        rest = data[start:]
        if overlong is None and len(rest) <= max_line_bytes:
            buffer = rest
            continue
        if overlong is None:
            overlong, buffer = 0, rest[:head_bytes]
        whole = len(rest) - len(rest) % unit
        overlong += whole
        carry = rest[whole:]
    if overlong is not None:
        yield RawLine(line_no, buffer, overlong + len(carry))
    elif buffer:
        yield _wide_line(line_no, buffer, carriage_return, max_line_bytes, head_bytes)


def _wide_line(line_no: int, raw: bytes, carriage_return: bytes, max_line_bytes: int, head_bytes: int) -> RawLine:
    unit = len(carriage_return)
    if len(raw) > max_line_bytes:
        return RawLine(line_no, raw[:head_bytes], len(raw))
    if raw.endswith(carriage_return) and (len(raw) - unit) % unit == 0:
        raw = raw[:-unit]
    return RawLine(line_no, raw, None)
