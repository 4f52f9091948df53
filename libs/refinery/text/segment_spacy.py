"""spaCy's rule-based tokenizer for the runs that are not Han, kana or CJK punctuation: the
language code a document's runs use (:func:`resolve_spacy_lang`), the cached blank tokenizers
(rebuilt past :data:`SPACY_VOCAB_MAX`), the suffix search over a chunk's end, and the chunk memo
with its shape fast path, which give spaCy's own tokens without building a ``Doc``."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from refinery.text.langcodes import ISO639_3_TO_1
from refinery.text.spacy_import import spacy_module

if TYPE_CHECKING:
    pass

_LOCK = threading.Lock()
_SPACY: dict[str, Any] = {}

_ISO639_3 = ISO639_3_TO_1  # ISO 639-3 and legacy codes → spaCy's ISO 639-1 codes
#: Languages whose own spaCy tokenizer we do not use for non-Han runs (see :mod:`refinery.text.segment`).
_SPACY_OVERRIDE = {"zh": "en", "ja": "xx", "ko": "xx", "th": "xx", "vi": "xx"}


@functools.lru_cache(maxsize=1024)
def resolve_spacy_lang(lang: str | None) -> str:
    """The spaCy language code whose blank tokenizer handles the non-Han runs of ``lang`` text.

    ``None``/empty → ``en``; ``zh-Hant``, ``en_US`` → primary subtag; ISO 639-3 → 639-1; then
    :data:`_SPACY_OVERRIDE`. Codes spaCy does not know still resolve here; :func:`segment` falls
    back to ``xx`` for them.
    """
    if not lang:
        return "en"
    code = re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]
    code = _ISO639_3.get(code, code)
    return _SPACY_OVERRIDE.get(code, code) if code else "en"


#: Lexemes one cached spaCy vocabulary may hold before its tokenizer is built afresh. spaCy adds
#: a lexeme (and its string) for every distinct token it meets and never drops one, so a worker
#: that reads web text (numbers, URLs, typos) would grow without end; at the cap the tokenizer is
#: rebuilt, which changes no token.
SPACY_VOCAB_MAX = 1 << 19


def _spacy_tokenizer(code: str) -> Any:
    """The tokenizer of ``spacy.blank(code)``, cached per code (``xx``'s, shared, when spaCy
    lacks ``code``) and rebuilt when its vocabulary passes :data:`SPACY_VOCAB_MAX`."""
    tokenizer = _SPACY.get(code)
    if _spent(tokenizer):
        with _LOCK:
            tokenizer = _SPACY.get(code)
            if _spent(tokenizer):
                try:
                    tokenizer = _blank_tokenizer(code)
                except ImportError:  # spaCy raises E048 (an ImportError) for a language it lacks
                    tokenizer = _SPACY.get("xx")
                    if _spent(tokenizer):
                        tokenizer = _SPACY["xx"] = _blank_tokenizer("xx")
                _SPACY[code] = tokenizer
    return tokenizer


def _spent(tokenizer: Any) -> bool:
    """Whether a cached tokenizer must be built (again): none yet, or its vocabulary is past
    :data:`SPACY_VOCAB_MAX`."""
    return tokenizer is None or len(tokenizer.vocab) > SPACY_VOCAB_MAX


def _blank_tokenizer(code: str) -> Any:
    """``spacy.blank(code)``'s tokenizer, its vocabulary computing only ``is_space`` for a new
    lexeme: the one lexical attribute read here (with ``text`` and ``whitespace_``, which
    need none). spaCy computes some twenty for every new token otherwise (shape, prefix, suffix,
    ``like_num`` …), about a third of its time on text with many new words."""
    nlp = spacy_module().blank(code)  # spaCy's package first, without torch
    from spacy.attrs import IS_SPACE

    nlp.vocab.lex_attr_getters = {IS_SPACE: nlp.vocab.lex_attr_getters[IS_SPACE]}
    entries = list(nlp.Defaults.suffixes or [])
    built = getattr(nlp.tokenizer.suffix_search, "__self__", None)  # the compiled pattern
    if entries and built is not None and built.pattern == _suffix_pattern(entries):
        nlp.tokenizer.suffix_search = windowed_suffix_search(entries)
    return nlp.tokenizer


#: A suffix pattern that can match more characters than this is searched over the whole chunk.
_WIDE = 1 << 10


def _suffix_pattern(entries: list[str]) -> str:
    """The pattern ``spacy.util.compile_suffix_regex`` compiles from suffix rules: each rule
    anchored at the end, blank ones skipped, joined as alternatives."""
    return "|".join(f"{entry}$" for entry in entries if entry.strip())


def windowed_suffix_search(entries: list[str]) -> Callable[[str], re.Match[str] | None]:
    """spaCy's suffix search over the end of a chunk only, with the same matches.

    spaCy compiles its suffixes into one pattern ``s₁$|s₂$|…`` and calls ``search`` on each
    chunk, once per affix it strips; ``re`` tries every start position, so a long chunk
    (a 70-character Markdown link) costs a search from every position. Every match ends at the
    end of the chunk (or before a final line break), so a suffix at most ``w`` characters wide
    starts in the last ``w + 1``: those are searched (``search(text, pos)``; look-behinds still
    see the characters before ``pos``), and only the few unbounded suffixes (``\\.\\.+``) over the
    whole chunk. ``search`` returns the leftmost start, which is the earliest of the two.
    ``tests/unit/test_segment_spacy.py`` checks it against spaCy's own search on real chunks."""
    from re import _parser  # type: ignore[attr-defined]  # the width of a pattern, as re computes it

    entries = [entry for entry in entries if entry.strip()]
    whole = re.compile(_suffix_pattern(entries))
    widths = [_parser.parse(entry).getwidth()[1] for entry in entries]
    unbounded = [entry for entry, width in zip(entries, widths, strict=True) if width > _WIDE]
    window = max([width for width in widths if width <= _WIDE], default=0) + 1
    wide = re.compile(_suffix_pattern(unbounded)) if unbounded else None

    def search(text: str) -> re.Match[str] | None:
        start = len(text) - window
        if start <= 0:
            return whole.search(text)
        found = whole.search(text, start)
        if wide is not None:
            early = wide.search(text)
            if early is not None and (found is None or early.start() < found.start()):
                return early
        return found

    return search


#: "other" runs up to this length are memoised: in Chinese text they are short and repetitive
#: ("2008", "10", "……", "ok"), and building a spaCy Doc costs far more than the lookup.
_MEMO_MAX_CHARS = 32


def _spacy_pieces(code: str, run: str) -> tuple[str, ...]:
    """spaCy tokens of ``run`` with whitespace merged into maximal-run tokens (lossless)."""
    pieces: list[str] = []
    space = ""
    for token in _spacy_tokenizer(code)(run):
        if token.is_space:
            space += token.text
        else:
            if space:
                pieces.append(space)
                space = ""
            pieces.append(token.text)
        space += token.whitespace_
    if space:
        pieces.append(space)
    return tuple(pieces)


_memo_spacy_pieces = functools.lru_cache(maxsize=1 << 16)(_spacy_pieces)


#: Whitespace-separated chunks whose spaCy tokens are memoised, per language code; the memo
#: is emptied when it reaches this many chunks, so a worker's memory stays bounded (about
#: 200 bytes a chunk: some 50 MB at the cap).
CHUNK_MEMO_MAX = 1 << 18
_CHUNKS: dict[str, dict[str, tuple[str, ...]]] = {}


def forget_seen_text() -> None:
    """Empty what this process remembers of the text it has segmented: the chunk memos and
    the spaCy tokenizers (each caches the chunks it has seen), so the next text is segmented
    as by a fresh worker with its dictionaries loaded. Benchmarks time unseen text with it."""
    with _LOCK:
        _CHUNKS.clear()
        _SPACY.clear()
    _memo_spacy_pieces.cache_clear()


def _cut_at_spaces(doc: Any) -> list[tuple[str, ...]]:
    """The non-space token texts of ``doc`` grouped by the whitespace-separated chunk they
    come from (a whitespace token, or a trailing space, ends a chunk)."""
    groups: list[tuple[str, ...]] = []
    pieces: list[str] = []
    for token in doc:
        if token.is_space:
            if pieces:
                groups.append(tuple(pieces))
                pieces = []
            continue
        pieces.append(token.text)
        if token.whitespace_:
            groups.append(tuple(pieces))
            pieces = []
    if pieces:
        groups.append(tuple(pieces))
    return groups


#: Chunks whose English spaCy tokens follow from their shape alone: ASCII letters, or ASCII
#: digits (one token); letters and one trailing ``, ; : ! ?`` (the word, then the mark); letters
#: ending in a lower-case letter, then ``.`` (the word, then the dot; ``U.`` or ``Dr.`` keep
#: their dot, which is why the last letter must be lower case). None of spaCy's English
#: prefix, suffix, infix or URL rules match inside them, so only its special cases
#: (``cannot``, ``gonna``, ``dont,``) can differ, and :func:`_shaped_chunk_tokens` leaves those
#: to spaCy. ``tests/unit/test_segment_spacy.py`` checks every such chunk of the shared corpora
#: against spaCy itself.
_SHAPED_CHUNK = re.compile(r"([A-Za-z]+|[0-9]+)|([A-Za-z]+)([,;:!?])|([A-Za-z]*[a-z])(\.)")


@functools.lru_cache(maxsize=8)
def _special_cases(code: str) -> frozenset[str]:
    """The strings spaCy's ``code`` tokenizer treats as special cases (its ``rules``)."""
    return frozenset(_spacy_tokenizer(code).rules)


def _shaped_chunk_tokens(chunk: str, special: frozenset[str]) -> tuple[str, ...] | None:
    """spaCy's English tokens of ``chunk`` when :data:`_SHAPED_CHUNK` gives them (``None`` when
    it does not, or when the chunk or its word is one of the ``special`` cases): about
    three chunks in four of English text, each without building a spaCy ``Doc``."""
    match = _SHAPED_CHUNK.fullmatch(chunk)
    if match is None or chunk in special:
        return None
    whole, word, mark, dotted, dot = match.groups()
    if whole:
        return (whole,)
    word = word or dotted
    return None if word in special else (word, mark or dot)


def _memoise_shaped(chunks: list[str], memo: dict[str, tuple[str, ...]], special: frozenset[str]) -> list[str]:
    """Memoise the tokens of the ``chunks`` :func:`_shaped_chunk_tokens` answers; the others,
    left for spaCy."""
    unshaped = []
    for chunk in chunks:
        shaped = _shaped_chunk_tokens(chunk, special)
        if shaped is None:
            unshaped.append(chunk)
        else:
            memo[chunk] = shaped
    return unshaped


def _spacy_chunk_tokens(code: str, run: str) -> list[str]:
    """spaCy's tokens of ``run``, without whitespace, memoised per whitespace-separated chunk.

    spaCy's tokenizer splits its input at whitespace first and tokenizes each chunk on its
    own (prefixes, suffixes, infixes and special cases; its own cache is keyed by the chunk),
    so a chunk's tokens do not depend on its neighbours. Memoising them per chunk skips
    building a ``Doc`` and a ``Token`` object per token, most of spaCy's time. The chunks of a
    run not seen before are tokenized in one call, one per line (a line break, unlike a
    space, keeps spaCy's special-case matcher from joining the end of one chunk to the start
    of the next: ``said,'' ''OK''`` would give ``'`` ``'`` ``OK`` with a space between them).
    ``tests/unit/test_segment_spacy.py`` checks the result against one spaCy call over the whole
    run on real corpora; ``bench/segment_bench.py`` counts any difference.
    """
    memo = _CHUNKS.get(code)
    if memo is None:
        memo = _CHUNKS.setdefault(code, {})
    chunks = run.split()
    unique = dict.fromkeys(chunks)
    missing = [chunk for chunk in unique if chunk not in memo]
    if missing:
        if len(memo) + len(missing) > CHUNK_MEMO_MAX:
            memo.clear()
            missing = list(unique)
        if code == "en":  # the shapes are checked against English rules only
            missing = _memoise_shaped(missing, memo, _special_cases(code))
    if missing:
        groups = _cut_at_spaces(_spacy_tokenizer(code)("\n".join(missing)))
        if len(groups) != len(missing):  # a token spans a line break: one chunk at a time
            groups = [tuple(token.text for token in _spacy_tokenizer(code)(chunk)) for chunk in missing]
        memo.update(zip(missing, groups, strict=True))
    return [token for chunk in chunks for token in memo[chunk]]


def _tokenize_other(run: str, lang: str | None, keep_whitespace: bool) -> list[str] | tuple[str, ...]:
    """spaCy-tokenize a run that is not Han, kana or CJK punctuation; whitespace kept or dropped."""
    if run.isspace():
        return [run] if keep_whitespace else []
    if len(run) == 1:  # a lone mark between Han runs: spaCy would return it unchanged
        return [run]
    code = resolve_spacy_lang(lang)
    if not keep_whitespace:
        return _spacy_chunk_tokens(code, run)
    if len(run) <= _MEMO_MAX_CHARS:
        return _memo_spacy_pieces(code, run)
    return _spacy_pieces(code, run)
