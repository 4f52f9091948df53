"""Word segmentation for multilingual text: jieba for Chinese, spaCy's rule-based tokenizer for the rest.

Why: dedup shingles, quality features and token counts need words, and Chinese has no spaces. The
text is split into *script runs* and each run goes to the tool that suits it:

* Han runs (CJK ideographs) → rjieba (the default: an ``rjieba.Jieba``, jieba-rs, jieba's
  dictionary and HMM in Rust, one per process and user dictionary, the dictionary's words added
  with ``add_word``) or, with ``engine="jieba"``, jieba itself (a :class:`jieba.Tokenizer` owned
  by this module, one per process and per ``(user_dict, cache_dir)``); both created on first
  use. See the benchmark for how often their outputs differ.
* Katakana runs → one token each (they are mostly loanwords: ``コンピューター``); every hiragana
  character → its own token. This is a deliberately crude, deterministic placeholder for
  Japanese: spaCy's Japanese tokenizer needs SudachiPy, which we do not ship.
* Every CJK / full-width punctuation mark (``，。「」【】！？``) → its own token: spaCy does not
  split it off Latin text (``iPhone，iPad`` would stay one token).
* Everything else (Latin, digits, punctuation, Hangul, Cyrillic, whitespace, …) → the tokenizer of
  ``spacy.blank(code)`` (memoised per whitespace-separated chunk: :func:`_spacy_chunk_tokens`;
  English chunks of a plain shape, letters or digits with at most one trailing mark, are
  tokenized without spaCy by :func:`_shaped_chunk_tokens`, and spaCy's suffix search looks at
  a chunk's end only, :func:`windowed_suffix_search`: both give spaCy's own tokens)
  for the document's language (:func:`resolve_spacy_lang`): English by
  default; ``zh`` uses English too (Latin words inside Chinese text are overwhelmingly English);
  ``ja``/``ko``/``th``/``vi`` and unknown codes use spaCy's multi-language ``xx`` tokenizer,
  because their own spaCy tokenizers need packages we do not ship (SudachiPy, mecab-ko,
  PyThaiNLP, pyvi) and the output must not change when somebody installs one.

Consequence of splitting by script first: jieba never sees Latin letters or digits next to Han, so
dictionary words that mix scripts (``T恤``, ``卡拉OK``) come out as ``T`` + ``恤``. In exchange a
Latin word is never glued to Chinese characters and spaCy's English rules apply to it
(``don't`` → ``do`` + ``n't``).

Invariant (default options): ``"".join(segment(text)) == text`` with all whitespace removed; with
``keep_whitespace=True`` the tokens concatenate to ``text`` exactly (maximal whitespace runs become
one token each).

jieba user dictionaries are UTF-8 text, one entry per line, ``word [freq] [tag]`` separated by
single spaces (``conf/jieba_user_dict.txt``). jieba has no comment syntax: a ``#`` line would be
added as a word, so the file carries none.

Segmentation quality is scored with :func:`word_f1`, the SIGHAN bakeoff measure: every token is
mapped to its character span ``[start, end)`` in the shared text; a predicted word is correct when
the gold segmentation has exactly the same span. Precision = correct / predicted words, recall =
correct / gold words, F1 = their harmonic mean. :func:`corpus_word_f1` micro-averages (sums the
counts over all lines before dividing), as the bakeoff's score script does.

Measured with ``bench/segment_bench.py`` (jieba 0.42.1, rjieba 0.2.2): micro F1 on SIGHAN 2005 PKU
0.820 with HMM, 0.838 without; MSR 0.828 / 0.840 (the HMM's guesses cost precision and recall
against these gold standards; it stays on by default for names and new words in web text).
rjieba scores the same and its output equals jieba's on 45,680 of 45,681 documents of five
Chinese corpora with HMM (one Viterbi tie broken the other way), on all without. One core, the
plain calls over whole documents: ``bench/results/chain.json`` (``plain_mb_per_cpu_s``).

Pure Python: no Spark, no torch; engines are imported on first use. The Spark layer calls
:func:`segment` per document; :func:`segment_series` is the same over a pandas column.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from refinery.text.langcodes import ISO639_3_TO_1
from refinery.text.spacy_import import spacy_module

if TYPE_CHECKING:
    import pandas as pd

#: Chinese engines accepted by :class:`SegmentOptions`.
ENGINES = ("jieba", "rjieba")


@dataclass(frozen=True)
class SegmentOptions:
    """How :func:`segment` works. Frozen and picklable, so the Spark layer can ship it to executors.

    ``engine``: ``"rjieba"`` (default: jieba-rs, jieba's dictionary and HMM in Rust, about 7x
    faster) or ``"jieba"`` (the Python original). Both take ``user_dict``. ``hmm``: let the HMM
    join characters into words that are not in the dictionary. ``user_dict``: path of a jieba
    user dictionary, loaded once per process. ``cache_dir``: where jieba keeps its
    prefix-dictionary cache (jieba's default is the system temp dir; rjieba keeps none).
    ``lowercase``: lowercase every token after segmentation (so spaCy's rules still see the
    original case). ``keep_whitespace``: emit whitespace runs as tokens. ``keep_punct``: keep
    tokens made only of punctuation (Unicode category ``P*``; symbols such as ``$`` or ``+``
    are not punctuation and are always kept).
    """

    engine: str = "rjieba"
    hmm: bool = True
    user_dict: str | None = None
    cache_dir: str | None = None
    lowercase: bool = False
    keep_whitespace: bool = False
    keep_punct: bool = True

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"SegmentOptions.engine must be one of {ENGINES}, got {self.engine!r}")


DEFAULT = SegmentOptions()

# --- script runs -------------------------------------------------------------------------------
# A minimal splitter private to this module, so that segmentation does not depend on
# refinery.text.scripts while that module is being written; it can later reuse text/scripts.py.
# Han = Unicode Script=Han: radicals, 々 〇 〡-〩 〸-〻, Ext A, the URO, compatibility ideographs,
# Ext B-G and the compatibility supplement.
_HAN = (
    "\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U0003134f"
)
_KATAKANA = "\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # with ー, without the ・ separator
_HIRAGANA = "\u3041-\u3096\u309d-\u309f"
# CJK and full-width punctuation that is never part of a word (、。「」【】，：；！？（） …). spaCy does
# not split it off inside a run ("iPhone，iPad" stays one token), so it is cut out here. Full-width
# ％＃＆＋－．／＠～ are not in the list: they occur inside numbers and codes (１７％, ３．４).
_CJK_PUNCT = (
    "\u3001-\u3003\u3008-\u3011\u3014-\u301f\u30fb\ufe10-\ufe19\ufe30-\ufe4f"
    "\uff01\uff02\uff07-\uff09\uff0c\uff1a\uff1b\uff1f\uff3b\uff3d\uff5b\uff5d\uff5f-\uff65"
)
_SCRIPT_RUN = re.compile(
    f"(?P<han>[{_HAN}]+)"
    f"|(?P<katakana>[{_KATAKANA}]+)"
    f"|(?P<hiragana>[{_HIRAGANA}][\u3099\u309a]?)"  # one character, with a combining (semi-)voiced mark
    f"|(?P<cjk_punct>[{_CJK_PUNCT}])"
    f"|(?P<other>[^{_HAN}{_KATAKANA}{_HIRAGANA}{_CJK_PUNCT}]+)"
)


# --- engines, one instance per process -----------------------------------------------------------
_LOCK = threading.Lock()
_JIEBA: dict[tuple[str | None, str | None], Any] = {}
_SPACY: dict[str, Any] = {}

_ISO639_3 = ISO639_3_TO_1  # ISO 639-3 and legacy codes → spaCy's ISO 639-1 codes
#: Languages whose own spaCy tokenizer we do not use for non-Han runs (see the module docstring).
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
#: rebuilt, which costs about 0.1 s and changes no token.
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
    chunk, once per affix it strips; ``re`` tries every start position, so a 70-character
    Markdown link costs some 25 µs a call. Every match ends at the end of the chunk (or
    before a final line break), so a suffix at most ``w`` characters wide starts in the last
    ``w + 1``: those are searched (``search(text, pos)``; look-behinds still see the
    characters before ``pos``), and only the few unbounded suffixes (``\\.\\.+``) over the
    whole chunk. ``search`` returns the leftmost start, which is the earliest of the two.
    ``tests/test_text_segment.py`` checks it against spaCy's own search on real chunks."""
    from re import _parser  # the width of a pattern, as re computes it

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


def _jieba_tokenizer(user_dict: str | None, cache_dir: str | None) -> Any:
    """This module's :class:`jieba.Tokenizer` for a user dictionary and cache dir, built once.

    jieba's global ``jieba.dt`` is left alone: other code in the process may rely on it.
    """
    key = (os.path.abspath(user_dict) if user_dict else None, os.path.abspath(cache_dir) if cache_dir else None)
    tokenizer = _JIEBA.get(key)
    if tokenizer is None:
        import jieba

        with _LOCK:
            tokenizer = _JIEBA.get(key)
            if tokenizer is None:
                tokenizer = jieba.Tokenizer()
                if key[1] is not None:
                    os.makedirs(key[1], exist_ok=True)
                    tokenizer.tmp_dir = key[1]
                tokenizer.initialize()
                if key[0] is not None:
                    with open(key[0], "rb") as handle:  # jieba leaves a path it opens itself unclosed
                        tokenizer.load_userdict(handle)
                _JIEBA[key] = tokenizer
    return tokenizer


#: A jieba user-dictionary line: ``word [freq] [tag]`` (jieba's own ``re_userdict``).
_USER_DICT_LINE = re.compile("^(.+?)( [0-9]+)?( [a-z]+)?$")


def user_dict_entries(path: str) -> list[tuple[str, int | None, str | None]]:
    """``(word, freq, tag)`` of every line of a jieba user dictionary, parsed as
    ``jieba.Tokenizer.load_userdict`` parses it (UTF-8, a leading BOM dropped, blank lines
    skipped, ``freq`` ``None`` when absent: the engine then suggests one)."""
    entries: list[tuple[str, int | None, str | None]] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.strip().decode("utf-8").lstrip("\ufeff")
            except UnicodeDecodeError:
                raise ValueError(f"jieba user dictionary {path}: line {number} is not UTF-8") from None
            if not line:
                continue
            match = _USER_DICT_LINE.match(line)
            assert match is not None  # ".+?" matches any non-empty line
            word, freq, tag = match.groups()
            entries.append((word, int(freq) if freq else None, tag.strip() if tag else None))
    return entries


_RJIEBA: dict[str | None, Any] = {}


def _rjieba_tokenizer(user_dict: str | None) -> Any:
    """An ``rjieba.Jieba`` with jieba's dictionary and the words of ``user_dict``, built once
    per process and path (``add_word`` per entry: the same word, frequency and tag jieba's
    ``load_userdict`` adds; a missing frequency is the engine's ``suggest_freq``)."""
    key = os.path.abspath(user_dict) if user_dict else None
    tokenizer = _RJIEBA.get(key)
    if tokenizer is None:
        import rjieba

        with _LOCK:
            tokenizer = _RJIEBA.get(key)
            if tokenizer is None:
                if key is None:
                    tokenizer = rjieba.Jieba()
                else:
                    entries = user_dict_entries(key)  # parse first: a bad file builds nothing
                    tokenizer = rjieba.Jieba()
                    for word, freq, tag in entries:
                        tokenizer.add_word(word, freq, tag)
                _RJIEBA[key] = tokenizer
    return tokenizer


def _han_cutter(options: SegmentOptions) -> Callable[[str], list[str]]:
    """A function that segments one Han run with the engine ``options`` names."""
    if options.engine == "rjieba":
        cut = _rjieba_tokenizer(options.user_dict).cut
        hmm = options.hmm
        return lambda run: cut(run, hmm)
    tokenizer = _jieba_tokenizer(options.user_dict, options.cache_dir)
    return lambda run: tokenizer.lcut(run, HMM=options.hmm)


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
#: to spaCy. ``tests/test_text_segment.py`` checks every such chunk of the shared corpora
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
    ``tests/test_text_segment.py`` checks the result against one spaCy call over the whole
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


def is_punctuation(token: str) -> bool:
    """True when every character of ``token`` is punctuation (Unicode category ``P*``; symbols
    such as ``$`` or ``+`` are not)."""
    return all(unicodedata.category(char).startswith("P") for char in token)


def segment(text: str, lang: str | None = None, options: SegmentOptions = DEFAULT) -> list[str]:
    """Split ``text`` into words, in order; see the module docstring for what goes where.

    ``lang`` (any of ``zh``, ``zh-CN``, ``cmn``, ``en``, ``eng``, …; ``None`` = English) only
    chooses the spaCy tokenizer for the non-Han runs: Han text is always segmented by the Chinese
    engine, whatever the language says.
    """
    tokens: list[str] = []
    cut_han: Callable[[str], list[str]] | None = None
    # One tuple of _SCRIPT_RUN's five groups per run, built in C; only the run's kind is non-empty.
    # Kinds: han and katakana (maximal runs), hiragana and CJK punctuation (one character each),
    # other (maximal runs of everything else, whitespace included).
    for han, katakana, hiragana, punct, other in _SCRIPT_RUN.findall(text):
        if han:
            if cut_han is None:
                cut_han = _han_cutter(options)
            tokens.extend(cut_han(han))
        elif other:
            tokens.extend(_tokenize_other(other, lang, options.keep_whitespace))
        else:
            tokens.append(katakana or hiragana or punct)
    if not options.keep_punct:
        tokens = [token for token in tokens if not is_punctuation(token)]
    if options.lowercase:
        tokens = [token.lower() for token in tokens]
    return tokens


def segment_series(texts: pd.Series, langs: pd.Series | None = None, options: SegmentOptions = DEFAULT) -> pd.Series:
    """:func:`segment` over a column: a Series of token lists with the index and name of ``texts``.

    A missing text (``None``/``NaN``) stays missing (``None``, not ``[]``), so "no text" and "text
    without words" remain different downstream. ``langs`` is matched by position (the Spark layer
    passes columns of one Arrow batch); a missing language means English.
    """
    import pandas as pd

    if langs is not None and len(langs) != len(texts):
        raise ValueError(f"segment_series: {len(texts)} texts but {len(langs)} languages")

    def missing(value: Any) -> bool:  # None, NaN, pd.NA; never a string
        return value is None or (not isinstance(value, str) and bool(pd.isna(value)))

    lang_values: Iterable[Any] = langs.tolist() if langs is not None else [None] * len(texts)
    result = [
        None if missing(text) else segment(text, None if missing(lang) else lang, options)
        for text, lang in zip(texts.tolist(), lang_values, strict=True)
    ]
    return pd.Series(result, index=texts.index, name=texts.name, dtype=object)


# --- scoring -------------------------------------------------------------------------------------
def _spans(tokens: list[str]) -> set[tuple[int, int]]:
    spans, start = set(), 0
    for token in tokens:
        if token:
            spans.add((start, start + len(token)))
            start += len(token)
    return spans


def word_match_counts(pred_tokens: list[str], gold_tokens: list[str]) -> tuple[int, int, int]:
    """``(correct, predicted, gold)`` word counts of one segmentation against the gold one.

    Both must segment the same text (equal concatenations), else ``ValueError``: a span match is
    meaningless otherwise. Empty tokens are ignored.
    """
    if "".join(pred_tokens) != "".join(gold_tokens):
        raise ValueError("word_match_counts: predicted and gold tokens do not concatenate to the same text")
    pred, gold = _spans(pred_tokens), _spans(gold_tokens)
    return len(pred & gold), len(pred), len(gold)


def _prf(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    if predicted == 0 and gold == 0:
        return 1.0, 1.0, 1.0
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def word_f1(pred_tokens: list[str], gold_tokens: list[str]) -> tuple[float, float, float]:
    """Word precision, recall and F1 by span matching (the SIGHAN measure; module docstring).

    Two empty segmentations score 1.0 (nothing to get wrong).
    """
    return _prf(*word_match_counts(pred_tokens, gold_tokens))


def corpus_word_f1(pairs: Iterable[tuple[list[str], list[str]]]) -> tuple[float, float, float]:
    """Micro-averaged precision, recall, F1 over ``(pred_tokens, gold_tokens)`` pairs (one per line)."""
    correct = predicted = gold = 0
    for pred_tokens, gold_tokens in pairs:
        c, p, g = word_match_counts(pred_tokens, gold_tokens)
        correct, predicted, gold = correct + c, predicted + p, gold + g
    return _prf(correct, predicted, gold)
