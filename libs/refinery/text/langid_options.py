"""What language identification is asked (:class:`LangIdOptions`) and what it answers
(:class:`LangResult`).

``min_score`` 0.3 by default: a group whose confidence is below it is ``"und"``. On dev, the
open-world ensemble's few answers under 0.3 are mostly wrong, so abstaining is the better
answer there; with the ten candidates almost no sentence scores under 0.3. Higher thresholds
trade recall for precision: at 0.5 the open-world ensemble's abstentions and accuracy on the
held-out sentences are ``tatoeba.backends.ensemble_open_min_score_0.5.und_rate`` and
``.accuracy`` in ``bench/results/langid.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

BACKENDS = ("ensemble", "fasttext", "langdetect", "lingua")


@dataclass(frozen=True)
class LangResult:
    """A language decision: ISO 639-1 code (``"und"`` when unknown), its confidence in [0, 1],
    whether a second language holds at least ``mixed_min_share`` of the text, and the
    per-language shares of the (weighted) letters, largest first."""

    lang: str
    score: float
    mixed: bool
    shares: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class LangIdOptions:
    """How to identify languages; frozen and picklable, so Spark can ship it to executors.

    ``languages``: the allowed ISO 639-1 codes (None: any language a backend knows); any other
    answer becomes ``"und"``. ``min_score``: below it a label becomes ``"und"``.
    ``short_text_chars``: a multi-script text with fewer letters than this is not split into
    shares; script rules decide it (Kana → ja, else Hangul → ko, else Han → zh).
    ``short_vote_chars``: a Latin-script text with fewer letters than this is decided by the
    short-text vote of fastText and lingua (ensemble only; 0 turns the vote off).
    ``mixed_min_share``: see :class:`LangResult`. ``cjk_weight``: weight of one CJK letter in
    shares. ``max_model_chars``: at most this many characters of a group go to a model (the
    language is settled long before; this bounds the cost of long documents). See
    :mod:`refinery.text.langid_tuning` for how each default was chosen.
    """

    backend: str = "ensemble"
    languages: tuple[str, ...] | None = None
    min_score: float = 0.3
    short_text_chars: int = 20
    short_vote_chars: int = 20
    mixed_min_share: float = 0.2
    cjk_weight: float = 3.0
    max_model_chars: int = 1000

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown language-id backend {self.backend!r}; one of {BACKENDS}")
        if self.cjk_weight <= 0:
            raise ValueError(f"cjk_weight must be positive, got {self.cjk_weight}")
        for name in ("short_text_chars", "short_vote_chars"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0 turns it off), got {getattr(self, name)}")
        if self.languages is not None:
            object.__setattr__(self, "languages", tuple(code.lower() for code in self.languages))


DEFAULT = LangIdOptions()
UNKNOWN = LangResult("und", 0.0, False, ())
