"""One input file, or one byte range of it → decoded physical lines, in bounded memory.

A file is opened where it lies (a local path, or any filesystem ``pyarrow.fs`` knows: HDFS,
S3, GCS …) and read in chunks of :data:`refinery.text.line_split.CHUNK_BYTES`; memory holds
one chunk, the line being read (at most ``ingest.max_line_bytes``) and the encoding
detector's head, whatever the file's size.

* **Compressed files** (gzip, by name ``*.gz`` or by its magic bytes; bzip2 ``*.bz2``) are
  decompressed as a stream. They cannot be split: the range that starts the file reads all of
  it. A stream that does not decompress to its end makes the whole file one
  ``unreadable_file`` record, as before streaming: the file is first decompressed once to its
  end without keeping anything (``zlib`` runs far ahead of parsing).
* **The encoding** is resolved on the file's head (the first 1 MiB after a byte-order mark,
  :func:`refinery.text.encoding.resolve_encoding`), by every range of the file alike, so all
  ranges decode with the same codec.
* **UTF-16 and UTF-32** files are read whole by the range that starts the file; the other
  ranges of such a file yield nothing.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, cast

from refinery.text.encoding import (
    DETECT_SAMPLE_BYTES,
    DecodedLine,
    decode_raw_lines,
    is_wide_encoding,
    newline_unit,
    resolve_encoding,
)
from refinery.text.line_split import byte_lines, read_chunks, wide_lines

#: Opens a file for binary reading; seekable for an uncompressed file's later ranges.
Opener = Callable[[], BinaryIO]
#: The head a file's encoding is resolved on: the detector's sample plus the longest BOM.
HEAD_BYTES = DETECT_SAMPLE_BYTES + 4
_BZIP2_MAGIC_TAIL = b"1AY&SY"  # after "BZh" and the block-size digit: the first block's magic


@dataclass(frozen=True)
class FileRange:
    """A byte range ``[start, end)`` of the file at ``path``; ``end=None`` reads to the end.
    ``newlines_before`` is the number of ``0x0A`` bytes in the file before ``start``, so that
    the range's lines get the file's line numbers."""

    path: str
    start: int = 0
    end: int | None = None
    newlines_before: int = 0


#: What reading a stream that does not decompress raises.
DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error, ValueError)


class UnreadableFileError(Exception):
    """The file cannot be opened, or its compressed stream does not decompress."""


def compression_of(path: str, magic: bytes) -> str | None:
    """``gzip``, ``bz2`` or ``None`` for a file named ``path`` that starts with ``magic``
    (its first 10 bytes): gzip by its ``.gz`` name or its magic bytes ``1f 8b``; bzip2 by its
    ``.bz2`` name or its full stream-and-block magic (``BZh`` alone starts ordinary text)."""
    name = path.lower()
    if name.endswith(".gz") or magic[:2] == b"\x1f\x8b":
        return "gzip"
    if name.endswith(".bz2") or (magic[:3] == b"BZh" and magic[4:10] == _BZIP2_MAGIC_TAIL):
        return "bz2"
    return None


def is_compressed_name(path: str) -> bool:
    """True when ``path``'s name says it is compressed (so it is read by one task)."""
    return path.lower().endswith((".gz", ".bz2"))


def local_path(path: str) -> str | None:
    """The local filesystem path of a ``file:`` URI or a plain path; ``None`` for another
    scheme."""
    if path.startswith("file:"):
        rest = path[len("file:") :]
        return "/" + rest.lstrip("/") if rest.startswith("//") else rest
    return None if "://" in path else path


def open_binary(path: str) -> BinaryIO:
    """``path`` (as Spark lists it: ``file:/…``, ``hdfs://…``, ``s3a://…``) opened for binary,
    seekable reading: a local file directly, anything else through ``pyarrow.fs``."""
    local = local_path(path)
    if local is not None:
        return open(local, "rb")  # the caller closes it
    filesystem, inner = _pyarrow_filesystem(path)
    return filesystem.open_input_file(inner)


def open_output(path: str) -> BinaryIO:
    """``path`` (a plain path, ``file:/…``, ``hdfs://…``, ``s3a://…``) created, or truncated,
    for binary writing, its folder made when missing: a local file directly, anything else
    through ``pyarrow.fs``."""
    local = local_path(path)
    if local is not None:
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
        return open(local, "wb")  # the caller closes it
    filesystem, inner = _pyarrow_filesystem(path)
    return filesystem.open_output_stream(inner)


def _pyarrow_filesystem(path: str):
    """The ``pyarrow.fs`` filesystem of a URI Spark lists (``s3a://`` is ``s3://`` there) and
    the path inside it."""
    from pyarrow import fs

    uri = path.replace("s3a://", "s3://", 1).replace("s3n://", "s3://", 1)
    return fs.FileSystem.from_uri(uri)


def bytes_opener(data: bytes) -> Opener:
    """An :data:`Opener` of bytes already in memory (tests, small inputs)."""
    return lambda: io.BytesIO(data)


def file_lines(
    opener: Opener,
    span: FileRange,
    encoding: str,
    fallback: str | None,
    max_line_bytes: int,
) -> Iterator[DecodedLine]:
    """The decoded lines that ``span`` owns (see :mod:`refinery.text.line_split` for the rule).

    Raises :class:`UnreadableFileError` before yielding anything when the file cannot be opened or
    does not decompress."""
    try:
        raw = opener()
    except OSError as exc:
        raise UnreadableFileError(f"cannot read: {exc}") from exc
    with raw:
        magic = raw.read(10)
        kind = compression_of(span.path, magic)
        if kind is not None and span.start > 0:
            return
        if kind is not None:
            if (problem := _decompress_problem(opener, kind)) is not None:
                raise UnreadableFileError(f"cannot decompress: {problem}")
            raw.seek(0)
            stream: BinaryIO = decompressed(raw, kind)
        else:
            raw.seek(0)
            stream = raw
        head = stream.read(HEAD_BYTES)
        codec, bom = resolve_encoding(head, encoding)
        if is_wide_encoding(codec):
            if span.start > 0:
                return
            chunks: Iterator[bytes] = chain([head], read_chunks(stream))
            yield from decode_raw_lines(wide_lines(chunks, newline_unit(codec), max_line_bytes, bom), codec)
            return
        if span.start == 0:
            chunks = chain([head], read_chunks(stream))
            end = None if kind is not None else span.end  # a compressed file is never split
            lines = byte_lines(chunks, max_line_bytes, end=end, skip_bytes=bom)
        else:
            stream.seek(span.start - 1)
            chunks = read_chunks(stream)
            first = next(chunks, b"")
            # the byte before the range is counted in newlines_before; the reader counts it again
            before = span.newlines_before - (first[:1] == b"\n")
            lines = byte_lines(
                chain([first], chunks),
                max_line_bytes,
                offset=span.start - 1,
                end=span.end,
                newlines_before=before,
                skip_partial=True,
            )
        yield from decode_raw_lines(lines, codec, fallback)


def is_plain_utf8(opener: Opener, path: str, encoding: str) -> bool:
    """True when the file is read as UTF-8 from its first byte: not compressed, no byte-order
    mark, and its head resolves to ``utf-8`` (:func:`resolve_encoding` with the source's
    ``encoding``), as :func:`file_lines` would decide. False too when it cannot be opened."""
    try:
        with opener() as raw:
            magic = raw.read(10)
            if compression_of(path, magic) is not None:
                return False
            raw.seek(0)
            return resolve_encoding(raw.read(HEAD_BYTES), encoding) == ("utf-8", 0)
    except OSError:
        return False


def count_newlines(opener: Opener, start: int, end: int) -> int:
    """Number of ``0x0A`` bytes in ``[start, end)`` of the file."""
    with opener() as raw:
        raw.seek(start)
        left, count = end - start, 0
        while left > 0 and (chunk := raw.read(min(left, 8 << 20))):
            count += chunk.count(b"\n")
            left -= len(chunk)
        return count


def decompressed(raw: BinaryIO, kind: str) -> BinaryIO:
    """``raw`` (a ``gzip`` or ``bz2`` stream, :func:`compression_of`) decompressed as a stream."""
    if kind == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
    return cast(BinaryIO, bz2.BZ2File(raw, mode="rb"))


def _decompress_problem(opener: Opener, kind: str) -> str | None:
    """Why the compressed file does not decompress to its end, or ``None`` when it does
    (read through once, nothing kept)."""
    try:
        with opener() as raw, decompressed(raw, kind) as stream:
            for _ in read_chunks(stream, 8 << 20):
                pass
    except DECOMPRESS_ERRORS as exc:
        return str(exc)
    return None
