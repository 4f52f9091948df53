"""The ensemble's tuned constants (:mod:`refinery.text.langid`), and how each was chosen.

Ensemble constants, tuned on tatoeba (``*_1000.csv``; tuned on rows 200–999 of every
language, the *dev* split; rows 0–199 are the held-out *test* split reported by the tests and
``bench/langid_bench.py``), by dev accuracy over the seven Latin-script languages (5600
sentences), everything else fixed, before the short-text vote existed (as
``short_vote_chars=0`` gives today; the vote was then tuned with these constants fixed). The
tuning sweeps are not kept in a bench result: ``bench/langid_bench.py`` on the dev split is
where they would be measured again. The held-out accuracy of each configuration is in
``bench/results/langid.json`` (``tatoeba.backends.<backend>.accuracy`` and ``.per_language``).

* :data:`PRIOR_BOOST` ``{"gl": 16, "ca": 4}``: the lite model under-predicts Galician (it puts
  most Galician sentences on pt or es, gl often second) and Catalan (fastText alone per
  language: ``tatoeba.backends.fasttext.per_language``). When a caller *lists* gl or ca among
  the candidates and fastText's top label is Romance, their probabilities are multiplied by
  these factors before renormalising: a prior-shift correction, p(l|x) ∝ p(x|l)·π(l), from the
  model's training prior toward the caller's candidates. gl×16 and then ca×4 gave the best dev
  accuracy (gl×24 or ×32 lose more pt/es than they win gl). Never applied with
  ``languages=None`` (open world, where gl and ca are rare), nor when fastText's top label is
  not Romance: on text it cannot read (``"iPhone"``) it answers its prior (en first, then ca,
  …), which a boost would turn into ca.
* :data:`TIE_MARGIN` 0.4: the tie-breaker runs when the renormalised top-2 probabilities of two
  Romance candidates differ by less than this. It was the knee of the dev sweep (margins from
  0.2 to 0.8, never, always): wider margins send more Latin documents to lingua for no gain.
  The share of held-out sentences that call lingua is, in ``bench/results/langid.json``,
  ``tatoeba.backends.ensemble.lingua_tie_break_rate``; each lingua call (five preloaded
  languages) costs several fastText calls (throughput against fastText alone:
  ``tatoeba.ensemble_vs_fasttext_throughput``).
* :data:`LINGUA_WEIGHT` 2: the tie score is log p_fastText(l) + 2·log p_lingua(l) (lingua is
  the better model on short Romance sentences: ``tatoeba.backends.lingua.per_language.ca``
  against ``tatoeba.backends.fasttext.per_language.ca``). Of the weights 0.5, 1, 2 and 3, 2
  scored best on dev. lingua has no Galician, so gl's lingua value is 2·√(p_pt·p_es): high
  exactly when lingua hesitates between Portuguese and Spanish, the signature of Galician
  (Spanish-like spelling, Portuguese-like words); in a simulation on dev it beat
  max(p_pt, p_es) and p_pt + p_es at every margin up to 0.7.

Short-text vote, tuned on two-word inputs cut from the dev rows (``bench/langid_bench.py``:
two consecutive words, or a 4–6 character span of zh / ja; 7941 inputs, ten candidates; the
accuracy with and without the vote, on dev and held out, is in ``bench/results/langid.json``,
keys ``word_pairs.backends.ensemble`` and ``word_pairs.backends.ensemble_no_short_vote``). On
two words fastText and lingua err in different places: without the vote the ensemble keeps
fastText's English for Catalan ``"sis gats"`` and Italian ``"in carcere"``, which lingua reads
right, while lingua alone falls under ``min_score`` on many pairs fastText gets right. The
vote's languages are the Latin-script candidates lingua knows, plus pt and es for gl's derived
value (as in the tie-breaker); without candidates, :data:`SHORT_VOTE_OPEN` (en and the Romance
languages), and a text whose fastText answer lies outside it keeps that answer. Each contender
scores log p_fastText(l) (after :data:`PRIOR_BOOST`) + SHORT_LINGUA_WEIGHT·log p_lingua(l):

* :data:`SHORT_LINGUA_WEIGHT` 3: of the weights 2, 3 and 4, 3 scored best on dev word pairs,
  with dev sentences unchanged within noise.
* ``short_vote_chars`` 20 (:class:`LangIdOptions`): two-word inputs are far shorter than that,
  so any threshold from 16 up catches nearly all of them; 20 and 30 scored best on dev pairs,
  and dev sentences moved by a handful between 16 and 30. 20 is the existing
  ``short_text_chars`` default, so "short" means one thing. Each vote costs one lingua call
  over six preloaded languages: it is paid by short inputs only, not by long documents
  (``ratios.mixed_ensemble_vs_no_short_vote_docs_per_s`` in ``bench/results/langid.json``).
* The n-gram voter (:mod:`refinery.text.latin_ngrams`: multinomial naive Bayes over character
  1–4-grams with word-boundary markers, trained on the dev rows of the seven Latin-script
  tatoeba languages by ``scripts/train_latin_langid.py``) adds
  :data:`SHORT_NGRAM_WEIGHT`·log p_ngram(l) to each contender's vote score and
  :data:`TIE_NGRAM_WEIGHT`·log p_ngram(l) to the Romance tie score; it is left out when a
  contender is a language it does not know. Both weights, the smoothing (``ALPHA`` 0.1) and
  the n-gram length (4) were chosen by 4-fold cross-validation inside the dev rows (folds by
  row mod 4; the model retrained on three folds, accuracy on the fourth's Latin-script pairs
  and sentences; the constants above fixed): vote weights from 0 to 2, α 0.1 to 1, 3- to
  5-grams (5-grams scored about as well with an artifact of 0.7 MB, not 0.38); the tie weight
  helps sentences, which the pairs barely send to the tie-break. It was then measured once on
  the held-out rows, side by side with the ensemble without it (``ensemble_no_ngram`` in
  ``bench/results/langid.json``; the ensemble's ``dev_accuracy`` there is on the model's own
  training rows, so optimistic). Cost: one n-gram pass per vote or tie-break, paid only by the
  texts that already call lingua (``tatoeba.ensemble_vs_no_ngram_throughput`` and
  ``word_pairs.ensemble_vs_no_ngram_throughput``).
* What limits it: Galician, Portuguese and Spanish share much of their short vocabulary (on
  dev, both words of many gl, pt and es pairs occur in another candidate's tatoeba
  sentences), lingua has no Galician, and the lite fastText model under-predicts it. Tuned
  alternatives did not help beyond dev noise (gl's lingua value as max(p_pt, p_es) or
  p_pt + p_es, gl boosts 4–32, a logistic fit of the vote's weights and per-language biases).
  The n-gram voter is the one model here that knows Galician, but it has seen only 800
  tatoeba sentences per language.
"""

from __future__ import annotations

#: The Romance languages whose mutual confusions the tie-breaker resolves, and those of them
#: lingua knows (it has no Galician).
ROMANCE = frozenset({"ca", "gl", "pt", "es", "it", "fr"})
LINGUA_ROMANCE = frozenset({"ca", "pt", "es", "it", "fr"})

PRIOR_BOOST: dict[str, float] = {"gl": 16.0, "ca": 4.0}
TIE_MARGIN = 0.4
LINGUA_WEIGHT = 2.0
#: lingua's weight in the short-text vote (module docstring).
SHORT_LINGUA_WEIGHT = 3.0
#: Weight of our own n-gram model (:mod:`refinery.text.latin_ngrams`) in the short-text vote and
#: in the Romance tie-break (module docstring); 0 leaves it out.
SHORT_NGRAM_WEIGHT = 0.5
TIE_NGRAM_WEIGHT = 0.2
#: The short-text vote's languages without candidates (``languages=None``): those it was tuned
#: on. A short text whose fastText answer is another language keeps that answer.
SHORT_VOTE_OPEN = LINGUA_ROMANCE | {"en"}
#: Floor added to lingua confidences before the log (lingua gives exact zeros).
_LINGUA_EPS = 1e-4
#: fastText labels asked for: the candidates' probabilities beyond the 10th label are
#: negligible, and k=10 costs far less than k=176 (no bench result keeps the comparison;
#: ``bench/langid_bench.py`` is where it would be timed).
_FT_K = 10
