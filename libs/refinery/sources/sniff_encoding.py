"""The ``encoding`` (and ``fallback_encoding``) ``refinery inspect`` proposes for a file's head.

Three cases, decided on the head's bytes (:func:`refinery.text.encoding.detect_encoding` does
the detection proper):

* **UTF-8** (or a byte-order mark): nothing to write, ``encoding: auto`` (the default) finds it.
* **Mostly UTF-8 with stray bytes** (the CrowdFlower tweets): some well-formed multi-byte UTF-8
  sequences, and a minority of lines that do not decode. No single codec reads such a file, so
  ``encoding: utf-8`` with ``fallback_encoding: latin-1``: Latin-1 maps every byte, so those
  lines are kept byte for byte for ``clean`` to repair, not quarantined as undecodable.
* **Another encoding**: what detection says, except that a head which Windows-1252 decodes
  whole, and that detection places in another single-byte Latin code page, is called
  ``cp1252``: on a mostly-ASCII head (the MR sentences: 1 line in 50 has an accented letter)
  charset detection cannot tell Western from Central European, and Windows-1252 is by far the
  more common (it is also the detector's own last resort).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from refinery.text.encoding import decodes_as_utf8, detect_encoding, normalize_codec_name, strip_bom

#: A well-formed 2-, 3- or 4-byte UTF-8 sequence.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
#: Most lines of a head that may fail UTF-8 for it to be "mostly UTF-8 with stray bytes".
MAX_STRAY_LINE_SHARE = 0.25
#: Code pages charset detection picks for Latin-script text with a few accented letters.
_LATIN_CODE_PAGES = ("cp1250", "cp1252", "cp1254", "cp1257", "cp775", "cp850", "latin", "iso8859", "mac")


@dataclass(frozen=True)
class EncodingGuess:
    """``encoding`` (``None``: leave ``auto``), ``fallback_encoding`` and why."""

    encoding: str | None
    fallback: str | None
    why: str


def guess_encoding(heads: Sequence[bytes]) -> EncodingGuess:
    """The encoding of files whose heads (whole lines each) are ``heads``."""
    bodies = [strip_bom(head) for head in heads]
    if all(bom or decodes_as_utf8(body) for body, bom in bodies):
        marks = sorted({bom or detect_encoding(body) for body, bom in bodies} - {"utf-8"})
        return EncodingGuess(None, None, f"auto detects {', '.join(marks)}" if marks else "valid UTF-8")
    data = b"\n".join(body for body, _ in bodies)
    lines = [line for line in data.split(b"\n") if line.strip()]
    stray = sum(not decodes_as_utf8(line) for line in lines)
    sequences = len(_UTF8_SEQUENCE.findall(data))
    if sequences and stray <= MAX_STRAY_LINE_SHARE * len(lines):
        why = (
            f"{stray:,} of {len(lines):,} lines are not UTF-8 (stray bytes) beside {sequences:,} UTF-8 "
            "characters: latin-1 keeps those lines byte for byte"
        )
        return EncodingGuess("utf-8", "latin-1", why)
    detected = detect_encoding(data)
    if detected != "cp1252" and detected.startswith(_LATIN_CODE_PAGES) and _decodes(data, "cp1252"):
        why = f"{stray:,} of {len(lines):,} lines have single high bytes; detection says {detected}, cp1252 reads them"
        return EncodingGuess("cp1252", None, why)
    why = f"{stray:,} of {len(lines):,} lines are not UTF-8; charset detection"
    return EncodingGuess(normalize_codec_name(detected), None, why)


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True
