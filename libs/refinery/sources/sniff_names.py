"""The ``label_from_path`` ``refinery inspect`` proposes for text files that differ by a suffix.

``rt-polarity.pos`` and ``rt-polarity.neg`` share the prefix ``rt-polarity.`` and differ in a
short word after it: that word is the label, and ``rt-polarity\\.(neg|pos)$`` finds it in
each file's name. Files that differ anywhere else (``pku_test_gold.utf8`` and
``msr_test_gold.utf8``: two corpora, not two labels) give no regex.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

#: What a label suffix may be: a short word.
_SUFFIX = re.compile(r"[A-Za-z0-9_-]{1,20}")


def label_from_names(paths: Sequence[str]) -> tuple[str, list[str]] | None:
    """A regex with one group that finds the differing suffix of each file name of
    ``paths``, and the sorted suffixes; ``None`` unless there are two or more files whose
    names share a prefix and differ only in a short word at the end."""
    names = sorted({os.path.basename(p) for p in paths})
    if len(names) < 2:
        return None
    prefix = os.path.commonprefix(names)
    suffixes = [name[len(prefix) :] for name in names]
    if not prefix or not all(_SUFFIX.fullmatch(s) for s in suffixes):
        return None
    # a shared beginning of the suffixes (pos/posh) goes back into them: the prefix ends at a separator
    while prefix and prefix[-1].isalnum():
        prefix = prefix[:-1]
    if not prefix:
        return None
    suffixes = sorted({name[len(prefix) :] for name in names})
    if not all(_SUFFIX.fullmatch(s) for s in suffixes):
        return None
    return f"{_escape(prefix)}({'|'.join(_escape(s) for s in suffixes)})$", suffixes


def _escape(text: str) -> str:
    """``text`` as a regex matching itself, escaping only what is special (``re.escape`` also
    escapes ``-``, which is noise in a file name)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)
