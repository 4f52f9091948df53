"""What the segmentation tests share: the SIGHAN 2005 gold lines of the shared corpora."""

from __future__ import annotations

from tests.support.paths import corpora_dir


def sighan_gold(name: str, limit: int) -> list[list[str]]:
    """The first ``limit`` non-blank gold lines of SIGHAN 2005 ``pku``/``msr``, as token lists."""
    text = (corpora_dir() / "sighan2005_seg_gold" / f"{name}_test_gold.utf8").read_text(encoding="utf-8")
    return [line.split() for line in text.splitlines() if line.strip()][:limit]
