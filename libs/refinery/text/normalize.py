"""Text normalization: repair and canonicalise one document, and say which steps changed it.

Six steps, always in this order (each can be switched off in :class:`NormalizeOptions`):

1. ``mojibake``: ftfy's *encoding repair only* (``cafÃ©`` → ``café``, C1 controls read as
   Windows-1252). ftfy's other fixers (quote uncurling, width folding, ligatures, HTML, NFC) are
   off: they would fold CJK punctuation and quotes behind our back, and the steps below do
   the rest explicitly.
2. ``html``: HTML entities (``&amp;``, ``&#39;``, ``&lt;b&gt;``, double-escaped ``&amp;amp;``)
   and the broken forms real corpora carry where the ``&`` became a space (AG News:
   ``doesn #39;t``, `` quot;``, `` #36;10 million``, ``AT amp;T``), plus ``\\$`` → ``$``.
3. ``control``: BOM, C0/C1 controls, zero-width characters, soft hyphen and bidi controls.
4. ``nfkc``: Unicode NFKC (full-width ``ＡＢＣ１２３`` → ``ABC123``, ``ﬁ`` → ``fi``), except that by
   default the full-width CJK punctuation in :data:`CJK_PUNCT` is kept (see below).
5. ``whitespace``: runs of whitespace → one space, newlines normalised, ends stripped.
6. ``t2s``: Traditional → Simplified Chinese with OpenCC (off by default: it rewrites
   characters, and some mappings are one-to-many).

Why keep CJK punctuation through NFKC: in Chinese the full-width forms *are* the correct
punctuation (``你好，世界！``), not a width variant of ASCII. Folding them to ``,`` and ``!``
makes training text that no Chinese writer produces, breaks the sentence boundaries that
segmenters and sentence splitters key on (``。！？``), and cannot be undone. Full-width
*letters and digits* are a different matter (an input-method artefact), so they are folded.
``keep_cjk_punct=False`` gives plain NFKC.

Every step is cheap when it cannot apply (ASCII text skips ftfy and NFKC, text without ``;``
or ``\\$`` skips the HTML pass, ftfy only runs on text holding a character pair that could be
mojibake), and every step reports whether it changed the text, so the pipeline can count
repairs per step. The steps are idempotent together: ``normalize(normalize(x).text)`` changes
nothing on real corpora (tested).

Pure Python (ftfy, OpenCC, pandas): the Spark layer wraps :func:`normalize_series`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from refinery.text.normalize_html import fix_html
from refinery.text.normalize_steps import fix_mojibake, fix_whitespace, nfkc, strip_control, to_simplified

MOJIBAKE = "mojibake"
HTML = "html"
CONTROL = "control"
NFKC = "nfkc"
WHITESPACE = "whitespace"
T2S = "t2s"
#: Step names in the order they are applied.
STEPS: tuple[str, ...] = (MOJIBAKE, HTML, CONTROL, NFKC, WHITESPACE, T2S)


@dataclass(frozen=True)
class NormalizeOptions:
    """Which steps run (one flag per step, in :data:`STEPS`) and how two of them behave.

    ``keep_cjk_punct`` keeps :data:`CJK_PUNCT` through NFKC; ``keep_newlines`` keeps line
    breaks (at most one blank line in a row) instead of folding them into spaces. Frozen and
    picklable, so it can be shipped to Spark workers and used as a cache key.
    """

    mojibake: bool = True
    html: bool = True
    control: bool = True
    nfkc: bool = True
    whitespace: bool = True
    t2s: bool = False
    keep_cjk_punct: bool = True
    keep_newlines: bool = False


DEFAULT = NormalizeOptions()


@dataclass(frozen=True)
class NormalizeResult:
    """The normalized text and the names of the steps that changed it, in order applied."""

    text: str
    steps: tuple[str, ...]


# --- the pipeline -----------------------------------------------------------------------------

_Plan = tuple[tuple[str, Callable[[str], str]], ...]


@lru_cache(maxsize=64)
def _plan(options: NormalizeOptions) -> _Plan:
    """The enabled steps of ``options`` as (name, function of one string), in order."""
    keep_punct, keep_newlines = options.keep_cjk_punct, options.keep_newlines
    functions: dict[str, Callable[[str], str]] = {
        MOJIBAKE: fix_mojibake,
        HTML: fix_html,
        CONTROL: strip_control,
        NFKC: (lambda text: nfkc(text, True)) if keep_punct else (lambda text: nfkc(text, False)),
        WHITESPACE: (lambda text: fix_whitespace(text, True)) if keep_newlines else fix_whitespace,
        T2S: to_simplified,
    }
    return tuple((name, functions[name]) for name in STEPS if getattr(options, name))


#: Passes over a document whose mojibake repair was followed by other changes (see _run).
_MAX_PASSES = 3


def _run(text: str, plan: _Plan) -> tuple[str, tuple[str, ...]]:
    """Apply ``plan``; return the text and the names of the steps that changed it.

    One pass suffices except after a mojibake repair that a later step changed again: ftfy's
    C1 repair can yield ``™``, which NFKC turns into ``TM``, and that can expose mojibake ftfy
    did not see the first time (real CrowdFlower tweets do this). Such documents get another
    pass (at most :data:`_MAX_PASSES`) so that normalizing twice changes nothing.
    """
    changed: set[str] = set()
    for _ in range(_MAX_PASSES):
        last = None
        for name, step in plan:
            fixed = step(text)
            if fixed != text:
                changed.add(name)
                last = name
                text = fixed
        if last is None or MOJIBAKE not in changed or last == MOJIBAKE:
            break
    if not changed:
        return text, ()
    return text, tuple(name for name in STEPS if name in changed)


def normalize(text: str, options: NormalizeOptions = DEFAULT) -> NormalizeResult:
    """Normalize one document; ``steps`` names the steps that changed it, in order."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() needs str, got {type(text).__name__}")
    fixed, steps = _run(text, _plan(options))
    return NormalizeResult(fixed, steps)


def normalize_series(texts: pd.Series, options: NormalizeOptions = DEFAULT) -> pd.DataFrame:
    """Normalize a batch: a frame with the index of ``texts`` and columns ``text`` (``None``
    for a missing input) and ``norm_steps`` (list of step names, empty for a missing input)."""
    plan = _plan(options)
    out_text: list[str | None] = []
    out_steps: list[list[str]] = []
    for value in texts:
        if isinstance(value, str):
            fixed, steps = _run(value, plan)
            out_text.append(fixed)
            out_steps.append(list(steps))
        elif value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            out_text.append(None)
            out_steps.append([])
        else:
            raise TypeError(f"normalize_series() needs strings or missing values, got {type(value).__name__}")
    return pd.DataFrame({"text": out_text, "norm_steps": out_steps}, index=texts.index, columns=["text", "norm_steps"])
