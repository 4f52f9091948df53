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

Where the parts live: the Chinese engines in :mod:`refinery.text.segment_jieba`, spaCy's
tokenizer for every other run in :mod:`refinery.text.segment_spacy`, and the word-F1 score in
:mod:`refinery.text.segment_score`; script runs, options and :func:`segment` are here.

Measured with ``bench/segment_bench.py`` (jieba 0.42.1, rjieba 0.2.2): micro F1 on SIGHAN 2005 PKU
and MSR, with and without HMM, in ``bench/results/segment.json``, key
``f1.<pku|msr>.<engine>_<hmm|no_hmm>.f1`` (the HMM's guesses cost precision and recall against
these gold standards; it stays on by default for names and new words in web text). rjieba
scores the same, and how many documents of five Chinese corpora it segments exactly as jieba
does is key ``agreement_rjieba_vs_jieba.<hmm|no_hmm>.all.identical_docs`` (with HMM a Viterbi
tie may break the other way). One core, the plain calls over whole documents:
``bench/results/chain.json`` (``sets.<set>.plain_mb_per_cpu_s``).

Pure Python: no Spark, no torch; engines are imported on first use. The Spark layer calls
:func:`segment` per document; :func:`segment_series` is the same over a pandas column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
from refinery.text.segment_jieba import _jieba_tokenizer, _rjieba_tokenizer
from refinery.text.segment_spacy import _tokenize_other

#: Chinese engines accepted by :class:`SegmentOptions`.
ENGINES = ("jieba", "rjieba")


@dataclass(frozen=True)
class SegmentOptions:
    """How :func:`segment` works. Frozen and picklable, so the Spark layer can ship it to executors.

    ``engine``: ``"rjieba"`` (default: jieba-rs, jieba's dictionary and HMM in Rust, several times
    faster: ``bench/results/segment.json``, key ``ratios.segment_rjieba_vs_segment_jieba``) or
    ``"jieba"`` (the Python original). Both take ``user_dict``. ``hmm``: let the HMM join
    characters into words that are not in the dictionary. ``user_dict``: path of a jieba
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


def _han_cutter(options: SegmentOptions) -> Callable[[str], list[str]]:
    """A function that segments one Han run with the engine ``options`` names."""
    if options.engine == "rjieba":
        cut = _rjieba_tokenizer(options.user_dict).cut
        hmm = options.hmm
        return lambda run: cut(run, hmm)
    tokenizer = _jieba_tokenizer(options.user_dict, options.cache_dir)
    return lambda run: tokenizer.lcut(run, HMM=options.hmm)


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
