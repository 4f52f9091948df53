"""A compressed line file decompressed once into a plain copy, so that it can be split.

A gzip or bzip2 file cannot be split: one task reads all of it, and each pass over it (ingest
reads the JVM reader's rows twice: once for their keys, once for the bronze write) costs one
core the whole decompression and parse. The decompressed copy is an ordinary uncompressed file:
it is split into byte ranges like any other, so every core parses part of it, and no pass but
this one decompresses.

The copy holds exactly the bytes :func:`refinery.sources.file_lines.file_lines` reads of the
original, so its lines, line numbers and over-long heads are the original's. It is kept only
when the original would be read as UTF-8 from its first byte (:func:`is_plain_utf8` of its
head, which is the copy's head) and the whole stream decompresses. Any other file (another
encoding, a stream that fails: one ``unreadable_file`` record) is left to the Python reader of
the original, which decides and reports as before: so staging changes where a file is parsed,
never what it gives.

gzip is inflated here by ISA-L (:mod:`isal.igzip`, several times faster than :mod:`gzip` on
one core), which gives the same bytes and accepts and refuses the same streams as the
:mod:`gzip` the Python reader uses: multi-member files and zero padding are read, a cut, a
flipped byte or trailing junk refused (``tests/unit/test_decompressed_copy.py`` checks each). A
stream ISA-L refuses goes to the Python reader, whose :mod:`gzip` words the reason.

Memory holds one chunk of :data:`COPY_CHUNK_BYTES`, whatever the file's size; the copy takes
the decompressed size on disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, cast

from isal import igzip, igzip_lib

from refinery.sources.file_lines import (
    DECOMPRESS_ERRORS,
    HEAD_BYTES,
    Opener,
    bytes_opener,
    compression_of,
    decompressed,
    is_plain_utf8,
    local_path,
    open_output,
)
from refinery.text.line_split import read_chunks

#: Decompressed bytes read and written at a time.
COPY_CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class DecompressedCopy:
    """A finished copy: its size in bytes, and the ``0x0A`` bytes in each block of
    ``block_bytes`` of it (``newlines[k]`` counts bytes ``[k * block_bytes, (k + 1) *
    block_bytes)``), which are the newline counts of the byte ranges it is split into."""

    size: int
    newlines: tuple[int, ...]


def write_decompressed_copy(
    opener: Opener, path: str, encoding: str, target: str, block_bytes: int
) -> DecompressedCopy | None:
    """Decompress the file ``path`` (opened by ``opener``) into the new file ``target``, when
    it is compressed (:func:`compression_of`), read as UTF-8 from its first byte (``encoding``:
    the source's setting) and decompresses to its end; else ``None``, and no ``target`` is
    left. The head is checked first, so a file that is not plain UTF-8 is not decompressed
    past it."""
    try:
        with opener() as raw:
            kind = compression_of(path, raw.read(10))
            if kind is None:
                return None
            raw.seek(0)
            with _fast_decompressed(raw, kind) as stream:
                head = stream.read(HEAD_BYTES)
                if not head or not is_plain_utf8(bytes_opener(head), target, encoding):
                    return None
                with open_output(target) as out:
                    return _copy(head, read_chunks(stream, COPY_CHUNK_BYTES), out, block_bytes)
    except (*DECOMPRESS_ERRORS, igzip_lib.IsalError):  # type: ignore[misc]  # isal is untyped
        # OSError covers a target that cannot be written, as well as a stream that fails
        _remove(target)
        return None


def _fast_decompressed(raw: BinaryIO, kind: str) -> BinaryIO:
    """:func:`decompressed`, with gzip inflated by ISA-L."""
    if kind == "gzip":
        return cast(BinaryIO, igzip.IGzipFile(fileobj=raw, mode="rb"))
    return decompressed(raw, kind)


def _copy(head: bytes, chunks: Iterable[bytes], out: BinaryIO, block_bytes: int) -> DecompressedCopy:
    newlines: list[int] = []
    size = 0
    for piece in chain([head], chunks):
        out.write(piece)
        at = 0
        while at < len(piece):  # counted per block: a piece may straddle a block's end
            part = piece[at : at + block_bytes - size % block_bytes]
            if size % block_bytes == 0:
                newlines.append(0)
            newlines[-1] += part.count(b"\n")
            size += len(part)
            at += len(part)
    return DecompressedCopy(size, tuple(newlines))


def _remove(target: str) -> None:
    local = local_path(target)
    if local is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(local)
    # a remote target is removed with its staging folder (refinery.ingest.staging)
