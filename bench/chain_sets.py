"""The document sets the per-document cost of the clean chain is measured on (issue 20), read
from ``../shared/corpora`` (``$REFINERY_CORPORA``) as they are, seeded where sampled:

* ``short_mixed``: 15,000 short documents drawn evenly from seven real corpora (THUCNews titles,
  ChnSentiCorp, waimai_10k, zh_en_mixed, AG News, SMS spam, MR polarity): about 60 % Chinese,
  about 200 bytes each;
* ``fudan_zh_articles``: 400 long Chinese articles (about 9.5 KB each);
* ``twenty_newsgroups``: 1,500 English forum posts (about 1.8 KB each);
* ``ruanyf_weekly``: 200 long mixed Chinese / English Markdown issues (about 20 KB each).

:func:`warm_up_sets` gives, for each set, as many other documents of the same corpora (none of
the set's own): a Python worker meets a document once, with models loaded and memos filled by
the documents before it, and the warm-up makes the bench do the same.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora")).resolve()
SEED = 20
SHORT_ROWS = 15_000


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _reviews(path: Path) -> list[str]:
    return [t for t in pd.read_csv(path, dtype=str, keep_default_na=False)["review"] if t.strip()]


def _jsonl_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def short_corpora() -> dict[str, list[str]]:
    """Every text of the seven short corpora, in file order."""
    ag = csv.reader(io.StringIO((CORPORA / "ag_news" / "test.csv").read_text(encoding="utf-8")))
    sms = _lines(CORPORA / "sms_spam_collection" / "SMSSpamCollection")
    mr = [
        line
        for name in ("rt-polarity.pos", "rt-polarity.neg")
        for line in (CORPORA / "mr_rt_polarity" / name).read_bytes().decode("latin-1").splitlines()
        if line.strip()
    ]
    mixed = pd.read_csv(CORPORA / "zh_en_mixed_derived" / "zh_en_mixed.tsv", sep="\t", dtype=str, keep_default_na=False)
    return {
        "thucnews": [line.rsplit("\t", 1)[0] for line in _lines(CORPORA / "thucnews_titles" / "test.txt")],
        "chnsenticorp": _reviews(CORPORA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv"),
        "waimai": _reviews(CORPORA / "waimai_10k" / "waimai_10k.csv"),
        "zh_en_mixed": mixed["text"].tolist(),
        "ag_news": [f"{row[1]} {row[2]}" for row in ag],
        "sms_spam": [line.split("\t", 1)[1] for line in sms if "\t" in line],
        "mr_polarity": mr,
    }


def _short_picks(rows: int) -> tuple[dict[str, list[str]], dict[str, list[int]], random.Random]:
    """The short corpora, the positions :func:`short_mixed` samples in each, and the generator
    that drew them (it shuffles the sample next)."""
    corpora = short_corpora()
    per = rows // len(corpora)
    rng = random.Random(SEED)
    picks = {name: rng.sample(range(len(corpora[name])), min(per, len(corpora[name]))) for name in sorted(corpora)}
    return corpora, picks, rng


def short_mixed(rows: int = SHORT_ROWS) -> list[str]:
    """``rows`` short documents, an equal seeded sample of each of :func:`short_corpora`."""
    corpora, picks, rng = _short_picks(rows)
    texts = [corpora[name][i] for name in sorted(corpora) for i in picks[name]]
    rng.shuffle(texts)
    return texts


def _others(texts: list[str], measured: set[str], rows: int) -> list[str]:
    """A seeded sample of up to ``rows`` of ``texts``, none of them equal to one in ``measured``."""
    rest = [t for t in texts if t not in measured]
    return random.Random(SEED + 1).sample(rest, min(rows, len(rest)))


#: The long sets: file under the corpora and rows sampled.
LONG_SETS = {
    "fudan_zh_articles": ("fudan_zh_articles/fudan_test_every3rd.jsonl", 400),
    "twenty_newsgroups": ("twenty_newsgroups_bydate/20news-bydate-test.jsonl", 1_500),
    "ruanyf_weekly": ("ruanyf_weekly_zh_en/weekly_issues.jsonl", 200),
}


def _long_picks(name: str) -> tuple[list[str], list[int]]:
    """A long set's file texts and the positions sampled from them."""
    path, rows = LONG_SETS[name]
    texts = _jsonl_texts(CORPORA / path)
    return texts, random.Random(SEED).sample(range(len(texts)), min(rows, len(texts)))


def chain_sets() -> dict[str, list[str]]:
    """Every set of the module docstring, by name."""
    sets = {"short_mixed": short_mixed()}
    for name in LONG_SETS:
        texts, picks = _long_picks(name)
        sets[name] = [texts[i] for i in picks]
    return sets


def warm_up_sets() -> dict[str, list[str]]:
    """For each of :func:`chain_sets`, as many other documents of the same corpora (fewer where
    a corpus has no more), none of them in the set."""
    corpora, picks, _ = _short_picks(SHORT_ROWS)
    seen = {corpora[name][i] for name in corpora for i in picks[name]}  # the short_mixed set
    short = [t for name in sorted(corpora) for t in _others(corpora[name], seen, len(picks[name]))]
    sets = {"short_mixed": short}
    for name in LONG_SETS:
        texts, taken = _long_picks(name)
        sets[name] = _others(texts, {texts[i] for i in taken}, len(taken))
    return sets
