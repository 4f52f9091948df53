"""The pure clean chain (:func:`refinery.text.chain.clean_frame`) on small pandas frames: one
output row per input row, outcomes and reasons, masking before segmentation, the segmentation
switch, and a failing document quarantined alone."""

from __future__ import annotations

import pandas as pd
import pytest

from refinery.text import chain
from refinery.text.chain import CleanOptions, clean_frame
from refinery.text.quality import QualityRule

MOBILE = "13812345678"
TEXTS = {
    "zh": f"我的手机{MOBILE}，房间很干净。",
    "en": "Hello world, mail me at zhang.san@example.com tomorrow.",
    "fr": "Je voudrais réserver une chambre pour deux nuits, s'il vous plaît.",
    "empty": "\u200b\u2060 ",
    "symbols": "!!! ???",
}


def frame() -> pd.DataFrame:
    return pd.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}, index=[10, 11, 12, 13, 14])


def by_id(out: pd.DataFrame) -> dict[str, pd.Series]:
    return {row.id: row for row in out.itertuples()}


def test_every_row_comes_back_once_with_its_input_columns():
    out = clean_frame(frame(), CleanOptions())
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert list(out["id"]) == list(TEXTS)
    assert set(chain.OUTPUT_COLUMNS) <= set(out.columns)


def test_pii_is_masked_before_segmentation_and_the_token_stays_whole():
    rows = by_id(clean_frame(frame(), CleanOptions()))
    assert MOBILE not in rows["zh"].clean_text and "[PHONE]" in rows["zh"].clean_text
    assert "[PHONE]" in rows["zh"].tokens and MOBILE not in "".join(rows["zh"].tokens)
    assert rows["zh"].pii_counts == {"CN_MOBILE": 1}
    assert rows["en"].tokens[-3:] == ["[EMAIL]", "tomorrow", "."]
    assert rows["zh"].n_tokens == len(rows["zh"].tokens)


def test_outcomes_follow_the_language_policy():
    quarantine = by_id(clean_frame(frame(), CleanOptions(allowed_languages=("zh", "en"))))
    assert (quarantine["fr"].outcome, quarantine["fr"].reason, quarantine["fr"].detail) == (
        "quarantine",
        "language_not_allowed",
        "lang fr",
    )
    assert (quarantine["empty"].outcome, quarantine["empty"].reason) == ("quarantine", "empty_after_normalize")
    assert (quarantine["symbols"].outcome, quarantine["symbols"].reason) == ("ok", "language_undetermined")
    assert quarantine["zh"].outcome == quarantine["en"].outcome == "ok"
    flag = by_id(clean_frame(frame(), CleanOptions(allowed_languages=("zh", "en"), on_disallowed_language="flag")))
    assert (flag["fr"].outcome, flag["fr"].reason) == ("ok", "language_not_allowed")
    everything = by_id(clean_frame(frame(), CleanOptions(allowed_languages=None)))
    assert (everything["fr"].outcome, everything["fr"].reason) == ("ok", None)


def test_segmentation_switched_off_leaves_tokens_not_computed():
    out = clean_frame(frame(), CleanOptions(segment_enabled=False))
    assert out["tokens"].isna().all() and out["n_tokens"].isna().all()
    assert str(out["n_tokens"].dtype) == "Int32"  # nullable: Arrow gets nulls, not NaN floats
    on = clean_frame(frame(), CleanOptions())
    assert list(out["clean_text"]) == list(on["clean_text"]) and list(out["lang"]) == list(on["lang"])


def test_a_failing_document_is_quarantined_alone(monkeypatch):
    real = chain.segment_masked

    def fails_on_french(text, lang, options):
        if lang == "fr":
            raise RuntimeError("segmenter crashed")
        return real(text, lang, options)

    monkeypatch.setattr(chain, "segment_masked", fails_on_french)
    rows = by_id(clean_frame(frame(), CleanOptions()))
    assert (rows["fr"].outcome, rows["fr"].reason) == ("quarantine", "processing_error")
    assert rows["fr"].detail == "RuntimeError in clean chain"  # the type only: messages may hold text
    assert all(rows[key].outcome == "ok" for key in ("zh", "en", "symbols"))
    assert rows["zh"].tokens and "[PHONE]" in rows["zh"].tokens


def test_the_garbage_collector_is_paused_for_a_batch_and_restored_after(monkeypatch):
    """The chain runs with the cyclic collector off (it walks the worker's memos on every full
    collection) and gives it back as it found it, also when a document fails."""
    import gc

    seen = []
    real = chain.segment_masked

    def watching(text, lang, options):
        seen.append(gc.isenabled())
        if lang == "fr":
            raise RuntimeError("segmenter crashed")
        return real(text, lang, options)

    monkeypatch.setattr(chain, "segment_masked", watching)
    assert gc.isenabled()
    clean_frame(frame(), CleanOptions())
    assert seen and not any(seen)
    assert gc.isenabled()
    gc.disable()
    try:
        clean_frame(frame(), CleanOptions())
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_a_missing_text_is_quarantined_as_empty(missing):
    out = clean_frame(pd.DataFrame({"text": ["好的", missing]}), CleanOptions())
    assert list(out["outcome"]) == ["ok", "quarantine"]
    assert out["reason"].iloc[1] == "empty_after_normalize"


def test_quality_signals_describe_the_masked_text_and_rules_use_the_detected_language():
    out = by_id(clean_frame(frame(), CleanOptions()))
    zh, en, empty = out["zh"], out["en"], out["empty"]
    assert zh.quality["n_chars"] == len(zh.clean_text) and zh.quality["cjk_share"] == 9 / 18
    assert en.quality["email_share"] == 0.0  # the address was masked before the signals saw it
    assert zh.quality["en_bigram_share"] is None  # undefined for Chinese text: None, not NaN
    assert zh.quality_flags == [] and en.quality_flags == []
    assert empty.outcome == chain.QUARANTINE and empty.quality is None and empty.quality_flags is None

    mash = "zxcv bnm xcvb nmzx cvbn mzxc vbnm zxcv bnmz xcvb"  # no vowels; language ID: not English
    rows = clean_frame(pd.DataFrame({"text": [mash]}), CleanOptions())
    assert rows["lang"].iloc[0] != "en" and "latin_vowelless_words" in rows["quality_flags"].iloc[0]


def test_quality_switched_off_or_with_own_rules():
    off = clean_frame(frame(), CleanOptions(quality_enabled=False))
    assert off["quality"].isna().all() and off["quality_flags"].isna().all()
    rule = QualityRule("short", "n_chars", "lt", 25)
    own = by_id(clean_frame(frame(), CleanOptions(quality_rules=(rule,))))
    assert own["zh"].quality_flags == ["short"] and own["en"].quality_flags == []
    assert own["zh"].quality["n_chars"] < 25 <= own["en"].quality["n_chars"]


def test_each_step_adds_the_columns_it_declares_reading_only_earlier_ones():
    """The chain is its list of steps: each returns exactly the columns it declares (PII
    masking also rewrites ``clean_text``), reads only what earlier steps added, names a real
    settings field, and together they add every output column but the outcome ones."""
    options = CleanOptions()
    work = pd.DataFrame({"text": list(TEXTS.values())})
    rewrites = {"pii": {"clean_text"}}
    for step in chain.STEPS:
        assert step.settings in CleanOptions.__dataclass_fields__, step.name
        added = step.run(work.copy(), options)
        assert set(added.columns) == set(step.adds) | rewrites.get(step.name, set()), step.name
        assert list(added.index) == list(work.index), step.name
        for name in added.columns:
            work[name] = added[name]
    assert chain.CHAIN_STEPS == ("normalize", "langid", "pii", "segment", "quality")
    declared = [name for step in chain.STEPS for name in step.adds]
    assert sorted(declared) == sorted(chain.OUTPUT_COLUMNS[:-3]) and len(declared) == len(set(declared))


def test_a_step_that_reads_a_later_column_fails():
    """Order is part of each step's contract: language ID before normalization has no text."""
    langid = next(step for step in chain.STEPS if step.name == "langid")
    with pytest.raises(KeyError):
        langid.run(pd.DataFrame({"text": ["hello there"]}), CleanOptions())
