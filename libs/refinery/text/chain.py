"""The clean chain on one batch of documents: normalize → language ID → PII masking →
segmentation, in pure Python on pandas (the Spark job runs it per Arrow batch).

Order matters and is deliberate:

1. **normalize** first, so every later step sees repaired, canonical text;
2. **language ID** on the normalized text *before* masking: replacement tokens such as
   ``[PHONE]`` are Latin letters and would tilt short Chinese texts towards "mixed";
3. **PII masking**: what leaves this function never holds the original PII;
4. **segmentation** of the masked text, keeping each replacement token whole (skipped when
   ``CleanOptions.segment_enabled`` is false: ``tokens`` and ``n_tokens`` are then ``None``);
5. **quality signals and rules** (:mod:`refinery.text.quality`) on the masked text, its tokens
   and its detected language: ``quality`` (one dict of signals per document) and
   ``quality_flags`` (the violated rule names, ``[]`` for none). Both are ``None`` for a
   document empty after normalization and when ``CleanOptions.quality_enabled`` is false
   ("not checked").

A document ends as ``ok`` (possibly flagged: ``reason`` ``language_not_allowed`` or
``language_undetermined`` with ``outcome`` still ``ok``) or ``quarantine`` with reason
``empty_after_normalize``, ``language_not_allowed`` (when configured) or ``processing_error``.
Every input row gives exactly one output row, so the job's counts reconcile by construction.
"""

from __future__ import annotations

import gc
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from refinery.text.langid import LangIdOptions, detect_series
from refinery.text.normalize import NormalizeOptions, normalize_series
from refinery.text.pii import PiiOptions, mask_series
from refinery.text.quality import DEFAULT_RULES, QualityRule, apply_quality_rules, quality_signals, signal_records
from refinery.text.segment import SegmentOptions, segment

OK, QUARANTINE = "ok", "quarantine"
EMPTY_AFTER_NORMALIZE = "empty_after_normalize"
LANGUAGE_NOT_ALLOWED = "language_not_allowed"
#: No language could be told (``und``: too short, symbols, low score): flagged, never
#: quarantined, since nothing says the document is out of scope.
LANGUAGE_UNDETERMINED = "language_undetermined"
PROCESSING_ERROR = "processing_error"

#: Columns :func:`clean_frame` adds to its input.
OUTPUT_COLUMNS = (
    "clean_text",
    "norm_steps",
    "lang",
    "lang_score",
    "mixed",
    "lang_shares",
    "pii_counts",
    "tokens",
    "n_tokens",
    "quality",
    "quality_flags",
    "outcome",
    "reason",
    "detail",
)


@dataclass(frozen=True)
class CleanOptions:
    """Everything the chain needs; picklable, so it travels to Spark's Python workers."""

    normalize: NormalizeOptions = field(default_factory=NormalizeOptions)
    langid: LangIdOptions = field(default_factory=LangIdOptions)
    pii: PiiOptions = field(default_factory=PiiOptions)
    #: Mask PII in the values of ``meta`` too (the source's other columns), not only in the text.
    mask_meta: bool = True
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    #: Segment at all; ``False`` leaves ``tokens`` and ``n_tokens`` ``None`` ("not computed").
    segment_enabled: bool = True
    #: Languages kept in silver; ``None`` keeps all.
    allowed_languages: tuple[str, ...] | None = None
    #: ``quarantine`` a document in another language, or ``flag`` it (kept, ``reason`` set).
    on_disallowed_language: str = "quarantine"
    #: Compute quality signals and check :attr:`quality_rules`; ``False`` leaves both columns ``None``.
    quality_enabled: bool = True
    quality_rules: tuple[QualityRule, ...] = DEFAULT_RULES


@dataclass(frozen=True)
class ChainStep:
    """One step of the chain: its ``name`` (the key of its CPU time, ``cpu.<name>.ns_per_doc``
    in the clean job's metrics), the :class:`CleanOptions` field holding its ``settings``, the
    columns it ``adds`` to the working frame (a step may also rewrite ``clean_text``, as PII
    masking does), and ``run``: the working frame so far and the options → the new columns,
    on the working frame's index. A step reads only columns that earlier steps added."""

    name: str
    settings: str
    adds: tuple[str, ...]
    run: Callable[[pd.DataFrame, CleanOptions], pd.DataFrame]


def _normalize_step(work: pd.DataFrame, options: CleanOptions) -> pd.DataFrame:
    normalized = normalize_series(work["text"], options.normalize)
    return pd.DataFrame({"clean_text": normalized["text"], "norm_steps": normalized["norm_steps"]})


def _langid_step(work: pd.DataFrame, options: CleanOptions) -> pd.DataFrame:
    return detect_series(work["clean_text"], options.langid)[["lang", "lang_score", "mixed", "lang_shares"]]


def _pii_step(work: pd.DataFrame, options: CleanOptions) -> pd.DataFrame:
    masked = mask_series(work["clean_text"], options.pii)
    return pd.DataFrame({"clean_text": masked["text"], "pii_counts": masked["pii_counts"]})


def _segment_step(work: pd.DataFrame, options: CleanOptions) -> pd.DataFrame:
    tokens = _segment_column(work["clean_text"], work["lang"], options)
    n_tokens = pd.array([None if t is None else len(t) for t in tokens], dtype="Int32")
    return pd.DataFrame({"tokens": tokens, "n_tokens": n_tokens}, index=work.index)


def has_text(texts: pd.Series) -> pd.Series:
    """True where a text is left after normalization (not null, not only whitespace): the
    rows the quality step measures, and the rows that are not quarantined as empty."""
    return texts.map(lambda t: isinstance(t, str) and bool(t.strip())).astype(bool)


def _quality_step(work: pd.DataFrame, options: CleanOptions) -> pd.DataFrame:
    checked = has_text(work["clean_text"])
    signals, flags = _quality_columns(work, checked, options)
    return pd.DataFrame({"quality": signals, "quality_flags": flags}, index=work.index)


#: The chain, in order (the module docstring says why this order).
STEPS: tuple[ChainStep, ...] = (
    ChainStep("normalize", "normalize", ("clean_text", "norm_steps"), _normalize_step),
    ChainStep("langid", "langid", ("lang", "lang_score", "mixed", "lang_shares"), _langid_step),
    ChainStep("pii", "pii", ("pii_counts",), _pii_step),
    ChainStep("segment", "segment", ("tokens", "n_tokens"), _segment_step),
    ChainStep("quality", "quality_rules", ("quality", "quality_flags"), _quality_step),
)
#: The chain's step names, in order, as :func:`clean_frame` times them.
CHAIN_STEPS = tuple(step.name for step in STEPS)


def clean_frame(
    frame: pd.DataFrame, options: CleanOptions, text_column: str = "text", timings: dict[str, float] | None = None
) -> pd.DataFrame:
    """Run the chain over ``frame[text_column]``; return ``frame`` with :data:`OUTPUT_COLUMNS`.

    A batch-level failure (one pathological document raising inside a vectorised step) is
    retried one document at a time, so only the document that fails is quarantined. With
    ``timings``, each step's CPU seconds (``time.process_time``) are added to it by
    :data:`CHAIN_STEPS` name, and the rest (assembling the frame, outcomes) under ``other``.
    """
    with collector_paused():
        try:
            cleaned = _clean_batch(frame[text_column], options, timings)
        except Exception:
            rows = [_clean_one(frame[text_column].iloc[[i]], options) for i in range(len(frame))]
            with warnings.catch_warnings():
                # A quarantined row is all-None; pandas warns that it will one day let such rows
                # widen column dtypes. Arrow converts either form to the same Spark types.
                warnings.simplefilter("ignore", FutureWarning)
                cleaned = pd.concat(rows)
    cleaned.index = frame.index
    return pd.concat([frame, cleaned], axis=1)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector switched off for the block, on again after it (if it
    was on).

    Why: the chain allocates a few container objects per token (token lists, memo tuples,
    signal dicts), so the collector runs every few hundred of them, and each full collection
    walks every object the worker holds, the segmentation memos and models included. On short
    documents that was a large share of the chain's CPU time (no bench result keeps the
    comparison: ``bench/results/chain.json`` times the chain with the collector paused;
    ``bench/chain_bench.py`` with it left on is where it would be measured).
    Reference counting still frees every object the chain drops; only reference cycles wait
    for the next collection after the block, and a batch is bounded in bytes
    (``spark.python_batch_mb``), so memory does not grow with the input."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _clean_one(texts: pd.Series, options: CleanOptions) -> pd.DataFrame:
    try:
        return _clean_batch(texts, options)
    except Exception as exc:
        row: dict[str, Any] = dict.fromkeys(OUTPUT_COLUMNS)
        row.update(outcome=QUARANTINE, reason=PROCESSING_ERROR, detail=f"{type(exc).__name__} in clean chain")
        return pd.DataFrame([row], index=texts.index)


class _Clock:
    """Adds the CPU seconds between calls to ``timings`` under the name of the step just run."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.process_time() if timings is not None else 0.0

    def lap(self, step: str) -> None:
        if self.timings is not None:
            now = time.process_time()
            self.timings[step] = self.timings.get(step, 0.0) + now - self.last
            self.last = now


def _clean_batch(texts: pd.Series, options: CleanOptions, timings: dict[str, float] | None = None) -> pd.DataFrame:
    clock = _Clock(timings)
    work = pd.DataFrame({"text": texts.reset_index(drop=True)})
    clock.lap("other")
    for step in STEPS:
        added = step.run(work, options)
        for name in added.columns:  # new columns, or a rewritten one (PII masking's clean_text)
            work[name] = added[name]
        clock.lap(step.name)
    out = work[list(OUTPUT_COLUMNS[:-3])].copy()
    empty = ~has_text(out["clean_text"])
    out["outcome"], out["reason"], out["detail"] = OK, None, None
    out.loc[empty, ["outcome", "reason"]] = [QUARANTINE, EMPTY_AFTER_NORMALIZE]
    if options.allowed_languages is not None:
        undetermined = ~empty & (out["lang"] == "und")
        out.loc[undetermined, "reason"] = LANGUAGE_UNDETERMINED
        foreign = ~empty & ~undetermined & ~out["lang"].isin(options.allowed_languages)
        out.loc[foreign, "reason"] = LANGUAGE_NOT_ALLOWED
        out.loc[foreign, "detail"] = "lang " + out.loc[foreign, "lang"].astype(str)
        if options.on_disallowed_language == "quarantine":
            out.loc[foreign, "outcome"] = QUARANTINE
    clock.lap("other")
    return out


def _quality_columns(
    out: pd.DataFrame, checked: pd.Series, options: CleanOptions
) -> tuple[list[dict[str, Any] | None], list[list[str] | None]]:
    """``quality`` and ``quality_flags`` of the documents where ``checked`` holds (``None``
    elsewhere): signals of the masked text, its tokens and its detected language, then the rules."""
    n = len(out)
    signals_column: list[dict[str, Any] | None] = [None] * n
    flags_column: list[list[str] | None] = [None] * n
    positions = checked.to_numpy().nonzero()[0]
    if not options.quality_enabled or not len(positions):
        return signals_column, flags_column
    every = len(positions) == n  # the usual case: no copy of the rows

    def column(name: str) -> pd.Series:
        return out[name] if every else out[name].iloc[positions]

    langs = column("lang")
    signals = quality_signals(column("clean_text"), column("tokens") if options.segment_enabled else None, langs)
    flags = apply_quality_rules(signals, langs, options.quality_rules).tolist()
    records = signal_records(signals)
    if every:
        return list(records), flags
    for position, record, names in zip(positions.tolist(), records, flags, strict=True):
        signals_column[position], flags_column[position] = record, names
    return signals_column, flags_column


def _segment_column(texts: pd.Series, langs: pd.Series, options: CleanOptions) -> list[list[str] | None]:
    if not options.segment_enabled:
        return [None] * len(texts)
    return [
        segment_masked(text, lang, options) if isinstance(text, str) else []
        for text, lang in zip(texts, langs, strict=True)
    ]


@lru_cache(maxsize=16)
def _replacement_pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(set(tokens), key=len, reverse=True))
    return re.compile(f"({alternatives})")


def segment_masked(text: str, lang: str | None, options: CleanOptions) -> list[str]:
    """Tokens of masked text: each PII replacement token (``[PHONE]``) stays one token, the
    text between them goes through :func:`refinery.text.segment.segment`."""
    pattern = _replacement_pattern(tuple(options.pii.token_map().values()))
    if pattern.search(text) is None:
        return segment(text, lang, options.segment)
    tokens: list[str] = []
    for index, piece in enumerate(pattern.split(text)):
        if index % 2:  # split() puts the captured separators at odd positions
            tokens.append(piece)
        elif piece:
            tokens.extend(segment(piece, lang, options.segment))
    return tokens
