"""Where the checkout and the shared corpora are."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (``tests/support/paths.py`` is two folders below it).
ROOT = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()


def corpora_dir() -> Path:
    """The shared corpora; a missing folder is an error of the checkout, not a skip."""
    if not (CORPORA / "README.md").is_file():
        raise RuntimeError(f"shared corpora not found at {CORPORA}; set REFINERY_CORPORA")
    return CORPORA
