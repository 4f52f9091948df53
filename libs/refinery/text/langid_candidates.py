"""What one :class:`~refinery.text.langid_options.LangIdOptions` value allows (its candidates,
the prior boost, lingua's languages for the tie-break and the short-text vote), computed once per
value, and fastText's ranking restricted to it."""

from __future__ import annotations

from dataclasses import dataclass

from refinery.text.langid_models import _fasttext, _lingua_codes
from refinery.text.langid_options import LangIdOptions
from refinery.text.langid_scripts import _NON_LATIN, _label_filter
from refinery.text.langid_tuning import _FT_K, LINGUA_ROMANCE, PRIOR_BOOST, ROMANCE, SHORT_VOTE_OPEN


@dataclass(frozen=True)
class _Plan:
    """What one :class:`LangIdOptions` implies, computed once per options value (cached)."""

    allowed: frozenset[str] | None
    #: PRIOR_BOOST restricted to the explicitly listed candidates.
    boost: tuple[tuple[str, float], ...]
    #: lingua's languages for the Romance tie-breaker.
    tie_languages: frozenset[str]
    #: lingua's languages for the short-text vote, and every language the vote can answer
    #: (those plus gl, whose lingua value is derived from pt and es).
    vote_languages: frozenset[str]
    vote_answers: frozenset[str]


_PLANS: dict[LangIdOptions, _Plan] = {}


def _plan(options: LangIdOptions) -> _Plan:
    plan = _PLANS.get(options)
    if plan is None:
        allowed = None if options.languages is None else frozenset(options.languages)
        boost = () if allowed is None else tuple((lang, b) for lang, b in PRIOR_BOOST.items() if lang in allowed)
        vote = _vote_languages(allowed)
        answers = vote | {"gl"} if {"pt", "es"} <= vote and (allowed is None or "gl" in allowed) else vote
        plan = _PLANS[options] = _Plan(allowed, boost, _tie_languages(allowed), vote, frozenset(answers))
    return plan


def _vote_languages(allowed: frozenset[str] | None) -> frozenset[str]:
    """lingua's languages for the short-text vote: the Latin-script candidates lingua knows
    (plus pt and es when gl is a candidate), or :data:`SHORT_VOTE_OPEN` without candidates."""
    if allowed is None:
        return frozenset(SHORT_VOTE_OPEN)
    chosen = {lang for lang in allowed if lang not in _NON_LATIN and lang in _lingua_codes()}
    if "gl" in allowed:
        chosen |= {"pt", "es"}
    return frozenset(chosen)


def _tie_languages(allowed: frozenset[str] | None) -> frozenset[str]:
    """lingua's languages for the Romance tie-breaker: the lingua-known Romance candidates,
    plus pt and es whenever gl is a candidate (gl's lingua value is derived from them)."""
    if allowed is None:
        return LINGUA_ROMANCE
    chosen = set(LINGUA_ROMANCE & allowed)
    if "gl" in allowed:
        chosen |= {"pt", "es"}
    return frozenset(chosen)


def _fasttext_ranked(text: str, plan: _Plan, script: str | None, boost: bool) -> list[tuple[str, float]]:
    """fastText's labels for ``text`` (one line), best first, keeping the candidates and, when
    ``script`` is given, the languages written in it. With candidates the probabilities are
    renormalised over the kept labels (the probability given that the text is in one of them),
    after the prior boost when ``boost``; without candidates they are fastText's own."""
    allowed = plan.allowed
    keep = _label_filter(allowed, script)
    predict = _fasttext().f.predict  # the C++ call: the Python wrapper only re-zips its answer
    preds = predict(text + "\n", _FT_K, 0.0, "replace")
    # (probabilities of the quantised model can exceed 1 by ~1e-5: clipped)
    ranked = [(lang, min(p, 1.0)) for p, label in preds if (lang := keep[label])]
    if not ranked and (allowed is not None or script is not None):  # rare: look at every label
        preds = predict(text + "\n", -1, 0.0, "replace")  # (labels with probability 0 are omitted)
        ranked = [(lang, min(p, 1.0)) for p, label in preds if (lang := keep[label])]
    if boost and plan.boost and ranked and ranked[0][0] in ROMANCE:
        # Only when fastText already reads Romance: on text it cannot read (a brand name, a
        # URL) it answers its prior (en 0.12, ca 0.09, …), and a boost would turn that into ca.
        factors = dict(plan.boost)
        ranked = sorted(((lang, p * factors.get(lang, 1.0)) for lang, p in ranked), key=lambda lp: -lp[1])
    if allowed is not None and ranked:
        total = sum(p for _, p in ranked)
        if total > 0:
            ranked = [(lang, p / total) for lang, p in ranked]
    return ranked
