"""The document sets the per-document cost of the clean chain is measured on (issue 20), read
from ``../shared/corpora`` (``$REFINERY_CORPORA``) as they are, seeded where sampled:

* ``short_mixed``: 15,000 short documents drawn evenly from seven real corpora (THUCNews titles,
  ChnSentiCorp, waimai_10k, zh_en_mixed, AG News, SMS spam, MR polarity): about 60 % Chinese,
  about 200 bytes each;
* ``fudan_zh_articles``: 400 long Chinese articles (about 9.5 KB each);
* ``twenty_newsgroups``: 1,500 English forum posts (about 1.8 KB each);
* ``ruanyf_weekly``: 200 long mixed Chinese / English Markdown issues (about 20 KB each).
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


def short_mixed(rows: int = SHORT_ROWS) -> list[str]:
    """``rows`` short documents, an equal seeded sample of each of :func:`short_corpora`."""
    corpora = short_corpora()
    per = rows // len(corpora)
    rng = random.Random(SEED)
    texts = [t for name in sorted(corpora) for t in rng.sample(corpora[name], min(per, len(corpora[name])))]
    rng.shuffle(texts)
    return texts


def fudan_articles(rows: int = 400) -> list[str]:
    texts = _jsonl_texts(CORPORA / "fudan_zh_articles" / "fudan_test_every3rd.jsonl")
    return random.Random(SEED).sample(texts, rows)


def newsgroups(rows: int = 1_500) -> list[str]:
    texts = _jsonl_texts(CORPORA / "twenty_newsgroups_bydate" / "20news-bydate-test.jsonl")
    return random.Random(SEED).sample(texts, rows)


def ruanyf_weekly(rows: int = 200) -> list[str]:
    texts = _jsonl_texts(CORPORA / "ruanyf_weekly_zh_en" / "weekly_issues.jsonl")
    return random.Random(SEED).sample(texts, min(rows, len(texts)))


def chain_sets() -> dict[str, list[str]]:
    """Every set of the module docstring, by name."""
    return {
        "short_mixed": short_mixed(),
        "fudan_zh_articles": fudan_articles(),
        "twenty_newsgroups": newsgroups(),
        "ruanyf_weekly": ruanyf_weekly(),
    }
