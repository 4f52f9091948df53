"""spaCy without torch: the clean chain uses only spaCy's rule-based tokenizers and stop-word
lists, but ``import spacy`` imports thinc, and thinc imports torch whenever it is installed
(``thinc.compat``: ``has_torch``). In a process that has not imported torch yet, that one
import costs hundreds of MB of resident memory and seconds of CPU per Spark Python worker, for
nothing the chain calls. No bench result holds the import's cost with and without torch;
``bench/chain_bench.py``, which records a worker-like process's peak memory
(``bench/results/chain.json``, key ``worker_peak_rss_mb``), is where it would be measured.

:func:`spacy_module` imports spaCy with ``torch`` marked unimportable for the duration of that
import only (a ``None`` entry in ``sys.modules`` makes ``import torch`` raise ``ImportError``,
which thinc reads as "no torch"), then removes the mark, so later code (the score job) imports
torch as usual. A process that already holds torch is left alone.
"""

from __future__ import annotations

import sys
from types import ModuleType


def spacy_module() -> ModuleType:
    """The ``spacy`` package, imported (the first time) without letting thinc import torch."""
    loaded = sys.modules.get("spacy")
    if loaded is not None:
        return loaded
    blocked = "torch" not in sys.modules
    if blocked:
        sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy
    finally:
        if blocked and "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
    return spacy
