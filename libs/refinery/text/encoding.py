"""Bytes → text: encoding detection and line-by-line decoding that never raises.

Real corpora arrive in UTF-8 (with or without a BOM), GB18030/GBK, Windows-1252 or Latin-1
(the MR movie reviews), UTF-16, and sometimes in no single encoding at all (the CrowdFlower
tweets mix UTF-8 with stray single bytes). The functions here decode such files one physical
line at a time so that one bad line costs one record, not the file.

Lines are split on the *byte* ``\\n`` before decoding (a trailing ``\\r`` is dropped). That is
safe for every ASCII-compatible encoding handled here (in GBK/GB18030, Shift-JIS and Big5 a
trail byte is never 0x0A), and it is deliberate: ``str.splitlines`` would also split on
U+0085 (NEL), which is exactly what byte 0x85 ("…" in Windows-1252) becomes under Latin-1,
and would cut MR sentences in two. UTF-16 and UTF-32, where ``\\n`` is more than one byte, are
split on the newline code unit at code-unit boundaries. Splitting is streamed
(:mod:`refinery.text.line_split`), so a file is never held whole.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from refinery.text.line_split import RawLine, byte_lines, wide_lines

#: Byte-order marks, longest first (the UTF-32-LE mark starts with the UTF-16-LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

#: How many bytes the detector looks at. 1 MiB is enough for a stable guess and bounded cost.
DETECT_SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class DecodedLine:
    """One physical line: its 1-based number, the text (``None`` when undecodable or too
    long), the codec that decoded it and, on failure, why."""

    line_no: int
    text: str | None
    raw: bytes
    encoding: str | None
    error: str | None = None
    #: Set for a line over the length limit: its length in bytes (``raw`` is then its head).
    length: int | None = None


def strip_bom(data: bytes) -> tuple[bytes, str | None]:
    """Remove a leading byte-order mark; return the rest and the encoding the mark names."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :], name
    return data, None


def normalize_codec_name(name: str) -> str:
    """Python's canonical codec name (``GBK`` → ``gbk``, ``latin1`` → ``iso8859-1``)."""
    return codecs.lookup(name).name


def is_wide_encoding(encoding: str) -> bool:
    """True for UTF-16/UTF-32, whose newline is not the single byte 0x0A."""
    return normalize_codec_name(encoding).startswith(("utf-16", "utf-32"))


def detect_encoding(sample: bytes) -> str:
    """Best guess of the encoding of ``sample`` (the head of a file).

    Order: a BOM decides; else UTF-16 without a BOM when every other byte is NUL (see
    :func:`_utf16_without_bom`); else strict UTF-8 (by far the most common, and a false positive is
    very unlikely on non-UTF-8 text with any byte ≥ 0x80); else charset-normalizer's best
    candidate; else Windows-1252, which decodes all but five byte values.
    """
    body, bom_encoding = strip_bom(sample)
    if bom_encoding:
        return bom_encoding
    if wide := _utf16_without_bom(body):
        return wide
    if decodes_as_utf8(body):
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(body[:DETECT_SAMPLE_BYTES]).best()
    if best is not None and best.encoding:
        return normalize_codec_name(best.encoding)
    return "cp1252"


#: Share of code units whose high byte is NUL for a BOM-less sample to read as UTF-16, and the
#: most NULs allowed on the other side. Mostly-Latin UTF-16 text is close to 100% / 0%; text
#: in an 8-bit encoding has no NUL at all, and a binary file has NULs on both sides.
_UTF16_NUL_SHARE, _UTF16_OTHER_NUL_SHARE = 0.4, 0.05


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` for BOM-less UTF-16 of mostly Latin text, else ``None``.

    Such text is *valid UTF-8* (NUL and ASCII bytes alternating), so the UTF-8 test would
    accept it and every line would come out with a NUL between its letters and be split at the
    wrong byte. Its signature is a NUL in one byte of most 2-byte code units and (almost) never
    in the other. Mostly-CJK UTF-16 has no such signature; it is not valid UTF-8 either and is
    left to charset detection."""
    units = len(sample) // 2
    if units < 2:
        return None
    even, odd = sample[0 : 2 * units : 2].count(0), sample[1 : 2 * units : 2].count(0)
    for nuls, other, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if nuls >= _UTF16_NUL_SHARE * units and other <= _UTF16_OTHER_NUL_SHARE * units:
            return name
    return None


def decodes_as_utf8(data: bytes) -> bool:
    """True when ``data`` is strict UTF-8, allowing a multi-byte character cut at its end."""
    # A sample cut at an arbitrary offset may end inside a multi-byte character: an
    # incremental decoder without the final flush accepts such a tail.
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def resolve_encoding(head: bytes, encoding: str = "auto") -> tuple[str, int]:
    """The codec to decode a file with, and the length of its byte-order mark, from the first
    bytes of the file (at least :data:`DETECT_SAMPLE_BYTES` of them, or the whole file).

    ``encoding`` is a codec name or ``auto`` (:func:`detect_encoding` on the head without its
    BOM). A BOM is always left out of the text; its byte order wins over a declared
    ``utf-16``/``utf-32``. UTF-16 and UTF-32 without a byte order read as little-endian."""
    body, bom_encoding = strip_bom(head)
    if encoding == "auto":
        encoding = bom_encoding or detect_encoding(body[:DETECT_SAMPLE_BYTES])
    encoding = normalize_codec_name(encoding)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    if bom_encoding and encoding in ("utf-16", "utf-32") and bom_encoding.startswith(encoding):
        encoding = bom_encoding  # the BOM is left out of the text, so its byte order must be kept
    if encoding in ("utf-16", "utf-32"):  # no BOM left to say: Python's default is little-endian
        encoding += "-le"
    return encoding, len(head) - len(body)


def decode_raw_lines(lines: Iterable[RawLine], encoding: str, fallback: str | None = None) -> Iterator[DecodedLine]:
    """Decode physical lines (from :mod:`refinery.text.line_split`) one at a time, never
    raising: :func:`decode_one` for each, and a line over the length limit comes out with
    ``text=None``, its head as ``raw`` and its byte length as ``length``."""
    for line in lines:
        if line.length is not None:
            error = f"line of {line.length} bytes is over the limit"
            yield DecodedLine(line.line_no, None, line.raw, None, error, line.length)
        else:
            yield decode_one(line.raw, line.line_no, encoding, fallback)


def newline_unit(encoding: str) -> bytes:
    """The newline code unit of a wide (UTF-16/UTF-32) ``encoding``."""
    return "\n".encode(encoding)


def decode_lines(
    data: bytes, encoding: str = "auto", fallback: str | None = None, max_line_bytes: int = 1 << 62
) -> Iterator[DecodedLine]:
    """Decode ``data`` (a whole file) into lines, one :class:`DecodedLine` each, never raising.

    ``encoding`` is a codec name or ``auto`` (:func:`resolve_encoding`). A line that does not
    decode strictly is tried with ``fallback`` when given, else returned with ``text=None``
    and an ``error``. A final empty line (the file's trailing newline) is not a line. The
    same splitters read large files in bounded chunks (:mod:`refinery.sources.file_lines`).
    """
    encoding, bom = resolve_encoding(data[: DETECT_SAMPLE_BYTES + 4], encoding)
    chunks = [data] if data else []
    if is_wide_encoding(encoding):
        return decode_raw_lines(wide_lines(chunks, newline_unit(encoding), max_line_bytes, bom), encoding)
    return decode_raw_lines(byte_lines(chunks, max_line_bytes, skip_bytes=bom), encoding, fallback)


def decode_one(raw: bytes, line_no: int, encoding: str, fallback: str | None = None) -> DecodedLine:
    """Decode one line strictly with ``encoding``, then ``fallback``; report failure."""
    try:
        return DecodedLine(line_no, raw.decode(encoding), raw, encoding)
    except UnicodeDecodeError as exc:
        problem = f"not valid {encoding} at byte {exc.start}"
    if fallback:
        try:
            return DecodedLine(line_no, raw.decode(fallback), raw, normalize_codec_name(fallback))
        except UnicodeDecodeError as exc:
            problem += f"; not valid {fallback} at byte {exc.start}"
    return DecodedLine(line_no, None, raw, None, problem)


_SURROGATE = re.compile("[\ud800-\udfff]")


def find_lone_surrogate(text: str) -> int | None:
    """Index of the first surrogate code point in ``text``, or ``None``.

    Decoding bytes never yields one, but JSON's ``\\ud800`` escape of half a UTF-16 pair does:
    Python keeps it in the ``str``, which then has no UTF-8 form (``encode`` raises). A proper
    escaped pair (``\\ud83d\\ude00``) is joined into one character by the JSON parser and is
    not a surrogate here."""
    match = _SURROGATE.search(text)
    return None if match is None else match.start()


def printable_payload(raw: bytes, limit: int) -> str:
    """A lossless, printable rendering of undecodable bytes for the quarantine payload:
    valid UTF-8 stays as text, anything else becomes ``\\xNN`` escapes; cut to ``limit``."""
    return raw.decode("utf-8", errors="backslashreplace")[:limit]
