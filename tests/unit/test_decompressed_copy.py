"""A compressed file's decompressed copy (no Spark): made only when the original would be read
as UTF-8 and decompresses to its end, holding exactly the bytes the reader of the original
reads, with a newline count per block; nothing is left behind when no copy is made."""

from __future__ import annotations

import bz2
import gzip
import random
import zlib
from pathlib import Path

import pytest

from refinery.sources.decompressed_copy import write_decompressed_copy
from refinery.sources.file_lines import FileRange, bytes_opener, file_lines

BLOCK = 1 << 20


def _text(lines: int) -> bytes:
    return b"".join(b'{"text": "line %d \xe4\xb8\xad", "n": %d}\n' % (i, i * i) for i in range(lines))


def _copy(tmp_path: Path, data: bytes, name: str = "a.jsonl.gz", encoding: str = "auto"):
    target = tmp_path / "copies" / "x.staged"
    return write_decompressed_copy(bytes_opener(data), name, encoding, str(target), BLOCK), target


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_a_copy_holds_the_decompressed_bytes_and_each_blocks_newlines(tmp_path, compress) -> None:
    data = _text(120_000)  # several blocks, the last one partial
    made, target = _copy(tmp_path, compress(data), "a.jsonl.gz" if compress is gzip.compress else "a.jsonl.bz2")
    assert target.read_bytes() == data
    assert made.size == len(data)
    blocks = [data[k : k + BLOCK] for k in range(0, len(data), BLOCK)]
    assert made.newlines == tuple(b.count(b"\n") for b in blocks)
    assert len(made.newlines) > 2


def test_a_copy_reads_as_the_original_reads(tmp_path) -> None:
    # concatenated members and zero padding after the last: both read by the original's reader
    data = _text(30_000)
    original = gzip.compress(data[:70_001]) + gzip.compress(data[70_001:]) + b"\0" * 64
    made, target = _copy(tmp_path, original)
    read = [line.text for line in file_lines(bytes_opener(original), FileRange("a.jsonl.gz"), "auto", None, BLOCK)]
    copied = [line.text for line in file_lines(bytes_opener(target.read_bytes()), FileRange("x"), "auto", None, BLOCK)]
    assert made is not None
    assert copied == read
    assert len(read) == 30_000


def _python_gzip_reads(data: bytes) -> bytes | None:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None


def _corruptions() -> list[bytes]:
    """gzip streams broken in the ways files break: cut anywhere, a byte flipped anywhere,
    garbage or a second member's start after the end, members and padding mixed."""
    rng = random.Random(19)
    one = gzip.compress(_text(2_000))
    streams = [one[:cut] for cut in sorted(rng.sample(range(len(one)), 40))]
    for at in rng.sample(range(len(one)), 60):
        flipped = bytearray(one)
        flipped[at] ^= 1 << rng.randrange(8)
        streams.append(bytes(flipped))
    streams += [one + tail for tail in (b"junk", b"\x1f", b"\x1f\x8b", one[:12], b"\0" * 7 + b"x", b"\0" * 9)]
    streams += [one + b"\0" * 5 + one, b"", b"\x1f\x8b", one[:10]]
    return streams


def test_the_copy_inflates_what_python_gzip_inflates_and_refuses_what_it_refuses(tmp_path) -> None:
    # the copy uses ISA-L, the Python reader of the original uses gzip: they must agree on
    # every stream, or a file would be read differently for being staged
    agreed = 0
    for k, original in enumerate(_corruptions()):
        target = tmp_path / f"c{k}.staged"
        made = write_decompressed_copy(bytes_opener(original), "a.jsonl.gz", "auto", str(target), BLOCK)
        expected = _python_gzip_reads(original)
        if expected:
            assert made is not None, k
            assert target.read_bytes() == expected, k
        else:
            assert made is None, k
            assert not target.exists(), k
        agreed += expected is not None
    assert 0 < agreed < len(_corruptions())  # both outcomes were exercised


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(gzip.compress(_text(50_000))[:-40], id="truncated"),
        pytest.param(gzip.compress(_text(10)) + b"junk", id="trailing-data"),
        pytest.param(gzip.compress(_text(10))[:10] + b"\x00" * 50, id="corrupt"),
    ],
)
def test_a_stream_that_does_not_decompress_leaves_no_copy(tmp_path, original) -> None:
    made, target = _copy(tmp_path, original)
    assert made is None
    assert not target.exists()


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        pytest.param("\ufeff{}\n".encode(), "auto", id="utf8-bom"),
        pytest.param('{"text": "宽"}\n'.encode("utf-16"), "auto", id="utf16"),
        pytest.param('{"text": "中文"}\n'.encode("gb18030") * 500, "gb18030", id="declared-gb18030"),
        pytest.param(gzip.compress(b"inner\n"), "auto", id="compressed-inside"),
        pytest.param(b"", "auto", id="empty"),
    ],
)
def test_a_file_not_read_as_utf8_from_its_first_byte_is_not_copied(tmp_path, text, encoding) -> None:
    made, target = _copy(tmp_path, gzip.compress(text), encoding=encoding)
    assert made is None
    assert not target.exists()


def test_an_uncompressed_file_is_not_copied(tmp_path) -> None:
    made, target = _copy(tmp_path, _text(10), name="a.jsonl")
    assert made is None
    assert not target.exists()
