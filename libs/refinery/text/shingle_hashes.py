"""The shingle hash sets of a whole batch of documents at once, equal to
:func:`refinery.text.shingles.shingle_hashes` of :func:`~refinery.text.shingles.shingles` per
document, in a fixed number of numpy passes instead of a Python loop per shingle.

**Units.** Each document becomes one *unit string*, built with C-level string methods only:

* a character-shingled document (:func:`~refinery.text.shingles.uses_characters`): its
  canonical form, each code point a unit;
* a word-shingled document: its words joined by ``\\x1f`` (the unit separator), case-folded.
  Words are silver's tokens, or, without tokens, the text split on whitespace with the
  punctuation at either end of each word stripped (by Arrow, for the whole batch at once).

**Shingles as byte slices.** The unit strings of the batch are concatenated and encoded once,
to UTF-8 bytes and to code points. A shingle of n units is then one contiguous byte slice, from
the first byte of its first unit to the last byte of its last (the ``\\x1f`` separators between
word units included, exactly as ``"\\x1f".join(units)`` has them); a document with fewer units
than n has one slice over all of them.

**CRC-32 of many slices.** The table-driven CRC (reflected polynomial ``0xEDB88320``, as
``zlib.crc32``) is run over all slices in parallel, one numpy step per byte position: the
slices are ordered by length, longest first, so the slices still running at byte k are a
prefix of the order. Work is proportional to the bytes of all shingles (about n times the
text), with one Python step per byte of the longest shingle.

**Sets.** ``(document << 32) | crc`` keys are sorted and de-duplicated in one ``np.unique``:
each document's hashes come out sorted and unique, as ``shingle_hashes`` returns them.

:func:`pair_jaccards` scores candidate pairs on *44-bit* keys (CRC-32 and the top 12 bits of a
32-bit FNV-1a of the same bytes): two different shingles share a key with probability 2^-44,
so a pair of 50-shingle documents scores other than the exact Jaccard of its shingle strings
with probability ≈ 2500 / 2^44 ≈ 1.4·10^-10 (with the 32-bit CRC alone, ≈ 6·10^-7). A key and
the number of its side fit in one ``uint64``, so each set operation is one integer sort.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from refinery.text.canonical import canonical
from refinery.text.shingles import DEFAULT, ShingleOptions, uses_characters

#: Every punctuation code point (Unicode categories ``P*``), as one string.
PUNCTUATION = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P"))
_SEPARATOR = "\x1f"
_FNV_PRIME = np.uint32(0x01000193)
_FNV_OFFSET = np.uint32(0x811C9DC5)
#: Bits of a shingle key in :func:`pair_jaccards` (all 32 of CRC-32, the top 12 of FNV-1a),
#: leaving 20 for the side's number in one ``uint64``; so at most 2^19 pairs per call.
_KEY_BITS = 44
_KEY_MASK = np.uint64((1 << _KEY_BITS) - 1)
MAX_PAIRS = 1 << 19


@lru_cache(maxsize=1)
def _crc_table() -> np.ndarray:
    """The 256-entry table of the reflected CRC-32 (polynomial ``0xEDB88320``)."""
    table: np.ndarray = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> np.uint32(1)) ^ np.uint32(0xEDB88320), table >> np.uint32(1))
    return table.astype(np.uint32)


def unit_strings(
    texts: Sequence[object], langs: Sequence[object], tokens: Sequence[object], options: ShingleOptions = DEFAULT
) -> tuple[list[str], np.ndarray]:
    """``(units, by_characters)``: each document's units as one string (see the module
    docstring) and whether they are characters; ``""`` for a missing text, which has no
    shingles.

    Word documents without tokens are split and stripped by Arrow over the whole batch
    (``utf8_split_whitespace`` splits on exactly the 29 code points ``str.split`` does,
    ``utf8_trim`` strips :data:`PUNCTUATION` as ``str.strip`` would): no Python step per word."""
    units: list[str] = [""] * len(texts)
    by_characters = np.ones(len(texts), dtype=bool)
    plain: list[int] = []
    for i, (text, lang, words) in enumerate(zip(texts, langs, tokens, strict=True)):
        if not isinstance(text, str):
            continue
        if uses_characters(lang if isinstance(lang, str) else None):
            units[i] = canonical(text, options.canonical)
            continue
        by_characters[i] = False
        if words is None:
            plain.append(i)
        else:  # a token is dropped when blank or when stripping punctuation leaves nothing
            kept = [token for token in cast(Sequence[str], words) if token.strip() and token.strip(PUNCTUATION)]
            units[i] = _SEPARATOR.join(kept).casefold()
    if plain:
        for i, joined in zip(plain, _stripped_words([cast(str, texts[i]) for i in plain]), strict=True):
            units[i] = joined.casefold()
    return units, by_characters


def _stripped_words(texts: list[str]) -> list[str]:
    """Each text's whitespace-separated words, punctuation stripped from both ends, empty ones
    dropped, joined by the unit separator."""
    split = pc.utf8_split_whitespace(pa.array(texts, pa.large_string()))
    words = pc.utf8_trim(pc.list_flatten(split), characters=PUNCTUATION)
    keep = pc.greater(pc.utf8_length(words), 0)
    parents = pc.list_parent_indices(split).filter(keep).to_numpy()
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(parents, minlength=len(texts)), out=offsets[1:])
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), words.filter(keep))
    return pc.binary_join(lists, pa.scalar(_SEPARATOR, pa.large_string())).to_pylist()


def crc32_slices(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``zlib.crc32(data[s : s + l])`` for every ``(s, l)``, as ``uint32``; ``data`` is a
    ``uint8`` array."""
    return _slice_hashes(data, starts, lengths, fnv=False)[0]


def _slice_hashes(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, fnv: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """CRC-32 (and, with ``fnv``, 32-bit FNV-1a) of every slice, one numpy step per byte
    position over the slices still running (a prefix once sorted longest first)."""
    order = np.argsort(-lengths, kind="stable")
    ordered_starts, ordered_lengths = starts[order], lengths[order]
    longest = int(ordered_lengths[0]) if len(order) else 0
    running = np.searchsorted(-ordered_lengths, -np.arange(longest), side="left")
    crc = np.full(len(order), 0xFFFFFFFF, dtype=np.uint32)
    second = np.full(len(order), _FNV_OFFSET, dtype=np.uint32) if fnv else None
    table = _crc_table()
    with np.errstate(over="ignore"):
        for k in range(longest):
            m = running[k]
            byte = data[ordered_starts[:m] + k].astype(np.uint32)
            state = crc[:m]
            crc[:m] = table[(state ^ byte) & np.uint32(0xFF)] ^ (state >> np.uint32(8))
            if second is not None:
                second[:m] = (second[:m] ^ byte) * _FNV_PRIME
    crc ^= np.uint32(0xFFFFFFFF)
    unsorted_crc = np.empty_like(crc)
    unsorted_crc[order] = crc
    if second is None:
        return unsorted_crc, None
    unsorted_second = np.empty_like(second)
    unsorted_second[order] = second
    return unsorted_crc, unsorted_second


def _shingle_slices(
    units: Sequence[str], by_characters: np.ndarray, options: ShingleOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(data, doc, start, length)``: the batch's UTF-8 bytes and, per shingle, its document
    and byte slice."""
    joined = "".join(units)
    data = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    if not len(points):
        nothing = np.zeros(0, dtype=np.int64)
        return data, nothing, nothing, nothing
    byte_at = np.zeros(len(points) + 1, dtype=np.int64)
    np.cumsum(widths, out=byte_at[1:])

    doc_len = np.fromiter((len(u) for u in units), dtype=np.int64, count=len(units))
    doc_end = np.cumsum(doc_len)
    doc_start = doc_end - doc_len
    n_docs = len(units)
    word_doc = ~by_characters & (doc_len > 0)
    char_doc = by_characters & (doc_len > 0)
    # code points of character documents are units of one; word units lie between separators
    point_doc = np.repeat(np.arange(n_docs), doc_len)
    char_points = np.flatnonzero(char_doc[point_doc])
    separators = np.flatnonzero((points == ord(_SEPARATOR)) & word_doc[point_doc])
    unit_start = np.sort(np.concatenate([char_points, doc_start[word_doc], separators + 1]))
    unit_end = np.sort(np.concatenate([char_points + 1, separators, doc_end[word_doc]]))

    unit_doc = np.searchsorted(doc_start, unit_start, side="right") - 1
    per_doc = np.bincount(unit_doc, minlength=n_docs)
    first_unit = np.cumsum(per_doc) - per_doc
    n = np.where(by_characters, options.char_ngram, options.word_ngram)
    span = np.minimum(n, per_doc)  # units per shingle: n, or all of a short document's
    shingles_per_doc = np.where(per_doc > 0, per_doc - span + 1, 0)
    local = np.arange(len(unit_start)) - first_unit[unit_doc]
    is_first = local < shingles_per_doc[unit_doc]
    first = np.flatnonzero(is_first)
    last = first + span[unit_doc[first]] - 1
    start = byte_at[unit_start[first]]
    return data, unit_doc[first], start, byte_at[unit_end[last]] - start


def shingle_hash_sets(
    texts: Sequence[object],
    langs: Sequence[object],
    tokens: Sequence[object] | None = None,
    options: ShingleOptions = DEFAULT,
) -> tuple[np.ndarray, np.ndarray]:
    """``(values, sizes)``: each document's sorted, unique CRC-32 shingle hashes, concatenated
    (``uint64``), and how many each has. Document i's are ``values[offsets[i] : offsets[i] +
    sizes[i]]`` with ``offsets = cumsum(sizes) - sizes``; a missing text has none."""
    tokens = [None] * len(texts) if tokens is None else tokens
    units, by_characters = unit_strings(texts, langs, tokens, options)
    data, doc, start, length = _shingle_slices(units, by_characters, options)
    crc, _ = _slice_hashes(data, start, length, fnv=False)
    keys = np.unique((doc.astype(np.uint64) << np.uint64(32)) | crc.astype(np.uint64))
    sizes = np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=len(units))
    return keys & np.uint64(0xFFFFFFFF), sizes


def pair_jaccards(
    texts_a: Sequence[object],
    langs_a: Sequence[object],
    tokens_a: Sequence[object] | None,
    texts_b: Sequence[object],
    langs_b: Sequence[object],
    tokens_b: Sequence[object] | None,
    options: ShingleOptions = DEFAULT,
) -> np.ndarray:
    """The Jaccard similarity ``|A ∩ B| / |A ∪ B|`` of each pair's shingle sets (``float64``;
    0.0 when both are empty), on 44-bit shingle keys (see the module docstring)."""
    if len(texts_a) > MAX_PAIRS:  # a side's number must fit beside its 44-bit keys
        parts = []
        for cut in range(0, len(texts_a), MAX_PAIRS):
            window = slice(cut, cut + MAX_PAIRS)
            parts.append(
                pair_jaccards(
                    texts_a[window],
                    langs_a[window],
                    None if tokens_a is None else tokens_a[window],
                    texts_b[window],
                    langs_b[window],
                    None if tokens_b is None else tokens_b[window],
                    options,
                )
            )
        return np.concatenate(parts)
    pairs = len(texts_a)
    none = [None] * pairs
    texts = [*texts_a, *texts_b]
    langs = [*langs_a, *langs_b]
    tokens = [*(none if tokens_a is None else tokens_a), *(none if tokens_b is None else tokens_b)]
    units, by_characters = unit_strings(texts, langs, tokens, options)
    data, doc, start, length = _shingle_slices(units, by_characters, options)
    crc, fnv = _slice_hashes(data, start, length, fnv=True)
    assert fnv is not None
    fnv_bits = _KEY_BITS - 32  # the top bits of FNV-1a below the whole CRC-32
    key = (crc.astype(np.uint64) << np.uint64(fnv_bits)) | (fnv >> np.uint32(32 - fnv_bits)).astype(np.uint64)
    # a set per side: (document, key) packed in one uint64, sorted and de-duplicated
    sides = np.unique((doc.astype(np.uint64) << np.uint64(_KEY_BITS)) | key)
    side = (sides >> np.uint64(_KEY_BITS)).astype(np.int64)
    sizes = np.bincount(side, minlength=2 * pairs)
    # both sides of a pair under the pair's number: a key seen twice is in the intersection
    joint = np.sort(((side % pairs).astype(np.uint64) << np.uint64(_KEY_BITS)) | (sides & _KEY_MASK))
    shared = joint[1:][joint[1:] == joint[:-1]]
    inter = np.bincount((shared >> np.uint64(_KEY_BITS)).astype(np.int64), minlength=pairs)
    union = sizes[:pairs] + sizes[pairs:] - inter
    return np.divide(inter, union, out=np.zeros(pairs), where=union > 0)
