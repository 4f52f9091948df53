"""Unit tests of :mod:`refinery.text.segment_spacy` (no Spark): English and other languages, the
chunk memo and shape fast path, the windowed suffix search and the bounded spaCy vocabulary."""

from __future__ import annotations

import pytest

from refinery.text.segment import segment
from refinery.text.segment_spacy import resolve_spacy_lang
from tests.support.paths import corpora_dir

# --- spaCy ---------------------------------------------------------------------------------------


def test_english_via_spacy() -> None:
    assert segment("Don't stop, it's fine.") == ["Do", "n't", "stop", ",", "it", "'s", "fine", "."]
    tokens = segment("U.S. prices rose 3% (again)!", "en-US")
    assert tokens == ["U.S.", "prices", "rose", "3", "%", "(", "again", ")", "!"]


def test_other_languages_and_fallbacks() -> None:
    assert segment("l'homme est là", "fr") == ["l'", "homme", "est", "là"]
    assert segment("l'homme", "qq") == segment("l'homme", "xx") == ["l'homme"]  # unknown code → xx
    assert segment("안녕하세요, 세계!", "ko") == ["안녕하세요", ",", "세계", "!"]
    assert resolve_spacy_lang(None) == "en"
    assert resolve_spacy_lang("zh-Hant") == resolve_spacy_lang("cmn") == "en"
    assert resolve_spacy_lang("eng") == "en"
    assert resolve_spacy_lang("fr_FR") == "fr"
    assert resolve_spacy_lang("ja") == resolve_spacy_lang("jpn") == resolve_spacy_lang("ko") == "xx"


def _english_runs() -> list[str]:
    """Every non-Han run of 600 AG News items, 600 SMS messages and 300 20 Newsgroups posts."""
    import csv
    import io
    import json

    root = corpora_dir()
    ag = list(csv.reader(io.StringIO((root / "ag_news" / "test.csv").read_text(encoding="utf-8"))))[:600]
    sms = (root / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()[:600]
    with (root / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl").open(encoding="utf-8") as handle:
        posts = [json.loads(next(handle))["text"] for _ in range(300)]
    texts = [f"{row[1]} {row[2]}" for row in ag] + [line.split("\t", 1)[-1] for line in sms] + posts
    return [text for text in texts if text.strip()]


def test_chunk_memo_equals_one_spacy_call() -> None:
    """Tokens memoised per whitespace-separated chunk are spaCy's tokens of the whole text,
    with an empty memo (every chunk new) and with a full one (every chunk memoised)."""
    import spacy

    from refinery.text import segment_spacy as module

    whole = spacy.blank("en").tokenizer
    texts = _english_runs()
    expected = [[token.text for token in whole(text) if not token.is_space] for text in texts]
    module._CHUNKS.clear()
    cold = [segment(text, "en") for text in texts]
    warm = [segment(text, "en") for text in texts]
    assert len(module._CHUNKS["en"]) > 10_000  # the second pass was answered from the memo
    assert cold == expected
    assert warm == expected


def _corpus_chunks() -> set[str]:
    """Every whitespace-separated chunk of the non-Han runs of the English and mixed corpora."""
    import json

    from refinery.text.segment import _SCRIPT_RUN

    root = corpora_dir()
    texts = list(_english_runs())
    for name in ("twenty_newsgroups_bydate/20news-bydate-train.jsonl", "ruanyf_weekly_zh_en/weekly_issues.jsonl"):
        with (root / name).open(encoding="utf-8") as handle:
            texts += [json.loads(line)["text"] for line in handle if line.strip()]
    for name in ("rt-polarity.pos", "rt-polarity.neg"):
        texts.append((root / "mr_rt_polarity" / name).read_bytes().decode("latin-1"))
    mixed = root / "zh_en_mixed_derived" / "zh_en_mixed.tsv"
    texts.append(mixed.read_text(encoding="utf-8"))
    return {chunk for text in texts for *_, other in _SCRIPT_RUN.findall(text) if other for chunk in other.split()}


def test_chunks_tokenized_by_their_shape_are_tokenized_as_spacy_would() -> None:
    """Every chunk of the shared English and mixed corpora that the shape fast path answers
    (letters, digits, a word and one trailing mark) gets spaCy's own tokens, and the fast
    path answers most chunks: it is what keeps English segmentation off spaCy's Doc."""
    import spacy

    from refinery.text import segment_spacy as module

    tokenizer = spacy.blank("en").tokenizer
    special = frozenset(tokenizer.rules)
    chunks = _corpus_chunks()
    shaped = {chunk: module._shaped_chunk_tokens(chunk, special) for chunk in chunks}
    answered = {chunk: tokens for chunk, tokens in shaped.items() if tokens is not None}
    assert len(answered) > 0.4 * len(chunks)
    wrong = {c: t for c, t in answered.items() if [token.text for token in tokenizer(c)] != list(t)}
    assert wrong == {}
    # the cases the shapes leave to spaCy, because spaCy does not tokenize them by shape
    assert module._shaped_chunk_tokens("cannot", special) is None
    assert module._shaped_chunk_tokens("U.", special) is None
    assert module._shaped_chunk_tokens("dont,", special) is None
    assert module._shaped_chunk_tokens("e.g.", special) is None


def test_windowed_suffix_search_finds_what_spacys_search_finds() -> None:
    """The suffix search over a chunk's end matches spaCy's search over the whole chunk: the
    same span on every chunk of the shared corpora and on chunks built to end in long runs
    of dots, ellipses, units and line breaks, for the English and the multi-language rules."""
    import spacy

    from refinery.text.segment_spacy import windowed_suffix_search

    made = ["a" + "." * n for n in range(1, 40)] + ["x" * n + "…" * m for n in (0, 3, 30) for m in (1, 2, 9)]
    made += ["10km", "1" * 40 + "km", "U.S.", "Dr.", "it's", "a\n", "b.\n", "word" * 20 + "'s", "°F.", "9$"]
    chunks = sorted(_corpus_chunks()) + made
    for code in ("en", "xx"):
        nlp = spacy.blank(code)
        windowed = windowed_suffix_search(list(nlp.Defaults.suffixes))
        spans = [(m.span() if (m := nlp.tokenizer.suffix_search(c)) else None) for c in chunks]
        found = [(m.span() if (m := windowed(c)) else None) for c in chunks]
        assert found == spans
        assert sum(span is not None for span in spans) > 1_000


def test_chunk_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from refinery.text import segment_spacy as module

    monkeypatch.setattr(module, "CHUNK_MEMO_MAX", 50)
    module._CHUNKS.clear()
    texts = _english_runs()[:200]
    for text in texts:
        segment(text, "en")
        assert len(module._CHUNKS["en"]) <= max(50, len(set(text.split())))
    module._CHUNKS.clear()


def test_spacy_vocabulary_is_rebuilt_at_its_cap_and_tokens_stay_spacys(monkeypatch: pytest.MonkeyPatch) -> None:
    """spaCy keeps a lexeme for every distinct token it meets; past ``SPACY_VOCAB_MAX`` the
    tokenizer is built afresh, so the vocabulary stays bounded, and the tokens do not change."""
    import spacy

    from refinery.text import segment_spacy as module

    whole = spacy.blank("en").tokenizer
    texts = _english_runs()[:400]
    expected = [[token.text for token in whole(text) if not token.is_space] for text in texts]
    monkeypatch.setattr(module, "_SPACY", {})  # a fresh vocabulary: every word of the texts is new
    cap = len(module._spacy_tokenizer("en").vocab) + 500  # most words take the shape path, not spaCy
    monkeypatch.setattr(module, "SPACY_VOCAB_MAX", cap)
    module._CHUNKS.clear()
    first = module._spacy_tokenizer("en")
    got = []
    for text in texts:
        got.append(segment(text, "en"))
        assert len(module._spacy_tokenizer("en").vocab) <= cap + len(text.split()) * 4
    assert module._spacy_tokenizer("en") is not first  # the cap was reached and the tokenizer rebuilt
    assert got == expected
    module._CHUNKS.clear()


def test_forgetting_seen_text_empties_the_memos_and_keeps_the_tokens() -> None:
    from refinery.text import segment_spacy as module

    texts = _english_runs()[:50]
    before = [segment(text, "en") for text in texts]
    assert module._CHUNKS.get("en")
    module.forget_seen_text()
    assert not module._CHUNKS and not module._SPACY
    assert [segment(text, "en") for text in texts] == before
