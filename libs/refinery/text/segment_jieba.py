"""The Chinese engines for Han runs: rjieba (jieba-rs) and jieba, one tokenizer per process and
user dictionary (jieba: and cache dir), created on first use.

jieba user dictionaries are UTF-8 text, one entry per line, ``word [freq] [tag]`` separated by
single spaces (``conf/jieba_user_dict.txt``). jieba has no comment syntax: a ``#`` line would be
added as a word, so the file carries none.
"""

from __future__ import annotations

import os
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

_LOCK = threading.Lock()
_JIEBA: dict[tuple[str | None, str | None], Any] = {}


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
